"""Liveness for load balancers and ``make run``'s users."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health() -> dict[str, str]:
    """Answers while the process is up."""
    return {"status": "ok"}
