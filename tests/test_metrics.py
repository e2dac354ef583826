"""The metric functions others call, and the multi-process sum across workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import REGISTRY

from diagnostics import metrics


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_counters_by_label() -> None:
    started = _value("inloghulp_roundtrips_started_total", {"broker": "metrics-test"})
    failed = _value("inloghulp_roundtrips_finished_total", {"broker": "metrics-test", "diagnosis": "loa-too-low"})
    ok = _value("inloghulp_roundtrips_finished_total", {"broker": "metrics-test", "diagnosis": "ok"})
    explained = _value("inloghulp_explain_calls_total", {"source": "cli"})
    metrics.roundtrip_started("metrics-test")
    metrics.roundtrip_started("metrics-test")
    metrics.roundtrip_finished("metrics-test", "loa-too-low")
    metrics.roundtrip_finished("metrics-test", None)
    metrics.explain_called("cli")
    assert _value("inloghulp_roundtrips_started_total", {"broker": "metrics-test"}) == started + 2
    assert (
        _value("inloghulp_roundtrips_finished_total", {"broker": "metrics-test", "diagnosis": "loa-too-low"})
        == failed + 1
    )
    assert _value("inloghulp_roundtrips_finished_total", {"broker": "metrics-test", "diagnosis": "ok"}) == ok + 1
    assert _value("inloghulp_explain_calls_total", {"source": "cli"}) == explained + 1


def test_resolve_histogram_and_certificate_gauge() -> None:
    count = _value("inloghulp_artifact_resolve_seconds_count")
    fast = _value("inloghulp_artifact_resolve_seconds_bucket", {"le": "0.05"})
    metrics.observe_resolve(0.02)
    metrics.observe_resolve(3.0)
    assert _value("inloghulp_artifact_resolve_seconds_count") == count + 2
    assert _value("inloghulp_artifact_resolve_seconds_bucket", {"le": "0.05"}) == fast + 1
    metrics.set_certificate_days_left("metrics-test", 12)
    assert _value("inloghulp_certificate_days_left", {"certificate": "metrics-test"}) == 12
    assert b'inloghulp_certificate_days_left{certificate="metrics-test"} 12.0' in metrics.render()


_WORKER = """
import sys
from diagnostics import metrics
for _ in range(int(sys.argv[1])):
    metrics.roundtrip_started("multi")
metrics.roundtrip_finished("multi", "expired")
"""
_READER = """
import sys
from diagnostics import metrics
sys.stdout.write(metrics.render().decode())
"""


def test_multiprocess_mode_sums_all_workers(tmp_path: Path) -> None:
    env = {**os.environ, metrics.MULTIPROC_ENV: str(tmp_path)}
    for count in ("3", "4"):
        subprocess.run([sys.executable, "-c", _WORKER, count], env=env, check=True, timeout=60)
    text = subprocess.run(
        [sys.executable, "-c", _READER], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    assert 'inloghulp_roundtrips_started_total{broker="multi"} 7.0' in text
    assert 'inloghulp_roundtrips_finished_total{broker="multi",diagnosis="expired"} 2.0' in text
