"""What an operator checks first: certificate lifetimes and the brokers' metadata state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from diagnostics import certs
from diagnostics.cert_status import sp_certificates, status_for
from diagnostics.metadata_watch import latest_refusal, latest_snapshot, warnings_for
from diagnostics.settings import Settings
from diagnostics.store import Store


def certificate_days_left(settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Days left per certificate: ``sp-current``, ``sp-next`` and each broker signing key last seen."""
    now = now or datetime.now(UTC)
    result: dict[str, int] = {}
    try:
        for sp in sp_certificates(settings):
            result[f"sp-{sp.role}"] = certs.days_left(sp.cert, now)
    except (OSError, ValueError):
        pass  # a missing certificate file is reported by check-config and the status page, not here
    store = Store.from_settings(settings)
    for broker in settings.brokers:
        snapshot = latest_snapshot(store, broker.id)
        if snapshot is None:
            continue
        for fingerprint, not_after in snapshot.signing_certs.items():
            result[f"broker-{broker.id}-{fingerprint.replace(':', '')[:16].lower()}"] = (
                datetime.fromisoformat(not_after) - now
            ).days
    return result


def operator_status(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Certificates with their status, and per broker the last metadata snapshot, its changes and warnings."""
    now = now or datetime.now(UTC)
    store = Store.from_settings(settings)
    certificates = [
        {"name": name, "days_left": days, "status": status_for(days)}
        for name, days in certificate_days_left(settings, now).items()
    ]
    broker_status: list[dict[str, Any]] = []
    for broker in settings.brokers:
        snapshot = latest_snapshot(store, broker.id)
        refusal = latest_refusal(store, broker.id)
        refused = {"at": refusal.fetched_at.isoformat(), "error": refusal.error} if refusal else None
        if snapshot is None:
            broker_status.append(
                {
                    "id": broker.id,
                    "name": broker.name,
                    "metadata": None,
                    "refused": refused,
                    "changes": [],
                    "warnings": [],
                }
            )
            continue
        broker_status.append(
            {
                "id": broker.id,
                "name": broker.name,
                "refused": refused,
                "metadata": {
                    "fetched_at": snapshot.fetched_at.isoformat(),
                    "sha256": snapshot.xml_sha256,
                    "entity_id": snapshot.entity_id,
                    "valid_until": snapshot.valid_until.isoformat() if snapshot.valid_until else None,
                    "signature_verified": snapshot.signature_verified,
                    "signing_fingerprints": snapshot.signing_fingerprints,
                    "endpoints": snapshot.endpoints,
                },
                "changes": [{"kind": c.kind, "detail": c.detail} for c in snapshot.changes],
                "warnings": warnings_for(snapshot, now),
            }
        )
    worst = "ok"
    for certificate in certificates:
        if certificate["status"] == "error" or (certificate["status"] == "warning" and worst == "ok"):
            worst = str(certificate["status"])
    if any(b["refused"] for b in broker_status):
        worst = "error"
    elif worst == "ok" and any(b["changes"] or b["warnings"] for b in broker_status):
        worst = "warning"
    return {
        "status": worst,
        "schema_version": store.schema_version,
        "certificates": certificates,
        "brokers": broker_status,
    }
