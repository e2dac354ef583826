"""The certificate report behind /api/v1/certificates, /api/v1/status, /metrics and /beheer/certificaten."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx

from diagnostics import certs
from diagnostics.brokers import BrokerRegistry
from diagnostics.routes.certificates import certificate_report
from diagnostics.settings import load_settings
from tests.test_brokers import metadata_xml


def test_the_report_asks_all_brokers_at_once(write_config: Callable[..., Path], tmp_path: Path) -> None:
    pair = certs.generate("Makelaar", serial_number="00000009999999999001")
    pin = tmp_path / "pin.pem"
    pin.write_bytes(pair.cert_pem)
    brokers = [
        {
            "id": name,
            "name": name.upper(),
            "metadata_url": f"https://{name}.example/md",
            "metadata_signing_cert_file": str(pin),
        }
        for name in ("hm-a", "hm-b")
    ]
    settings = load_settings(write_config({"brokers": brokers}))
    metadata = metadata_xml(pair)
    arrived: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        # Each answer waits until both requests are in: asked one after the other, the first would give up.
        arrived.append(request.url.host)
        for _ in range(50):
            if len(arrived) == 2:
                return httpx.Response(200, content=metadata)
            await asyncio.sleep(0.02)
        return httpx.Response(503)

    registry = BrokerRegistry(settings, transport=httpx.MockTransport(handler))
    report = asyncio.run(certificate_report(settings, registry))

    assert sorted(arrived) == ["hm-a.example", "hm-b.example"]
    rows = [(row.owner, row.status) for row in report.certificates if row.owner != "sp"]
    assert rows == [("hm-a", "ok"), ("hm-b", "ok")], report.certificates
