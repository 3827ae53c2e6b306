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
MAX_DEPTH = 100  # references inside references inside ...
MAX_CHARS = 16 * 1024 * 1024  # one expansion (a name used twice per level doubles it)


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


@dataclass
class _Expanded:
    """A name's lines with every reference replaced (no indentation of its own yet)."""

    lines: list[str] = field(default_factory=list)
    chars: int = 0
    sources: dict[Source, None] = field(default_factory=dict)  # ordered set
    names: dict[str, None] = field(default_factory=dict)

    def add(self, lines: list[str], chars: int, at: Source) -> None:
        self.chars += chars
        if self.chars > MAX_CHARS:
            message = f"expanding references here gives more than {MAX_CHARS >> 20} MiB"
            raise PlanError(message, at.file, at.line)
        self.lines.extend(lines)

    def add_reference(self, reference: tuple[_Expanded, Source], indent: str) -> None:
        inner, at = reference
        lines = [indent + line for line in inner.lines] if indent else inner.lines
        self.add(lines, inner.chars + len(indent) * len(inner.lines), at)
        self.sources.update(inner.sources)
        self.names.update(inner.names)


class Names:
    """The named blocks defined so far in a set, in document order."""

    def __init__(self, later: dict[str, Source] | None = None) -> None:
        self.pieces: dict[str, list[Piece]] = {}
        self.defined: dict[str, Source] = {}  # first definition of each name
        self.later = later or {}  # first definitions in steps not read yet (for hints)
        self.used: set[str] = set()
        self._expanded: dict[str, _Expanded] = {}  # names expanded since the last add_step

    def add_step(self, step: Step) -> set[str]:
        """Register a step's named blocks (before its targets expand); the names it adds to."""
        added: set[str] = set()
        self._expanded.clear()
        for item in named_items(step):
            name = item.name or ""
            self.pieces.setdefault(name, []).append(Piece(item.content, item.source, item.stripped))
            self.defined.setdefault(name, item.source)
            added.add(name)
        return added

    def block_text(self, block: Block) -> Expansion:
        """A target block's content: every block of its ``#name``, or its own text."""
        if block.name is not None:
            self.used.add(block.name)
            done = self._name(block.name, (block.name,), block.source)
        elif "<<" not in block.content and len(block.content) <= MAX_CHARS:
            return Expansion(block.content)  # no reference can be in it: its text as it is
        else:
            piece = Piece(block.content, block.source, block.stripped)
            done = self._pieces([piece], (block.target,), block.source)
            done.sources.pop(block.source, None)  # the block itself is not a contribution
        return Expansion("".join(done.lines), list(done.sources), set(done.names))

    def unused(self) -> list[tuple[Source, str]]:
        """Warnings for names no target ever expands."""
        return [
            (source, f"<<{name}>> is defined but never used")
            for name, source in self.defined.items()
            if name not in self.used
        ]

    def _name(self, name: str, chain: tuple[str, ...], at: Source) -> _Expanded:
        """Every block of ``name`` expanded, computed once per set of definitions."""
        done = self._expanded.get(name)
        if done is None:
            pieces = self.pieces.get(name)
            if not pieces:
                raise PlanError(self._missing(name), at.file, at.line)
            done = self._pieces(pieces, chain, at)
            done.names[name] = None
            self._expanded[name] = done
        self.used.update(done.names)
        return done

    def _pieces(self, pieces: list[Piece], chain: tuple[str, ...], at: Source) -> _Expanded:
        done = _Expanded()
        for piece in pieces:
            done.sources[piece.source] = None
            if "<<" not in piece.content:  # no reference can be in it: its lines as they are
                done.add(list(_split(piece.content)), len(piece.content), at)
                continue
            for index, line in enumerate(_split(piece.content)):
                match = REFERENCE.match(line.rstrip())
                if match is None:
                    done.add([line], len(line), at)
                    continue
                done.add_reference(
                    self._reference(match["name"], chain, piece.line(index)), match["indent"]
                )
        return done

    def _reference(self, name: str, chain: tuple[str, ...], at: Source) -> tuple[_Expanded, Source]:
        if name in chain:
            cycle = " -> ".join(f"<<{n}>>" for n in (*chain[chain.index(name) :], name))
            raise PlanError(f"<<{name}>> refers to itself: {cycle}", at.file, at.line)
        if len(chain) >= MAX_DEPTH:
            message = f"<<{name}>> is nested more than {MAX_DEPTH} references deep"
            raise PlanError(f"{message} (<<{chain[1]}>> -> ... -> <<{name}>>)", at.file, at.line)
        return self._name(name, (*chain, name), at), at

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
