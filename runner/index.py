"""A stat index of a set found consistent, so a no-op run need not parse or read.

After a full comparison finds no difference between a set's documents and
``sdlc/<set>/``, the index (``.wf/index/<set>.json``) records the lstat of every file and
folder below ``workflows/<set>/`` and ``sdlc/<set>/`` (kind, inode, size, mtime, ctime)
and a fingerprint of the code that plans (the runner, Python, the parsing libraries).
A later run whose stats are all unchanged knows the set is still consistent. Like git's
index it trusts stats only where they can prove something:

- any difference - a file edited (ctime changes even when mtime is put back), replaced
  (a new inode), added or removed (its folder's mtime changes), a manifest edited - and
  the full comparison runs, which finds and explains the change;
- a file whose recorded times lie within ``RACY_NS`` of the moment its stats were taken
  could change again within the same clock tick and keep every field the same (git's
  "racily clean" files): the index keeps its sha256 (what the plan made, or the bytes a
  document was parsed from), and a later run trusts its stats only when its content
  still has that hash. Such entries settle: a run that finds them older than
  ``RACY_NS`` records the index again without them. A recent file whose content is not
  known keeps the index from being written at all;
- a build records the index of the set it made consistent, with the files it wrote
  (racy, so verified by hash on the next run), unless anything but what it wrote
  changed while it ran;
- the stats are taken *before* the comparison reads anything, so a change made while
  it runs leaves stats that no longer match;
- the index is sealed with this user's key like the parse cache (``runner.stepcache``):
  one this machine did not write is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import __version__
from runner.discover import SET_CONFIG
from runner.errors import PathError
from runner.model import Source
from runner.paths import inside_project
from runner.project import WorkflowSet, cache_dir
from runner.stepcache import machine_key, read_regular, seal, unseal
from runner.transaction import write_atomic

if TYPE_CHECKING:
    from runner.model import Step
    from runner.plan import Plan, StepPlan

FORMAT = "wf-index-3"
RACY_NS = 1_000_000_000  # files changed less than this before a comparison are not trusted
LIBRARIES = ("markdown_it", "mdit_py_plugins", "yaml", "jinja2")
MAX_INDEX_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES = 1024 * 1024 * 1024  # a racy file larger than this is taken as changed

Stats = dict[str, list[int]]
# key below the project -> the sha256 its content has ("": the plan does not read it;
# None: not known)
Hashes = Callable[[str], "str | None"]


def index_file(wset: WorkflowSet) -> Path:
    return wset.root / ".wf" / "index" / f"{wset.name}.json"


class Snapshot:
    """The stats of a set's trees, taken before a full comparison reads them."""

    def __init__(self, wset: WorkflowSet, clock: int, stats: Stats | None = None) -> None:
        self.wset = wset
        self.clock = clock  # the file system's time when the snapshot began
        self.fingerprint = fingerprint(wset)
        self.stats = tree_stats(wset) if stats is None else stats

    def racy(self, hashes: Hashes) -> dict[str, str] | None:
        """The sha256 of each file too recent for its stats alone to be trusted (None:
        one of them has no known content, so no index can be kept)."""
        limit = self.clock - RACY_NS
        racy: dict[str, str] = {}
        for key, stat in self.stats.items():
            if key.endswith("/") or max(stat[-2:], default=0) < limit:
                continue  # a folder (its names are keys of their own), or settled
            digest = hashes(key)
            if digest is None:
                return None
            racy[key] = digest  # "": a file the plan does not read (a README beside the steps)
        return racy


def snapshot(wset: WorkflowSet) -> Snapshot | None:
    """Stamp the clock, then stat both trees; None when no index can be kept."""
    clock = _clock(wset)
    return None if clock is None else Snapshot(wset, clock)


def _clock(wset: WorkflowSet) -> int | None:
    """The file system's time now (a stamp file's mtime); None: no index can be kept."""
    try:
        stamp = inside_project(wset.root, index_file(wset).with_suffix(".stamp"))
        cache_dir(wset.root)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_bytes(b"")
        return stamp.stat().st_mtime_ns
    except (OSError, PathError):  # read-only, or .wf/ leads out: every run compares in full
        return None


def record(snap: Snapshot, plan: Plan, hashes: Hashes) -> None:
    """Keep the snapshot of a set just found consistent, with the warnings its plan
    gave, which a run answered from the index repeats, and what each step made (see
    ``changed_steps``); ``hashes`` gives the content of recent files."""
    kept = pending(snap.wset, snap, plan, hashes)
    _write(snap, _warning_data(kept.warnings), kept.facts, kept.partial, hashes)


