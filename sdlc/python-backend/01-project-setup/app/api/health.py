"""Liveness probe: answers as long as the process can serve HTTP."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(prefix="/health", tags=["health"])


class LivenessResponse(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/live", summary="Liveness probe")
async def liveness() -> LivenessResponse:
    """No dependency checks here: a slow database must not get the pod restarted."""
    return LivenessResponse()
