"""The automatic outage notice: it appears at N broker-side failures within 15 minutes, and clears when they age out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from diagnostics import logs, outage
from diagnostics.catalogue import load_catalogue
from diagnostics.notices import in_force
from diagnostics.outage import OutageWatch
from diagnostics.settings import Settings
from diagnostics.store import Store
from diagnostics.verdict import Verdict

THRESHOLD = 5


def _finish(store: Store, diagnosis: str | None, broker: str = "simulator") -> None:
    session = store.create_session(broker_id=broker, supplier_id=None, request_id=None)
    found = load_catalogue().diagnosis(diagnosis) if diagnosis else None
    store.finish_session(session.reference, Verdict(verdict="failed" if found else "ok", diagnosis=found, checks=[]))


def _gauge(name: str, broker: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"broker": broker})


def test_the_notice_appears_at_n_failures_and_clears_when_the_window_passes(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    watch = OutageWatch(THRESHOLD)
    now = datetime.now(UTC)
    # Failures that are not the broker's, and another broker's, never count towards this one.
    for diagnosis in (None, "loa-too-low", "cancelled", "no-authorisation"):
        _finish(store, diagnosis)
    _finish(store, "broker-unreachable", broker="elders")
    for diagnosis in outage.BROKER_SIDE[: THRESHOLD - 2]:
        _finish(store, diagnosis)
    # A test that never came back is a broker-side failure too, counted when it is given up on.
    store.create_session(broker_id="simulator", supplier_id=None, request_id=None, now=now - timedelta(hours=1))
    assert len(store.expire_stale(600, now=now)) == 1
    assert watch.suspected(store.engine, now) == {}  # N - 1
    assert _gauge("inloghulp_broker_side_failures", "simulator") == THRESHOLD - 1
    assert _gauge("inloghulp_broker_outage_suspected", "simulator") == 0

    with caplog.at_level(logging.WARNING, logger="diagnostics.outage"), logs.reference_bound("BHP-7K3Q-9D2F"):
        _finish(store, "stopped-at-broker")
        assert watch.suspected(store.engine, now) == {"simulator": THRESHOLD}
        assert watch.suspected(store.engine, now) == {"simulator": THRESHOLD}  # still on: no second line
        # 15 minutes on, every failure has aged out of the window: the notice clears.
        assert watch.suspected(store.engine, now + outage.WINDOW + timedelta(seconds=1)) == {}
    assert _gauge("inloghulp_broker_outage_suspected", "simulator") == 0

    lines = [record for record in caplog.records if record.name == "diagnostics.outage"]
    assert [record.getMessage() for record in lines] == [
        "possible outage at broker simulator: 5 broker-side failures in 15 minutes (threshold 5)",
        "possible outage at broker simulator is over: 0 broker-side failures in 15 minutes",
    ]
    # Not tied to the page (one user's result page) that happened to ask.
    assert [getattr(record, "reference", None) for record in lines] == [None, None]


def test_each_worker_counts_at_most_every_few_seconds(store: Store) -> None:
    ticks = [0.0]
    watch = OutageWatch(1, cache_seconds=20, clock=lambda: ticks[0])
    assert watch.suspected(store.engine) == {}
    _finish(store, "broker-error")
    ticks[0] = 19.0
    assert watch.suspected(store.engine) == {}  # the answer of 19 seconds ago
    ticks[0] = 20.0
    assert watch.suspected(store.engine) == {"simulator": 1}


def test_the_count_is_one_query_on_its_own_index(store: Store) -> None:
    since = datetime.now(UTC) - outage.WINDOW
    query = (
        "EXPLAIN QUERY PLAN SELECT broker_id, count(*) FROM diag_sessions "
        "WHERE finished_at >= :since AND diagnosis_id IN ('broker-error', 'no-response') GROUP BY broker_id"
    )
    with store.engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.execute(text(query), {"since": since}))
    assert "COVERING INDEX ix_diag_sessions_finished_broker" in plan, plan


def test_below_the_threshold_nothing_is_shown(settings: Settings, store: Store) -> None:
    for _ in range(THRESHOLD - 1):
        _finish(store, "broker-error")
    assert in_force(settings, store.engine, OutageWatch(THRESHOLD)) == []


def test_a_scrape_of_metrics_brings_the_outage_gauges_up_to_date(
    settings: Settings, store: Store, app_client: Callable[..., Any]
) -> None:
    # No page with notices is opened: Prometheus alone must see the outage (ops/prometheus/alerts.yml).
    client = app_client(settings)
    for diagnosis in outage.BROKER_SIDE[:THRESHOLD]:
        _finish(store, diagnosis)
    body = client.get("/metrics").text
    assert 'inloghulp_broker_outage_suspected{broker="simulator"} 1.0' in body
