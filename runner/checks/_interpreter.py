"""Find a Python interpreter >= 3.12 to build check venvs with.

Order: the explicit choice (``--python``), ``WF_PYTHON``, versioned names on ``PATH``
that really run, pyenv's installed versions, then interpreters uv manages. An explicit
choice that is unusable is an error, never silently replaced.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MINIMUM = (3, 12)
PATH_NAMES = ("python3.14", "python3.13", "python3.12", "python3")
_PROBE = "import sys; print(sys.implementation.name, *sys.version_info[:3], sys.executable)"
_PROBE_TIMEOUT = 20.0


class InterpreterNotFound(Exception):
    """No usable interpreter; the message lists what was tried."""


@dataclass(frozen=True)
class Interpreter:
    path: str  # sys.executable as reported by the interpreter itself
    version: tuple[int, int, int]
    implementation: str  # "cpython", "pypy", ...

    @property
    def label(self) -> str:
        return f"{self.implementation}-{'.'.join(map(str, self.version))}"


def find_interpreter(explicit: str | None, env: Mapping[str, str], uv: str | None) -> Interpreter:
    """Return the first usable interpreter >= 3.12; raise InterpreterNotFound otherwise."""
    return _find_cached(explicit, uv, tuple(sorted(env.items())))


@lru_cache(maxsize=16)
def _find_cached(
    explicit: str | None, uv: str | None, env_items: tuple[tuple[str, str], ...]
) -> Interpreter:
    env = dict(env_items)
    if explicit:
        return _require(explicit, "--python", env)
    if env.get("WF_PYTHON"):
        return _require(env["WF_PYTHON"], "WF_PYTHON", env)
    tried: list[str] = ["--python (not given)", "WF_PYTHON (not set)"]
    candidates = _candidates(env, tried)
    with ThreadPoolExecutor(max_workers=8) as pool:  # shims cost ~0.1 s each: probe at once
        probes = list(pool.map(lambda exe: _probe(exe, env), candidates))
    for exe, (found, problem) in zip(candidates, probes, strict=True):
        if found is not None and found.version >= MINIMUM:
            return found
        tried.append(f"{exe} ({problem or _too_old(found)})")
    managed = _uv_find(uv, env) if uv else None
    if managed is not None:
        return managed
    tried.append("`uv python find '>=3.12'` (none)")
    raise InterpreterNotFound(
        "no Python >= 3.12 found to build the check venv; tried: "
        + "; ".join(tried)
        + ". Install one (e.g. `uv python install 3.12`), or pass --python / set WF_PYTHON"
    )


def _require(choice: str, origin: str, env: dict[str, str]) -> Interpreter:
    resolved = shutil.which(choice, path=env.get("PATH", os.defpath)) or choice
    found, problem = _probe(resolved, env)
    if found is None:
        raise InterpreterNotFound(f"{origin}={choice} does not run: {problem}")
    if found.version < MINIMUM:
        raise InterpreterNotFound(f"{origin}={choice} is {_too_old(found)}; checks need >= 3.12")
    return found


def _too_old(found: Interpreter | None) -> str:
    return f"Python {'.'.join(map(str, found.version))}, too old" if found else "unusable"


def _candidates(env: dict[str, str], tried: list[str]) -> list[str]:
    """Executables to probe, in order of preference; records misses in ``tried``.

    pyenv's shims are skipped (each costs ~0.1 s and only forwards): the versions they
    forward to are probed directly, and system interpreters are found on the rest of PATH.
    """
    home = env.get("HOME")
    root = env.get("PYENV_ROOT") or (str(Path(home) / ".pyenv") if home else None)
    shims = Path(root, "shims").resolve() if root else None
    dirs = [d for d in env.get("PATH", os.defpath).split(os.pathsep) if d]
    path = os.pathsep.join(d for d in dirs if shims is None or Path(d).resolve() != shims)
    found: list[str] = []
    for name in PATH_NAMES:
        exe = shutil.which(name, path=path)
        if exe is None:
            tried.append(f"{name} (not on PATH{', pyenv shims aside' if shims else ''})")
        elif exe not in found:
            found.append(exe)
    if root:
        versions = _pyenv_versions(Path(root) / "versions")
        found.extend(str(exe) for exe in versions if str(exe) not in found)
        if not versions:
            tried.append(f"{root}/versions (no Python >= 3.12)")
    return found


def _pyenv_versions(versions_dir: Path) -> list[Path]:
    """pyenv's CPython 3.12+ interpreters, highest version first."""
    found: list[tuple[tuple[int, ...], Path]] = []
    if not versions_dir.is_dir():
        return []
    for entry in versions_dir.iterdir():
        match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", entry.name)
        exe = entry / "bin" / "python3"
        if match and exe.exists():
            version = tuple(int(part) for part in match.groups())
            if version[:2] >= MINIMUM:
                found.append((version, exe))
    return [exe for _, exe in sorted(found, reverse=True)]


def _uv_find(uv: str, env: dict[str, str]) -> Interpreter | None:
    env = {**env, "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
    try:
        done = subprocess.run(
            [uv, "python", "find", "--no-project", ">=3.12"],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return None
    found, _ = _probe(lines[-1], env)
    return found if found is not None and found.version >= MINIMUM else None


def _probe(exe: str, env: Mapping[str, str]) -> tuple[Interpreter | None, str]:
    """Run the interpreter and ask what it is: (interpreter, "") or (None, problem)."""
    try:
        done = subprocess.run(
            [exe, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            check=False,
            env={**env, "PYTHONWARNINGS": "ignore"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, type(exc).__name__
    parts = done.stdout.split(maxsplit=4)
    if done.returncode != 0 or len(parts) != 5 or not all(p.isdigit() for p in parts[1:4]):
        return None, f"exit {done.returncode}"
    major, minor, micro = (int(p) for p in parts[1:4])
    return Interpreter(
        path=parts[4].strip(), version=(major, minor, micro), implementation=parts[0]
    ), ""
