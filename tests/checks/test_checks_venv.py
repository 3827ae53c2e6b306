"""Interpreter discovery and the per-pyproject venv (real uv, real Python >= 3.12)."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from runner.checks import CheckOptions, run_checks
from runner.checks._interpreter import InterpreterNotFound, find_interpreter
from runner.checks._venv import (
    VenvSpec,
    ensure_venv,
    find_uv,
    install_extras,
    prune,
    uv_version,
)
from runner.errors import CheckSetupError

PYPROJECT = b"""\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["six"]

[project.optional-dependencies]
dev = ["iniconfig"]
"""
APP = {"pyproject.toml": PYPROJECT, "app/__init__.py": b"VALUE = 42\n"}
PROBE = (
    'python -c "import sys, six, iniconfig, app; assert sys.version_info >= (3, 12); '
    'assert app.VALUE == 42; print(sys.prefix)" && test "$(command -v python)" = '
    '"$VIRTUAL_ENV/bin/python" && echo "PYTHONPATH=$PYTHONPATH"'
)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for the module, so the venv is built once and reused by later tests."""
    return tmp_path_factory.mktemp("venv-cache") / ".wf"


def venv_dirs(cache_dir: Path) -> list[Path]:
    root = cache_dir / "venvs"
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_venv_is_built_with_python_312_plus_and_reused(make_job, base_env, shared_cache):
    options = CheckOptions(cache_dir=shared_cache, env=base_env, use_cache=False)
    messages: list[str] = []
    start = time.monotonic()
    [cold] = run_checks([make_job(PROBE, APP)], options, lambda m, _r: messages.append(m))
    cold_time = time.monotonic() - start
    assert cold.status == "passed", cold.output
    [venv] = venv_dirs(shared_cache)
    assert cold.output.splitlines()[0] == str(venv)  # sys.prefix is the cached venv
    assert f"PYTHONPATH={tmp_root(cold.output)}" in cold.output
    assert any("building the check venv" in m for m in messages)
    built_at = (venv / "pyvenv.cfg").stat().st_mtime_ns

    messages.clear()
    start = time.monotonic()
    [warm] = run_checks([make_job(PROBE, APP)], options, lambda m, _r: messages.append(m))
    warm_time = time.monotonic() - start
    assert warm.status == "passed", warm.output
    assert not warm.cached  # use_cache=False: the check ran, only the venv was reused
    assert not any("building" in m for m in messages)
    assert venv_dirs(shared_cache) == [venv]
    assert (venv / "pyvenv.cfg").stat().st_mtime_ns == built_at
    print(f"venv cold run {cold_time:.2f}s, warm run {warm_time:.2f}s")
    assert warm_time < cold_time


def tmp_root(output: str) -> str:
    """The workspace from the ``PYTHONPATH=...`` line the probe prints."""
    line = next(line for line in output.splitlines() if line.startswith("PYTHONPATH="))
    return line.removeprefix("PYTHONPATH=")


def test_same_pyproject_in_another_step_shares_the_venv(make_job, base_env, shared_cache):
    options = CheckOptions(cache_dir=shared_cache, env=base_env, use_cache=False)
    files = {**APP, "app/extra.py": b"X = 1\n"}
    jobs = [make_job(PROBE, files, step="02", name=f"c{i}") for i in range(3)]
    results = run_checks(jobs, options)
    assert [r.status for r in results] == ["passed"] * 3
    assert len(venv_dirs(shared_cache)) == 1


def test_checks_without_pyproject_use_the_plain_environment(make_job, options):
    [result] = run_checks([make_job('echo "venv=${VIRTUAL_ENV:-none}"')], options)
    assert result.status == "passed"
    assert not (options.cache_dir / "venvs").exists()


def test_concurrent_builders_build_once(base_env, tmp_path):
    uv = find_uv(base_env)
    assert uv is not None
    interpreter = find_interpreter(None, base_env, uv)
    spec = VenvSpec(PYPROJECT + b"# concurrent\n", interpreter, uv, uv_version(uv))
    built: list[bool] = []

    def build() -> None:
        built.append(ensure_venv(tmp_path, spec, base_env)[1])

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(built) == [False, False, True]
    assert [p.name for p in (tmp_path / "venvs").iterdir() if p.is_dir()] == [spec.key]


def test_broken_venv_is_rebuilt(base_env, tmp_path):
    uv = find_uv(base_env)
    assert uv is not None
    spec = VenvSpec(PYPROJECT, find_interpreter(None, base_env, uv), uv, uv_version(uv))
    venv, built = ensure_venv(tmp_path, spec, base_env)
    assert built
    (venv / "bin" / "python").unlink()  # e.g. the interpreter it linked to was removed
    again, rebuilt = ensure_venv(tmp_path, spec, base_env)
    assert (again, rebuilt) == (venv, True)
    assert (venv / "bin" / "python").exists()


def test_install_failure_is_a_setup_error_with_uv_output(make_job, options):
    files = {
        "pyproject.toml": b'[project]\nname = "x"\nversion = "0"\ndependencies = ["six >>> 1"]\n'
    }
    with pytest.raises(CheckSetupError) as info:
        run_checks([make_job("true", files, line=7)], options)
    message = info.value.message
    assert "cannot build the venv for the checks of step 01" in message
    assert "project.dependencies[0]" in message  # the tail of uv's own explanation
    assert info.value.line == 7


def test_extras_and_groups_are_detected():
    assert install_extras(PYPROJECT) == ["--extra", "dev"]
    assert install_extras(b'[dependency-groups]\ndev = ["pytest"]\n') == ["--group", "dev"]
    assert install_extras(b'[project]\nname = "x"\n') == []


def test_explicit_python_must_be_usable(make_job, options, base_env):
    too_old = shutil.which("python3.11") or "/root/.pyenv/versions/3.11.7/bin/python3"
    for choice, message in [("/nonexistent/python", "does not run"), (too_old, "too old")]:
        opts = dataclasses.replace(options, python=choice)
        with pytest.raises(CheckSetupError, match=message):
            run_checks([make_job("true", APP)], opts)


def test_wf_python_from_env_is_used(make_job, options, base_env, tmp_path):
    candidates = sorted(Path("/root/.pyenv/versions").glob("3.12.*/bin/python3"))
    if not candidates:
        pytest.skip("no pyenv Python 3.12 here")
    opts = dataclasses.replace(options, env={**base_env, "WF_PYTHON": str(candidates[0])})
    job = make_job('python -c "import sys; print(sys.version_info[:2])"', APP)
    [result] = run_checks([job], opts)
    assert result.status == "passed", result.output
    assert "(3, 12)" in result.output


def test_no_interpreter_lists_what_was_tried(base_env, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "pyenv")}
    uv = find_uv(base_env)
    with pytest.raises(InterpreterNotFound) as info:
        find_interpreter(None, env, uv)
    message = str(info.value)
    for tried in ("python3.13 (not on PATH", "pyenv/versions", "uv python find", "--python"):
        assert tried in message


def test_pyenv_versions_are_found_when_path_has_none(base_env, tmp_path):
    pyenv_root = Path(base_env.get("PYENV_ROOT", Path.home() / ".pyenv"))
    if not list(pyenv_root.glob("versions/3.1[2-9].*/bin/python3")):
        pytest.skip("no pyenv Python >= 3.12 here")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(pyenv_root)}
    found = find_interpreter(None, env, None)
    assert found.version >= (3, 12)
    assert str(pyenv_root) in found.path


def test_long_unused_venvs_are_pruned_but_not_kept_or_locked_ones(tmp_path):
    root = tmp_path / "venvs"
    old = time.time() - 30 * 24 * 3600
    for key in ("stale", "kept", "locked", "fresh"):
        (root / key).mkdir(parents=True)
        (root / key / "pyvenv.cfg").write_text("")
        stamp = root / key / ".wf-last-used"
        stamp.touch()
        if key != "fresh":
            os.utime(stamp, (old, old))
    with (root / "locked.lock").open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # as a builder in another process holds it
        removed = prune(tmp_path, keep={"kept"})
    assert removed == ["stale"]
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["fresh", "kept", "locked"]


def test_wf_python_from_the_environment_is_named_as_such_in_errors(
    make_job, options, base_env, monkeypatch
):
    bad = dataclasses.replace(options, env={**base_env, "WF_PYTHON": "/nonexistent/python"})
    with pytest.raises(CheckSetupError) as info:
        run_checks([make_job("true", APP)], bad)
    assert "WF_PYTHON=/nonexistent/python does not run" in info.value.message
    assert "--python" not in info.value.message
    monkeypatch.setenv("WF_PYTHON", "/nonexistent/python3")  # env=None: os.environ
    with pytest.raises(CheckSetupError, match="WF_PYTHON=/nonexistent/python3"):
        run_checks([make_job("true", APP)], dataclasses.replace(options, env=None))
    explicit = dataclasses.replace(bad, python="/nonexistent/explicit")  # --python wins
    with pytest.raises(CheckSetupError, match="--python=/nonexistent/explicit"):
        run_checks([make_job("true", APP)], explicit)
