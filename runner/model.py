"""Plain data shared by every stage: documents -> parse -> plan -> write -> check -> report."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Source:
    """Where something comes from: a Markdown file and a 1-based line."""

    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def label(self, root: Path) -> str:
        """``file:line`` with the file relative to ``root`` when it lies below it."""
        return f"{_relative(self.file, root)}:{self.line}"


@cache
def _relative(file: Path, root: Path) -> str:
    try:
        return _resolved(file).relative_to(_resolved_folder(root)).as_posix()
    except ValueError:
        return file.as_posix()


def _resolved(file: Path) -> Path:
    """``file.resolve()``, with its folder resolved once for all the documents in it."""
    if file.is_symlink() or file.name in ("", ".", ".."):
        return file.resolve()
    return _resolved_folder(file.parent) / file.name


@cache
def _resolved_folder(folder: Path) -> Path:
    return folder.resolve()


@dataclass(frozen=True)
class Block:
    """A fenced code block that names a target path (an artifact)."""

    target: str
    content: str
    source: Source
    lang: str = ""
    mode: str = "write"  # write | append | patch
    template: bool = False
    skeleton: bool = False
    stripped: int = 0  # leading lines of the fence left out of content (``# path:`` comment)
    name: str | None = None  # ``{.python #name file=…}``: the file is every block of that name
    permissions: int | None = None  # Entangled's ``mode=0755``; only its executable bit is used


@dataclass(frozen=True)
class Fragment:
    """A named block without a target (``{.python #name}``): text for ``<<name>>``."""

    name: str
    content: str
    source: Source
    stripped: int = 0


@dataclass(frozen=True)
class CheckSpec:
    """A command that must succeed in the workspace assembled from steps 01..step."""

    name: str
    command: str
    step: str  # step number, e.g. "03"
    source: Source
    needs: tuple[str, ...] = ()  # subset of ("postgres", "redis", "s3")
    timeout: float = 300.0
    expect_exit: int = 0
    expect_output: str | None = None  # regex searched in combined stdout+stderr
    profiles: tuple[str, ...] = ()  # the profiles whose assembled tree it runs on (reports)

    @property
    def title(self) -> str:
        """The name, with the profiles it runs in when it runs in some: ``tests [minimal]``."""
        return f"{self.name} [{', '.join(self.profiles)}]" if self.profiles else self.name


STDOUT = "stdout"  # a derivation whose bytes are the command's standard output


@dataclass(frozen=True)
class Derivation:
    """A file a step produces by running a command in the project assembled so far.

    ``capture`` is where the bytes come from: ``STDOUT``, or a path the command writes in
    the workspace (by default the target itself, as ``uv lock`` writes ``uv.lock``).
    ``rederive`` (``rederive=later``): the file describes the whole project, not this
    step's part of it, so every later step that is planned with it derives it again on
    the tree that step leaves (an OpenAPI document that later steps' routes change).
    """

    target: str
    command: str
    source: Source
    capture: str = STDOUT
    needs: tuple[str, ...] = ()
    timeout: float = 300.0
    rederive: bool = False


@dataclass(frozen=True)
class Step:
    """One numbered workflow document, parsed."""

    number: str  # "04"
    slug: str  # "auth_security" as in the file name
    path: Path
    title: str
    blocks: tuple[Block, ...]
    checks: tuple[CheckSpec, ...] = ()
    fragments: tuple[Fragment, ...] = ()  # named blocks, in document order
    requires: tuple[str, ...] = ()
    optional: bool = False
    vars: dict[str, Any] = field(default_factory=dict)
    template: bool = False
    generate: dict[str, Any] | None = None
    derivations: tuple[Derivation, ...] = ()
    sha256: str = ""  # of the document's bytes (the stat index verifies recent ones by it)

    @property
    def id(self) -> str:
        return self.slug.replace("_", "-")

    @property
    def folder(self) -> str:
        return f"{self.number}-{self.id}"
