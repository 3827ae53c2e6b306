"""Turn one step document into a ``Step``: front matter, artifact blocks, check blocks.

Markdown is parsed with markdown-it-py (CommonMark), so fences inside lists, ``~~~``
fences and longer backtick fences behave exactly as a Markdown renderer shows them.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.checks import SERVICE_KINDS as SERVICES
from runner.discover import StepFile
from runner.errors import DocumentError
from runner.model import Block, CheckSpec, Derivation, Fragment, Source, Step

if TYPE_CHECKING:
    import yaml
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

MODES = ("write", "append", "patch")
TARGET_KEYS = ("path", "file", "filename", "title", "tangle")  # tangle: md-tangle's
CHECK_KEYS = ("name", "needs", "timeout", "expect_exit", "expect_output")
DERIVE_KEYS = ("from", "needs", "timeout", "rederive")  # with a target: path=...
REDERIVE = ("later",)  # rederive=later: every later selected step derives the file again
DISPLAY_KEYS = ("linenums", "hl_lines", "id", "class")
FLAGS = ("check", "derive", "template", "skeleton")
KNOWN_KEYS = (*TARGET_KEYS, "mode", *CHECK_KEYS, "from", "rederive", *DISPLAY_KEYS)
FRONT_MATTER_KEYS = ("title", "requires", "optional", "vars", "template", "checks", "generate")
CHECK_ENTRY_KEYS = ("name", "run", *CHECK_KEYS[1:])
GENERATE_KEYS = ("templates", "instances")
PANDOC_ATTRS = re.compile(r"^(?:(?P<lang>[^\s{}]+)\s+)?\{(?!\{)(?P<attrs>.*)(?<!\})\}$")
NOWEB_ID = re.compile(r"^#(?P<name>[A-Za-z][\w:/.-]*)$")  # Entangled's ``{.python #name}``
FIRST_LINE_TARGET = re.compile(r"^\s*(?:#|//|--|<!--)\s*path:\s*(?P<path>\S+?)\s*(?:-->)?\s*$")
CELL_OPTION = re.compile(r"^(?:#|//|--)\|\s*(?P<key>[\w-]+)\s*:\s*(?P<value>.*?)\s*$")  # Quarto
LMT_PATH = re.compile(r"^(?:[\w.-]+/)*[\w-][\w.-]*\.[A-Za-z]\w*$|^(?:[\w.-]+/)+[\w.-]+$")
LMT_REFERENCE = re.compile(r"^\s*<<<.+>>>\s*$")
SHLEX_WHITESPACE = " \t\r\n"  # shlex.shlex().whitespace
SHLEX_SPACE = re.compile(r"[ \t\r\n]+")
PERMISSIONS = re.compile(r"^0?[0-7]{3}$")  # Entangled's mode=0755: a file permission


def read_text(path: Path) -> str:
    """Document text with a UTF-8 BOM removed and line endings normalised to LF."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror}", path) from exc
    return decode_text(raw, path)


