"""Turn one step document into a ``Step``: front matter, artifact blocks, check blocks.

Markdown is parsed with markdown-it-py (CommonMark), so fences inside lists, ``~~~``
fences and longer backtick fences behave exactly as a Markdown renderer shows them.
"""

from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path
from typing import Any

from runner.discover import StepFile
from runner.errors import DocumentError
from runner.model import Block, CheckSpec, Source, Step

MODES = ("write", "append", "patch")
SERVICES = ("postgres", "redis", "s3")
TARGET_KEYS = ("path", "file", "filename", "title")
CHECK_KEYS = ("name", "needs", "timeout", "expect_exit", "expect_output")
DISPLAY_KEYS = ("linenums", "hl_lines", "id", "class")
FLAGS = ("check", "template", "skeleton")
KNOWN_KEYS = (*TARGET_KEYS, "mode", *CHECK_KEYS, *DISPLAY_KEYS)
FRONT_MATTER_KEYS = ("title", "requires", "optional", "vars", "template", "checks", "generate")
CHECK_ENTRY_KEYS = ("name", "run", *CHECK_KEYS[1:])
GENERATE_KEYS = ("templates", "instances")
PANDOC_ATTRS = re.compile(r"^(?:(?P<lang>[^\s{}]+)\s+)?\{(?!\{)(?P<attrs>.*)(?<!\})\}$")
FIRST_LINE_TARGET = re.compile(r"^\s*(?:#|//|--|<!--)\s*path:\s*(?P<path>\S+?)\s*(?:-->)?\s*$")


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
        raise DocumentError(f"not valid UTF-8 (byte {exc.start})", path) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_step(step_file: StepFile, text: str | None = None) -> Step:
    """Parse a step document (read from disk unless ``text`` is given)."""
    path = step_file.path
    text = read_text(path) if text is None else text
    meta_text, body, offset = split_front_matter(text, path)
    meta = parse_front_matter(meta_text, path) if meta_text is not None else {}
    blocks, checks, heading = _parse_body(body, offset, path, step_file.number)
    checks = _front_matter_checks(meta, meta_text, path, step_file.number) + checks
    _unique_check_names(checks)
    return Step(
        number=step_file.number,
        slug=step_file.slug,
        path=path,
        title=str(meta.get("title") or heading or step_file.id),
        blocks=tuple(blocks),
        checks=tuple(checks),
        requires=tuple(_step_number(r, path) for r in meta.get("requires", [])),
        optional=bool(meta.get("optional", False)),
        vars=dict(meta.get("vars") or {}),
        template=bool(meta.get("template", False)),
        generate=meta.get("generate"),
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


def parse_front_matter(meta_text: str, path: Path) -> dict[str, Any]:
    """Load and validate the YAML front matter; unknown keys are errors."""
    import yaml

    try:
        node = yaml.compose(meta_text, Loader=yaml.SafeLoader)
        meta = yaml.safe_load(meta_text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 2
        message = f"front matter is not valid YAML: {_yaml_problem(exc)}"
        raise DocumentError(message, path, line) from exc
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise DocumentError("front matter must be a mapping of keys to values", path, 2)
    lines = {key.value: key.start_mark.line + 2 for key, _ in node.value}
    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            raise DocumentError(
                f"unknown front matter key {key!r}{_did_you_mean(str(key), FRONT_MATTER_KEYS)}",
                path,
                lines.get(key, 2),
            )
    _validate_front_matter(meta, lines, path)
    return meta


def _validate_front_matter(meta: dict[str, Any], lines: dict[str, int], path: Path) -> None:
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
            raise DocumentError(f"front matter {key!r} must be a {wanted}", path, lines[key])
    generate = meta.get("generate")
    if generate is not None:
        _validate_generate(generate, path, lines["generate"])


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


def _parse_body(
    body: str, offset: int, path: Path, number: str
) -> tuple[list[Block], list[CheckSpec], str | None]:
    """Artifact blocks, check blocks and the first level-1 heading of the body."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.admon import admon_plugin

    blocks: list[Block] = []
    checks: list[CheckSpec] = []
    heading = None
    tokens = MarkdownIt("commonmark").use(admon_plugin).parse(body)
    for index, token in enumerate(tokens):
        if heading is None and token.type == "heading_open" and token.tag == "h1":
            heading = tokens[index + 1].content.strip() or None
        if token.type != "fence" or token.map is None:
            continue
        source = Source(path, token.map[0] + 1 + offset)
        lang, attrs, flags = parse_info(token.info, source)
        if "check" in flags:
            checks.append(_check_from_block(lang, attrs, token.content, source, number))
            continue
        block = _block(lang, attrs, flags, token.content, source)
        if block is not None:
            blocks.append(block)
    return blocks, checks, heading


def parse_info(info: str, source: Source) -> tuple[str, dict[str, str], set[str]]:
    """Split a fence info string into (language, key=value attributes, bare flags).

    Accepts ``python path=a.py``, ``{.python file=a.py}``, ``python {file=a.py}`` and
    quoted values (``title="app/main.py"``).
    """
    cleaned = _strip_attribute_braces(info.strip())
    try:
        words = shlex.split(cleaned)
    except ValueError as exc:
        message = f"cannot read fence attributes {info!r}: {exc}"
        raise DocumentError(message, *_at(source)) from exc
    lang = ""
    attrs: dict[str, str] = {}
    flags: set[str] = set()
    for index, word in enumerate(words):
        if "=" in word:
            key, _, value = word.partition("=")
            _known(key, KNOWN_KEYS, "attribute", source)
            if key in attrs:
                raise DocumentError(f"attribute {key!r} given twice", *_at(source))
            attrs[key] = value
        elif word.startswith(".") and not lang:
            lang = word[1:]
        elif word.startswith(("#", ".")):
            continue  # pandoc id or extra class: display only
        elif index == 0 and not lang:
            lang = word
        else:
            _known(word, FLAGS, "flag", source)
            flags.add(word)
    return lang, attrs, flags


def _strip_attribute_braces(info: str) -> str:
    """``{.python file=a}`` and ``python {file=a}`` -> attribute words; ``{{ }}`` untouched."""
    match = PANDOC_ATTRS.match(info)
    if match is None:
        return info
    return f"{match['lang'] or ''} {match['attrs']}".strip()


def _block(
    lang: str, attrs: dict[str, str], flags: set[str], content: str, source: Source
) -> Block | None:
    targets = [attrs[k] for k in TARGET_KEYS if k in attrs]
    if len(targets) > 1:
        raise DocumentError(
            "a block names its target twice (path/file/filename/title)", *_at(source)
        )
    target = targets[0] if targets else None
    if target is None:
        target, content = _first_line_target(content)
    misplaced = [k for k in (*CHECK_KEYS, "mode") if k in attrs] + sorted(flags - {"check"})
    if target is None:
        if misplaced:
            raise DocumentError(
                f"{misplaced[0]!r} given on a block without a target (add path=...)", *_at(source)
            )
        return None
    check_only = [k for k in CHECK_KEYS if k in attrs]
    if check_only:
        raise DocumentError(f"{check_only[0]!r} is only valid on a check block", *_at(source))
    mode = attrs.get("mode", "write")
    _known(mode, MODES, "mode", source)
    if "skeleton" in flags and mode != "write":
        raise DocumentError("a skeleton block must use mode=write", *_at(source))
    return Block(
        target=target,
        content=content,
        source=source,
        lang=lang,
        mode=mode,
        template="template" in flags,
        skeleton="skeleton" in flags,
    )


def _first_line_target(content: str) -> tuple[str | None, str]:
    first, _, rest = content.partition("\n")
    match = FIRST_LINE_TARGET.match(first)
    if match is None:
        return None, content
    return match["path"], rest


def _check_from_block(
    lang: str, attrs: dict[str, str], content: str, source: Source, number: str
) -> CheckSpec:
    for key in (*TARGET_KEYS, "mode"):
        if key in attrs:
            raise DocumentError(f"a check block cannot have {key}=", *_at(source))
    name = attrs.get("name") or _default_check_name(content)
    return _check_spec(name, content, attrs, source, number)


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
        timeout=_number(options, "timeout", 300.0, source, float),
        expect_exit=int(_number(options, "expect_exit", 0, source, int)),
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
        name = str(entry.get("name") or _default_check_name(entry["run"]))
        specs.append(_check_spec(name, entry["run"], entry, source, number))
    return specs


def _check_entry_lines(meta_text: str) -> list[int]:
    import yaml

    node = yaml.compose(meta_text, Loader=yaml.SafeLoader)
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


def _number(options: dict[str, Any], key: str, default: float, source: Source, kind: type) -> float:
    if key not in options:
        return default
    try:
        value = kind(options[key])
    except (TypeError, ValueError):
        message = f"{key} must be a number, not {options[key]!r}"
        raise DocumentError(message, *_at(source)) from None
    if key == "timeout" and value <= 0:
        raise DocumentError("timeout must be positive", *_at(source))
    return value


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


def _step_number(value: Any, path: Path) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise DocumentError(f"'requires' lists step numbers, not {value!r}", path, 2)
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
    return str(getattr(exc, "problem", None) or exc).strip()


def _at(source: Source) -> tuple[Path, int]:
    return source.file, source.line
