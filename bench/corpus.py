"""Deterministic benchmark corpus: N documents x M blocks x L lines.

Every block is its own target, written in the one fence syntax both wf and Entangled
read: ```{.python file=src/dNNNN/bMM.py}```. The same seed-free generator gives the
same bytes on every machine, so runs are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SET_NAME = "bench"


@dataclass(frozen=True)
class Size:
    docs: int
    blocks: int
    lines: int

    @property
    def label(self) -> str:
        return f"{self.docs}x{self.blocks}"


def doc_name(doc: int) -> str:
    """``0001_doc0001.md``: a wf step name (4-digit number) Entangled reads too."""
    return f"{doc:04d}_doc{doc:04d}.md"


def step_folder(doc: int) -> str:
    """The folder wf writes doc ``doc``'s outputs to (``sdlc/bench/<folder>/``)."""
    return f"{doc:04d}-doc{doc:04d}"


def target(doc: int, block: int) -> str:
    return f"src/d{doc:04d}/b{block:02d}.py"


def block_lines(doc: int, block: int, lines: int, variant: int = 0) -> list[str]:
    """Python source of one block; ``variant`` changes one line (the edit measure)."""
    body = [f'"""Module {block} of document {doc}."""']
    for line in range(1, lines):
        body.append(f"value_{line:02d} = {doc} * {line} + {block}  # line {line}")
    if variant:
        body[-1] = f"value_{lines - 1:02d} = {variant}  # edited {variant}"
    return body


def document(doc: int, size: Size, variant: int = 0) -> str:
    parts = [f"# Document {doc}\n", f"Prose that introduces document {doc}.\n"]
    for block in range(1, size.blocks + 1):
        edited = variant if block == 1 else 0
        code = "\n".join(block_lines(doc, block, size.lines, edited))
        parts.append(f"Block {block} explains `{target(doc, block)}`.\n")
        parts.append(f"```{{.python file={target(doc, block)}}}\n{code}\n```\n")
    return "\n".join(parts)


def expected_outputs(size: Size, edited: dict[int, int] | None = None) -> dict[str, str]:
    """target path -> content (with a final newline), as both tools should write it."""
    edited = edited or {}
    return {
        target(doc, block): "\n".join(
            block_lines(doc, block, size.lines, edited.get(doc, 0) if block == 1 else 0)
        )
        + "\n"
        for doc in range(1, size.docs + 1)
        for block in range(1, size.blocks + 1)
    }


def write_corpus(root: Path, size: Size) -> list[Path]:
    """Write ``root/workflows/bench/*.md``; return the documents in order."""
    folder = root / "workflows" / SET_NAME
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in range(1, size.docs + 1):
        path = folder / doc_name(doc)
        path.write_text(document(doc, size), encoding="utf-8")
        paths.append(path)
    return paths


def edit_document(root: Path, size: Size, doc: int, variant: int) -> None:
    """Rewrite one document with block 1's last line changed (``variant`` 0 = original)."""
    path = root / "workflows" / SET_NAME / doc_name(doc)
    path.write_text(document(doc, size, variant), encoding="utf-8")
