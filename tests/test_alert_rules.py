"""The Prometheus alert rules (ops/prometheus): valid, unit-tested by promtool, and on metrics the app exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.metrics import MetricWrapperBase

from diagnostics import certs, metrics
from diagnostics.settings import load_settings
from tests.helpers.broker_documents import metadata_xml
from tests.helpers.config import ROOT

RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "alerts_test.yml"
METRIC = re.compile(r"\binloghulp_[a-z_]+\b")


def promtool() -> str:
    """Debian's promtool (package prometheus, installed by `make system-deps`); in CI it must be there."""
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: `make system-deps` installs the Debian package prometheus")
        pytest.skip("promtool is not installed (Debian package prometheus; `make system-deps`)")
    return found


@pytest.mark.parametrize(("command", "target"), [("check", RULES), ("test", RULE_TESTS)])
def test_promtool_accepts_the_rules(command: str, target: Path) -> None:
    result = subprocess.run(
        [promtool(), command, "rules", str(target)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_every_alert_is_unit_tested() -> None:
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == tested
    # What the issue asks alerts for: certificates, a broker outage, the failure ratio, readiness.
    assert {"InloghulpCertificateExpiresSoon", "InloghulpBrokerDown", "InloghulpHighFailureRatio"} <= alerts
    assert {"InloghulpNotReady", "InloghulpDatabaseProblem"} <= alerts


def test_the_rules_use_metrics_the_app_exports(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    metadata = tmp_path / "hm.xml"
    metadata.write_bytes(metadata_xml(certs.generate("Alert broker")))
    settings = load_settings(write_config({"brokers": [{"id": "hm", "name": "HM", "metadata_file": str(metadata)}]}))
    exported = app_client(settings).get("/metrics").text
    # Every metric the app defines (a labelled one shows in /metrics only once it has a sample).
    defined = {
        family.name
        for value in vars(metrics).values()
        if isinstance(value, MetricWrapperBase)
        for family in value.describe()
    }
    used = set(METRIC.findall(RULES.read_text()))
    assert used, "the rules name no metric of ours"
    for name in sorted(used):
        assert name.removesuffix("_total") in defined, f"{name} is in the rules but the app does not export it"
    # The readiness gauges carry the probe's findings at every scrape.
    assert 'inloghulp_database_state{state="ok"} 1.0' in exported
    assert 'inloghulp_broker_up{broker="hm"} 1.0' in exported
    assert "inloghulp_ready 1.0" in exported
