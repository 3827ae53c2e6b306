"""`/health/ready` and `/health/startup` (`/health/live` is step 01's).

- live: the process answers - never a dependency (a slow database must not get every
  pod restarted at once);
- ready: may this instance get traffic? PostgreSQL plus every discovered probe, and
  not while draining after SIGTERM;
- startup: the lifespan finished starting (Kubernetes holds liveness until then).

A failing probe answers 503 with the same JSON document, naming what failed.
"""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.health.probes import evaluate_readiness
from app.health.state import HealthState

router = APIRouter(prefix="/health", tags=["health"])


# The models describe themselves (docstring, `Field(description=..., examples=...)`):
# that is what API documentation (step 06, when installed) shows for these probes.
class CheckResult(BaseModel):
    """The result of one readiness probe."""

    status: Literal["ok", "fail"] = Field(description="`fail`: the probe failed.")
    duration_ms: float = Field(
        description="How long the probe took, in milliseconds.", examples=[1.8]
    )
    error: str | None = Field(
        default=None,
        description="Why the probe failed; `null` when it passed.",
        examples=["TimeoutError: probe took longer than 2.0 s"],
    )


class ReadinessResponse(BaseModel):
    """May this instance get traffic? Every probe, by name (503 when one fails)."""

    status: Literal["ok", "fail"] = Field(description="`ok` only when every probe passed.")
    draining: bool = Field(
        description="`true` after SIGTERM: the instance finishes its requests and stops.",
        examples=[False],
    )
    checks: dict[str, CheckResult] = Field(
        description="The probes by name: `database` and every extension's `readiness`.",
        examples=[{"database": {"status": "ok", "duration_ms": 1.8, "error": None}}],
    )


class StartupResponse(BaseModel):
    """Has the application finished starting (its lifespan)?"""

    status: Literal["ok", "fail"] = Field(description="`ok` once the lifespan has started.")


def _state(request: Request) -> HealthState:
    state: HealthState = request.app.state.health
    return state


@router.get(
    "/ready",
    summary="Readiness probe",
    response_model=ReadinessResponse,
    responses={503: {"model": ReadinessResponse, "description": "Not ready"}},
)
async def readiness(request: Request) -> JSONResponse:
    report = await evaluate_readiness(request.app)
    ok = report.ok
    body = ReadinessResponse(
        status="ok" if ok else "fail",
        draining=report.draining,
        checks={
            result.name: CheckResult(
                status=result.status, duration_ms=result.duration_ms, error=result.error
            )
            for result in report.results
        },
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/startup",
    summary="Startup probe",
    response_model=StartupResponse,
    responses={503: {"model": StartupResponse, "description": "Still starting"}},
)
async def startup(request: Request) -> JSONResponse:
    ok = _state(request).started
    return JSONResponse(
        {"status": "ok" if ok else "fail"},
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )
