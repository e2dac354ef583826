"""The certificate report behind /api/v1/certificates, /api/v1/status, /metrics and /beheer/certificaten."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from diagnostics import certs
from diagnostics.brokers import BrokerRegistry
from diagnostics.cert_status import certificate_report
from tests.helpers.broker_network import answering_only_together, pinned_brokers


@pytest.mark.anyio
async def test_the_report_asks_all_brokers_at_once(write_config: Callable[..., Path], tmp_path: Path) -> None:
    pair = certs.generate("Makelaar", serial_number="00000009999999999001")
    settings = pinned_brokers(write_config, tmp_path, pair)
    handler, arrived = answering_only_together(pair)

    registry = BrokerRegistry(settings, transport=httpx.MockTransport(handler))
    report = await certificate_report(settings, registry)
    await registry.aclose()

    assert sorted(arrived) == ["hm-a.example/md", "hm-b.example/md"]
    rows = [(row.owner, row.status) for row in report.certificates if row.owner != "sp"]
    assert rows == [("hm-a", "ok"), ("hm-b", "ok")], report.certificates