def _warning_data(warnings: Iterable[tuple[Source, str]]) -> list[list[object]]:
    return [[str(source.file), source.line, message] for source, message in warnings]


def _write(
    snap: Snapshot,
    warnings: list[list[object]],
    facts: dict[str, dict[str, object]],
    partial: bool,
    hashes: Hashes,
) -> None:
    secret = machine_key()
    racy = snap.racy(hashes)
    data = {
        "format": FORMAT,
        "fingerprint": snap.fingerprint,
        "warnings": warnings,
        "stats": snap.stats,
        "racy": racy,
        "steps": facts,
        "partial": partial,
    }
    with contextlib.suppress(OSError, PathError):
        path = inside_project(snap.wset.root, index_file(snap.wset))
        if secret is not None and racy is not None:
            write_atomic(
                path, seal(json.dumps(data, separators=(",", ":")).encode(), secret, path.name)
            )
        else:
            path.unlink(missing_ok=True)


def forget(wset: WorkflowSet) -> None:
    """No index: the next run compares in full."""
    with contextlib.suppress(OSError, PathError):
        inside_project(wset.root, index_file(wset)).unlink(missing_ok=True)


@dataclass
class Pending:
    """What a build needs to record the index once its writes are done: the trees'
    stats from before it read anything, and what ``record`` would keep."""

    before: Stats
    facts: dict[str, dict[str, object]]
    partial: bool
    warnings: list[tuple[Source, str]]
    hashes: Hashes


def record_build(wset: WorkflowSet, pending: Pending, touched: set[str]) -> None:
    """After a build made the set consistent: keep the stats from before it read anything
    (``pending.before``) for what it did not touch - a file changed meanwhile differs
    from them, so the next run compares in full - and the new stats of the output files
    in ``touched`` (written or deleted, keys below the project) and of the folders above
    them. What it wrote is racy, so the next run checks it by its hash. One ``lstat`` per
    file written, not a walk of both trees."""
    clock = _clock(wset)
    if clock is None:
        return
    stats = dict(pending.before)
    outputs = wset.out_dir.relative_to(wset.root).as_posix()
    folders = {f"{outputs}/"}
    for key in touched:
        folder = key.rpartition("/")[0]
        while folder.startswith(f"{outputs}/"):
            folders.add(f"{folder}/")
            folder = folder.rpartition("/")[0]
    # a document found changed by its hash has no stats of its own (see ``look``)
    again = [key for key, stat in stats.items() if not stat]
    for key in [*touched, *folders, *again]:
        try:
            stats[key] = _stat(os.lstat(os.path.join(wset.root, key.rstrip("/"))))  # noqa: PTH118
        except (FileNotFoundError, NotADirectoryError):  # a folder became a file
            stats.pop(key, None)  # deleted, or a folder the deletes emptied
            stats.pop(f"{key}/", None)  # a folder removed (RemoveFolder)
    snap = Snapshot(wset, clock, stats)
    warnings = _warning_data(pending.warnings)
    _write(snap, warnings, pending.facts, pending.partial, pending.hashes)


def pending_partial(changed: Changed, plan: Plan, hashes: Hashes) -> Pending:
    """``Pending`` after a partial comparison: the changed steps' facts are new, the
    others' as recorded; a recent file of another step is known by the index's hash."""
    facts = {**changed.facts, **step_facts(plan)}

    def known(key: str) -> str | None:
        return hashes(key) or changed.racy.get(key)

    return Pending(changed.before, facts, True, list(changed.warnings), known)


def pending(wset: WorkflowSet, snap: Snapshot, plan: Plan, hashes: Hashes) -> Pending:
    """``record``'s data for ``plan`` (every step of the set), for after a build."""
    partial = not any(sp.step.generate for sp in plan.steps)
    return Pending(snap.stats, step_facts(plan), partial, list(plan.warnings), hashes)


def step_facts(plan: Plan) -> dict[str, dict[str, object]]:
    """What each step of ``plan`` made, as the index records it."""
    return {sp.step.number: _step_facts(sp) for sp in plan.steps}


@dataclass
class Look:
    """One reading of a set's index and of its trees' stats, shared by ``recall`` and
    ``changed_steps`` (each used to read and walk everything again)."""

    data: dict[str, Any] | None  # the index, when it is ours and of this code
    stats: Stats


