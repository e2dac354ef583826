"""A TLS failure on the ArtifactResolve, against the real service: the broker's ARS demands a client
certificate (a private CA, as PKIoverheid private roots are) and the service has none configured.

The login must end as ``artifact-resolve-failed`` with the reason in plain words, the service must keep
serving, and the session must be finished (nothing waits for the 10-minute timeout).
"""

from __future__ import annotations

import base64
import hashlib

import httpx

from diagnostics.settings import load_settings
from diagnostics.simulator import entities
from diagnostics.simulator.keys import keys_for
from tests.chaos.world import PATIENCE_SECONDS, Outcome, World, start
from tests.helpers.messages import metadata_with_ars
from tests.helpers.tls import TlsFiles, https_server

REASON = "de makelaar vraagt een clientcertificaat"
# A type 0x0004 artifact whose SourceID is the (simulated) broker's: only its ARS can resolve it.
ARTIFACT = base64.b64encode(
    b"\x00\x04\x00\x00" + hashlib.sha1(entities.BROKER_ENTITY_ID.encode()).digest() + b"\x07" * 20
).decode()


def ars_refuses_without_client_certificate(world: World) -> Outcome:
    tls = TlsFiles(world.directory)
    settings = load_settings(world.config())  # its simulator key signs the broker's metadata below
    pinned = world.directory / "broker-cert.pem"
    pinned.write_bytes(keys_for(settings.simulator.key_dir).broker.cert_pem)
    with https_server(tls, b"") as ars:
        metadata = world.directory / "tls-metadata.xml"
        metadata.write_bytes(metadata_with_ars(settings, f"{ars.url}/ars"))
        broker = {
            "id": "tls",
            "name": "Makelaar met TLS",
            "metadata_file": str(metadata),
            "metadata_signing_cert_file": str(pinned),
            # Trusts the broker's private root, but offers no client certificate of its own.
            "ca_bundle_file": str(tls.ca_file),
        }
        embedded = {"id": "simulator", "name": "Simulator", "embedded": True, "soap_content_type": "text/xml"}
        config = world.config({"brokers": [embedded, broker]})
        server = world.serve(config)
        with httpx.Client(base_url=server.url, timeout=PATIENCE_SECONDS) as browser:
            started = start(browser, "tls", "")
            back = browser.get(
                "/saml/acs", params={"SAMLart": ARTIFACT, "RelayState": f"/diagnose/{started.reference}"}
            )
            verdict = browser.get(f"/api/v1/diagnose/{started.reference}").json()
            healthy = browser.get("/healthz").status_code == 200
        diagnosis = (verdict.get("diagnosis") or {}).get("id")
        detail = next((c["detail"] for c in verdict.get("checks", []) if c["id"] == "artifact-resolve"), "")
        passed = (
            back.status_code == 303
            and diagnosis == "artifact-resolve-failed"
            and REASON in detail
            and healthy
            and not ars.requests
        )
        return Outcome(passed, f"{diagnosis}: “{detail}”; service still healthy: {healthy}")
