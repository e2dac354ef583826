"""Liveness, readiness and metrics for load balancers, operators and Prometheus."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from diagnostics import metrics, readiness
from diagnostics.brokers import BrokerRegistry
from diagnostics.cert_status import certificate_report
from diagnostics.deps import RegistryDep, ResourcesDep, SettingsDep, StoreDep
from diagnostics.metadata_watch import change_counts
from diagnostics.operator_status import certificate_days_left
from diagnostics.readiness import DatabaseProbe
from diagnostics.resources import resources_in
from diagnostics.settings import Settings

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


async def _readiness(request: Request, settings: Settings, registry: BrokerRegistry) -> Readiness:
    """The database (a write probe) and every broker, at the same time and each within its bound
    (``diagnostics.readiness``); also kept in the metrics for the alert rules."""
    probe: DatabaseProbe = request.app.state.database_probe
    database, *brokers = await asyncio.gather(
        probe.state(), *(readiness.broker_state(registry, broker.id) for broker in settings.brokers)
    )
    checks = {"database": database}
    checks.update((f"broker:{broker.id}", state) for broker, state in zip(settings.brokers, brokers, strict=True))
    ready = all(value == "ok" for value in checks.values())
    metrics.set_readiness(
        ready, database, {broker.id: state == "ok" for broker, state in zip(settings.brokers, brokers, strict=True)}
    )
    return Readiness(status="ok" if ready else "unavailable", checks=checks)


@router.head("/readyz", include_in_schema=False)
@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def read_readiness(request: Request) -> JSONResponse:
    """Ready when the database takes a write and every broker's metadata can be loaded and trusted.

    ``database`` is ``ok``, ``locked``, ``unavailable`` or ``replaced``. Answers within about 2 seconds
    whatever the database or the brokers do, and never waits for the request thread pool: not even for
    its dependencies (FastAPI runs a plain ``def`` dependency there), so it reads the resources itself.
    """
    resources = resources_in(request.scope)
    body = await _readiness(request, resources.settings, resources.registry)
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)


@router.get("/metrics", response_class=Response)
async def read_metrics(
    request: Request, settings: SettingsDep, store: StoreDep, registry: RegistryDep, resources: ResourcesDep
) -> Response:
    """Prometheus exposition format (all workers together when PROMETHEUS_MULTIPROC_DIR is set)."""
    await _readiness(request, settings, registry)  # inloghulp_ready and its parts, fresh at every scrape
    # The outage gauges follow the failures at every scrape, not only when someone opens a page with notices.
    await run_in_threadpool(resources.outage.suspected, store.engine)
    report = await certificate_report(settings, registry)  # the same certificates as /api/v1/certificates
    for name, days in certificate_days_left(report.certificates).items():
        metrics.set_certificate_days_left(name, days)
    counts = await run_in_threadpool(change_counts, store)
    for (broker, kind), count in counts.items():
        metrics.set_metadata_changes(broker, kind, count)
    return Response(await run_in_threadpool(metrics.render), media_type=metrics.CONTENT_TYPE)