def decode_text(raw: bytes, path: Path) -> str:
    """Decode document bytes: UTF-8 (BOM dropped), LF line endings."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not valid UTF-8 at column {column} (byte {exc.start} of the file)"
        raise DocumentError(message, path, line) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class FrontMatterPolicy:
    """Front matter keys that are not wf's (``wf.yaml``: ``front_matter:``).

    By default another tool's key (MkDocs ``tags:``, Quarto ``author:``) is ignored and
    a key one typo away from one of wf's (``chekcs:``) is refused; ``accept`` lists keys
    to ignore even so, ``strict`` refuses every key that is neither wf's nor accepted.
    """

    accept: tuple[str, ...] = ()
    strict: bool = False


def parse_step(
    step_file: StepFile, text: str | None = None, policy: FrontMatterPolicy | None = None
) -> Step:
    """Parse a step document (read from disk unless ``text`` is given)."""
    path = step_file.path
    text = read_text(path) if text is None else text
    meta_text, body, offset = split_front_matter(text, path)
    meta = parse_front_matter(meta_text, path, policy) if meta_text is not None else {}
    blocks, fragments, checks, derivations, heading = _parse_body(
        body, offset, path, step_file.number
    )
    checks = _front_matter_checks(meta, meta_text, path, step_file.number) + checks
    _unique_check_names(checks)
    return Step(
        number=step_file.number,
        slug=step_file.slug,
        path=path,
        title=str(meta.get("title") or heading or step_file.id),
        blocks=tuple(blocks),
        checks=tuple(checks),
        fragments=tuple(fragments),
        requires=tuple(_step_number(r, path, 2) for r in meta.get("requires", [])),
        optional=bool(meta.get("optional", False)),
        vars=dict(meta.get("vars") or {}),
        template=bool(meta.get("template", False)),
        generate=meta.get("generate"),
        derivations=tuple(derivations),
    )


def split_front_matter(text: str, path: Path) -> tuple[str | None, str, int]:
    """Return (front matter text or None, body, number of lines before the body)."""
    if not text.startswith("---\n"):
        return None, text, 0
    lines = text.split("\n")
    for index in range(1, len(lines)):
        if lines[index] in ("---", "..."):
            meta = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            return meta, body, index + 1
    raise DocumentError("front matter opened with '---' is never closed", path, 1)


def parse_front_matter(
    meta_text: str, path: Path, policy: FrontMatterPolicy | None = None
) -> dict[str, Any]:
    """Load and validate the YAML front matter: wf's keys (repeated: an error), and
    other tools' keys, which are dropped (see ``FrontMatterPolicy``)."""
    import yaml

    node, meta = load_yaml(meta_text, path, 2, "front matter")
    if meta is None:
        return {}
    if not isinstance(meta, dict) or node is None:
        raise DocumentError("front matter must be a mapping of keys to values", path, 2)
    _unique_keys(node, path)
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value in FRONT_MATTER_KEYS:
            _no_duplicate_keys(value, path)
    lines = _key_lines(node)
    for key in [k for k in meta if k not in FRONT_MATTER_KEYS]:
        _foreign_key(str(key), policy or FrontMatterPolicy(), path, lines.get(key, 2))
        del meta[key]
    _validate_front_matter(meta, lines, path)
    return meta


# Characters YAML forbids in a stream (PyYAML's rule), found here to name their line.
NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
MAX_YAML_CHARS = 1024 * 1024  # front matter or wf.yaml; real ones are a few kB
MAX_YAML_VALUES = 100_000  # values, counting each use of an alias (a "billion laughs")


def load_yaml(text: str, path: Path, first: int, what: str) -> tuple[yaml.Node | None, Any]:
    """Compose ``text`` once and construct its data; ``first`` is the document line of its
    first line. Every problem is one ``DocumentError`` at its line: syntax, forbidden
    characters, nesting, size, alias bombs, values that cannot be constructed."""
    import yaml

    if len(text) > MAX_YAML_CHARS:
        raise DocumentError(f"{what} is larger than {MAX_YAML_CHARS // 1024} KiB", path, first)
    bad = NON_PRINTABLE.search(text)
    if bad is not None:
        line, column = _line_column(text, bad.start())
        message = f"{what} holds the control character {bad.group()!r} (column {column})"
        raise DocumentError(message, path, first + line)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
        if node is None:
            return None, None
        _count_values(node, path, first, what)
        return node, yaml.SafeLoader("").construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first + (mark.line if mark is not None else 0)
        raise DocumentError(f"{what} is not valid YAML: {_yaml_problem(exc)}", path, line) from exc
    except RecursionError as exc:
        raise DocumentError(f"{what} is nested too deep", path, first) from exc
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2024-13-45
        raise DocumentError(f"{what} has a value YAML cannot read: {exc}", path, first) from exc


def _line_column(text: str, index: int) -> tuple[int, int]:
    """0-based line and 1-based column of ``text[index]``."""
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _count_values(root: yaml.Node, path: Path, first: int, what: str) -> None:
    """Refuse YAML whose aliases expand to more than ``MAX_YAML_VALUES`` values, or into
    themselves: templates and the cache would expand them (iterative: no recursion)."""

    sizes: dict[int, int] = {}  # node id -> values below it; -1 while being counted
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, counted = pending.pop()
        children = _children(node)
        if not counted:
            if id(node) in sizes:
                continue
            sizes[id(node)] = -1
            pending.append((node, True))
            pending.extend((child, False) for child in children if id(child) not in sizes)
            continue
        below = [sizes[id(child)] for child in children]
        if -1 in below:
            line = first + node.start_mark.line
            raise DocumentError(f"{what} has an alias that contains itself", path, line)
        sizes[id(node)] = min(1 + sum(below), MAX_YAML_VALUES + 1)
        if sizes[id(node)] > MAX_YAML_VALUES:
            message = f"{what} expands to more than {MAX_YAML_VALUES:,} values (aliases)"
            raise DocumentError(message, path, first + node.start_mark.line)


