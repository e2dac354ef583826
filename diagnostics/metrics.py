"""Prometheus metrics: round trips, explain calls, artifact-resolve latency, certificate days left, outages.

With several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before the
workers start (``inloghulp serve --workers N`` does this itself); every worker then writes its
samples there and ``/metrics`` on any worker reports the sum of all of them.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

ROUNDTRIPS_STARTED = Counter("inloghulp_roundtrips_started", "Diagnostics round trips started, by broker.", ["broker"])
ROUNDTRIPS_FINISHED = Counter(
    "inloghulp_roundtrips_finished",
    "Diagnostics round trips finished, by broker and diagnosis id (ok when nothing failed).",
    ["broker", "diagnosis"],
)
EXPLAIN_CALLS = Counter("inloghulp_explain_calls", "Messages explained, by source (cli, servicedesk, api).", ["source"])
RESOLVE_SECONDS = Histogram(
    "inloghulp_artifact_resolve_seconds",
    "Time to resolve an artifact at the broker over SOAP.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
# Counted from the stored snapshots at scrape time: ``inloghulp refresh-metadata`` runs in its own
# process (cron), whose counters would never reach a worker's /metrics.
METADATA_CHANGES = Gauge(
    "inloghulp_broker_metadata_changes",
    "Changes recorded in a broker's metadata since the first snapshot, by kind (signing-key, endpoint, "
    "entity-id, refused).",
    ["broker", "kind"],
    multiprocess_mode="mostrecent",
)
CERT_DAYS_LEFT = Gauge(
    "inloghulp_certificate_days_left",
    "Days until a certificate we rely on expires.",
    ["certificate"],
    multiprocess_mode="mostrecent",
)

# diagnostics.outage: set whenever a worker counts the broker-side failures (at most every 20 seconds, when a
# page with notices is shown). "mostrecent": the worker that counted last speaks for all of them.
BROKER_SIDE_FAILURES = Gauge(
    "inloghulp_broker_side_failures",
    "Round trips with a broker that ended in a broker-side failure in the last 15 minutes.",
    ["broker"],
    multiprocess_mode="mostrecent",
)
OUTAGE_SUSPECTED = Gauge(
    "inloghulp_broker_outage_suspected",
    "1 while the site says 'Mogelijk een storing' for a broker (failures at or over the threshold), else 0.",
    ["broker"],
    multiprocess_mode="mostrecent",
)

# Readiness as /readyz and every /metrics scrape find it (diagnostics.readiness), for the alert rules in
# ops/prometheus/alerts.yml. "livemin"/"livemax" over the running workers: one worker that is not ready
# makes the instance not ready.
READY = Gauge(
    "inloghulp_ready",
    "1 when the database takes a write and every broker's metadata loads, else 0.",
    multiprocess_mode="livemin",
)
DATABASE_STATE = Gauge(
    "inloghulp_database_state",
    "1 for the database's state at the last probe (ok, locked, unavailable, replaced), 0 for the others.",
    ["state"],
    multiprocess_mode="livemax",
)
BROKER_UP = Gauge(
    "inloghulp_broker_up",
    "1 when the broker's metadata could be loaded and trusted at the last probe, else 0.",
    ["broker"],
    multiprocess_mode="livemin",
)
DATABASE_STATES = ("ok", "locked", "unavailable", "replaced")


def roundtrip_started(broker: str) -> None:
    ROUNDTRIPS_STARTED.labels(broker=broker).inc()


def roundtrip_finished(broker: str, diagnosis: str | None) -> None:
    ROUNDTRIPS_FINISHED.labels(broker=broker, diagnosis=diagnosis or "ok").inc()


def explain_called(source: str) -> None:
    EXPLAIN_CALLS.labels(source=source).inc()


def observe_resolve(seconds: float) -> None:
    RESOLVE_SECONDS.observe(seconds)


def set_metadata_changes(broker: str, kind: str, count: int) -> None:
    METADATA_CHANGES.labels(broker=broker, kind=kind).set(count)


def set_certificate_days_left(name: str, days: int) -> None:
    CERT_DAYS_LEFT.labels(certificate=name).set(days)


def set_broker_side_failures(broker: str, count: int) -> None:
    BROKER_SIDE_FAILURES.labels(broker=broker).set(count)


def set_outage_suspected(broker: str, suspected: bool) -> None:
    OUTAGE_SUSPECTED.labels(broker=broker).set(1 if suspected else 0)


def set_readiness(ready: bool, database: str, brokers: dict[str, bool]) -> None:
    READY.set(1 if ready else 0)
    for state in DATABASE_STATES:
        DATABASE_STATE.labels(state=state).set(1 if state == database else 0)
    for broker, up in brokers.items():
        BROKER_UP.labels(broker=broker).set(1 if up else 0)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def render() -> bytes:
    """The exposition text: this process's registry, or the sum over all workers in multi-process mode."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
