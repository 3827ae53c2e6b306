"""Noweb references: ``<<name>>`` on a line of its own expands to the named blocks.

Entangled's semantics (annotations off): every block named ``{.python #name}``
contributes to ``name``, in document order; a line that is only ``<<name>>`` (any
indentation) is replaced by those blocks, expanded recursively, each non-empty line
prefixed with the reference's indentation. Names are shared by the documents of a set;
a step sees the names its own and earlier documents define.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from runner.errors import PlanError
from runner.model import Block, Fragment, Source, Step

REFERENCE = re.compile(r"^(?P<indent>\s*)<<(?P<name>[\w:/_.-]+)>>\s*$")


@dataclass(frozen=True)
class Piece:
    """One block's contribution to a name."""

    content: str
    source: Source  # the fence line
    stripped: int = 0  # lines between the fence and ``content`` (``# path:`` comment)

    def line(self, index: int) -> Source:
        """The Markdown line of the ``index``-th (0-based) line of ``content``."""
        return Source(self.source.file, self.source.line + 1 + self.stripped + index)


@dataclass
class Expansion:
    """A block's text with every reference replaced, and what went into it."""

    text: str
    sources: list[Source] = field(default_factory=list)  # blocks expanded into the text
    names: set[str] = field(default_factory=set)


class Names:
    """The named blocks defined so far in a set, in document order."""

    def __init__(self, later: dict[str, Source] | None = None) -> None:
        self.pieces: dict[str, list[Piece]] = {}
        self.defined: dict[str, Source] = {}  # first definition of each name
        self.later = later or {}  # first definitions in steps not read yet (for hints)
        self.used: set[str] = set()

    def add_step(self, step: Step) -> set[str]:
        """Register a step's named blocks (before its targets expand); the names it adds to."""
        added: set[str] = set()
        for item in named_items(step):
            name = item.name or ""
            self.pieces.setdefault(name, []).append(Piece(item.content, item.source, item.stripped))
            self.defined.setdefault(name, item.source)
            added.add(name)
        return added

    def block_text(self, block: Block) -> Expansion:
        """A target block's content: every block of its ``#name``, or its own text."""
        expansion = Expansion("")
        if block.name is not None:
            self.used.add(block.name)
            lines = self._name_lines(block.name, (block.name,), expansion, block.source)
        else:
            piece = Piece(block.content, block.source, block.stripped)
            lines = self._lines(piece, (block.target,), expansion)
        expansion.text = "".join(lines)
        return expansion

    def unused(self) -> list[tuple[Source, str]]:
        """Warnings for names no target ever expands."""
        return [
            (source, f"<<{name}>> is defined but never used")
            for name, source in self.defined.items()
            if name not in self.used
        ]

    def _lines(self, piece: Piece, chain: tuple[str, ...], out: Expansion) -> Iterator[str]:
        for index, line in enumerate(_split(piece.content)):
            match = REFERENCE.match(line.rstrip())
            if match is None:
                yield line
                continue
            name, prefix = match["name"], match["indent"]
            at = piece.line(index)
            if name in chain:
                cycle = " -> ".join(f"<<{n}>>" for n in (*chain[chain.index(name) :], name))
                raise PlanError(f"<<{name}>> refers to itself: {cycle}", at.file, at.line)
            for inner in self._name_lines(name, (*chain, name), out, at):
                yield prefix + inner if inner else inner

    def _name_lines(
        self, name: str, chain: tuple[str, ...], out: Expansion, at: Source
    ) -> Iterator[str]:
        pieces = self.pieces.get(name)
        if not pieces:
            raise PlanError(self._missing(name), at.file, at.line)
        self.used.add(name)
        out.names.add(name)
        for piece in pieces:
            if piece.source not in out.sources:
                out.sources.append(piece.source)
            yield from self._lines(piece, chain, out)

    def _missing(self, name: str) -> str:
        message = f"<<{name}>> names no block"
        if name in self.later:
            where = self.later[name]
            return (
                f"{message} yet: it is first defined later, at {where.file.name}:{where.line}"
                " (a step uses the names of its own and earlier documents)"
            )
        close = difflib.get_close_matches(name, list(self.pieces), n=1)
        if close:
            return f"{message} (did you mean <<{close[0]}>>?)"
        return f"{message} (define it with a block {{.lang #{name}}})"


def named_items(step: Step) -> Iterator[Block | Fragment]:
    """The step's blocks that carry a ``#name`` (named targets and fragments), in order."""
    items: list[Block | Fragment] = [b for b in step.blocks if b.name is not None]
    items.extend(step.fragments)
    return iter(sorted(items, key=lambda item: item.source.line))


def first_definitions(steps: Iterable[Step]) -> dict[str, Source]:
    found: dict[str, Source] = {}
    for step in steps:
        for item in named_items(step):
            found.setdefault(item.name or "", item.source)
    return found


def _split(text: str) -> Iterator[str]:
    """Lines with their ``\\n`` (only ``\\n`` ends a line, as in Entangled)."""
    start = 0
    while (end := text.find("\n", start)) != -1:
        yield text[start : end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]
