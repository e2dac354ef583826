"""The operator status: certificates and broker metadata changes, as JSON for monitoring."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from diagnostics.cert_page import PAGE_LINK
from diagnostics.cert_status import certificate_report
from diagnostics.deps import RegistryDep, SettingsDep, StoreDep
from diagnostics.operator_status import operator_status

router = APIRouter(prefix="/api/v1", tags=["status"])


class CertificateStatus(BaseModel):
    name: str
    # None when the certificate cannot be read (then status is error), as in /api/v1/certificates.
    days_left: int | None
    status: Literal["ok", "warning", "error"]


class BrokerStatus(BaseModel):
    id: str
    name: str
    metadata: dict[str, Any] | None
    # The last fetch was refused (bad signature, expired, unreachable): when, and why.
    refused: dict[str, str] | None
    changes: list[dict[str, str]]
    warnings: list[str]


class OperatorStatus(BaseModel):
    status: Literal["ok", "warning", "error"]
    schema_version: int | None
    certificates: list[CertificateStatus]
    brokers: list[BrokerStatus]


@router.get("/status", response_model=OperatorStatus)
async def read_status(
    response: Response, settings: SettingsDep, store: StoreDep, registry: RegistryDep
) -> OperatorStatus:
    """Certificate lifetimes and each broker's last metadata snapshot with changes and warnings."""
    response.headers["Link"] = PAGE_LINK  # the certificates as a page for people
    report = await certificate_report(settings, registry)
    return OperatorStatus.model_validate(await run_in_threadpool(operator_status, settings, store, report.certificates))