def _children(node: yaml.Node) -> list[yaml.Node]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _foreign_key(key: str, policy: FrontMatterPolicy, path: Path, line: int) -> None:
    """Another tool's key is ignored, unless it looks like a typo of one of wf's."""
    if key in policy.accept:
        return
    meant = _typo_of(key, FRONT_MATTER_KEYS)
    if meant is not None:
        hint = "; if another tool needs it, list it under front_matter: accept: in wf.yaml"
        message = f"unknown front matter key {key!r} (did you mean {meant!r}?{hint})"
        raise DocumentError(message, path, line)
    if policy.strict:
        message = f"unknown front matter key {key!r}{_did_you_mean(key, FRONT_MATTER_KEYS)}"
        raise DocumentError(f"{message} (front_matter: strict in wf.yaml)", path, line)


def _key_lines(node: yaml.Node) -> dict[Any, int]:
    """Document line of each top-level key written out (merged ``<<`` keys: absent)."""
    import yaml

    return {
        key.value: key.start_mark.line + 2
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }


def _no_duplicate_keys(node: yaml.Node, path: Path) -> None:
    """PyYAML keeps the last of two equal keys silently; a document must not rely on it."""
    import yaml

    seen: set[int] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if id(current) in seen:  # aliases share nodes (and may be recursive)
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            _unique_keys(current, path)
            pending.extend(item for pair in current.value for item in pair)
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)


def _unique_keys(mapping: yaml.MappingNode, path: Path) -> None:
    import yaml

    first: dict[tuple[str, str], int] = {}
    for key, _ in mapping.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 2
        if (key.tag, key.value) in first:
            message = f"front matter key {key.value!r} is given twice (first at line "
            raise DocumentError(f"{message}{first[(key.tag, key.value)]})", path, line)
        first[(key.tag, key.value)] = line


def _validate_front_matter(meta: dict[str, Any], lines: dict[Any, int], path: Path) -> None:
    expected: dict[str, tuple[type, ...]] = {
        "title": (str,),
        "requires": (list,),
        "optional": (bool,),
        "vars": (dict,),
        "template": (bool,),
        "checks": (list,),
        "generate": (dict,),
    }
    for key, types in expected.items():
        if key in meta and not isinstance(meta[key], types):
            wanted = " or ".join(t.__name__ for t in types)
            message = f"front matter {key!r} must be a {wanted}"
            raise DocumentError(message, path, lines.get(key, 2))
    for entry in meta.get("requires") or []:
        _step_number(entry, path, lines.get("requires", 2))
    _string_keys(meta.get("vars") or {}, "'vars'", path, lines.get("vars", 2))
    generate = meta.get("generate")
    if generate is not None:
        _validate_generate(generate, path, lines.get("generate", 2))


def _validate_generate(generate: dict[str, Any], path: Path, line: int) -> None:
    for key in generate:
        if key not in GENERATE_KEYS:
            hint = _did_you_mean(str(key), GENERATE_KEYS)
            raise DocumentError(f"unknown key {key!r} under 'generate'{hint}", path, line)
    if not isinstance(generate.get("templates"), str):
        raise DocumentError("'generate.templates' must name a folder", path, line)
    instances = generate.get("instances", [])
    if not isinstance(instances, list) or not all(isinstance(i, dict) for i in instances):
        raise DocumentError("'generate.instances' must be a list of mappings", path, line)
    for instance in instances:
        _string_keys(instance, "each 'generate.instances' entry", path, line)


def _string_keys(mapping: dict[Any, Any], what: str, path: Path, line: int) -> None:
    """Template variables are names: ``{1: x}`` or ``{null: x}`` cannot be used."""
    for key in mapping:
        if not isinstance(key, str):
            message = f"{what} must have names as keys, not {key!r} (quote it: '{key}')"
            raise DocumentError(message, path, line)


@dataclass
class FenceInfo:
    """A fence's info string, read leniently: what is ours, and what we did not know."""

    lang: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (kind, word)
    problem: str | None = None  # the info string could not be split (unbalanced quote)
    braced: bool = False  # pandoc/Entangled attribute syntax ``{.python …}``
    dialect: str = ""  # "md-tangle" or "lmt" when the target came in that tool's syntax
    names: list[str] = field(default_factory=list)  # ``#name`` inside braces
    tags: list[str] = field(default_factory=list)  # md-tangle's ``tags:theme``


