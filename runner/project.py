"""Load a workflow set: its step documents (parsed once per content, cached) and config."""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from runner import __version__
from runner.discover import SET_CONFIG, StepFile, find_sets, find_steps, select
from runner.errors import DocumentError, PathError, SelectionError
from runner.model import Step
from runner.parse import (
    FrontMatterPolicy,
    block_parser,
    decode_text,
    load_yaml,
    parse_step,
    read_text,
)
from runner.paths import inside_project
from runner.profiles import Profile, choose, key_lines, parse_profiles, profile_steps
from runner.stepcache import (
    MAX_CACHE_BYTES,
    decode_step,
    encode_step,
    machine_key,
    read_regular,
    seal,
    unseal,
)
from runner.transaction import write_atomic

CACHE_DIR = ".wf"
# A parse is cached when it took at least this much CPU time. Reading a cache entry back
# (read, HMAC, decode) costs about half a parse of a small document, and writing it a
# third more on every miss, so caching pays only for documents that are slow to parse:
# a document of a few blocks parses in about a millisecond, the python-backend's in
# 20-70 ms (docs/benchmarks.md).
CACHE_PARSES_FROM = 0.003  # seconds


def cache_dir(root: Path) -> Path:
    """``<root>/.wf``: caches, venvs and locks; created with a ``.gitignore`` of ``*``
    so it is never committed, whatever the project's own ignore rules say.

    A ``.wf`` (or ``.wf/.gitignore``) that a symlink places outside the project is
    refused (``PathError``): locks, caches and venvs would be written there.
    """
    folder = inside_project(root, root / CACHE_DIR)
    ignore = inside_project(root, folder / ".gitignore")
    if not ignore.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(ignore, b"*\n")
    return folder


@dataclass
class WorkflowSet:
    """One folder ``workflows/<name>/`` and its output folder ``sdlc/<name>/``."""

    root: Path
    name: str
    step_files: list[StepFile]
    vars: dict[str, Any] = field(default_factory=dict)
    front_matter: FrontMatterPolicy = field(default_factory=FrontMatterPolicy)
    profiles: dict[str, Profile] = field(default_factory=dict)  # declared in wf.yaml
    _parsed: dict[str, Step] = field(default_factory=dict, repr=False)
    _cache: list[Path | None] = field(default_factory=list, repr=False)  # [.wf/parse/]

    @property
    def folder(self) -> Path:
        return self.root / "workflows" / self.name

    @property
    def out_dir(self) -> Path:
        return self.root / "sdlc" / self.name

    def select(self, selectors: tuple[str, ...] | list[str] = ()) -> list[StepFile]:
        return select(self.step_files, selectors)

    def steps(self, chosen: list[StepFile] | None = None) -> list[Step]:
        """Parsed steps (all, or the chosen ones), in document order."""
        return [self.step(f) for f in (self.step_files if chosen is None else chosen)]

    def step(self, step_file: StepFile) -> Step:
        if step_file.number not in self._parsed:
            if not self._cache:  # checked once per loaded set, not once per document
                self._cache.append(_parse_folder(self.root) if machine_key() else None)
            parsed = _parse_cached(self._cache[0], step_file, self.front_matter)
            self._parsed[step_file.number] = parsed
        return self._parsed[step_file.number]

    def choose_profiles(self, wanted: tuple[str, ...] = (), every: bool = False) -> list[Profile]:
        """``--profile a,b`` or ``--all-profiles``: the profiles, each checked against the
        steps (only optional ones left out, none a kept step requires)."""
        chosen = choose(self.profiles, self.name, wanted, every)
        for profile in chosen:
            self.profile_steps(profile)
        return chosen

    def profile_steps(self, profile: Profile) -> list[StepFile]:
        """The steps ``profile`` assembles, in order."""
        return profile_steps(profile, self.step_files, self.step)

    def check_profiles(self) -> None:
        """Every declared profile is valid (build and verify refuse a broken wf.yaml)."""
        for profile in self.profiles.values():
            self.profile_steps(profile)


def load_sets(root: Path, names: tuple[str, ...] | list[str] = ()) -> list[WorkflowSet]:
    """The named sets (default: all) of the project at ``root``."""
    available = find_sets(root)
    for name in names:
        if name not in available:
            raise SelectionError(
                f"no workflow set {name!r} in {root / 'workflows'}; sets: {', '.join(available)}"
            )
    return [load_set(root, name) for name in (names or available)]


def load_set(root: Path, name: str) -> WorkflowSet:
    folder = root / "workflows" / name
    config = folder / SET_CONFIG
    data = _set_config(config)
    text = read_text(config) if {"profiles", "front_matter"} & set(data) else ""
    policy = _front_matter_policy(data.get("front_matter"), config, key_lines(text, "front_matter"))
    profiles = parse_profiles(data.get("profiles"), config, text)
    return WorkflowSet(root, name, find_steps(folder), _set_vars(data, config), policy, profiles)


