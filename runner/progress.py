"""Show a check run while it happens: live on a terminal, plain lines elsewhere.

On a terminal (and not under ``CI``) a live area at the bottom shows how many checks
are done of how many, each running check with its elapsed time, and a venv being built;
finished checks scroll above it as the usual one-line results. Elsewhere (a pipe, a CI
log) only those result lines are printed, one per check. ``NO_COLOR`` turns colour off.
``rich`` is imported only when a live display starts, so ``wf --help`` stays fast.

A ``CheckProgress`` is the ``progress(message, result)`` callback the check engine
takes (``runner.checks.run_checks``): ``result`` is None when a check starts or a venv
build begins, the finished result otherwise.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from runner import report

if TYPE_CHECKING:
    from runner.checks import CheckResult

_RUNNING = " running"
_VENV = "building the check venv"


def live_terminal() -> bool:
    """A person watches: stdout is a terminal and this is not a CI job."""
    ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    return sys.stdout.isatty() and not ci and os.environ.get("TERM") != "dumb"


class CheckProgress:
    """The progress callback for one check run; use it as a context manager."""

    def __init__(
        self,
        root: Path,
        total: int,
        live: bool | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root
        self.total = total
        self.live = live_terminal() if live is None else live
        self._echo = echo or _print
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._running: dict[str, float] = {}  # label -> when it started
        self._venvs: dict[str, float] = {}
        self.done = 0
        self.failed = 0
        self._display: Any = None  # rich.live.Live while live

    def __enter__(self) -> CheckProgress:
        if self.live and self.total:
            from rich.console import Console
            from rich.live import Live

            console = Console(no_color="NO_COLOR" in os.environ, highlight=False)
            self._display = Live(
                _Status(self), console=console, refresh_per_second=8, transient=True
            )
            self._display.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None

    def __call__(self, message: str, result: CheckResult | None) -> None:
        with self._lock:
            now = time.monotonic()
            if result is None:
                self._started_event(message, now)
                return
            label = f"[{result.spec.step}] {result.spec.name}"
            self._running.pop(label, None)
            self.done += 1
            self.failed += result.status not in ("passed", "skipped")
        line = report.check_line(result, self.root)
        if self._display is not None:
            from rich.text import Text

            self._display.console.print(Text.from_ansi(line))
        else:
            self._echo(line)

    def _started_event(self, message: str, now: float) -> None:
        if _VENV in message:
            self._venvs[message] = now
        elif message.endswith(_RUNNING):
            self._venvs.clear()  # venvs are all built before the first check runs
            self._running[message[: -len(_RUNNING)]] = now

    def status_lines(self) -> list[str]:
        """What the live area shows (also what a test can read)."""
        with self._lock:
            now = time.monotonic()
            head = f"checks {self.done}/{self.total} done"
            if self.failed:
                head += f", {self.failed} failed"
            lines = [f"{head}  ({now - self._started:.0f}s)"]
            lines += [f"  building  {m.strip()}  {now - t:.0f}s" for m, t in self._venvs.items()]
            lines += [f"  running   {label}  {now - t:.0f}s" for label, t in self._running.items()]
        return lines


class _Status:
    """The live area's renderable: recomputed on every refresh."""

    def __init__(self, progress: CheckProgress) -> None:
        self.progress = progress

    def __rich__(self) -> Any:
        from rich.text import Text

        lines = self.progress.status_lines()
        text = Text(lines[0], style="bold")
        for line in lines[1:]:
            text.append("\n" + line, style="dim" if "running" in line else "yellow")
        return text


def _print(line: str) -> None:
    print(line, flush=True)