def markdown_tokens(body: str) -> list[Token]:
    """The markdown-it tokens of a document body, as the parser reads it (admonitions and
    content tabs included); ``token.map`` holds body line numbers.

    Only the block structure is read (fences, headings, lists, quotes, HTML blocks): an
    inline token keeps its source text in ``content`` but gets no children, since no
    emphasis or link inside prose decides what a block is."""
    return block_parser().parse(body)


@cache
def block_parser() -> MarkdownIt:
    """One parser per process: building it (rules, plugins, compiled patterns) cost as
    much as parsing a short document. ``parse`` keeps no state between calls."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.admon import admon_plugin

    from runner.tabbed import tabbed_plugin

    parser = MarkdownIt("commonmark").use(admon_plugin).use(tabbed_plugin)
    parser.disable(["inline", "text_join"])  # core rules: inline children only
    return parser


def _parse_body(
    body: str, offset: int, path: Path, number: str
) -> tuple[list[Block], list[Fragment], list[CheckSpec], list[Derivation], str | None]:
    """Artifact, named, check and derive blocks, and the first level-1 heading."""
    blocks: list[Block] = []
    fragments: list[Fragment] = []
    checks: list[CheckSpec] = []
    continued: dict[str, str | None] = {}  # Entangled-syntax targets so far -> #name
    derivations: list[Derivation] = []
    heading = None
    tokens = markdown_tokens(body)
    for index, token in enumerate(tokens):
        if heading is None and token.type == "heading_open" and token.tag == "h1":
            heading = tokens[index + 1].content.strip() or None
        if token.type in HIDING and token.map is not None:
            _no_hidden_targets(token.content, Source(path, token.map[0] + 1 + offset), token.type)
        if token.type != "fence" or token.map is None:
            continue
        source = Source(path, token.map[0] + 1 + offset)
        info = parse_info(token.info, source)
        if "check" in info.flags:
            checks.append(_check_from_block(info, token.content, source, number))
            continue
        if "derive" in info.flags:
            derivations.append(_derivation_from_block(info, token.content, source))
            continue
        found = _block(info, token.content, source)
        for block in _targets(found, info):
            if isinstance(block, Block):
                block = _continuation(block, info, continued)
            if isinstance(block, Fragment):
                fragments.append(block)
            else:
                blocks.append(block)
    return blocks, fragments, checks, derivations, heading


HIDING = {
    "code_block": "is indented 4 spaces, so Markdown reads it as an indented code block"
    " (indent it less)",
    "html_block": "is inside an HTML block, so Markdown does not read it"
    " (put a blank line after the HTML tag)",
}
FENCE_LINE = re.compile(r"^\s*(?:`{3,}|~{3,})(?P<info>[^`]*)$")


def _no_hidden_targets(content: str, start: Source, kind: str) -> None:
    """A fence that names a target but that Markdown does not see as a fence would be
    lost without a word (Entangled, reading lines, would tangle it): refuse it."""
    for index, line in enumerate(content.split("\n")):
        if kind == "html_block" and "TANGLE_CP:" in line:
            message = "md-tangle's TANGLE_CP: file copies are not done; write the file as a block"
            raise DocumentError(message, start.file, start.line + index)
        fence = FENCE_LINE.match(line)
        if fence is None or not fence["info"].strip():
            continue
        at = Source(start.file, start.line + index)
        info = parse_info(fence["info"], at)
        named = [k for k in TARGET_KEYS if k != "title" or is_path_like(info.attrs.get(k, ""))]
        if info.names or any(k in info.attrs for k in named):
            raise DocumentError(f"this fenced block {HIDING[kind]}", *_at(at))


def _targets(found: Block | Fragment | None, info: FenceInfo) -> list[Block | Fragment]:
    """md-tangle's ``tangle:a.css,b.css`` writes one block to several files."""
    if not isinstance(found, Block) or info.dialect != "md-tangle":
        return [found] if found is not None else []
    return [replace(found, target=part) for part in found.target.split(",") if part]


