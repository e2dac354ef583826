"""The back channel as brokers run it: real TLS on loopback, a private CA, a server that demands our certificate.

Everything is generated here: a private root (like a PKIoverheid private root, in no public store), a
server certificate for 127.0.0.1 and our client certificate, both signed by it. The ArtifactResolutionService
is a stdlib HTTPS server that answers a fixed, valid ArtifactResponse from the simulator. The verdicts come
from ``roundtrip.evaluate_artifact``, so they are what a user would see on the result page.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from diagnostics import broker_tls, certs, roundtrip
from diagnostics.brokers import BrokerError
from diagnostics.resources import Resources, open_resources
from diagnostics.saml import authn
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator import entities, responses
from diagnostics.simulator.ars import envelope
from diagnostics.simulator.keys import keys_for
from diagnostics.verdict import Verdict
from tests.helpers.messages import metadata_with_ars
from tests.helpers.tls import TlsFiles, https_server, issue, make_ca

TLS_VERSIONS = [
    pytest.param(ssl.TLSVersion.TLSv1_3, id="tls1.3"),
    pytest.param(ssl.TLSVersion.TLSv1_2, id="tls1.2"),
]
ARTIFACT = base64.b64encode(
    b"\x00\x04\x00\x00" + hashlib.sha1(entities.BROKER_ENTITY_ID.encode()).digest() + b"\x07" * 20
).decode()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return TlsFiles(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def base(settings: Settings) -> Settings:
    keys_for(settings.simulator.key_dir)  # the simulator's broker key, which signs the metadata below
    return settings


def _broker_settings(
    write_config: Callable[..., Path], base: Settings, tmp_path: Path, broker: dict[str, Any]
) -> Settings:
    """``base`` with one more broker, "tls", pinned to the simulator's broker certificate."""
    pinned = tmp_path / "simulator-broker-cert.pem"
    pinned.write_bytes(keys_for(base.simulator.key_dir).broker.cert_pem)
    tls_broker = {"id": "tls", "name": "Makelaar met TLS", "metadata_signing_cert_file": str(pinned), **broker}
    embedded = {"id": "simulator", "name": "Simulator", "embedded": True}
    return load_settings(write_config({"brokers": [embedded, tls_broker]}, name="tls.toml"))


def _files(tls: TlsFiles, *, client_cert: bool = True, ca_bundle: bool = True) -> dict[str, str]:
    settings: dict[str, str] = {}
    if client_cert:
        settings |= {"tls_client_cert_file": str(tls.client_cert), "tls_client_key_file": str(tls.client_key)}
    if ca_bundle:
        settings["ca_bundle_file"] = str(tls.ca_file)
    return settings


