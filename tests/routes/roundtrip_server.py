"""One real server per test module for the round-trip tests (starting one per scenario is too slow)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from diagnostics import certs, ownership
from tests.helpers.config import BASE_CONFIG, ROOT, merge
from tests.helpers.live_server import LiveServer
from tests.helpers.ownership import latest_reference

REFERENCE_RE = re.compile(r"/diagnose/(BHP-[0-9A-Z]{4}-[0-9A-Z]{4})$")


@contextmanager
def roundtrip_server(directory: Path, overrides: dict[str, Any] | None = None) -> Iterator[LiveServer]:
    """``inloghulp serve`` on a fresh config in ``directory``; stopped when the block ends."""
    key_file, cert_file = directory / "sp-key.pem", directory / "sp-cert.pem"
    certs.write(certs.generate("Test SP", serial_number="00000009999999999000"), key_file, cert_file)
    data = merge(
        BASE_CONFIG,
        {
            "database_url": f"sqlite:///{directory / 'inloghulp.sqlite3'}",
            "site_dir": str(ROOT / "site"),
            "sp": {"key_file": str(key_file), "cert_file": str(cert_file)},
            "simulator": {"key_dir": str(directory / "simulator"), "slow_delay_seconds": 1.0},
            # Every scenario starts a test from the same address: no rate limit here.
            "rate_limits": {"roundtrip_start": 0},
        },
    )
    config = directory / "inloghulp.toml"
    config.write_text(tomli_w.dumps(merge(data, overrides or {})), encoding="utf-8")
    server = LiveServer(config)
    try:
        yield server
    finally:
        server.stop()


def first_supplier(client: httpx.Client) -> tuple[str, str]:
    """(broker id, supplier entity id) as the chooser page offers them."""
    page = client.get("/diagnose")
    page.raise_for_status()
    broker = re.search(r'name="broker" value="([^"]+)"', page.text)
    supplier = re.search(r'name="supplier" value="([^"]+)"', page.text)
    assert broker and supplier, page.text
    return broker[1], supplier[1]


def run_test(client: httpx.Client, scenario: str) -> tuple[str, httpx.Response]:
    """Choose a supplier, start a test in ``scenario``, follow every redirect; (reference, last response)."""
    broker, supplier = first_supplier(client)
    response = client.post("/diagnose/start", data={"broker": broker, "supplier": supplier, "scenario": scenario})
    reference = latest_reference(client.cookies.get(ownership.COOKIE))
    assert reference, response.text
    return reference, response
