"""Close every socket with 1001 *before* the server's own shutdown.

Uvicorn's shutdown closes open WebSockets itself, with 1012 and before the application's
lifespan shutdown runs - too late for the application to say "going away" and too
abrupt for clients to tell a deploy from a crash. So on SIGTERM/SIGINT this hook first
asks the hub to close every connection with 1001 (bounded by
`WS_SHUTDOWN_TIMEOUT_SECONDS`), then hands the signal to the server's own handler, which
continues exactly as before (draining HTTP requests, lifespan shutdown, exit 0).
"""

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGTERM, signal.SIGINT)
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class ShutdownHook:
    def __init__(self, before: Callable[[], Coroutine[Any, Any, None]], timeout: float) -> None:
        self._before = before
        self._timeout = timeout
        self._previous: dict[int, Handler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def install(self) -> bool:
        """Wrap the current handlers (the server's); False off the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return False
        self._loop = asyncio.get_running_loop()
        for signum in SIGNALS:
            self._previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._handle)
        return True

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) == self._handle:
                signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        loop = self._loop
        if loop is None or self._task is not None:  # a second signal: pass it on at once
            self._forward(signum, frame)
            return
        loop.call_soon_threadsafe(self._start, signum, frame)

    def _start(self, signum: int, frame: FrameType | None) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(signum, frame))

    async def _run(self, signum: int, frame: FrameType | None) -> None:
        try:
            await asyncio.wait_for(self._before(), self._timeout)
        except TimeoutError:
            pass
        finally:
            self._forward(signum, frame)

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous.get(signum, signal.SIG_DFL)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
