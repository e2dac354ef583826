"""Artifacts on the SP side: parsing, the signed ArtifactResolve, and every way a resolve can fail."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from diagnostics import certs, crypto
from diagnostics.saml.artifact import (
    SOAP_ENV,
    ArtifactError,
    artifact_resolve_envelope,
    artifact_response_from_soap,
    parse_artifact,
    resolve_artifact,
    source_id,
)
from diagnostics.settings import Settings
from diagnostics.simulator.artifacts import new_artifact
from diagnostics.simulator.entities import BROKER_ENTITY_ID
from tests.helpers.keys import sp_signing_key
from tests.helpers.live_server import free_port
from tests.helpers.simulated import Simulated, start
from tests.simulator.flow import login

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
ARS = "https://makelaar.example/broker/ars/1.13"


def test_parse_artifact_reads_index_and_source() -> None:
    artifact, handle = new_artifact(endpoint_index=3)
    index, source = parse_artifact(artifact)
    assert index == 3
    assert source == source_id(BROKER_ENTITY_ID)
    assert base64.b64decode(artifact)[24:].hex() == handle


@pytest.mark.parametrize(
    "artifact",
    [
        "not base64!",
        base64.b64encode(b"\x00\x04" + b"\x00" * 10).decode(),
        base64.b64encode(b"\x00\x02" + b"\x00" * 42).decode(),
    ],
)
def test_parse_artifact_refuses_other_shapes(artifact: str) -> None:
    with pytest.raises(ArtifactError) as raised:
        parse_artifact(artifact)
    assert raised.value.diagnosis == "malformed"


def test_artifact_resolve_is_signed_soap_11(settings: Settings) -> None:
    envelope = etree.fromstring(
        artifact_resolve_envelope(settings, signing_key=sp_signing_key(settings), artifact="AAQAAA==", ars_url=ARS)
    )
    assert envelope.tag == f"{{{SOAP_ENV}}}Envelope"
    resolve = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SAMLP}}}ArtifactResolve")
    assert resolve is not None
    assert resolve.get("Destination") == ARS
    assert resolve.findtext(f"{{{SAMLP}}}Artifact") == "AAQAAA=="
    assert resolve.findtext("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer") == settings.sp.entity_id
    crypto.verify(resolve, [certs.load_cert(settings.sp.cert_file)])


def _soap(body: str) -> bytes:
    return f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{body}</s:Body></s:Envelope>'.encode()


@pytest.mark.parametrize(
    ("status", "content", "diagnosis"),
    [
        (
            500,
            _soap("<s:Fault><faultcode>s:Server</faultcode><faultstring>boom</faultstring></s:Fault>"),
            "broker-error",
        ),
        (
            200,
            _soap("<s:Fault><faultcode>s:Server</faultcode><faultstring>boom</faultstring></s:Fault>"),
            "broker-error",
        ),
        (502, b"Bad gateway", "broker-error"),
        (415, b"Unsupported Media Type", "artifact-resolve-failed"),
        (200, b"<html>not soap</html>", "artifact-resolve-failed"),
        (200, b"not xml at all", "artifact-resolve-failed"),
        (200, _soap("<x/>"), "artifact-resolve-failed"),
    ],
)
def test_failed_answers_get_a_stable_id(status: int, content: bytes, diagnosis: str) -> None:
    with pytest.raises(ArtifactError) as raised:
        artifact_response_from_soap(httpx.Response(status, content=content), max_bytes=100_000)
    assert raised.value.diagnosis == diagnosis


def test_artifact_response_is_taken_from_the_body() -> None:
    body = _soap(f'<p:ArtifactResponse xmlns:p="{SAMLP}" ID="_r"/>')
    data = artifact_response_from_soap(httpx.Response(200, content=body), max_bytes=100_000)
    assert etree.fromstring(data).tag == f"{{{SAMLP}}}ArtifactResponse"


async def _resolve(settings: Settings, **kwargs: Any) -> bytes:
    async with httpx.AsyncClient() as client:
        return await resolve_artifact(client, settings, signing_key=sp_signing_key(settings), **kwargs)


@pytest.mark.anyio
async def test_unreachable_broker(settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}/ars"
    with pytest.raises(ArtifactError) as raised:
        await _resolve(settings, artifact="AAQAAA==", ars_url=url, content_type="text/xml", timeout=2)
    assert raised.value.diagnosis == "broker-unreachable"


@pytest.fixture(scope="module")
def soap_xml_simulator(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Iterator[Simulated]:
    """A simulator that, like a legacy broker, accepts only application/soap+xml."""
    running = start(
        tmp_path_factory.mktemp("soapxml"), sp_keypair, {"simulator": {"soap_content_type": "application/soap+xml"}}
    )
    yield running
    running.server.stop()


@pytest.mark.anyio
async def test_content_type_is_configurable(soap_xml_simulator: Simulated) -> None:
    sim = soap_xml_simulator
    returned = login(sim, "success-loa2plus")
    with pytest.raises(ArtifactError) as raised:
        await _resolve(
            sim.settings, artifact=returned.artifact, ars_url=sim.ars_url, content_type="text/xml", timeout=10
        )
    assert raised.value.diagnosis == "artifact-resolve-failed"
    data = await _resolve(
        sim.settings, artifact=returned.artifact, ars_url=sim.ars_url, content_type="application/soap+xml", timeout=10
    )
    assert etree.fromstring(data).tag == f"{{{SAMLP}}}ArtifactResponse"
    # A refused answer and a good one in a row: the broker's failure leaves nothing behind in the client.
    cancelled = login(sim, "cancelled")
    data = await _resolve(
        sim.settings, artifact=cancelled.artifact, ars_url=sim.ars_url, content_type="application/soap+xml", timeout=10
    )
    root = etree.fromstring(data)
    codes = [c.get("Value") for c in root.iterfind(f"{{{SAMLP}}}Response/{{{SAMLP}}}Status//{{{SAMLP}}}StatusCode")]
    assert codes == ["urn:oasis:names:tc:SAML:2.0:status:Responder", "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"]
