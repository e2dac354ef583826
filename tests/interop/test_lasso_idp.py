"""Interop (b): our SP against a broker built on Lasso, through real HTTP and our own /diagnose flow.

Our service runs for real (``inloghulp serve``) with the Lasso broker configured like any real one:
``metadata_url`` plus ``metadata_signing_cert_file``. Lasso (``lasso_idp.py``) checks our signed
AuthnRequest and ArtifactResolve, signs the assertion and encrypts both identifiers for us. Each row
below is one login as a user would do it, ending in the diagnosis the result page shows.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from diagnostics import certs, ownership
from diagnostics.settings import load_settings
from tests.helpers.config import config_file
from tests.helpers.live_server import LiveServer, free_port
from tests.helpers.ownership import latest_reference
from tests.interop.lasso_process import HERE, wait_for_line

TIMEOUT_SECONDS = 1
IDP_ENTITY_ID = "urn:etoegang:HM:00000009999999999777:entities:9777"

# Lasso broker behaviour -> what our /diagnose flow concludes ("ok" for a successful login).
TABLE: list[tuple[str, str]] = [
    ("success", "ok"),
    ("loa2", "loa-too-low"),
    ("cancel-silent", "stopped-at-broker"),
    ("cancel-message", "cancelled"),
    ("wrong-audience", "wrong-audience"),
    ("never-returns", "no-response"),
]


@dataclass(frozen=True)
class Pair:
    service: LiveServer
    idp_url: str


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, lasso_python: str) -> Iterator[Pair]:
    """Our service and the Lasso broker, each on its own loopback port, configured to know each other."""
    tmp = tmp_path_factory.mktemp("interop-idp")
    sp_key, sp_cert, idp_key, idp_cert = (tmp / name for name in ("sp-key", "sp-cert", "idp-key", "idp-cert"))
    certs.write(certs.generate("Test SP", serial_number="00000009999999999000"), sp_key, sp_cert)
    certs.write(certs.generate("Lasso-makelaar (test)", serial_number="00000009999999999777"), idp_key, idp_cert)
    idp_url = f"http://127.0.0.1:{free_port()}"
    broker = {
        "id": "lasso",
        "name": "Lasso-makelaar (test)",
        "metadata_url": f"{idp_url}/metadata",
        "metadata_signing_cert_file": str(idp_cert),
    }
    config = config_file(
        tmp,
        sp_key,
        sp_cert,
        {
            "brokers": [broker],
            "no_response_timeout_seconds": TIMEOUT_SECONDS,
            "rate_limits": {"roundtrip_start": 0},  # every row starts a test from the same address
        },
    )
    service = LiveServer(config)
    settings = load_settings(config)
    idp_config = {
        "port": idp_url.rsplit(":", 1)[1],
        "base_url": idp_url,
        "entity_id": IDP_ENTITY_ID,
        "key_file": str(idp_key),
        "cert_file": str(idp_cert),
        "sp_metadata_url": f"{service.url}/saml/metadata",
        "work_dir": str(tmp / "idp"),
        # A real broker takes these from the dienstencatalogus entry.
        "service_id": settings.service.service_id,
        "service_uuid": settings.service.uuid,
    }
    (tmp / "idp.json").write_text(json.dumps(idp_config))
    idp = subprocess.Popen(
        [lasso_python, str(HERE / "lasso_idp.py"), str(tmp / "idp.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_line(idp, "ready")
        yield Pair(service, idp_url)
    finally:
        idp.terminate()
        idp.communicate(timeout=10)
        service.stop()


def _verdict(client: httpx.Client, reference: str, *, seconds: float = 5) -> dict[str, Any]:
    """The verdict once it is final; "never returns" needs the configured timeout to pass (bounded wait)."""
    deadline = time.monotonic() + seconds
    while True:
        verdict: dict[str, Any] = client.get(f"/api/v1/diagnose/{reference}").raise_for_status().json()
        if verdict["verdict"] != "inconclusive" or time.monotonic() > deadline:
            return verdict
        time.sleep(0.2)


def _login(pair: Pair, behaviour: str) -> tuple[httpx.Response, dict[str, Any]]:
    """A user starts a test at /diagnose, the browser follows every redirect; (last page, verdict)."""
    httpx.post(f"{pair.idp_url}/control", json={"behaviour": behaviour}).raise_for_status()
    with httpx.Client(base_url=pair.service.url, follow_redirects=True, timeout=20) as client:
        assert client.get("/diagnose").status_code == 200
        page = client.post("/diagnose/start", data={"broker": "lasso"})
        reference = latest_reference(client.cookies.get(ownership.COOKIE))
        assert reference, page.text[:500]
        return page, _verdict(client, reference)


@pytest.mark.parametrize(("behaviour", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_our_sp_against_the_lasso_broker(pair: Pair, behaviour: str, expected: str) -> None:
    page, verdict = _login(pair, behaviour)
    found = "ok" if verdict["verdict"] == "ok" else (verdict["diagnosis"] or {}).get("id")
    assert found == expected, [(c["id"], c["status"], c["detail"][:160]) for c in verdict["checks"]]
    if behaviour == "never-returns":
        assert str(page.url).startswith(pair.idp_url)  # the user stayed at the broker's own page
    else:
        assert page.status_code == 200 and "/diagnose/BHP-" in str(page.url)  # back at our result page


def test_a_successful_login_proves_the_signature_and_decrypts_both_identifiers(pair: Pair) -> None:
    _, verdict = _login(pair, "success")
    checks = {check["id"]: check for check in verdict["checks"]}
    assert checks["signature"]["status"] == "pass"
    assert checks["identifiers"]["status"] == "pass"
    assert set(checks["identifiers"]["data"]) >= {"legalsubjectid", "actingsubjectid"}
    identifiers = checks["identifiers"]["data"]
    assert identifiers["legalsubjectid"].startswith("KvKnr: ")
    assert identifiers["actingsubjectid"].startswith("Pseudo: ")
    # Decrypted, not read as plain text: the block cipher Lasso chose is on the trace.
    assert identifiers["legalsubjectid_cipher"] == identifiers["actingsubjectid_cipher"] == "aes256-cbc"
    assert checks["artifact-resolve"]["data"]["ars_url"] == f"{pair.idp_url}/ars"


def test_lasso_checks_our_signature_on_the_authn_request(pair: Pair) -> None:
    """The broker is not a pushover: a changed RelayState breaks our redirect signature, and Lasso says so."""
    httpx.post(f"{pair.idp_url}/control", json={"behaviour": "success"}).raise_for_status()
    with httpx.Client(base_url=pair.service.url, timeout=20) as client:
        start = client.post("/diagnose/start", data={"broker": "lasso"})
    location = start.headers["location"]
    assert location.startswith(f"{pair.idp_url}/sso?") and "Signature=" in location
    tampered = location.replace("RelayState=%2Fdiagnose%2F", "RelayState=%2Fdiagnose%2FX", 1)
    refused = httpx.get(tampered)
    assert refused.status_code == 400 and refused.text.startswith("lasso:"), refused.text
    assert httpx.get(location).status_code == 303  # the untouched request is accepted
