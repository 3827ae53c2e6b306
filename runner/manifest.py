"""The per-set manifest: which output files the runner owns, who made them, their hash."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from runner.errors import DocumentError
from runner.plan import Plan

MANIFEST = "manifest.json"
VERSION = 1


@dataclass(frozen=True)
class Entry:
    step: str
    sha256: str
    sources: tuple[str, ...]
    inputs: str | None = None  # derived outputs: hash of the tree and command that made it


def manifest_path(out_dir: Path) -> Path:
    return out_dir / MANIFEST


@dataclass(frozen=True)
class OnDisk:
    """The manifest file as found: its bytes (None when absent) and its entries."""

    raw: bytes | None
    entries: dict[str, Entry]


def read_manifest(out_dir: Path, damaged_is_empty: bool = False) -> OnDisk:
    """The manifest of ``out_dir``; an absent one means nothing is owned yet.

    A damaged manifest is an error, or - with ``damaged_is_empty`` (``--force``) -
    owns nothing, so a build can replace it.
    """
    path = manifest_path(out_dir)
    raw = path.read_bytes() if path.is_file() else None
    try:
        return OnDisk(raw, _entries(raw, path))
    except DocumentError:
        if not damaged_is_empty:
            raise
        return OnDisk(raw, {})


def _entries(raw: bytes | None, path: Path) -> dict[str, Entry]:
    if raw is None:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
        files = data["files"]
        return {
            key: Entry(value["step"], value["sha256"], tuple(value["sources"]), value.get("inputs"))
            for key, value in files.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        # ValueError: bad UTF-8 too; RecursionError: nested deeper than json can read
        problem = "nested too deep" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise DocumentError(
            f"manifest is damaged ({problem}); restore it from git or rebuild with --force", path
        ) from exc


def planned_entries(plan: Plan, root: Path) -> dict[str, Entry]:
    """Manifest entries for every output file of a plan."""
    return {
        key: Entry(
            planned.step,
            planned.digest,
            tuple(s.label(root) for s in planned.sources),
            planned.inputs,
        )
        for key, planned in plan.outputs().items()
    }


def render_manifest(set_name: str, entries: dict[str, Entry]) -> bytes:
    """The manifest file, deterministic to the byte: one line per output file.

    Each line is encoded on its own (json's fast path), which keeps a 10,000-file
    manifest cheap to render on every no-op run, and its diffs one line per file.
    """
    lines = [f"  {_json(key)}: {_json(_fields(e))}" for key, e in sorted(entries.items())]
    head = f'{{\n "version": {VERSION},\n "set": {_json(set_name)},\n "files": {{\n'
    return (head + ",\n".join(lines) + ("\n" if lines else "") + " }\n}\n").encode("utf-8")


_KEY = json.JSONDecoder()


def manifest_lines(raw: bytes, set_name: str) -> list[tuple[str, str]] | None:
    """(key, line) of each entry of a manifest as ``render_manifest`` writes it, in its
    order; None when ``raw`` does not look like one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = f'{{\n "version": {VERSION},\n "set": {_json(set_name)},\n "files": {{\n'
    tail = " }\n}\n"
    if not text.startswith(head) or not text.endswith(tail):
        return None
    body = text[len(head) : -len(tail)].removesuffix("\n")
    found = []
    for line in body.split(",\n") if body else []:  # JSON escapes every newline in a string
        end = line.find('": ', 3)
        key = line[3:end]
        if not line.startswith('  "') or end < 0 or "\\" in key or '"' in key:
            try:  # a key with escapes: let json read it
                key, end = _KEY.raw_decode(line, 2)
            except ValueError:
                return None
            if not isinstance(key, str) or line[end : end + 2] != ": ":
                return None
        found.append((key, line))
    return found


def splice_manifest(
    raw: bytes,
    set_name: str,
    replaced: tuple[str, ...],
    entries: dict[str, Entry],
    lines: list[tuple[str, str]] | None = None,
) -> bytes | None:
    """``render_manifest`` of ``raw``'s entries without those whose key starts with one
    of ``replaced``, plus ``entries``, made by keeping ``raw``'s other lines as they are
    (rendering all 10,000 lines again was most of a one-document build). ``raw`` must be
    a manifest as ``render_manifest`` writes it; None when it does not look like one.
    ``lines``: ``manifest_lines(raw, set_name)`` when the caller has them."""
    lines = manifest_lines(raw, set_name) if lines is None else lines
    if lines is None:
        return None
    kept = [(k, line) for k, line in lines if not k.startswith(replaced) and k not in entries]
    kept += [(key, f"  {_json(key)}: {_json(_fields(e))}") for key, e in entries.items()]
    kept.sort(key=lambda pair: pair[0])
    head = f'{{\n "version": {VERSION},\n "set": {_json(set_name)},\n "files": {{\n'
    body = ",\n".join(line for _, line in kept)
    return (head + body + ("\n" if kept else "") + " }\n}\n").encode("utf-8")


def entries_below(
    raw: bytes, set_name: str, prefixes: tuple[str, ...], lines: list[tuple[str, str]] | None = None
) -> OnDisk | None:
    """The manifest ``raw`` with only the entries whose key starts with one of
    ``prefixes`` decoded (the others are not looked at); None when it does not look
    like a manifest ``render_manifest`` wrote."""
    lines = manifest_lines(raw, set_name) if lines is None else lines
    if lines is None:
        return None
    wanted = "{" + ",".join(line for key, line in lines if key.startswith(prefixes)) + "}"
    try:
        return OnDisk(raw, _entries(f'{{"files": {wanted}}}'.encode(), Path(MANIFEST)))
    except DocumentError:
        return None


def _fields(entry: Entry) -> dict[str, object]:
    fields: dict[str, object] = {
        "step": entry.step,
        "sha256": entry.sha256,
        "sources": list(entry.sources),
    }
    if entry.inputs is not None:
        fields["inputs"] = entry.inputs
    return fields


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
