"""``wf watch``: rebuild and recheck while the author edits the documents.

Watches ``workflows/`` with ``watchfiles`` (debounced: a burst of saves is one
change). On each change the sets are parsed again and built (all-or-nothing, so a
half-typed document shows its ``file.md:line`` error and every output stays as it
was), then the checks of the steps whose documents changed - and of the steps after
them, whose projects contain the changed files - run, with the usual live progress on
a terminal. Ctrl-C ends the watch with exit 0; it is held back while files are being
written, so nothing is left half-written.
"""

from __future__ import annotations

import contextlib
import fnmatch
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import WfError
from runner.project import WorkflowSet, load_sets

if TYPE_CHECKING:
    from runner.checks import CheckOptions
    from runner.model import CheckSpec

Echo = Callable[[str], None]


@dataclass(frozen=True)
class WatchOptions:
    set_names: tuple[str, ...] = ()  # default: every set
    checks: bool = True
    names: tuple[str, ...] = ()  # only checks whose name matches one of these globs
    debounce_ms: int = 400
    live: bool | None = None  # live progress (None: on a terminal)


def watch(
    root: Path,
    options: WatchOptions,
    check_options: CheckOptions,
    echo: Echo,
    stop: threading.Event | None = None,
) -> int:
    """Watch until Ctrl-C (or ``stop`` is set); the exit code, 0."""
    import logging

    import watchfiles

    logging.getLogger("watchfiles").setLevel(logging.ERROR)  # we say "stopped" ourselves
    folder = root / "workflows"
    try:
        _cycle(root, options, check_options, echo, changed=None)
        announced = False  # "watching" is said once the watcher is live (its first timeout)
        for changes in watchfiles.watch(
            folder,
            watch_filter=_DocumentFilter(),
            debounce=max(options.debounce_ms, 50),
            step=50,
            stop_event=stop,
            rust_timeout=200,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            if not changes:
                if not announced:
                    echo(f"watching {folder.relative_to(root)}/ (Ctrl-C to stop)")
                    announced = True
                continue
            paths = sorted({Path(path).resolve() for _change, path in changes})
            _cycle(root, options, check_options, echo, changed=paths)
            announced = False
    except KeyboardInterrupt:
        pass
    echo("wf watch: stopped")
    return 0


class _DocumentFilter:
    """Step documents and ``wf.yaml``; editors' swap and backup files are ignored."""

    def __init__(self) -> None:
        import watchfiles

        self._default = watchfiles.DefaultFilter()

    def __call__(self, change: object, path: str) -> bool:
        name = Path(path).name
        relevant = name.endswith(".md") or name == "wf.yaml"
        return relevant and self._default(change, path)  # type: ignore[arg-type]


def _cycle(
    root: Path,
    options: WatchOptions,
    check_options: CheckOptions,
    echo: Echo,
    changed: list[Path] | None,
) -> None:
    """One round: parse, build, run the affected checks; errors are shown, not raised."""
    start = time.monotonic()
    if changed is not None:
        echo("changed: " + ", ".join(_rel(path, root) for path in changed))
    try:
        sets = load_sets(root, list(options.set_names))
        _build(sets, echo)
        if options.checks:
            _run_checks(sets, options, check_options, changed, echo)
    except WfError as exc:
        echo(f"wf: {exc}")
        echo("outputs unchanged; fix the document and save again")
        return
    echo(f"done in {time.monotonic() - start:.1f}s")


def _build(sets: list[WorkflowSet], echo: Echo) -> None:
    from runner.build import build

    with _uninterrupted():
        results = build(sets)
    for result in results:
        for action in result.actions:
            echo(f"  {action.describe()}")
        count = len(result.actions)
        echo(
            f"{result.wset.name}: {count} file(s) changed"
            if count
            else f"{result.wset.name}: up to date"
        )


def _run_checks(
    sets: list[WorkflowSet],
    options: WatchOptions,
    check_options: CheckOptions,
    changed: list[Path] | None,
    echo: Echo,
) -> None:
    from runner import report
    from runner.progress import CheckProgress
    from runner.validate import plan_checks, run_planned

    plans = []
    for wset in sets:
        steps = affected_steps(wset, changed)
        if steps:
            plan = plan_checks(wset, tuple(steps), None, check_options.python)
            plans.append(plan.only(frozenset(_matching(plan.specs(), options.names))))
    total = sum(len(plan.jobs) for plan in plans)
    if not total and not any(plan.failed for plan in plans):
        return
    root = sets[0].root
    with CheckProgress(root, total, live=options.live, echo=echo) as progress:
        results = [r for located in run_planned(plans, check_options, progress) for r in located]
    for line in report.check_failures(results, root):
        echo(line)
    echo(report.check_summary(results, check_options.strict))


def affected_steps(wset: WorkflowSet, changed: list[Path] | None) -> list[str]:
    """Step numbers to recheck: from the first changed document on (none: no checks
    at the start; ``wf.yaml``: every step)."""
    if changed is None:
        return []
    numbers = [sf.number for sf in wset.step_files]
    if (wset.folder / "wf.yaml").resolve() in changed:
        return numbers
    paths = [sf.path.resolve() for sf in wset.step_files]
    first = next((i for i, path in enumerate(paths) if path in changed), None)
    return [] if first is None else numbers[first:]


def _matching(specs: dict[str, CheckSpec], patterns: tuple[str, ...]) -> list[str]:
    """The ids of the checks whose name matches a pattern (all without patterns)."""
    if not patterns:
        return list(specs)
    return [
        i for i, spec in specs.items() if any(fnmatch.fnmatchcase(spec.name, p) for p in patterns)
    ]


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C back while files are written; it takes effect right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
