"""Readiness: every dependency probed at once, each with its own timeout.

Probes come from two places: this step's own PostgreSQL probe, and every extension
module that defines `async def readiness(app) -> None` (step 05's storage, step 08's
Redis, ...), found through `app.state.extensions` - this step imports none of them, so
a project without Redis simply has no Redis probe.
"""

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import FastAPI
from loguru import logger
from opentelemetry.instrumentation.utils import suppress_instrumentation

from app.core.extensions import Extension

Probe = Callable[[FastAPI], Awaitable[None]]


@dataclass(frozen=True)
class ProbeResult:
    name: str
    ok: bool
    duration_ms: float
    error: str | None = None

    @property
    def status(self) -> Literal["ok", "fail"]:
        return "ok" if self.ok else "fail"


async def database_probe(app: FastAPI) -> None:
    database = getattr(app.state, "database", None)
    if database is None:
        msg = "database pool is not open"
        raise RuntimeError(msg)
    await database.ping()


def discovered_probes(extensions: list[Extension]) -> dict[str, Probe]:
    """`{"redis": app.extensions.redis.readiness, ...}` for every extension that has one."""
    probes: dict[str, Probe] = {}
    for extension in extensions:
        module = sys.modules.get(extension.name)
        probe = getattr(module, "readiness", None)
        if callable(probe):
            probes[extension.name.rpartition(".")[2]] = probe
    return probes


async def run_probe(name: str, probe: Probe, app: FastAPI, seconds: float) -> ProbeResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            await probe(app)
    except TimeoutError:
        error = f"timed out after {seconds:g}s"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", never a 500
        # The body names the exception type only: messages can hold hosts or DSNs.
        error = type(exc).__name__
        logger.warning("readiness probe {} failed: {!r}", name, exc)
    else:
        return ProbeResult(name, True, _elapsed_ms(started))
    return ProbeResult(name, False, _elapsed_ms(started), error)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def check_readiness(
    app: FastAPI, probes: dict[str, Probe], seconds: float
) -> list[ProbeResult]:
    """All probes concurrently: the answer takes as long as the slowest, not the sum."""
    return list(
        await asyncio.gather(
            *(run_probe(name, probe, app, seconds) for name, probe in probes.items())
        )
    )


@dataclass(frozen=True)
class Readiness:
    ok: bool
    draining: bool
    results: list[ProbeResult]


async def evaluate_readiness(app: FastAPI) -> Readiness:
    """Run every probe (untraced: a probe's SQL would be a root span every few seconds)
    and record the answer in the metrics when step 09's metrics are on."""
    probes = {"database": database_probe, **discovered_probes(app.state.extensions)}
    with suppress_instrumentation():
        results = await check_readiness(
            app, probes, app.state.observability_settings.health_timeout_seconds
        )
    draining = bool(app.state.health.draining)
    ok = not draining and all(result.ok for result in results)
    app_metrics = getattr(app.state, "metrics", None)
    if app_metrics is not None:
        app_metrics.record_readiness(ok, {result.name: result.ok for result in results})
    return Readiness(ok, draining, results)
