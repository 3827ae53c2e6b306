"""Lifecycle flags the probes answer from, and the SIGTERM drain.

Kubernetes (or a load balancer) stops sending traffic to a pod only after its
readiness probe fails. Without a drain, SIGTERM makes the server refuse new
connections at once, while the balancer still sends requests for a few seconds: those
fail. With `DRAIN_SECONDS > 0` the first SIGTERM only turns readiness to 503; the
server keeps serving for that long, then the original handler (uvicorn's) is called
and the normal graceful shutdown runs.
"""

import asyncio
import os
import signal
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from loguru import logger

Handler = Any  # what signal.getsignal returns: a callable, SIG_DFL, SIG_IGN or None


@dataclass
class HealthState:
    started: bool = False
    draining: bool = False
    _previous: Handler = field(default=None, repr=False)
    _installed: bool = field(default=False, repr=False)

    def install_drain(self, loop: asyncio.AbstractEventLoop, drain_seconds: float) -> None:
        """Chain our SIGTERM handler in front of the server's (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if self.draining:  # a second SIGTERM: stop draining, shut down now
                self._forward(signum, frame)
                return
            self.draining = True
            logger.warning("SIGTERM: readiness now fails; draining for {}s", drain_seconds)
            loop.call_soon_threadsafe(loop.call_later, drain_seconds, self._forward, signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)
        self._installed = True

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous
        self.uninstall_drain()
        if callable(previous):
            previous(signum, frame)
        elif previous in (signal.SIG_DFL, None):
            os.kill(os.getpid(), signum)  # the default action, now that ours is gone

    def uninstall_drain(self) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous or signal.SIG_DFL)
            self._installed = False