def look(wset: WorkflowSet) -> Look:
    data = _load(wset)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return Look(None, {})
    if data.get("fingerprint") != fingerprint(wset):
        return Look(None, {})
    stats = tree_stats(wset)
    racy = data.get("racy")
    if not isinstance(racy, dict):
        return Look(None, {})
    recorded = data.get("stats")
    for key, digest in racy.items():
        same = isinstance(recorded, dict) and stats.get(key) == recorded.get(key)
        if digest and same and _content_digest(wset.root / key) != digest:
            stats[key] = []  # the same stats, other bytes: changed after all
    return Look(data, stats)


def _content_digest(path: Path) -> str | None:
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest() if data is not None else None


def settle(wset: WorkflowSet, seen: Look) -> None:
    """An index just found right, with racy entries: record it again, so the entries
    that have settled since are trusted by their stats alone from now on."""
    data = seen.data
    if data is None or not data.get("racy"):
        return
    snap = snapshot(wset)
    if snap is None or snap.stats != seen.stats:
        return  # changed since it was looked at: the next run finds out
    racy = data["racy"]
    _write(snap, data["warnings"], data["steps"], bool(data["partial"]), racy.get)


def recall(wset: WorkflowSet, seen: Look | None = None) -> list[tuple[Source, str]] | None:
    """The plan's warnings when the index proves the set still consistent; None means:
    compare in full."""
    seen = seen or look(wset)
    if seen.data is None or seen.data.get("stats") != seen.stats:
        return None
    warnings = _warnings(seen.data)
    if warnings is not None:
        settle(wset, seen)
    return warnings


def hashes_of(wset: WorkflowSet, steps: Iterable[Step], outputs: Mapping[str, str]) -> Hashes:
    """Where the content of a recent file is known: a document's from its parse, an
    output's (``outputs``: key below ``sdlc/<set>/`` -> sha256, the manifest included)
    from the plan."""
    root = wset.root
    documents = {step.path.relative_to(root).as_posix(): step.sha256 for step in steps}
    read = {f.path.relative_to(root).as_posix() for f in wset.step_files}
    read.add((wset.folder / SET_CONFIG).relative_to(root).as_posix())  # wf.yaml: unknown
    prefix = wset.out_dir.relative_to(root).as_posix() + "/"

    def find(key: str) -> str | None:
        if key.startswith(prefix):
            return outputs.get(key[len(prefix) :])
        if key not in read:
            return ""  # beside the documents, never read by the plan
        return documents.get(key) or None

    return find


def _warnings(data: dict[str, Any]) -> list[tuple[Source, str]] | None:
    try:
        return [(Source(Path(file), int(line)), str(text)) for file, line, text in data["warnings"]]
    except (KeyError, TypeError, ValueError):
        return None


def self_contained(step: Step) -> bool:
    """A step whose outputs depend on nothing but its own document and ``wf.yaml``, and
    that no other step's outputs can depend on, as long as no other step touches its
    paths: every block writes a file whole, no block is named or refers to a name, no
    generator or derived output. (Whether other steps touch its paths is a matter of the
    whole set: ``changed_steps`` checks it.)"""
    if step.fragments or step.generate or step.derivations:
        return False
    return all(b.mode == "write" and b.name is None and "<<" not in b.content for b in step.blocks)


def _step_facts(sp: StepPlan) -> dict[str, object]:
    step = sp.step
    return {
        "self_contained": self_contained(step),
        "requires": list(step.requires),
        "optional": step.optional,
        "paths": sorted(sp.files),
    }


