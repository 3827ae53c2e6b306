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
from pydantic import BaseModel

from app.health.probes import evaluate_readiness
from app.health.state import HealthState

router = APIRouter(prefix="/health", tags=["health"])


class CheckResult(BaseModel):
    status: Literal["ok", "fail"]
    duration_ms: float
    error: str | None = None


class ReadinessResponse(BaseModel):
    status: Literal["ok", "fail"]
    draining: bool
    checks: dict[str, CheckResult]


class StartupResponse(BaseModel):
    status: Literal["ok", "fail"]


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
