"""Run the command of a derived output the way a check runs: in a fresh workspace holding
the assembled project, in the check venv, with the services it needs, supervised, under a
timeout. What matters here is the bytes it produces (its stdout, or a file it writes).
"""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from runner.checks._execute import (
    Interrupted,
    ProcessGroups,
    materialize,
    remove_tree,
    run_command,
    tail,
)
from runner.checks._interpreter import InterpreterNotFound, find_interpreter
from runner.checks._run import fresh_run_root
from runner.checks._service_base import ServiceError, Unavailable
from runner.checks._services import Services
from runner.checks._types import CheckOptions
from runner.checks._venv import (
    VenvBuildError,
    VenvSpec,
    ensure_venv,
    find_uv,
    uv_version,
    venv_environment,
)
from runner.errors import CheckSetupError
from runner.model import STDOUT, Source

_OUTPUT_LINES = 30  # lines of the command's output an error message shows


@dataclass(frozen=True)
class DeriveJob:
    """One derivation: the command, the tree it runs in and where its bytes come from."""

    command: str
    files: Mapping[str, bytes]  # the workspace: posix relative path -> content
    capture: str  # STDOUT, or a workspace-relative path the command writes
    source: Source  # the declaration, for errors
    needs: tuple[str, ...] = ()
    timeout: float = 300.0


@dataclass(frozen=True)
class Derived:
    """The bytes a derivation produced, or why there are none (``reason``, ``output``)."""

    content: bytes | None
    reason: str = ""
    output: str = ""  # the tail of what the command printed (stderr; stdout too unless captured)


class Deriver:
    """Runs derivations one after another; services and tools are found once, on first need.

    Use as a context manager: it stops the services it started and removes its workspaces.
    """

    def __init__(self, options: CheckOptions) -> None:
        self._options = options
        self._env = dict(options.env if options.env is not None else os.environ)
        self._services = Services(self._env, options.cache_dir)
        self._groups = ProcessGroups()
        self._root: Path | None = None

    def __enter__(self) -> Deriver:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._groups.kill_all()
        self._services.close()
        if self._root is not None:
            remove_tree(self._root)

    def run(self, job: DeriveJob) -> Derived:
        """Run ``job``; a setup problem (no uv, no Python, no venv) raises CheckSetupError."""
        missing = self._services.unavailable(job.needs)
        if isinstance(missing, Unavailable):
            return Derived(None, f"needs a service that is unavailable: {missing.reason}")
        venv = self._venv(job)
        if self._root is None:
            self._root = fresh_run_root()
        folder = Path(tempfile.mkdtemp(prefix="derive-", dir=self._root))
        try:
            return self._execute(job, venv, folder)
        finally:
            remove_tree(folder)

    def _execute(self, job: DeriveJob, venv: Path | None, folder: Path) -> Derived:
        workspace = folder / "workspace"
        materialize(job.files, workspace)
        workspace.mkdir(exist_ok=True)
        stdout = folder / "stdout"
        command = job.command
        if job.capture == STDOUT:  # stderr still goes to the log, which errors show
            command = f"{{\n{command.rstrip()}\n}} > {shlex.quote(str(stdout))}"
        env = self._environment(venv, workspace, folder / "tmp")
        try:
            with self._services.lease(job.needs) as lease:
                env.update(lease.env)
                outcome = run_command(
                    command, workspace, env, job.timeout, folder / "output.log", self._groups
                )
            if lease.problems:  # a derivation has no warnings to carry: refuse its bytes
                raise ServiceError("; ".join(lease.problems))
        except ServiceError as exc:
            return Derived(None, str(exc))
        except (OSError, ValueError, Interrupted) as exc:
            return Derived(None, "interrupted" if isinstance(exc, Interrupted) else str(exc))
        output = tail(outcome.output, _OUTPUT_LINES)
        if outcome.timed_out:
            return Derived(None, f"timed out after {job.timeout:g}s; raise timeout=", output)
        if outcome.exit_code != 0:
            return Derived(None, f"exit code {outcome.exit_code}", output)
        produced = stdout if job.capture == STDOUT else workspace.joinpath(*job.capture.split("/"))
        if not produced.is_file():
            return Derived(None, f"the command did not write {job.capture}", output)
        return Derived(produced.read_bytes(), output=output)

    def _venv(self, job: DeriveJob) -> Path | None:
        pyproject = job.files.get("pyproject.toml")
        if pyproject is None:
            return None
        where = (job.source.file, job.source.line)
        uv = find_uv(self._env)
        if uv is None:
            raise CheckSetupError("uv not found (needed to build the venv): pip install uv", *where)
        try:
            interpreter = find_interpreter(self._options.python, self._env, uv)
            spec = VenvSpec(pyproject, interpreter, uv, uv_version(uv))
            return ensure_venv(self._options.cache_dir, spec, self._env)[0]
        except (InterpreterNotFound, VenvBuildError) as exc:
            message = f"cannot build the venv for this derivation: {exc}"
            raise CheckSetupError(message, *where) from exc

    def _environment(self, venv: Path | None, workspace: Path, tmp: Path) -> dict[str, str]:
        env = venv_environment(self._env, venv, workspace) if venv else dict(self._env)
        uv = find_uv(self._env)
        if uv is not None:  # `uv lock` works whether or not uv is on the caller's PATH
            env["PATH"] = os.pathsep.join(filter(None, [env.get("PATH", ""), str(Path(uv).parent)]))
        if venv is not None:  # uv run/lock use the venv's interpreter, never a download
            env.setdefault("UV_PYTHON", str(venv / "bin" / "python"))
            env.setdefault("UV_PYTHON_DOWNLOADS", "never")
        tmp.mkdir()
        env["TMPDIR"] = str(tmp)
        return env
