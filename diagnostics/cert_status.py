"""Our SP certificates (current and next) and how long every certificate we rely on stays valid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from cryptography import x509

from diagnostics import certs
from diagnostics.settings import Settings

# Below this many days left an operator must start the rollover: brokers and Logius need time.
WARNING_DAYS = 30

CertRole = Literal["current", "next"]


@dataclass(frozen=True)
class SpCertificate:
    role: CertRole
    cert: x509.Certificate
    # Only for the next certificate: the date it replaces the current one.
    activation: date | None = None


def sp_certificates(settings: Settings) -> list[SpCertificate]:
    """The SP's current certificate, then the next one when a rollover is configured."""
    result = [SpCertificate("current", certs.load_cert(settings.sp.cert_file))]
    if settings.sp.next_cert_file is not None:
        result.append(
            SpCertificate("next", certs.load_cert(settings.sp.next_cert_file), settings.sp.next_cert_activation)
        )
    return result


def status_for(days: int) -> Literal["ok", "warning", "error"]:
    """error once expired, warning below WARNING_DAYS, else ok."""
    if days < 0:
        return "error"
    if days < WARNING_DAYS:
        return "warning"
    return "ok"


def utcnow() -> datetime:
    return datetime.now(UTC)
