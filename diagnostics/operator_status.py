"""What an operator checks first: certificate lifetimes and the brokers' metadata state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from diagnostics.cert_status import CertificateStatus, worst_status
from diagnostics.metadata_watch import latest_refusal, latest_snapshot, warnings_for
from diagnostics.settings import Settings
from diagnostics.store import Store


def certificate_name(certificate: CertificateStatus) -> str:
    """The name in /api/v1/status and /metrics: ``sp-current``, ``sp-next``, ``broker-<id>-<fingerprint>``,
    ``tls-client-<broker id>`` (ours for that broker's back channel: one name across renewals, to alert on)."""
    if certificate.owner == "sp":
        return f"sp-{certificate.role}"
    if certificate.role == "tls-client":
        return f"tls-client-{certificate.owner}"
    if certificate.fingerprint_sha256 is None:  # the broker's metadata could not be loaded
        return f"broker-{certificate.owner}"
    return f"broker-{certificate.owner}-{certificate.fingerprint_sha256.replace(':', '')[:16].lower()}"


def certificate_days_left(certificates: Sequence[CertificateStatus]) -> dict[str, int]:
    """Days left per readable certificate of the report, by name."""
    return {
        certificate_name(certificate): certificate.days_left
        for certificate in certificates
        if certificate.days_left is not None
    }


def operator_status(
    settings: Settings, store: Store, certificates: Sequence[CertificateStatus], now: datetime | None = None
) -> dict[str, Any]:
    """The certificates of the report, and per broker the last metadata snapshot, its changes and warnings.

    ``certificates`` is the report of /api/v1/certificates (the metadata as the round trip loads it now);
    the broker part is what ``refresh-metadata`` last stored, so that changes show on every worker.
    """
    now = now or datetime.now(UTC)
    named = [{"name": certificate_name(c), "days_left": c.days_left, "status": c.status} for c in certificates]
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
    # A refused metadata fetch is an error; a change or warning in the last snapshot needs a look.
    worst = worst_status(
        [
            *(certificate.status for certificate in certificates),
            "error" if any(b["refused"] for b in broker_status) else "ok",
            "warning" if any(b["changes"] or b["warnings"] for b in broker_status) else "ok",
        ]
    )
    return {
        "status": worst,
        "schema_version": store.schema_version,
        "certificates": named,
        "brokers": broker_status,
    }
