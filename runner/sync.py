"""Take edits made in output files back into the blocks that own them (``wf sync``).

An edited file is ``sdlc/<set>/NN-slug/<path>`` (or, with ``from_dir``, ``<path>`` in a
project ``wf export`` made). The plan knows the block at ``file.md:line`` that produced
it; when that block alone made the file, word for word, the block's lines are replaced
in the document and everything else - prose, fence, attributes, list indentation,
blockquote markers, line endings, BOM - stays byte for byte. Where the mapping is not
one-to-one (several blocks, a patch or an append onto an earlier file, a jinja template,
a generator, content that is not the block's text, a later step rewriting the file) the
file is refused with the reason, and its diff is shown to apply by hand.

Nothing is trusted on faith: the new documents are parsed and planned in memory, and a
file counts as synced only when that plan produces exactly the edited bytes. Documents
are written through ``runner.transaction`` (all are checked, then each is replaced
atomically), then the outputs are rebuilt; refused files are left as they are.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.build import BuildResult, build, plan_set, state
from runner.drift import HAND_EDITED
from runner.errors import WfError
from runner.model import Block, Source, Step
from runner.parse import decode_text, markdown_tokens, parse_step, split_front_matter
from runner.paths import clean_target
from runner.plan import Plan, PlannedFile, make_plan
from runner.project import WorkflowSet, load_sets
from runner.transaction import Transaction, WriteFile

BOM = "\ufeff"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True)
class Edit:
    """An output file whose content differs from what its documents produce."""

    wset: WorkflowSet
    shown: str  # the path as the user knows it, e.g. sdlc/demo/01-setup/app.py
    key: str | None  # the output key below sdlc/<set>/ (None: an exported project's file)
    planned: PlannedFile  # what the documents produce now
    edited: bytes  # what the file holds

    def diff(self) -> str:
        """The edit as a unified diff (what to apply by hand when it is refused)."""
        return _diff(self.planned.content, self.edited, f"a/{self.shown}", f"b/{self.shown}")


@dataclass(frozen=True)
class Refusal:
    edit: Edit
    reason: str


@dataclass
class SyncResult:
    synced: list[Edit] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    documents: dict[Path, tuple[bytes, bytes]] = field(default_factory=dict)  # old, new
    built: list[BuildResult] = field(default_factory=list)

    def document_diff(self, root: Path) -> str:
        return "".join(
            _diff(old, new, f"a/{_rel(path, root)}", f"b/{_rel(path, root)}")
            for path, (old, new) in sorted(self.documents.items())
        )


def sync(
    sets: list[WorkflowSet],
    paths: Sequence[Path] = (),
    from_dir: Path | None = None,
    selectors: tuple[str, ...] = (),
    dry_run: bool = False,
) -> SyncResult:
    """Write the edits in ``paths`` (default: every edited output) back into the
    documents, then rebuild the outputs; refused edits stay where they are."""
    if from_dir is not None:
        edits = [e for wset in sets for e in _exported_edits(wset, from_dir, paths, selectors)]
    else:
        edits = _output_edits(sets, paths)
    plans = {wset.name: plan_set(wset) for wset in sets}
    result = SyncResult()
    accepted = []
    for edit in edits:
        reason = _why_not(edit, plans[edit.wset.name])
        if reason is None:
            accepted.append(edit)
        else:
            result.refused.append(Refusal(edit, reason))
    _rewrite(accepted, result)
    if not dry_run and result.documents:
        root = sets[0].root
        _write_documents(root, result.documents)
        fresh = load_sets(root, [wset.name for wset in sets])  # parse the new documents
        result.built = build(fresh, keep=_still_edited(fresh))
    return result


# -- which files were edited -----------------------------------------------------------


def _output_edits(sets: list[WorkflowSet], paths: Sequence[Path]) -> list[Edit]:
    """Hand-edited files of ``sdlc/<set>/`` (all, or those at or below ``paths``)."""
    wanted = [p.resolve() for p in paths]
    edits: list[Edit] = []
    matched: set[Path] = set()
    for wset in sets:
        out_dir = wset.out_dir.resolve()
        for difference in state(wset).differences:
            if difference.kind != HAND_EDITED or difference.planned is None:
                continue
            where = out_dir / difference.key
            hits = [p for p in wanted if where == p or p in where.parents]
            if wanted and not hits:
                continue
            matched.update(hits)
            shown = f"sdlc/{wset.name}/{difference.key}"
            edits.append(Edit(wset, shown, difference.key, difference.planned, difference.disk))
    _all_matched(wanted, matched, "is not a hand-edited file of sdlc/ (nothing to sync)")
    return edits


def _exported_edits(
    wset: WorkflowSet, from_dir: Path, paths: Sequence[Path], selectors: tuple[str, ...]
) -> list[Edit]:
    """Files of an exported project that differ from what the chosen steps assemble."""
    if not from_dir.is_dir():
        raise WfError(f"--from {from_dir}: no such folder")
    plan = plan_set(wset, wset.select(selectors))
    base = from_dir.resolve()
    wanted = [(p if p.is_absolute() else Path.cwd() / p).resolve() for p in paths]
    edits: list[Edit] = []
    matched: set[Path] = set()
    for rel, planned in plan.assembled().items():
        where = base / rel
        hits = [p for p in wanted if where == p or p in where.parents]
        if (wanted and not hits) or not where.is_file() or where.is_symlink():
            continue
        content = where.read_bytes()
        matched.update(hits)
        if content != planned.content:
            edits.append(Edit(wset, rel, None, planned, content))
    _all_matched(wanted, matched, f"is not a file the steps of {wset.name} produce")
    return edits


def _all_matched(wanted: list[Path], matched: set[Path], problem: str) -> None:
    for path in wanted:
        if path not in matched:
            raise WfError(f"{path}: {problem}")


# -- is the edit one-to-one with one block? ---------------------------------------------


def _why_not(edit: Edit, plan: Plan) -> str | None:
    """Why the edit cannot go back into one block (None: it can)."""
    planned = edit.planned
    labels = [s.label(edit.wset.root) for s in planned.sources]
    if len(planned.sources) != 1:
        return f"made by {len(labels)} blocks ({', '.join(labels)}): edit them by hand"
    if planned.inputs is not None:
        return f"derived by the command at {labels[0]}: change the command or its inputs"
    block, step = _owner(edit.wset, planned.sources[0])
    if block is None or step is None:
        return f"not the text of one block ({labels[0]}): made by a generator"
    if block.mode == "patch":
        return f"made by a patch ({labels[0]}): edit the patch by hand"
    if block.template or step.template:
        return f"a jinja template ({labels[0]}): edit the template by hand"
    if clean_target(block.target, block.source) != planned.path:
        return f"rendered from the template {block.target} ({labels[0]}) by generate:"
    if planned.content != block.content.encode("utf-8"):
        if block.mode == "append":
            return f"{labels[0]} appends to what an earlier step wrote: edit it by hand"
        return f"its content is not the text of {labels[0]} as written (expanded or derived)"
    later = _later_writer(edit, plan)
    if later is not None:
        return (
            f"{later.label(edit.wset.root)} writes {planned.path} again in a later step, "
            "so the project keeps that version: edit that step's file"
        )
    return _unrepresentable(edit.edited)


def _owner(wset: WorkflowSet, source: Source) -> tuple[Block | None, Step | None]:
    for step in wset.steps():
        if step.path == source.file:
            blocks = [b for b in step.blocks if b.source == source]
            return (blocks[0] if blocks else None), step
    return None, None


def _later_writer(edit: Edit, plan: Plan) -> Source | None:
    """The block of a later step that writes the same path whole (sdlc/ edits only)."""
    if edit.key is None:
        return None
    steps = [sp.step.folder for sp in plan.steps]
    mine = steps.index(edit.planned.step)
    for step_plan in plan.steps[mine + 1 :]:
        later = step_plan.files.get(edit.planned.path)
        if later is not None and not later.derived:
            return later.sources[0]
    return None


def _unrepresentable(edited: bytes) -> str | None:
    """What a fenced block cannot hold of the edited file (None: it can hold it all)."""
    try:
        text = edited.decode("utf-8")
    except UnicodeDecodeError:
        return "the edited file is not UTF-8 text"
    if "\r" in text:
        return "the edited file has CR line endings, which a block cannot hold"
    if text and not text.endswith("\n"):
        return "the edited file does not end with a newline, which a block always does"
    return None


# -- rewriting the documents -----------------------------------------------------------


class _Unmappable(Exception):
    """The block's lines cannot be replaced while keeping the document's bytes."""


def _rewrite(accepted: list[Edit], result: SyncResult) -> None:
    """New document bytes for the accepted edits; each proven by re-planning in memory."""
    pending = list(accepted)
    while pending:
        documents, failed = _new_documents(pending)
        failed += _replan(pending, documents)
        if not failed:
            result.synced = pending
            result.documents = documents
            return
        result.refused += failed
        pending = [e for e in pending if all(r.edit is not e for r in failed)]


def _new_documents(edits: list[Edit]) -> tuple[dict[Path, tuple[bytes, bytes]], list[Refusal]]:
    """Each document with its edited blocks replaced, bottom first (lines stay valid)."""
    by_document: dict[Path, list[Edit]] = {}
    for edit in edits:
        by_document.setdefault(edit.planned.sources[0].file, []).append(edit)
    documents: dict[Path, tuple[bytes, bytes]] = {}
    refused: list[Refusal] = []
    for path, mine in by_document.items():
        old = path.read_bytes()
        new = old
        for edit in sorted(mine, key=lambda e: -e.planned.sources[0].line):
            block, _step = _owner(edit.wset, edit.planned.sources[0])
            stripped = block.stripped if block is not None else 0
            try:
                new = replace_block(
                    new, edit.planned.sources[0].line, edit.edited.decode(), stripped
                )
            except _Unmappable as exc:
                refused.append(Refusal(edit, str(exc)))
        if new != old:
            documents[path] = (old, new)
    return documents, refused


def _replan(edits: list[Edit], documents: dict[Path, tuple[bytes, bytes]]) -> list[Refusal]:
    """Refuse every edit the new documents do not reproduce exactly."""
    refused: list[Refusal] = []
    plans: dict[str, Plan | WfError] = {}
    for edit in edits:
        name = edit.wset.name
        if name not in plans:
            plans[name] = _plan_with(edit.wset, documents)
        plan = plans[name]
        if isinstance(plan, WfError):
            refused.append(Refusal(edit, f"the documents would not build: {plan}"))
            continue
        produced = plan.outputs().get(edit.planned.output_path)
        if produced is None or produced.content != edit.edited:
            where = edit.planned.sources[0].label(edit.wset.root)
            refused.append(Refusal(edit, f"rewriting {where} does not reproduce the file"))
    return refused


def _plan_with(wset: WorkflowSet, documents: dict[Path, tuple[bytes, bytes]]) -> Plan | WfError:
    try:
        steps = [
            parse_step(sf, decode_text(documents[sf.path][1], sf.path))
            if sf.path in documents
            else wset.step(sf)
            for sf in wset.step_files
        ]
        return make_plan(wset.name, steps, wset.vars)
    except WfError as exc:
        return exc


def replace_block(raw: bytes, line: int, content: str, stripped: int = 0) -> bytes:
    """The document ``raw`` with the content of the fence opening at ``line`` (1-based)
    replaced by ``content``; every other byte is kept.

    Unchanged lines of the block keep their bytes too; new lines get the block's own
    indentation (list items, blockquotes) and the document's line ending. The first
    ``stripped`` lines (a ``# path:`` comment, Quarto's ``#|`` options) stay. Raises
    _Unmappable when that cannot be done exactly.
    """
    text = raw.decode("utf-8")
    bom = BOM if text.startswith(BOM) else ""
    lines = _LINE.findall(text[len(bom) :])
    fence = _fence_at(text[len(bom) :], line)
    first, end = fence.first + stripped, fence.end
    old_content = fence.content[stripped:]
    new_content = content.split("\n")[:-1] if content else []
    prefix, blank = _indentation(lines[fence.first : end], fence.content, fence.closing)
    closer = _closes(fence.markup, new_content)
    if closer is not None:
        raise _Unmappable(
            f"line {closer!r} would close the block's {fence.markup} fence; lengthen the fence"
        )
    newline = _newline(lines)
    body: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_content, new_content, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            body += lines[first + i1 : first + i2]
        else:
            body += [(prefix + ln if ln else blank) + newline for ln in new_content[j1:j2]]
    return (bom + "".join(lines[:first] + body + lines[end:])).encode("utf-8")


@dataclass(frozen=True)
class _Fence:
    first: int  # index of the first content line (the line after the opening fence)
    end: int  # index of the closing fence line
    content: list[str]  # the content lines as the parser reads them (no line ends)
    closing: str  # the closing fence line, as written
    markup: str  # ``` or ~~~~ ...


def _fence_at(text: str, line: int) -> _Fence:
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    _meta, body, offset = split_front_matter(normalized, Path("document"))
    lines = normalized.split("\n")
    for token in markdown_tokens(body):
        if token.type != "fence" or token.map is None or token.map[0] + 1 + offset != line:
            continue
        start, stop = token.map[0] + offset, token.map[1] + offset
        content = token.content.split("\n")[:-1] if token.content else []
        if stop - start != len(content) + 2:  # opening fence, content, closing fence
            raise _Unmappable("the block has no closing fence")
        return _Fence(start + 1, stop - 1, content, lines[stop - 1], token.markup)
    raise _Unmappable(f"no fenced block opens at line {line} any more")


def _indentation(raw: list[str], content: list[str], closing: str) -> tuple[str, str]:
    """(prefix of every content line, how an empty line is written) in this block.

    A block in a list item or a blockquote has its container's indentation or ``>``
    before each line; that is what the parser removed from ``raw`` to get ``content``.
    """
    prefixes: set[str] = set()
    blanks: list[str] = []
    for written, parsed in zip(raw, content, strict=True):
        written = written.rstrip("\r\n")
        if not written.endswith(parsed):
            raise _Unmappable("the block's indentation (tabs?) cannot be kept exactly")
        if parsed:
            prefixes.add(written[: len(written) - len(parsed)])
        else:
            blanks.append(written)
    if len(prefixes) > 1:
        raise _Unmappable("the block's lines are indented unevenly; cannot keep them exactly")
    prefix = prefixes.pop() if prefixes else _closing_prefix(closing)
    if any(not prefix.startswith(b) for b in blanks):
        raise _Unmappable("the block's empty lines are indented unevenly")
    return prefix, (blanks[0] if blanks else prefix.rstrip())


def _closing_prefix(closing: str) -> str:
    stripped = closing.rstrip("\r\n")
    return stripped[: len(stripped) - len(stripped.lstrip(" >"))]


def _closes(markup: str, lines: Iterable[str]) -> str | None:
    """The first line that would end a fence opened with ``markup`` (None: none)."""
    pattern = re.compile(rf"^ {{0,3}}{re.escape(markup[0])}{{{len(markup)},}}[ \t]*$")
    return next((ln for ln in lines if pattern.match(ln)), None)


def _newline(lines: list[str]) -> str:
    crlf = sum(ln.endswith("\r\n") for ln in lines)
    return "\r\n" if crlf * 2 > len(lines) else "\n"


def _write_documents(root: Path, documents: dict[Path, tuple[bytes, bytes]]) -> None:
    actions = [
        WriteFile(_rel(path, root), new, kind="update") for path, (_old, new) in documents.items()
    ]
    transaction = Transaction(root, actions)
    transaction.check(force=True)
    transaction.run()


def _still_edited(sets: list[WorkflowSet]) -> dict[str, frozenset[str]]:
    """Outputs still edited by hand once the documents hold the synced edits (refused
    or not asked for): the rebuild leaves them as they are."""
    return {
        wset.name: frozenset(d.key for d in state(wset).differences if d.kind == HAND_EDITED)
        for wset in sets
    }


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _diff(old: bytes, new: bytes, before: str, after: str) -> str:
    a = old.decode("utf-8", "replace").splitlines(keepends=True)
    b = new.decode("utf-8", "replace").splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, fromfile=before, tofile=after)
    return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)