@dataclass
class Changed:
    """A set whose outputs and manifest are as the index recorded them, and whose
    documents differ from it only in ``steps`` (step numbers)."""

    steps: list[str]
    facts: dict[str, dict[str, Any]]  # step number -> what it made when recorded
    warnings: list[tuple[Source, str]]
    racy: dict[str, str] = field(default_factory=dict)  # the index's recent files
    before: Stats = field(default_factory=dict)  # the trees' stats it was found with

    def replannable(self, step: Step) -> bool:
        """``step`` (a changed document, parsed again) can be planned on its own: it and
        what it was are self-contained and say the same about requires and optional."""
        fact = self.facts.get(step.number)
        return (
            fact is not None
            and bool(fact["self_contained"])
            and self_contained(step)
            and list(step.requires) == fact["requires"]
            and step.optional == fact["optional"]
        )

    def private(self, new_paths: dict[str, set[str]]) -> bool:
        """No path of a changed step, as it was or as it is now, is touched by another
        step (as the steps are now), is a folder of another step's file, or lies below
        another step's file."""
        mine = {number: {*self.facts[number]["paths"], *new_paths[number]} for number in self.steps}
        wanted = {path for paths in mine.values() for path in paths}
        wanted |= {folder for path in wanted for folder in _parents(path)}
        owners: dict[str, set[str]] = {}  # only of the paths asked about
        folders: dict[str, set[str]] = {}  # folder -> steps with a file below it
        for number, fact in self.facts.items():
            paths = new_paths[number] if number in new_paths else fact["paths"]
            for path in paths:
                if path in wanted:
                    owners.setdefault(path, set()).add(number)
                folder, slash, _ = path.rpartition("/")
                while slash:
                    if folder in wanted:
                        folders.setdefault(folder, set()).add(number)
                    folder, slash, _ = folder.rpartition("/")
        for number, paths in mine.items():
            me = {number}
            for path in paths:
                if owners.get(path, me) - me or folders.get(path, me) - me:
                    return False
                if any(owners.get(folder, me) - me for folder in _parents(path)):
                    return False
        return True


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def changed_steps(wset: WorkflowSet, seen: Look | None = None) -> Changed | None:
    """When the index shows that only some documents changed - every output, the
    manifest and ``wf.yaml`` unchanged, no document added or removed - which ones; None
    means: compare in full. A folder's own stat may differ (an editor's rename), as
    long as the names in it are the ones recorded."""
    seen = seen or look(wset)
    data, now = seen.data, seen.stats
    if data is None or not data.get("partial"):
        return None
    recorded = data.get("stats")
    if not isinstance(recorded, dict) or now.keys() != recorded.keys():
        return None
    folder = wset.folder.relative_to(wset.root).as_posix()
    documents = {f"{folder}/{f.path.name}": f.number for f in wset.step_files}
    steps = []
    for key, stat in now.items():
        if stat == recorded[key] or (key.endswith("/") and stat and recorded[key]):
            continue  # unchanged, or a folder (its names are the recorded ones)
        if key not in documents:
            return None  # an output, the manifest, wf.yaml, another file
        steps.append(documents[key])
    facts, warnings = data.get("steps"), _warnings(data)
    if not isinstance(facts, dict) or set(facts) != set(documents.values()) or warnings is None:
        return None
    racy = data.get("racy") or {}
    return Changed(sorted(steps), facts, warnings, racy, now)


def _load(wset: WorkflowSet) -> object:
    """The index's data; None when absent, damaged, too big or not sealed by this user."""
    secret = machine_key()
    try:
        raw = read_regular(inside_project(wset.root, index_file(wset)), MAX_INDEX_BYTES)
        payload = (
            unseal(raw, secret, index_file(wset).name)
            if raw is not None and secret is not None
            else None
        )
        return json.loads(payload) if payload is not None else None
    except (OSError, PathError, ValueError, RecursionError):  # our own cache: simply a miss
        return None


def tree_stats(wset: WorkflowSet) -> Stats:
    """lstat of every file and folder below the set's documents and outputs."""
    stats: Stats = {}
    for base in (wset.folder, wset.out_dir):
        rel = base.relative_to(wset.root).as_posix()
        try:
            stats[rel + "/"] = _stat(os.lstat(base))
        except FileNotFoundError:
            stats[rel + "/"] = []
            continue
        _walk(base, rel, stats)
    return stats


def _walk(folder: Path | str, rel: str, stats: Stats) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            key = f"{rel}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                stats[key + "/"] = _stat(entry.stat(follow_symlinks=False))
                _walk(entry.path, key, stats)
            else:
                stats[key] = _stat(entry.stat(follow_symlinks=False))


def _stat(st: os.stat_result) -> list[int]:
    # The two times last: Snapshot.settled reads them from there.
    return [st.st_mode, st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def fingerprint(wset: WorkflowSet) -> str:
    """What else the plan depends on: where the project is, and the code that plans."""
    digest = hashlib.sha256(f"{wset.root.resolve()}\0{wset.name}\0".encode())
    digest.update(_code_fingerprint().encode())
    return digest.hexdigest()


@cache
def _code_fingerprint() -> str:
    """The runner's sources, Python's version and the parsing libraries' files."""
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version}\0".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)  # finds the package without importing it
        origin = spec.origin if spec is not None and spec.origin else ""
        st = Path(origin).stat() if origin else None
        digest.update(f"{name}\0{origin}\0{st and (st.st_size, st.st_mtime_ns)}\0".encode())
    return digest.hexdigest()
