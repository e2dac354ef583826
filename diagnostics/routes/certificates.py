"""Certificate status for operators as JSON: ours (current and next) and each broker's signing certificates."""

from __future__ import annotations

from fastapi import APIRouter, Response

from diagnostics.cert_page import PAGE_LINK
from diagnostics.cert_status import CertificateReport, certificate_report
from diagnostics.deps import RegistryDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["certificates"])


@router.get("/certificates", response_model=CertificateReport)
async def read_certificates(response: Response, settings: SettingsDep, registry: RegistryDep) -> CertificateReport:
    """Days left and status (ok, warning below 30 days, error when expired) per certificate."""
    response.headers["Link"] = PAGE_LINK
    return await certificate_report(settings, registry)
