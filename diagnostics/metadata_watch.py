"""Broker metadata watch: refresh, validate and diff each broker's metadata against the last copy.

``inloghulp refresh-metadata`` (run it from cron or a systemd timer) loads every broker's metadata
the way the round trip does (``diagnostics.brokers``: signature against the pinned certificate,
validUntil), stores a snapshot, and compares it with the previous snapshot. A new or removed signing
key or a moved endpoint is logged, counted in metrics and shown in ``GET /api/v1/status``: a broker
that rolls its key without notice otherwise shows up as a wave of ``bad-signature`` tickets.
Metadata that is refused is recorded too (a row with ``error``); the last good snapshot stays.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from sqlalchemy import insert, select

from diagnostics import brokers, certs
from diagnostics.cert_status import WARNING_DAYS
from diagnostics.models import MetadataSnapshot
from diagnostics.settings import Settings
from diagnostics.simulator.embedded import embedded_broker
from diagnostics.store import Store

log = logging.getLogger(__name__)

ChangeKind = Literal["signing-key", "endpoint", "entity-id"]


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    detail: str


@dataclass(frozen=True)
class Snapshot:
    broker_id: str
    fetched_at: datetime
    xml_sha256: str
    entity_id: str
    signing_certs: dict[str, str]
    endpoints: dict[str, Any]
    valid_until: datetime | None
    signature_verified: bool
    changes: list[Change] = field(default_factory=list)

    @property
    def signing_fingerprints(self) -> list[str]:
        return sorted(self.signing_certs)


@dataclass(frozen=True)
class RefreshResult:
    broker_id: str
    snapshot: Snapshot | None
    changes: list[Change]
    warnings: list[str]
    error: str | None = None


def snapshot_of(info: brokers.BrokerInfo, xml: bytes, now: datetime) -> Snapshot:
    return Snapshot(
        broker_id=info.id,
        fetched_at=now,
        xml_sha256=hashlib.sha256(xml).hexdigest(),
        entity_id=info.entity_id,
        signing_certs={
            certs.fingerprint_sha256(cert): cert.not_valid_after_utc.isoformat() for cert in info.signing_certs
        },
        endpoints={
            "sso_redirect": info.sso_redirect_url,
            "sso_post": info.sso_post_url,
            "ars": [endpoint.location for endpoint in info.ars_endpoints],
        },
        valid_until=info.valid_until,
        signature_verified=info.signature_verified,
    )


def diff(previous: Snapshot | None, current: Snapshot) -> list[Change]:
    """What an operator must know about: signing keys added or removed, endpoints moved."""
    if previous is None:
        return []
    changes: list[Change] = []
    if previous.entity_id != current.entity_id:
        changes.append(Change("entity-id", f"entityID {previous.entity_id} → {current.entity_id}"))
    old_keys, new_keys = set(previous.signing_certs), set(current.signing_certs)
    changes += [Change("signing-key", f"nieuwe ondertekeningssleutel {fp}") for fp in sorted(new_keys - old_keys)]
    changes += [Change("signing-key", f"ondertekeningssleutel verdwenen {fp}") for fp in sorted(old_keys - new_keys)]
    for name in sorted(set(previous.endpoints) | set(current.endpoints)):
        before, after = previous.endpoints.get(name), current.endpoints.get(name)
        if before != after:
            changes.append(Change("endpoint", f"{name}: {before} → {after}"))
    return changes


def warnings_for(snapshot: Snapshot, now: datetime) -> list[str]:
    """Signing certificates that expire within ``WARNING_DAYS`` (or have expired)."""
    result = []
    for fingerprint, not_after in sorted(snapshot.signing_certs.items()):
        days = (datetime.fromisoformat(not_after) - now).days
        if days < WARNING_DAYS:
            when = f"verloopt over {days} dagen" if days >= 0 else "is verlopen"
            result.append(f"{snapshot.broker_id}: ondertekeningscertificaat {fingerprint[:23]}… {when}")
    return result


def fetch_metadata(settings: Settings, broker_id: str, now: datetime) -> tuple[bytes, brokers.BrokerInfo]:
    """The raw document (for its hash) and what it says, verified exactly as the round trip verifies it."""
    config = settings.broker(broker_id)
    trust = brokers.metadata_trust(settings, config, embedded_broker(settings))
    if config.metadata_file is not None:
        source = str(config.metadata_file)
        try:
            data = config.metadata_file.read_bytes()
        except OSError as exc:
            raise brokers.BrokerError("config-error", f"Het metadatabestand van {config.name} is niet te lezen: {exc}")
    else:
        source = settings.broker_metadata_url(config) or ""
        try:
            response = httpx.get(source, timeout=brokers.FETCH_TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise brokers.BrokerError("broker-unreachable", f"De metadata van {config.name}: {type(exc).__name__}")
        if response.status_code != 200:
            raise brokers.BrokerError(
                "broker-unreachable", f"De metadata van {config.name}: HTTP {response.status_code}"
            )
        data = response.content
    return data, brokers.parse_metadata(data, config, trust, source=source, now=now)


def _from_row(row: Any) -> Snapshot:
    return Snapshot(
        broker_id=row.broker_id,
        fetched_at=row.fetched_at,
        xml_sha256=row.xml_sha256,
        entity_id=row.entity_id,
        signing_certs=dict(row.signing_certs),
        endpoints=dict(row.endpoints),
        valid_until=row.valid_until,
        signature_verified=bool(row.signature_verified),
        changes=[Change(item["kind"], item["detail"]) for item in row.changes],
    )


def latest_snapshot(store: Store, broker_id: str) -> Snapshot | None:
    with store.engine.connect() as connection:
        row = connection.execute(
            select(MetadataSnapshot.__table__)
            .where(MetadataSnapshot.broker_id == broker_id, MetadataSnapshot.error.is_(None))
            .order_by(MetadataSnapshot.fetched_at.desc(), MetadataSnapshot.id.desc())
            .limit(1)
        ).first()
    return _from_row(row) if row is not None else None


def save_snapshot(store: Store, snapshot: Snapshot) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(MetadataSnapshot),
            [
                {
                    "broker_id": snapshot.broker_id,
                    "fetched_at": snapshot.fetched_at,
                    "xml_sha256": snapshot.xml_sha256,
                    "entity_id": snapshot.entity_id,
                    "signing_certs": snapshot.signing_certs,
                    "endpoints": snapshot.endpoints,
                    "valid_until": snapshot.valid_until,
                    "signature_verified": snapshot.signature_verified,
                    "changes": [{"kind": c.kind, "detail": c.detail} for c in snapshot.changes],
                }
            ],
        )


@dataclass(frozen=True)
class Refusal:
    fetched_at: datetime
    error: str


def save_refusal(store: Store, broker_id: str, now: datetime, error: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(MetadataSnapshot),
            [
                {
                    "broker_id": broker_id,
                    "fetched_at": now,
                    "xml_sha256": "",
                    "entity_id": "",
                    "signing_certs": {},
                    "endpoints": {},
                    "valid_until": None,
                    "signature_verified": False,
                    "changes": [],
                    "error": error[:500],
                }
            ],
        )


def latest_refusal(store: Store, broker_id: str) -> Refusal | None:
    """The last refused fetch, when it came after the last good snapshot (the broker is still refused)."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(MetadataSnapshot.fetched_at, MetadataSnapshot.error)
            .where(MetadataSnapshot.broker_id == broker_id)
            .order_by(MetadataSnapshot.fetched_at.desc(), MetadataSnapshot.id.desc())
            .limit(1)
        ).first()
    if row is None or row.error is None:
        return None
    return Refusal(row.fetched_at, row.error)


