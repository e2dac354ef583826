"""Liveness, readiness and metrics for load balancers, operators and Prometheus."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from diagnostics import metrics
from diagnostics.brokers import BrokerError, BrokerRegistry
from diagnostics.cert_status import certificate_report
from diagnostics.deps import RegistryDep, SettingsDep, StoreDep
from diagnostics.metadata_watch import change_counts
from diagnostics.ops_status import certificate_days_left

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


# Load balancers often probe with HEAD: it answers like GET, without a body (and stays out of the schema).
# A wrong method's Allow header names both (diagnostics.allow).
@router.head("/healthz", include_in_schema=False)
@router.get("/healthz")
async def read_health() -> dict[str, str]:
    """Answers while the process is up: on the event loop, so it never queues behind the thread pool."""
    return {"status": "ok"}


@router.head("/readyz", include_in_schema=False)
@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def read_readiness(settings: SettingsDep, store: StoreDep, registry: RegistryDep) -> JSONResponse:
    """Ready when the database answers and every broker's metadata can be loaded and trusted."""
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(store.ping)
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"; the type is enough for the operator
        log.warning("readiness: database unavailable: %s", type(exc).__name__)
        checks["database"] = f"unavailable: {type(exc).__name__}"
    # All brokers at once; the registry bounds each wait and remembers a broker that is down for a while.
    states = await asyncio.gather(*(_broker_state(registry, broker.id) for broker in settings.brokers))
    checks.update((f"broker:{broker.id}", state) for broker, state in zip(settings.brokers, states, strict=True))
    ready = all(value == "ok" for value in checks.values())
    body = Readiness(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _broker_state(registry: BrokerRegistry, broker_id: str) -> str:
    try:
        await registry.broker(broker_id)
    except BrokerError as exc:
        return f"unavailable: {exc.diagnosis}"
    return "ok"


@router.get("/metrics", response_class=Response)
async def read_metrics(settings: SettingsDep, store: StoreDep, registry: RegistryDep) -> Response:
    """Prometheus exposition format (all workers together when PROMETHEUS_MULTIPROC_DIR is set)."""
    report = await certificate_report(settings, registry)  # the same certificates as /api/v1/certificates
    for name, days in certificate_days_left(report.certificates).items():
        metrics.set_certificate_days_left(name, days)
    counts = await run_in_threadpool(change_counts, store)
    for (broker, kind), count in counts.items():
        metrics.set_metadata_changes(broker, kind, count)
    return Response(await run_in_threadpool(metrics.render), media_type=metrics.CONTENT_TYPE)
