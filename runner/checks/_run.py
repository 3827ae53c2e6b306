"""run_checks: validate, answer from the cache, build venvs, run the rest in parallel."""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from runner.checks._cache import ResultCache, Stored, check_id, result_key, tree_digest
from runner.checks._execute import (
    Interrupted,
    Outcome,
    ProcessGroups,
    materialize,
    remove_tree,
    run_command,
    tail,
)
from runner.checks._interpreter import Interpreter, InterpreterNotFound, find_interpreter
from runner.checks._service_base import ServiceError
from runner.checks._services import Services
from runner.checks._types import SERVICE_KINDS, CheckJob, CheckOptions, CheckResult
from runner.checks._venv import (
    VenvBuildError,
    VenvSpec,
    ensure_venv,
    find_uv,
    is_ready,
    mark_used,
    prune,
    uv_version,
    venv_dir,
    venv_environment,
)
from runner.errors import CheckSetupError
from runner.model import CheckSpec

Progress = Callable[[str, CheckResult | None], None]
_TIMED = ("passed", "failed", "timeout")  # ran to an end: their durations balance --shard


@dataclass(frozen=True)
class _Plan:
    job: CheckJob
    venv: VenvSpec | None
    key: str  # result-cache key

    @property
    def spec(self) -> CheckSpec:
        return self.job.spec


def run_checks(
    jobs: Sequence[CheckJob],
    options: CheckOptions,
    progress: Progress | None = None,
) -> list[CheckResult]:
    """Run every check; results in the order of ``jobs``.

    Raises CheckSetupError (before any check runs) for what the user must fix: a bad
    ``needs``/``expect_output``, no interpreter >= 3.12, no uv, a venv that cannot be built.
    ``progress(message, None)`` is called when a check starts (and when a venv is being
    built), ``progress(message, result)`` when it ends; calls never overlap.
    """
    for job in jobs:
        _validate(job)
    env = dict(options.env if options.env is not None else os.environ)
    report = _Reporter(progress)
    plans = _Planner(options, env).plan_all(jobs)
    cache = ResultCache(options.cache_dir)
    results: list[CheckResult | None] = [None] * len(plans)
    timed: dict[str, float] = {}  # check_id -> seconds it takes (a cached one: when it ran)
    if options.use_cache:
        for index, plan in enumerate(plans):
            stored = cache.load(plan.key)
            if stored is not None:
                results[index] = _cached(plan, stored, report)
                timed[check_id(plan.spec)] = stored.duration
    pending = [index for index, result in enumerate(results) if result is None]
    if pending:
        venvs = _build_venvs([plans[i] for i in pending], options, env, report)
        ran = _run_all([plans[i] for i in pending], venvs, options, env, cache, report)
        for index, result in zip(pending, ran, strict=True):
            results[index] = result
        timed |= {check_id(r.spec): r.duration for r in ran if r.status in _TIMED}
    if options.record_durations:
        cache.record_durations(timed)
    return [result for result in results if result is not None]


def _validate(job: CheckJob) -> None:
    """Refuse, before anything runs, what would crash a worker thread mid-run.

    Specs from the parser are valid already (it reports problems to the document's
    author); this guards API callers that build CheckSpecs themselves. A timeout <= 0
    needs no guard: such a check simply times out, and says so.
    """
    spec = job.spec
    unknown = sorted(set(spec.needs) - set(SERVICE_KINDS))
    if unknown:
        raise CheckSetupError(
            f"check {spec.name!r} needs unknown service(s) {', '.join(unknown)} "
            f"(known: {', '.join(SERVICE_KINDS)})",
            spec.source.file,
            spec.source.line,
        )
    if spec.expect_output is not None:
        try:
            re.compile(spec.expect_output, re.MULTILINE)
        except re.error as exc:
            raise CheckSetupError(
                f"check {spec.name!r}: expect_output is not a valid regex: {exc}",
                spec.source.file,
                spec.source.line,
            ) from exc


