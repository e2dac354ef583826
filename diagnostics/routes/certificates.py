"""Certificate status for operators: ours (current and next) and each broker's signing certificates."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from diagnostics.brokers import BrokerError, BrokerRegistry
from diagnostics.cert_status import (
    WARNING_DAYS,
    CertificateStatus,
    Status,
    broker_statuses,
    sp_statuses,
    unavailable,
    worst_status,
)
from diagnostics.deps import RegistryDep, SettingsDep
from diagnostics.settings import BrokerConfig, Settings

router = APIRouter(prefix="/api/v1", tags=["certificates"])

# The same report as a page for people (diagnostics.routes.beheer).
PAGE_PATH = "/beheer/certificaten"
PAGE_LINK = f'<{PAGE_PATH}>; rel="alternate"; type="text/html"'


class CertificateReport(BaseModel):
    """All certificates with the worst status on top."""

    status: Status = Field(description="De slechtste status van alle certificaten: ok, warning of error.")
    warning_days: int = Field(description="Onder dit aantal dagen is de status warning.")
    certificates: list[CertificateStatus]


@router.get("/certificates", response_model=CertificateReport)
async def read_certificates(response: Response, settings: SettingsDep, registry: RegistryDep) -> CertificateReport:
    """Days left and status (ok, warning below 30 days, error when expired) per certificate."""
    response.headers["Link"] = PAGE_LINK
    return await certificate_report(settings, registry)


async def certificate_report(settings: Settings, registry: BrokerRegistry) -> CertificateReport:
    """Ours, then each broker's signing certificates: the one source of this JSON, the operator page,
    /api/v1/status and /metrics."""
    result = sp_statuses(settings)
    # All brokers at once: one that hangs costs the registry's wait once, not once per broker (a Prometheus
    # scrape of /metrics gives up after 10 s by default).
    for statuses in await asyncio.gather(*(_broker_report(broker, registry) for broker in settings.brokers)):
        result.extend(statuses)
    worst = worst_status(item.status for item in result)
    return CertificateReport(status=worst, warning_days=WARNING_DAYS, certificates=result)


async def _broker_report(broker: BrokerConfig, registry: BrokerRegistry) -> list[CertificateStatus]:
    try:
        info = await registry.broker(broker.id)  # the registry bounds the wait (brokers.WAIT_SECONDS)
    except BrokerError as exc:
        return [unavailable(broker.id, broker.name, "signing", exc.message)]
    return broker_statuses(broker, info.signing_certs)
