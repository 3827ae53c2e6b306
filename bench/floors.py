"""The floors every wf measure is compared with, as separate processes.

    floors.py parse ROOT      (a) read + markdown-it-py parse of every document
    floors.py write ROOT OUT  (b) (a) + a naive writer: every target into OUT, as wf lays it out
    floors.py hash DIR        (c) read + sha256 of every file below DIR

Run with the interpreter (and markdown-it-py) wf itself uses.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

from markdown_it import MarkdownIt

TARGET = re.compile(r"\{\.\w+ file=(?P<path>[^\s}]+)\}")


def documents(root: Path) -> list[Path]:
    return sorted((root / "workflows").glob("*/*.md"))


def parse_all(root: Path) -> None:
    md = MarkdownIt("commonmark")
    for path in documents(root):
        md.parse(path.read_text(encoding="utf-8"))


def write_all(root: Path, out: Path) -> None:
    md = MarkdownIt("commonmark")
    for path in documents(root):
        number, _, slug = path.stem.partition("_")
        folder = out / path.parent.name / f"{number}-{slug.replace('_', '-')}"
        for token in md.parse(path.read_text(encoding="utf-8")):
            match = TARGET.fullmatch(token.info.strip()) if token.type == "fence" else None
            if match is not None:
                dest = folder / match["path"]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(token.content, encoding="utf-8")


def hash_all(folder: Path) -> None:
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            hashlib.sha256(Path(dirpath, name).read_bytes()).hexdigest()


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "parse":
        parse_all(Path(args[0]))
    elif command == "write":
        write_all(Path(args[0]), Path(args[1]))
    elif command == "hash":
        hash_all(Path(args[0]))
    else:
        raise SystemExit(f"unknown floor {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