class _Reporter:
    """Serialises progress callbacks coming from worker threads."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()

    def __call__(self, message: str, result: CheckResult | None) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress(message, result)

    def start(self, spec: CheckSpec) -> None:
        self(f"{_label(spec)} running", None)

    def end(self, result: CheckResult) -> None:
        detail = "cached" if result.cached else f"{result.duration:.1f}s"
        reason = f": {result.reason}" if result.reason else ""
        warnings = "".join(f"; warning: {warning}" for warning in result.warnings)
        self(f"{_label(result.spec)} {result.status} ({detail}){reason}{warnings}", result)


def _label(spec: CheckSpec) -> str:
    return f"[{spec.step}] {spec.title}"


class _Planner:
    """Computes each job's venv spec and cache key; finds uv and Python once, lazily."""

    def __init__(self, options: CheckOptions, env: Mapping[str, str]) -> None:
        self._options = options
        self._env = env
        self._tooling: tuple[str, str, Interpreter] | None = None

    def plan_all(self, jobs: Sequence[CheckJob]) -> list[_Plan]:
        return [self._plan(job) for job in jobs]

    def _plan(self, job: CheckJob) -> _Plan:
        pyproject = job.files.get("pyproject.toml")
        venv = None
        if pyproject is not None:
            uv, version, interpreter = self._tools(job.spec)
            venv = VenvSpec(pyproject, interpreter, uv, version)
        key = result_key(job.spec, tree_digest(job.files), venv.portable_key if venv else None)
        return _Plan(job, venv, key)

    def _tools(self, spec: CheckSpec) -> tuple[str, str, Interpreter]:
        if self._tooling is None:
            where = (spec.source.file, spec.source.line)
            uv = find_uv(self._env)
            if uv is None:
                raise CheckSetupError(
                    "uv not found (needed to build the check venv): pip install uv", *where
                )
            try:
                version = uv_version(uv)
                interpreter = find_interpreter(self._options.python, self._env, uv)
            except (InterpreterNotFound, VenvBuildError) as exc:
                raise CheckSetupError(str(exc), *where) from exc
            self._tooling = (uv, version, interpreter)
        return self._tooling


def _cached(plan: _Plan, stored: Stored, report: _Reporter) -> CheckResult:
    result = CheckResult(plan.spec, "passed", 0.0, stored.output, cached=True)
    report.start(plan.spec)
    report.end(result)
    return result


def _build_venvs(
    plans: Sequence[_Plan], options: CheckOptions, env: Mapping[str, str], report: _Reporter
) -> dict[str, Path]:
    """Build each distinct venv once, in parallel; the first failure (in job order) raises."""
    first: dict[str, _Plan] = {}
    for plan in plans:
        if plan.venv is not None:
            first.setdefault(plan.venv.key, plan)
    ready = {key: venv_dir(options.cache_dir, p.venv) for key, p in first.items() if p.venv}
    todo = {key: plan for key, plan in first.items() if not is_ready(ready[key])}
    if todo:
        _build_missing(todo, options, env, report)
        prune(options.cache_dir, keep=set(ready))  # a new venv: drop long-unused ones
    for venv in ready.values():
        mark_used(venv)
    return ready


def _build_missing(
    todo: Mapping[str, _Plan], options: CheckOptions, env: Mapping[str, str], report: _Reporter
) -> None:
    errors: dict[str, VenvBuildError] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(options.jobs, len(todo)))) as pool:
        futures = {
            pool.submit(_build_one, plan, options, env, report): key for key, plan in todo.items()
        }
        for future in as_completed(futures):
            try:
                future.result()
            except VenvBuildError as exc:
                errors[futures[future]] = exc
    for key, plan in todo.items():
        if key in errors:
            raise CheckSetupError(
                f"cannot build the venv for the checks of step {plan.spec.step} "
                f"from its pyproject.toml: {errors[key]}",
                plan.spec.source.file,
                plan.spec.source.line,
            ) from errors[key]


def _build_one(
    plan: _Plan, options: CheckOptions, env: Mapping[str, str], report: _Reporter
) -> Path:
    assert plan.venv is not None
    report(f"[{plan.spec.step}] building the check venv ({plan.venv.interpreter.label})", None)
    path, _built = ensure_venv(options.cache_dir, plan.venv, env)
    return path


def _run_all(
    plans: Sequence[_Plan],
    venvs: Mapping[str, Path],
    options: CheckOptions,
    env: Mapping[str, str],
    cache: ResultCache,
    report: _Reporter,
) -> list[CheckResult]:
    run_root = fresh_run_root()
    groups = ProcessGroups()
    results: list[CheckResult | None] = [None] * len(plans)
    # SIGTERM/SIGHUP become an interrupt before the first check is submitted: a signal
    # that arrives while a check already runs but the loop below has not begun yet must
    # end that check too (and not kill wf by default, or wait for the check to finish).
    try:
        with (
            _termination_as_interrupt(),
            Services(env, options.cache_dir) as services,
            ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool,
        ):
            runner = _CheckRunner(venvs, env, services, groups, run_root)
            futures: dict[Future[CheckResult], int] = {}
            try:
                for index, plan in enumerate(plans):
                    futures[pool.submit(runner.run, plan, cache, report)] = index
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
            except BaseException:  # Ctrl-C, SIGTERM or a bug: no check may outlive the run
                groups.kill_all()
                for future in futures:
                    future.cancel()
                raise
    finally:
        remove_tree(run_root)
    return [result for result in results if result is not None]


