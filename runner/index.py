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
- the index is written only when every recorded time lies before the moment the
  comparison began, less ``RACY_NS``: a change within the same clock tick as the
  recorded stat could keep every field the same (git's "racily clean" files);
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
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import __version__
from runner.errors import PathError
from runner.model import Source
from runner.paths import inside_project
from runner.project import WorkflowSet, cache_dir
from runner.stepcache import machine_key, read_regular, seal, unseal
from runner.transaction import write_atomic

if TYPE_CHECKING:
    from runner.model import Step
    from runner.plan import Plan, StepPlan

FORMAT = "wf-index-2"
RACY_NS = 1_000_000_000  # files changed less than this before a comparison are not trusted
LIBRARIES = ("markdown_it", "mdit_py_plugins", "yaml", "jinja2")
MAX_INDEX_BYTES = 256 * 1024 * 1024

Stats = dict[str, list[int]]


def index_file(wset: WorkflowSet) -> Path:
    return wset.root / ".wf" / "index" / f"{wset.name}.json"


class Snapshot:
    """The stats of a set's trees, taken before a full comparison reads them."""

    def __init__(self, wset: WorkflowSet, clock: int) -> None:
        self.wset = wset
        self.clock = clock  # the file system's time when the snapshot began
        self.fingerprint = fingerprint(wset)
        self.stats = tree_stats(wset)

    def settled(self) -> bool:
        """Every recorded time lies far enough before the snapshot to be trusted."""
        limit = self.clock - RACY_NS
        return all(max(stat[-2:], default=0) < limit for stat in self.stats.values())


def snapshot(wset: WorkflowSet) -> Snapshot | None:
    """Stamp the clock, then stat both trees; None when no index can be kept."""
    try:
        stamp = inside_project(wset.root, index_file(wset).with_suffix(".stamp"))
        cache_dir(wset.root)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_bytes(b"")
        clock = stamp.stat().st_mtime_ns
    except (OSError, PathError):  # read-only, or .wf/ leads out: every run compares in full
        return None
    return Snapshot(wset, clock)


def record(snap: Snapshot, plan: Plan) -> None:
    """Keep the snapshot of a set just found consistent (when its stats can be trusted),
    with the warnings its plan gave, which a run answered from the index repeats, and
    what each step made (see ``changed_steps``)."""
    secret = machine_key()
    data = {
        "format": FORMAT,
        "fingerprint": snap.fingerprint,
        "warnings": [[str(source.file), source.line, message] for source, message in plan.warnings],
        "stats": snap.stats,
        "steps": {sp.step.number: _step_facts(sp) for sp in plan.steps},
        "partial": not any(sp.step.generate for sp in plan.steps),
    }
    with contextlib.suppress(OSError, PathError):
        path = inside_project(snap.wset.root, index_file(snap.wset))
        if secret is not None and snap.settled():
            write_atomic(
                path, seal(json.dumps(data, separators=(",", ":")).encode(), secret, path.name)
            )
        else:
            path.unlink(missing_ok=True)


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
    return Look(data, tree_stats(wset))


def recall(wset: WorkflowSet, seen: Look | None = None) -> list[tuple[Source, str]] | None:
    """The plan's warnings when the index proves the set still consistent; None means:
    compare in full."""
    seen = seen or look(wset)
    if seen.data is None or seen.data.get("stats") != seen.stats:
        return None
    return _warnings(seen.data)


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
    return Changed(sorted(steps), facts, warnings)


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