async def _resolve_through_tls(
    write_config: Callable[..., Path],
    base: Settings,
    tmp_path: Path,
    tls: TlsFiles,
    files: dict[str, str],
    *,
    version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> tuple[Verdict, list[tuple[str, str, str | None]]]:
    """One round trip's back channel: the artifact comes back, and the test resolves it at the TLS server."""
    request_id = authn.new_id()
    answer = envelope(responses.issue(base, "success-loa2plus", request_id=request_id))
    with https_server(tls, answer, maximum_version=version) as server:
        metadata = tmp_path / "tls-metadata.xml"
        metadata.write_bytes(metadata_with_ars(base, f"{server.url}/ars"))
        settings = _broker_settings(write_config, base, tmp_path, {"metadata_file": str(metadata), **files})
        async with open_resources(settings) as resources:
            session = resources.store.create_session(broker_id="tls", supplier_id=None, request_id=request_id)
            verdict = await roundtrip.evaluate_artifact(resources, session, ARTIFACT)
        return verdict, server.requests


def _resolve_check(verdict: Verdict) -> tuple[str, str]:
    check = next(check for check in verdict.checks if check.id == "artifact-resolve")
    return check.status, check.detail


@pytest.mark.anyio
async def test_with_our_certificate_and_the_private_ca_the_login_is_ok(
    write_config: Callable[..., Path], base: Settings, tmp_path: Path, tls: TlsFiles
) -> None:
    verdict, requests = await _resolve_through_tls(write_config, base, tmp_path, tls, _files(tls))
    assert verdict.verdict == "ok", verdict.model_dump_json(indent=1)
    assert verdict.diagnosis is None
    assert _resolve_check(verdict)[0] == "pass"
    # The server demanded a certificate and got ours.
    assert requests == [("POST", "/ars", "Test DV TLS")]


@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.anyio
async def test_without_a_client_certificate_the_broker_asks_for_one(
    write_config: Callable[..., Path], base: Settings, tmp_path: Path, tls: TlsFiles, version: ssl.TLSVersion
) -> None:
    files = _files(tls, client_cert=False)
    verdict, requests = await _resolve_through_tls(write_config, base, tmp_path, tls, files, version=version)
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "artifact-resolve-failed"
    assert _resolve_check(verdict) == (
        "fail",
        "De beveiligde verbinding met de makelaar lukte niet: de makelaar vraagt een clientcertificaat.",
    )
    assert requests == []


@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.anyio
async def test_an_untrusted_server_is_named_as_such(
    write_config: Callable[..., Path], base: Settings, tmp_path: Path, tls: TlsFiles, version: ssl.TLSVersion
) -> None:
    # Our certificate, but no CA bundle: the public store does not know the private root.
    files = _files(tls, ca_bundle=False)
    verdict, requests = await _resolve_through_tls(write_config, base, tmp_path, tls, files, version=version)
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "artifact-resolve-failed"
    assert _resolve_check(verdict) == (
        "fail",
        "De beveiligde verbinding met de makelaar lukte niet: servercertificaat niet vertrouwd.",
    )
    assert requests == []


@pytest.mark.parametrize("version", TLS_VERSIONS)
@pytest.mark.anyio
async def test_a_certificate_the_broker_does_not_accept_is_refused(
    write_config: Callable[..., Path], base: Settings, tmp_path: Path, tls: TlsFiles, version: ssl.TLSVersion
) -> None:
    # Signed by another CA than the one the server trusts for its clients.
    stranger_key, stranger_cert = tmp_path / "stranger-key.pem", tmp_path / "stranger-cert.pem"
    certs.write(issue(make_ca("Andere CA"), "Vreemde dienst"), stranger_key, stranger_cert)
    files = {**_files(tls), "tls_client_cert_file": str(stranger_cert), "tls_client_key_file": str(stranger_key)}
    verdict, requests = await _resolve_through_tls(write_config, base, tmp_path, tls, files, version=version)
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "artifact-resolve-failed"
    assert _resolve_check(verdict) == (
        "fail",
        "De beveiligde verbinding met de makelaar lukte niet: clientcertificaat geweigerd.",
    )
    assert requests == []


@pytest.fixture
async def tls_resources(
    write_config: Callable[..., Path], base: Settings, tmp_path: Path, tls: TlsFiles
) -> AsyncIterator[tuple[Resources, list[tuple[str, str, str | None]]]]:
    """A broker whose metadata, AD list and ARS all live behind the TLS server (one client for all three)."""
    request_id = "_tls-one-client"
    answer = envelope(responses.issue(base, "success-loa2plus", request_id=request_id))
    documents: dict[str, bytes] = {}
    with https_server(tls, answer, documents=documents) as server:
        documents["/metadata"] = metadata_with_ars(base, f"{server.url}/ars")
        settings = _broker_settings(
            write_config, base, tmp_path, {"metadata_url": f"{server.url}/metadata", **_files(tls)}
        )
        async with open_resources(settings) as resources:
            yield resources, server.requests


@pytest.mark.anyio
async def test_one_client_and_one_tls_context_serve_metadata_and_every_resolve(
    tls_resources: tuple[Resources, list[tuple[str, str, str | None]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    resources, requests = tls_resources
    built: list[object] = []
    original = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: built.append(a) or original(*a, **k))
    client = resources.registry.client("tls")
    assert isinstance(client, broker_tls.BrokerClient) and client.offers_client_cert
    info = await resources.registry.broker("tls")
    assert info.signature_verified
    for number in range(2):
        session = resources.store.create_session(
            broker_id="tls", supplier_id=None, request_id=f"_tls-one-client-{number}"
        )
        await roundtrip.evaluate_artifact(resources, session, ARTIFACT)
    assert resources.registry.client("tls") is client
    assert built == []  # the context was built once, when the registry was
    assert [(method, path) for method, path, _ in requests] == [
        ("GET", "/metadata"),
        ("POST", "/ars"),
        ("POST", "/ars"),
    ]
    assert {name for _, _, name in requests} == {"Test DV TLS"}


@pytest.mark.anyio
async def test_metadata_from_an_untrusted_server_says_why(
    write_config: Callable[..., Path], base: Settings, tmp_path: Path, tls: TlsFiles
) -> None:
    with https_server(tls, b"", documents={"/metadata": b"<never/>"}) as server:
        broker = {"metadata_url": f"{server.url}/metadata", **_files(tls, ca_bundle=False)}
        settings = _broker_settings(write_config, base, tmp_path, broker)
        async with open_resources(settings) as resources:
            with pytest.raises(BrokerError) as caught:
                await resources.registry.broker("tls")
    assert caught.value.diagnosis == "broker-unreachable"
    assert (
        caught.value.message
        == "De metadata van Makelaar met TLS is niet op te halen (servercertificaat niet vertrouwd)."
    )


def test_a_broker_without_tls_settings_keeps_the_public_trust_and_offers_no_certificate(
    settings: Settings, tls: TlsFiles
) -> None:
    public = broker_tls.ssl_context(settings.brokers[0])
    private = broker_tls.ssl_context(settings.brokers[0].model_copy(update={"ca_bundle_file": tls.ca_file}))
    assert public.cert_store_stats()["x509_ca"] > 100  # certifi, as httpx trusts by default
    assert private.cert_store_stats()["x509_ca"] == 1  # the bundle replaces the public store