def only_set(root: Path, name: str | None) -> WorkflowSet:
    """The set a single-step command works on: ``--set`` or the only one there is."""
    if name:
        return load_sets(root, [name])[0]
    available = find_sets(root)
    if len(available) != 1:
        listed = ", ".join(available) or "none"
        raise SelectionError(f"choose a workflow set with --set (sets: {listed})")
    return load_set(root, available[0])


SET_CONFIG_KEYS = ("vars", "front_matter", "profiles")


def _set_config(config: Path) -> dict[str, Any]:
    """``workflows/<set>/wf.yaml``, the set-level config (absent: empty)."""
    if not config.is_file():
        return {}
    data = load_yaml(read_text(config), config, 1, "the set config")[1] or {}
    if not isinstance(data, dict) or set(data) - set(SET_CONFIG_KEYS):
        message = "the set config holds 'vars' (a mapping), 'front_matter' and 'profiles'"
        raise DocumentError(message, config, 1)
    return data


def _front_matter_policy(value: Any, config: Path, lines: dict[str, int]) -> FrontMatterPolicy:
    """``front_matter: {accept: [key, ...], strict: false}``; ``lines``: where its keys are."""
    if value is None:
        return FrontMatterPolicy()
    if not isinstance(value, dict) or set(value) - {"accept", "strict"}:
        message = "'front_matter' takes 'accept' (a list of keys) and 'strict' (true/false)"
        raise DocumentError(message, config, lines.get("", 1))
    accept = value.get("accept") or []
    strict = value.get("strict", False)
    if not isinstance(accept, list) or not all(isinstance(k, str) for k in accept):
        where = lines.get("accept", lines.get("", 1))
        raise DocumentError("'front_matter.accept' must be a list of keys", config, where)
    if not isinstance(strict, bool):
        where = lines.get("strict", lines.get("", 1))
        raise DocumentError("'front_matter.strict' must be true or false", config, where)
    return FrontMatterPolicy(tuple(accept), strict)


def _set_vars(data: dict[str, Any], config: Path) -> dict[str, Any]:
    """Template variables of the set (``vars:`` in wf.yaml)."""
    variables = data.get("vars") or {}
    if not isinstance(variables, dict):
        raise DocumentError("'vars' must be a mapping", config, 1)
    return variables


@cache
def _parser_fingerprint() -> str:
    """Changes whenever the code that turns documents into ``Step`` objects changes."""
    digest = hashlib.sha256(__version__.encode())
    for module in ("parse.py", "tabbed.py", "model.py", "discover.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()


def _parse_cached(folder: Path | None, step_file: StepFile, policy: FrontMatterPolicy) -> Step:
    """Parse a document, reusing the result stored for identical bytes at the same path
    (stored when the parse was slow enough to be worth it: ``CACHE_PARSES_FROM``).

    Cache files are JSON sealed with this user's key (``runner.stepcache``): one this
    machine did not write - planted, committed, damaged - is a miss, never code run.
    """
    raw = step_file.path.read_bytes()
    identity = f"{_parser_fingerprint()}\0{step_file.path}\0{step_file.number}\0{step_file.slug}\0"
    identity += f"{policy!r}\0"
    key = hashlib.sha256(identity.encode() + raw).hexdigest()
    secret = machine_key()
    cache_file = f"{key}.json"
    cached = _load_cached(folder, cache_file, secret) if folder and secret else None
    if cached is not None:
        return cached
    block_parser()  # built once per process, before the parse is timed
    started = time.thread_time()
    step = parse_step(step_file, decode_text(raw, step_file.path), policy)
    step = replace(step, sha256=hashlib.sha256(raw).hexdigest())
    if folder is None or secret is None or time.thread_time() - started < CACHE_PARSES_FROM:
        return step
    payload = encode_step(step)
    if payload is not None:
        with contextlib.suppress(OSError):  # e.g. a read-only checkout: uncached
            write_atomic(folder / cache_file, seal(payload, secret, cache_file))
    return step


def _parse_folder(root: Path) -> Path | None:
    """``.wf/parse/``, made and checked once per loaded set: None when it cannot be used
    (a read-only checkout, or a ``.wf/`` or ``parse/`` a symlink leads outside the
    project). Files in it are read without following a link and replaced by rename, so
    a planted link in place of a file leads nowhere; only the folders need the check."""
    with contextlib.suppress(OSError, PathError):
        folder = inside_project(root, cache_dir(root) / "parse")
        folder.mkdir(exist_ok=True)
        return inside_project(root, folder)
    return None


def _load_cached(folder: Path, cache_file: str, secret: bytes) -> Step | None:
    try:
        data = read_regular(folder / cache_file, MAX_CACHE_BYTES)
    except OSError:
        return None  # absent, or not ours to read
    payload = unseal(data, secret, cache_file) if data is not None else None
    return decode_step(payload) if payload is not None else None
