"""Our SP certificates (current and next) and how long every certificate we rely on stays valid."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from pydantic import BaseModel, Field

from diagnostics import certs
from diagnostics.brokers import BrokerError, BrokerRegistry
from diagnostics.settings import BrokerConfig, Settings

# Below this many days left an operator must start the rollover: brokers and Logius need time.
WARNING_DAYS = 30

# current/next: our SAML certificates; signing: a broker's, from its metadata; tls-client: ours, for one broker's
# back channel (owner is that broker, as the certificate exists for it).
Role = Literal["current", "next", "signing", "tls-client"]
Status = Literal["ok", "warning", "error"]
# What people read on the operator page; ``status`` stays the machine's severity.
Validity = Literal["valid", "expiring", "expired", "not-yet-valid", "unreadable"]


# Severity order: the worst of several statuses is the last of these that occurs.
_SEVERITY: tuple[Status, ...] = ("ok", "warning", "error")


def worst_status(statuses: Iterable[Status]) -> Status:
    """The most severe of ``statuses``; ``ok`` when there are none."""
    return max(statuses, key=_SEVERITY.index, default="ok")


def status_for(days: int) -> Status:
    """error once expired, warning below WARNING_DAYS, else ok."""
    if days < 0:
        return "error"
    if days < WARNING_DAYS:
        return "warning"
    return "ok"


def utcnow() -> datetime:
    return datetime.now(UTC)


class CertificateStatus(BaseModel):
    """One certificate we depend on, and how long it stays valid."""

    owner: str = Field(description='"sp" voor onze eigen certificaten, anders de id van de broker.')
    owner_name: str = Field(description="Naam van de eigenaar (dienstverlener of herkenningsmakelaar).")
    role: Role = Field(
        description="Huidig, volgend (rollover), ondertekening (van de makelaar) of tls-client (ons clientcertificaat "
        "voor de verbinding met deze makelaar)."
    )
    subject: str | None = Field(description="Subject van het certificaat (RFC 4514).")
    fingerprint_sha256: str | None = Field(description="SHA-256-vingerafdruk (KeyName).")
    not_before: datetime | None = Field(description="Geldig vanaf (UTC).")
    not_after: datetime | None = Field(description="Geldig tot (UTC).")
    days_left: int | None = Field(description="Hele dagen tot het certificaat verloopt; negatief als verlopen.")
    activation: date | None = Field(default=None, description="Alleen voor het volgende certificaat: ingangsdatum.")
    status: Status = Field(description="ok, warning (< 30 dagen) of error (verlopen of niet te lezen).")
    validity: Validity = Field(
        description="valid, expiring (< 30 dagen), expired, not-yet-valid of unreadable (niet te lezen)."
    )
    message: str = Field(description="Korte uitleg in het Nederlands.")


def describe(
    cert: x509.Certificate,
    *,
    owner: str,
    owner_name: str,
    role: Role,
    now: datetime,
    activation: date | None = None,
) -> CertificateStatus:
    """The status of one certificate at ``now``."""
    days = certs.days_left(cert, now)
    status = status_for(days)
    validity = _validity(cert, days, role, now)
    if cert.not_valid_before_utc > now and role != "next":
        status = "error"
        message = f"Nog niet geldig: pas vanaf {cert.not_valid_before_utc:%Y-%m-%d}."
    elif status == "error":
        message = f"Verlopen op {cert.not_valid_after_utc:%Y-%m-%d}. Vervang het certificaat."
    elif status == "warning":
        message = f"Verloopt over {days} dagen ({cert.not_valid_after_utc:%Y-%m-%d}). Regel nu een nieuw certificaat."
    else:
        message = f"Geldig tot {cert.not_valid_after_utc:%Y-%m-%d}."
    return CertificateStatus(
        owner=owner,
        owner_name=owner_name,
        role=role,
        subject=cert.subject.rfc4514_string(),
        fingerprint_sha256=certs.fingerprint_sha256(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        days_left=days,
        activation=activation,
        status=status,
        validity=validity,
        message=message,
    )


def _validity(cert: x509.Certificate, days: int, role: str, now: datetime) -> Validity:
    if days < 0:
        return "expired"
    # A next certificate that is not valid yet is normal, unless it will not last: then that is the news.
    if cert.not_valid_before_utc > now and (role != "next" or days >= WARNING_DAYS):
        return "not-yet-valid"
    return "expiring" if days < WARNING_DAYS else "valid"


def unavailable(owner: str, owner_name: str, role: Role, message: str) -> CertificateStatus:
    """A certificate we could not read: always an error, never silently left out."""
    return CertificateStatus(
        owner=owner,
        owner_name=owner_name,
        role=role,
        subject=None,
        fingerprint_sha256=None,
        not_before=None,
        not_after=None,
        days_left=None,
        status="error",
        validity="unreadable",
        message=message,
    )


def sp_statuses(settings: Settings, now: datetime | None = None) -> list[CertificateStatus]:
    """Our current and next certificate."""
    moment = now or utcnow()
    owner_name = settings.service.provider_name
    files: list[tuple[Literal["current", "next"], Path | None, date | None]] = [
        ("current", settings.sp.cert_file, None),
        ("next", settings.sp.next_cert_file, settings.sp.next_cert_activation),
    ]
    result = []
    for role, path, activation in files:
        if path is None:
            continue
        try:
            cert = certs.load_cert(path)
        except (OSError, ValueError):
            result.append(unavailable("sp", owner_name, role, f"Het certificaat {path} is niet te lezen."))
            continue
        result.append(describe(cert, owner="sp", owner_name=owner_name, role=role, now=moment, activation=activation))
    return result


def broker_statuses(
    broker: BrokerConfig, signing_certs: Sequence[x509.Certificate], now: datetime | None = None
) -> list[CertificateStatus]:
    """A broker's signing certificates from its verified metadata."""
    moment = now or utcnow()
    if not signing_certs:
        return [unavailable(broker.id, broker.name, "signing", "De metadata noemt geen ondertekeningscertificaat.")]
    return [
        describe(cert, owner=broker.id, owner_name=broker.name, role="signing", now=moment) for cert in signing_certs
    ]


def tls_client_statuses(broker: BrokerConfig, now: datetime | None = None) -> list[CertificateStatus]:
    """Our TLS client certificate for ``broker``'s back channel, when one is configured."""
    if broker.tls_client_cert_file is None:
        return []
    try:
        cert = certs.load_cert(broker.tls_client_cert_file)
    except (OSError, ValueError):
        return [
            unavailable(
                broker.id, broker.name, "tls-client", f"Het certificaat {broker.tls_client_cert_file} is niet te lezen."
            )
        ]
    return [describe(cert, owner=broker.id, owner_name=broker.name, role="tls-client", now=now or utcnow())]


class CertificateReport(BaseModel):
    """All certificates with the worst status on top."""

    status: Status = Field(description="De slechtste status van alle certificaten: ok, warning of error.")
    warning_days: int = Field(description="Onder dit aantal dagen is de status warning.")
    certificates: list[CertificateStatus]


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
    # Our client certificate does not depend on the broker's metadata: listed even while that cannot be loaded.
    ours = tls_client_statuses(broker)
    try:
        info = await registry.broker(broker.id)  # the registry bounds the wait (brokers.WAIT_SECONDS)
    except BrokerError as exc:
        return [unavailable(broker.id, broker.name, "signing", exc.message), *ours]
    return [*broker_statuses(broker, info.signing_certs), *ours]