def change_counts(store: Store) -> dict[tuple[str, str], int]:
    """(broker, kind) -> how many changes (and refusals) all snapshots recorded."""
    counts: dict[tuple[str, str], int] = {}
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(MetadataSnapshot.broker_id, MetadataSnapshot.changes, MetadataSnapshot.error)
        ).all()
    for broker_id, changes, error in rows:
        kinds = ["refused"] if error is not None else [str(change["kind"]) for change in changes]
        for kind in kinds:
            counts[(broker_id, kind)] = counts.get((broker_id, kind), 0) + 1
    return counts


Fetcher = Callable[[Settings, str, datetime], tuple[bytes, brokers.BrokerInfo]]


def refresh(
    settings: Settings, store: Store, *, now: datetime | None = None, fetch: Fetcher = fetch_metadata
) -> list[RefreshResult]:
    """Refresh every broker; a broker whose metadata cannot be trusted keeps its previous snapshot."""
    now = now or datetime.now(UTC)
    results = []
    for broker in settings.brokers:
        try:
            data, info = fetch(settings, broker.id, now)
        except brokers.BrokerError as exc:
            log.error("broker %s: metadata refused (%s): %s", broker.id, exc.diagnosis, exc.message)
            error = f"{exc.diagnosis}: {exc.message}"
            save_refusal(store, broker.id, now, error)
            results.append(RefreshResult(broker.id, None, [], [], error=error))
            continue
        previous = latest_snapshot(store, broker.id)
        current = snapshot_of(info, data, now)
        changes = diff(previous, current)
        current = replace(current, changes=changes)
        # A good copy after a refusal is saved too, so that the refusal no longer shows as current.
        if previous is None or previous.xml_sha256 != current.xml_sha256 or changes or latest_refusal(store, broker.id):
            save_snapshot(store, current)
        for change in changes:
            log.warning("broker %s: metadata change (%s): %s", broker.id, change.kind, change.detail)
        warnings = warnings_for(current, now)
        for warning in warnings:
            log.warning("broker %s: %s", broker.id, warning)
        results.append(RefreshResult(broker.id, current, changes, warnings))
    return results