def _continuation(
    block: Block, info: FenceInfo, continued: dict[str, str | None]
) -> Block | Fragment:
    """Entangled concatenates the blocks of one document that name the same ``file=``
    (md-tangle too): a later such block (no ``mode=``) appends, or - when both carry the
    same ``#name`` - is one more block of that name, which the file already is."""
    concatenating = info.braced or info.dialect == "md-tangle"
    if not concatenating or info.attrs.get("mode") in MODES:
        return block
    if block.target not in continued:
        continued[block.target] = block.name
        return block
    if block.name is None and continued[block.target] is None:
        return replace(block, mode="append")
    if block.name is not None and block.name == continued[block.target]:
        return Fragment(block.name, block.content, block.source, block.stripped)
    return block  # different names: two writes, which planning refuses


def parse_info(info: str, source: Source) -> FenceInfo:
    """Split a fence info string into language, key=value attributes and bare flags.

    Accepts ``python path=a.py``, ``{.python file=a.py}``, ``python {file=a.py}`` and
    quoted values (``title="app/main.py"``). Words wf does not know are collected, not
    refused: they are errors only on blocks wf acts on (see ``_strict``).
    """
    cleaned = _strip_attribute_braces(info.strip())
    result = FenceInfo(braced=cleaned != info.strip())
    try:
        words = _split_words(cleaned)
    except ValueError as exc:
        result.problem = f"cannot read fence attributes {info!r}: {exc}"
        words = cleaned.split()
    for index, word in enumerate(words):
        _read_word(result, index, word, source)
    _lmt_header(result, words)
    if result.problem is None and any(_unbalanced(word) for word in words):
        result.problem = (
            f"malformed fence attributes {info.strip()!r}: unbalanced braces"
            " (write them as {.python file=a.py} or python path=a.py)"
        )
    return result


def _unbalanced(word: str) -> bool:
    """``script.py}}`` or ``{{.python``: braces of the info string, not of a value
    (``app/{{ module }}.py`` is balanced and stays a template)."""
    return word.count("{") != word.count("}")


def _lmt_header(result: FenceInfo, words: list[str]) -> None:
    """lmt's ``python app/main.py`` (``… +=`` appends): the second word names the file
    only when nothing else is said and it cannot be anything but a path."""
    rest = words[1:]
    if result.braced or len(rest) not in (1, 2) or result.attrs or result.flags:
        return
    if not LMT_PATH.match(rest[0]) or rest[1:] not in ([], ["+="]):
        return
    result.unknown = []
    result.attrs["path"] = rest[0]
    if rest[1:]:
        result.attrs["mode"] = "append"
    result.dialect = "lmt"