@contextmanager
def _termination_as_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP act like Ctrl-C while checks run, so their process groups get killed.

    Checks run in sessions of their own (a terminal's signals do not reach them), so a
    terminated runner must end them itself. Only default handlers are replaced, and only
    in the main thread; the previous handlers are restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    replaced = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:
            replaced[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, previous in replaced.items():
            signal.signal(sig, previous)


def run_parent() -> Path:
    """``<tmp>/wf-run-<uid>``: where check workspaces live.

    Outside the project on purpose: inside it they would sit in a git-ignored folder
    (``.wf/``), and tools that honour ``.gitignore`` - ruff, for one - would skip every
    file and pass without checking anything; ``git`` would see the outer repository.
    """
    return Path(tempfile.gettempdir()) / f"wf-run-{os.getuid()}"


def fresh_run_root() -> Path:
    """``<run_parent>/<pid>-<random>``; leftovers of dead processes are removed."""
    parent = run_parent()
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for entry in parent.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            remove_tree(entry)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _CheckRunner:
    """Runs one check: services, workspace, command, verdict, cache."""

    def __init__(
        self,
        venvs: Mapping[str, Path],
        env: Mapping[str, str],
        services: Services,
        groups: ProcessGroups,
        run_root: Path,
    ) -> None:
        self._venvs = venvs
        self._env = env
        self._services = services
        self._groups = groups
        self._run_root = run_root

    def run(self, plan: _Plan, cache: ResultCache, report: _Reporter) -> CheckResult:
        report.start(plan.spec)
        start = time.monotonic()
        result = self._execute(plan, start)
        if result.status == "passed":
            cache.store(plan.key, result.output, result.duration)
        report.end(result)
        return result

    def _execute(self, plan: _Plan, start: float) -> CheckResult:
        spec = plan.spec
        missing = self._services.unavailable(spec.needs)
        if missing is not None:
            return CheckResult(spec, "skipped", time.monotonic() - start, "", missing.reason)
        folder = Path(tempfile.mkdtemp(prefix=f"{spec.step}-", dir=self._run_root))
        outcome: Outcome | None = None
        try:
            workspace = folder / "workspace"
            materialize(plan.job.files, workspace)
            workspace.mkdir(exist_ok=True)
            env = self._environment(plan, workspace, folder / "tmp")
            with self._services.lease(spec.needs) as lease:
                env.update(lease.env)
                outcome = run_command(
                    spec.command, workspace, env, spec.timeout, folder / "output.log", self._groups
                )
            result = judge(spec, outcome, time.monotonic() - start)
            return replace(result, warnings=tuple(lease.problems))
        except ServiceError as exc:
            output = tail(outcome.output) if outcome else ""
            return CheckResult(spec, "error", time.monotonic() - start, output, str(exc))
        except (OSError, ValueError, Interrupted) as exc:
            reason = "interrupted" if isinstance(exc, Interrupted) else f"cannot run: {exc}"
            return CheckResult(spec, "error", time.monotonic() - start, "", reason)
        finally:
            remove_tree(folder)

    def _environment(self, plan: _Plan, workspace: Path, tmp: Path) -> dict[str, str]:
        if plan.venv is not None:
            env = venv_environment(self._env, self._venvs[plan.venv.key], workspace)
        else:
            env = dict(self._env)
        return private_folders(env, tmp.parent)


def private_folders(env: dict[str, str], folder: Path) -> dict[str, str]:
    """HOME and TMPDIR of a check: folders of its own next to its workspace (its cwd),
    removed with it, so a check neither reads the user's dotfiles nor leaves files in
    them. Download caches stay shared (XDG_CACHE_HOME: the user's, unless set)."""
    cache = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    for name, variable in (("tmp", "TMPDIR"), ("home", "HOME")):
        (folder / name).mkdir()
        env[variable] = str(folder / name)
    env["XDG_CACHE_HOME"] = cache
    return env


def judge(spec: CheckSpec, outcome: Outcome, duration: float) -> CheckResult:
    """The verdict on a finished command: exit code, then expected output."""
    output = tail(outcome.output)

    def result(status: str, reason: str = "") -> CheckResult:
        return CheckResult(spec, status, duration, output, reason)

    if outcome.timed_out:
        return result(
            "timeout",
            f"timed out after {spec.timeout:g}s (all its processes were ended); "
            "raise timeout= or make the command faster",
        )
    if outcome.exit_code != spec.expect_exit:
        return result(
            "failed",
            f"{_exit_text(outcome.exit_code)}, expected {spec.expect_exit}"
            + _last_line(outcome.output),
        )
    if spec.expect_output is not None and not re.search(
        spec.expect_output, outcome.output, re.MULTILINE
    ):
        return result("failed", f"output does not match expect_output /{spec.expect_output}/")
    return result("passed")


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return ": " + (last if len(last) <= 200 else last[:197] + "...")
