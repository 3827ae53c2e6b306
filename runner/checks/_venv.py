"""Build (once) and reuse the virtual environment a project's checks run in.

A venv is keyed by the bytes of ``pyproject.toml``, the interpreter and the uv version.
It is built with ``uv venv --relocatable`` in a temporary folder next to its final
place and renamed into place when complete, under a file lock: a reader never sees a
half-built venv, and concurrent builders (threads or processes) build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from runner.checks._interpreter import Interpreter

_FORMAT = "wf-venv-2"  # bump when the way venvs are built changes
_BUILD_TIMEOUT = 900.0
_TAIL_LINES = 25
_USED_STAMP = ".wf-last-used"
_MAX_UNUSED = 14 * 24 * 3600.0  # venvs unused this long are removed


class VenvBuildError(Exception):
    """uv could not create the venv or install the dependencies."""


@dataclass(frozen=True)
class VenvSpec:
    """Everything a venv is built from."""

    pyproject: bytes
    interpreter: Interpreter
    uv: str
    uv_version: str

    @property
    def key(self) -> str:
        digest = hashlib.sha256()
        for part in (
            _FORMAT,
            self.interpreter.label,
            self.interpreter.path,
            self.uv_version,
        ):
            digest.update(part.encode() + b"\0")
        digest.update(self.pyproject)
        return digest.hexdigest()[:32]

    @property
    def portable_key(self) -> str:
        """What the venv is, not where: the key without the interpreter's path, for the
        result cache (a restored cache hits on a machine whose Python lives elsewhere)."""
        digest = hashlib.sha256()
        for part in (_FORMAT, self.interpreter.label, self.uv_version):
            digest.update(part.encode() + b"\0")
        digest.update(self.pyproject)
        return digest.hexdigest()[:32]


def find_uv(env: Mapping[str, str]) -> str | None:
    """The uv binary: the one shipped with the ``uv`` package, else ``uv`` on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv", path=env.get("PATH", os.defpath))


@lru_cache(maxsize=4)
def uv_version(uv: str) -> str:
    try:
        done = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise VenvBuildError(f"cannot run uv ({uv}): {exc}") from exc
    if done.returncode != 0:
        raise VenvBuildError(f"`{uv} --version` failed: {done.stderr.strip()}")
    return done.stdout.strip()


def venv_dir(cache_dir: Path, spec: VenvSpec) -> Path:
    return cache_dir / "venvs" / spec.key


def is_ready(venv: Path) -> bool:
    """Complete (it was renamed into place) and its interpreter still exists."""
    return (venv / "pyvenv.cfg").is_file() and (venv / "bin" / "python").exists()


def ensure_venv(cache_dir: Path, spec: VenvSpec, env: Mapping[str, str]) -> tuple[Path, bool]:
    """Return (venv path, built now). Builds at most once per key, even across processes."""
    final = venv_dir(cache_dir, spec)
    if is_ready(final):
        return final, False
    final.parent.mkdir(parents=True, exist_ok=True)
    with _locked(final.parent / f"{spec.key}.lock"):
        if is_ready(final):  # another builder finished while we waited
            return final, False
        _discard(final)  # a venv whose interpreter vanished
        for stale in final.parent.glob(f".tmp-{spec.key}-*"):  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        staging = final.parent / f".tmp-{spec.key}-{uuid.uuid4().hex[:8]}"
        try:
            _build(staging, spec, env)
            (staging / "venv").rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return final, True


def mark_used(venv: Path) -> None:
    """Record that a run uses this venv (see ``prune``)."""
    (venv / _USED_STAMP).touch()


def prune(cache_dir: Path, keep: set[str], max_age: float = _MAX_UNUSED) -> list[str]:
    """Remove venvs no run has used for ``max_age`` seconds; return their keys.

    Each pyproject.toml revision gets its own venv, so without this the cache would only
    grow. A venv being built (its lock held) is never touched.
    """
    root = cache_dir / "venvs"
    if not root.is_dir():
        return []
    limit = time.time() - max_age
    removed: list[str] = []
    for venv in root.iterdir():
        if venv.name.startswith(".") or not venv.is_dir() or venv.name in keep:
            continue
        stamp = venv / _USED_STAMP
        last_used = (stamp if stamp.exists() else venv).stat().st_mtime
        if last_used < limit and _discard_unless_locked(venv, root / f"{venv.name}.lock"):
            removed.append(venv.name)
    return removed


def _discard_unless_locked(venv: Path, lock: Path) -> bool:
    with lock.open("a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        _discard(venv)  # the lock file stays: another process may be waiting on it
    return True


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _discard(path: Path) -> None:
    if path.exists() or path.is_symlink():
        trash = path.with_name(f".tmp-{path.name}-old-{uuid.uuid4().hex[:8]}")
        path.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)


def _build(staging: Path, spec: VenvSpec, env: Mapping[str, str]) -> None:
    source = staging / "project"
    source.mkdir(parents=True)
    (source / "pyproject.toml").write_bytes(spec.pyproject)
    uv_env = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    uv_env.update({"NO_COLOR": "1", "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never"})
    venv = staging / "venv"
    _uv(
        spec,
        ["venv", "--relocatable", "--no-project", "--python", spec.interpreter.path, str(venv)],
        staging,
        uv_env,
        "create the venv",
    )
    install = ["pip", "install", "--compile-bytecode", "--python", str(venv / "bin" / "python")]
    install += ["-r", "pyproject.toml"]
    install += install_extras(spec.pyproject)
    _uv(spec, install, source, uv_env, "install the dependencies of pyproject.toml")


def install_extras(pyproject: bytes) -> list[str]:
    """``--extra dev`` / ``--group dev`` when the project declares them."""
    try:
        data = tomllib.loads(pyproject.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VenvBuildError(f"pyproject.toml does not parse: {exc}") from exc
    args: list[str] = []
    extras = data.get("project", {}).get("optional-dependencies", {})
    if isinstance(extras, dict) and "dev" in extras:
        args += ["--extra", "dev"]
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict) and "dev" in groups:
        args += ["--group", "dev"]
    return args


def _uv(spec: VenvSpec, args: list[str], cwd: Path, env: dict[str, str], what: str) -> None:
    command = [spec.uv, *args]
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=_BUILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise VenvBuildError(f"uv did not {what} within {_BUILD_TIMEOUT:.0f}s") from exc
    except OSError as exc:
        raise VenvBuildError(f"cannot run uv ({spec.uv}): {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stdout.rstrip().splitlines()[-_TAIL_LINES:])
        raise VenvBuildError(
            f"uv could not {what} (exit {done.returncode}; {spec.interpreter.label}, "
            f"{spec.uv_version}):\n{tail}"
        )


def venv_environment(env: Mapping[str, str], venv: Path, workspace: Path) -> dict[str, str]:
    """The check's environment inside the venv; the project importable from the workspace."""
    result = {k: v for k, v in env.items() if k != "PYTHONHOME"}
    result["VIRTUAL_ENV"] = str(venv)
    result["PATH"] = os.pathsep.join(filter(None, [str(venv / "bin"), env.get("PATH", "")]))
    paths = [str(workspace)] + ([str(workspace / "src")] if (workspace / "src").is_dir() else [])
    result["PYTHONPATH"] = os.pathsep.join(paths)
    result["PYTHONDONTWRITEBYTECODE"] = "1"
    return result