def _split_words(info: str) -> list[str]:
    """Shell-like words with quotes, but a backslash is kept as written: ``path=a\\b.py``
    names ``a\\b.py`` (a folder separator, as everywhere in targets), it is not dropped.
    Without a quote that is a split at shlex's whitespace (the common case, and a tenth of
    a document's parse when shlex did it)."""
    if "'" not in info and '"' not in info:
        stripped = info.strip(SHLEX_WHITESPACE)
        return SHLEX_SPACE.split(stripped) if stripped else []
    lexer = shlex.shlex(info, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""
    return list(lexer)


def _read_word(result: FenceInfo, index: int, word: str, source: Source) -> None:
    if word.startswith("tangle:") and not result.braced:
        word = "tangle=" + word[len("tangle:") :]  # md-tangle's attribute
        result.dialect = "md-tangle"
    elif word.startswith("tags:") and not result.braced:
        result.tags.append(word[len("tags:") :])  # md-tangle: written only when asked
        return
    if "=" in word:
        key, _, value = word.partition("=")
        if key not in KNOWN_KEYS:
            result.unknown.append(("attribute", key))
        elif key in result.attrs:
            raise DocumentError(f"attribute {key!r} given twice", *_at(source))
        else:
            result.attrs[key] = value
    elif word.startswith(".") and not result.lang:
        result.lang = word[1:]
    elif result.braced and (named := NOWEB_ID.match(word)):
        result.names.append(named["name"])
    elif word.startswith(("#", ".")):
        pass  # pandoc id or extra class: display only
    elif index == 0 and not result.lang:
        result.lang = word
    elif word in FLAGS:
        result.flags.add(word)
    else:
        result.unknown.append(("flag", word))


def _strict(info: FenceInfo, source: Source) -> None:
    """On a block wf writes or runs, every word of the info string must be known."""
    if info.problem is not None:
        raise DocumentError(info.problem, *_at(source))
    for kind, word in info.unknown:
        _known(word, KNOWN_KEYS if kind == "attribute" else FLAGS, kind, source)


def _no_typos(info: FenceInfo, source: Source) -> None:
    """On a prose example, an unknown word is the author's own, unless it is a typo of a
    word that would have made the block an artifact or a check (``pth=``, ``chek``)."""
    for kind, word in info.unknown:
        meant = _typo_of(word, TARGET_KEYS if kind == "attribute" else ("check",))
        if meant is not None:
            message = f"unknown {kind} {word!r} (did you mean {meant!r}?)"
            raise DocumentError(message, *_at(source))


def _typo_of(word: str, candidates: tuple[str, ...]) -> str | None:
    """The candidate ``word`` misspells: one edit away (two for long words)."""
    for candidate in candidates:
        allowed = 1 if len(candidate) <= 5 else 2
        if word != candidate and _edit_distance(word.lower(), candidate) <= allowed:
            return candidate
    return None


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance counting a swap of neighbours as one edit (``fiel``/``file``)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _strip_attribute_braces(info: str) -> str:
    """``{.python file=a}`` and ``python {file=a}`` -> attribute words; ``{{ }}`` untouched."""
    match = PANDOC_ATTRS.match(info)
    if match is None:
        return info
    return f"{match['lang'] or ''} {match['attrs']}".strip()


def is_path_like(value: str) -> bool:
    """``title=`` names a target only when it looks like a path: ``app/main.py``, not
    ``"Install dependencies"`` (a MkDocs caption, display only)."""
    return bool(value) and not any(c.isspace() for c in value) and ("/" in value or "." in value)


def _attribute_target(attrs: dict[str, str], source: Source) -> str | None:
    targets = [
        attrs[k] for k in TARGET_KEYS if k in attrs and (k != "title" or is_path_like(attrs[k]))
    ]
    if len(targets) > 1:
        raise DocumentError(
            "a block names its target twice (path/file/filename/title)", *_at(source)
        )
    return targets[0] if targets else None


def _block(info: FenceInfo, content: str, source: Source) -> Block | Fragment | None:
    attrs, flags = info.attrs, info.flags
    if info.problem is not None and _names_a_target(info):
        raise DocumentError(info.problem, *_at(source))
    target = _attribute_target(attrs, source)
    if info.dialect == "md-tangle" and info.tags:
        return None  # md-tangle leaves a tagged block out unless its tag is asked for
    stripped = 0
    if target is None:
        target, content, stripped = _first_line_target(content)
    if target is None:
        target, content, stripped = _cell_options(info, content)
    if target is None and info.names:
        return _fragment(info, content, source, stripped)
    if target is None:
        _no_typos(info, source)
        misplaced = _target_only_words(info)
        if misplaced:
            raise DocumentError(
                f"{misplaced[0]!r} given on a block without a target (add path=...)", *_at(source)
            )
        return None
    _strict(info, source)
    check_only = [k for k in CHECK_KEYS if k in attrs]
    if check_only:
        raise DocumentError(f"{check_only[0]!r} is only valid on a check block", *_at(source))
    for key in ("from", "rederive"):
        if key in attrs:
            raise DocumentError(f"{key!r} is only valid on a derive block", *_at(source))
    _dialect_rules(info, target, content, source)
    mode, permissions = attrs.get("mode", "write"), None
    if PERMISSIONS.match(mode):
        mode, permissions = "write", int(mode, 8)
    _known(mode, MODES, "mode", source)
    if "skeleton" in flags and mode != "write":
        raise DocumentError("a skeleton block must use mode=write", *_at(source))
    return Block(
        target=target,
        content=content,
        source=source,
        lang=info.lang,
        mode=mode,
        template="template" in flags,
        skeleton="skeleton" in flags,
        stripped=stripped,
        name=_one_name(info, source),
        permissions=permissions,
    )


def _dialect_rules(info: FenceInfo, target: str, content: str, source: Source) -> None:
    """What wf does not do of md-tangle and lmt is refused, never half done."""
    if info.dialect == "md-tangle" and target.startswith("~"):
        message = f"tangle:{target} is in your home folder; wf writes inside the project"
        raise DocumentError(message, *_at(source))
    if info.dialect == "lmt" and any(LMT_REFERENCE.match(line) for line in content.split("\n")):
        message = "lmt's <<<name>>> references are not read; use {.lang #name} and <<name>>"
        raise DocumentError(message, *_at(source))


def _target_only_words(info: FenceInfo) -> list[str]:
    """wf's words that need a target. Other tools' attributes (Runme's ``name=``,
    Entangled's ``mode=0755``) leave an example an example."""
    return [k for k in ("mode",) if info.attrs.get(k) in MODES] + sorted(info.flags)


def _fragment(info: FenceInfo, content: str, source: Source, stripped: int = 0) -> Fragment:
    """A named block (no target): text for ``<<name>>``; other tools' words are ignored."""
    if info.problem is not None:
        raise DocumentError(info.problem, *_at(source))
    _no_typos(info, source)
    misplaced = _target_only_words(info)
    if misplaced:
        message = f"{misplaced[0]!r} given on a named block (only a target block takes it)"
        raise DocumentError(message, *_at(source))
    name = _one_name(info, source) or ""
    return Fragment(name=name, content=content, source=source, stripped=stripped)


def _one_name(info: FenceInfo, source: Source) -> str | None:
    if len(info.names) > 1:
        message = f"a block has one #name, not {len(info.names)} ({', '.join(info.names)})"
        raise DocumentError(message, *_at(source))
    return info.names[0] if info.names else None


def _names_a_target(info: FenceInfo) -> bool:
    """The info string gives a target key, even one wrapped in stray braces (``{file=``)."""
    keys = [*info.attrs, *(word for kind, word in info.unknown if kind == "attribute")]
    return any(key.strip("{}") in TARGET_KEYS for key in keys)


def _first_line_target(content: str) -> tuple[str | None, str, int]:
    """(target, content without the ``# path:`` line, number of lines left out)."""
    first, _, rest = content.partition("\n")
    match = FIRST_LINE_TARGET.match(first)
    if match is None:
        return None, content, 0
    return match["path"], rest, 1


def _cell_options(info: FenceInfo, content: str) -> tuple[str | None, str, int]:
    """Quarto cell options (``#| file: hello.py``, ``#| id: name`` - Entangled's
    ``style: basic``) name a target or a block; then every leading ``#|`` line is
    left out. (target or None, content, number of lines left out)"""
    lines = content.split("\n")
    count, options = 0, {}
    while count < len(lines) and (option := CELL_OPTION.match(lines[count])):
        options[option["key"]] = option["value"].strip("'\"")
        count += 1
    if not options.get("file") and not options.get("id"):
        return None, content, 0
    if options.get("id") and options["id"] not in info.names:
        info.names.append(options["id"])
    return options.get("file") or None, "\n".join(lines[count:]), count


def _check_from_block(info: FenceInfo, content: str, source: Source, number: str) -> CheckSpec:
    _strict(info, source)
    for key in (*TARGET_KEYS, "mode", "from", "rederive"):
        if key in info.attrs and (key != "title" or is_path_like(info.attrs[key])):
            raise DocumentError(f"a check block cannot have {key}=", *_at(source))
    if "derive" in info.flags:
        raise DocumentError("a block is either a check or a derive block", *_at(source))
    name = info.attrs.get("name") or _default_check_name(content)
    return _check_spec(name, content, info.attrs, source, number)


def _derivation_from_block(info: FenceInfo, command: str, source: Source) -> Derivation:
    """```` ```bash derive path=uv.lock ```` : the body is the command producing the file."""
    _strict(info, source)
    target = _attribute_target(info.attrs, source)
    if target is None:
        raise DocumentError("a derive block names the file it produces with path=", *_at(source))
    extra = [k for k in (*CHECK_KEYS, "mode") if k in info.attrs and k not in DERIVE_KEYS]
    extra += sorted(info.flags - {"derive"})
    if extra:
        raise DocumentError(f"{extra[0]!r} is not valid on a derive block", *_at(source))
    if not command.strip():
        raise DocumentError("a derive block holds the command that makes the file", *_at(source))
    capture = info.attrs.get("from") or target
    if not capture.strip():
        raise DocumentError("from= names 'stdout' or a file the command writes", *_at(source))
    rederive = info.attrs.get("rederive")
    if rederive is not None and rederive not in REDERIVE:
        message = f"rederive={rederive!r}: the only value is 'later' (later steps derive it again)"
        raise DocumentError(message, *_at(source))
    return Derivation(
        target=target,
        command=command,
        source=source,
        capture=capture,
        needs=_needs(info.attrs.get("needs"), source),
        timeout=_timeout(info.attrs.get("timeout", 300.0), source),
        rederive=rederive is not None,
    )


def _check_spec(
    name: str, command: str, options: dict[str, Any], source: Source, number: str
) -> CheckSpec:
    needs = _needs(options.get("needs"), source)
    return CheckSpec(
        name=name,
        command=command,
        step=number,
        source=source,
        needs=needs,
        timeout=_timeout(options.get("timeout", 300.0), source),
        expect_exit=_expect_exit(options.get("expect_exit", 0), source),
        expect_output=_regex(options.get("expect_output"), source),
    )


def _front_matter_checks(
    meta: dict[str, Any], meta_text: str | None, path: Path, number: str
) -> list[CheckSpec]:
    entries = meta.get("checks") or []
    if not entries:
        return []
    lines = _check_entry_lines(meta_text or "")
    specs = []
    for index, entry in enumerate(entries):
        source = Source(path, lines[index] if index < len(lines) else 2)
        if not isinstance(entry, dict):
            raise DocumentError("each entry of 'checks' must be a mapping", *_at(source))
        for key in entry:
            _known(str(key), CHECK_ENTRY_KEYS, "check key", source)
        if not isinstance(entry.get("run"), str):
            raise DocumentError("a check needs 'run': the command to run", *_at(source))
        if not isinstance(entry.get("name"), str | None):
            raise DocumentError("a check's 'name' must be a string", *_at(source))
        name = entry.get("name") or _default_check_name(entry["run"])
        specs.append(_check_spec(name, entry["run"], entry, source, number))
    return specs


def _check_entry_lines(meta_text: str) -> list[int]:
    import yaml

    node = yaml.compose(meta_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    for key, value in node.value:
        if key.value == "checks" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 2 for item in value.value]
    return []


def _needs(value: Any, source: Source) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    needs = []
    for item in (str(i).strip() for i in items):
        _known(item, SERVICES, "service", source)
        needs.append(item)
    return tuple(sorted(set(needs)))


def _timeout(value: Any, source: Source) -> float:
    """Seconds: a finite number above zero (``1e400`` is infinite, ``.nan`` is no number)."""
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if math.isnan(seconds):
        raise DocumentError(f"timeout must be a number, not {value!r}", *_at(source))
    if not math.isfinite(seconds) or seconds <= 0:
        message = f"timeout must be positive and finite, not {value!r}"
        raise DocumentError(message, *_at(source))
    return seconds


def _expect_exit(value: Any, source: Source) -> int:
    """An exit status is a whole number: ``1.7`` or ``true`` is a mistake, not ``1``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return int(value)
    raise DocumentError(f"expect_exit must be a whole number, not {value!r}", *_at(source))


def _regex(value: Any, source: Source) -> str | None:
    if value is None:
        return None
    try:
        re.compile(str(value))
    except re.error as exc:
        message = f"expect_output is not a valid regex: {exc}"
        raise DocumentError(message, *_at(source)) from exc
    return str(value)


def _unique_check_names(checks: list[CheckSpec]) -> None:
    seen: dict[str, CheckSpec] = {}
    for check in checks:
        if check.name in seen:
            first = seen[check.name].source
            raise DocumentError(
                f"check name {check.name!r} is used twice (first at line {first.line})",
                *_at(check.source),
            )
        seen[check.name] = check


def _default_check_name(command: str) -> str:
    for line in command.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line[:60]
    return "check"


def _step_number(value: Any, path: Path, line: int) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", text):
        raise DocumentError(f"'requires' lists step numbers, not {value!r}", path, line)
    return text.zfill(2)


def _known(word: str, allowed: tuple[str, ...], kind: str, source: Source) -> None:
    if word not in allowed:
        raise DocumentError(f"unknown {kind} {word!r}{_did_you_mean(word, allowed)}", *_at(source))


def _did_you_mean(word: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(allowed)})"


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's message on one line: what went wrong, and where within the line."""
    problem = str(getattr(exc, "problem", None) or exc).strip()
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else problem
    text = " ".join(text.split())
    return f"{text} (column {mark.column + 1})" if mark is not None else text


def _at(source: Source) -> tuple[Path, int]:
    return source.file, source.line
