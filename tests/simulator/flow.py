"""Test helpers: drive SP → simulator → artifact → SOAP resolve over real HTTP, and read what arrives."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Literal

import httpx
from bs4 import BeautifulSoup
from cryptography import x509
from lxml import etree

from diagnostics import certs, crypto, xmlsafe
from diagnostics.saml.artifact import resolve_artifact
from diagnostics.saml.authn import build_authn_request
from diagnostics.saml_names import DS, MD, SAML, SAMLP
from diagnostics.simulator.entities import SUPPLIERS
from tests.helpers.keys import sp_signing_key
from tests.helpers.simulated import Simulated

NS = {"samlp": SAMLP, "saml": SAML, "md": MD, "ds": DS}
SUPPLIER = SUPPLIERS[1].entity_id


@dataclass(frozen=True)
class Returned:
    request_id: str
    artifact: str
    relay_state: str | None


def start_login(
    sim: Simulated,
    *,
    binding: Literal["redirect", "post"] = "redirect",
    supplier: str | None = SUPPLIER,
    params: dict[str, str] | None = None,
) -> tuple[str, httpx.Response]:
    """Send a signed AuthnRequest to the simulator; returns the request id and its (unfollowed) answer."""
    out = build_authn_request(
        sim.settings,
        signing_key=sp_signing_key(sim.settings),
        destination=sim.sso_url,
        supplier_id=supplier,
        relay_state="/terug?x=1",
        binding=binding,
    )
    if binding == "redirect":
        url = httpx.URL(out.url)
        if params:
            url = url.copy_merge_params(params)
        return out.request_id, httpx.get(url)
    return out.request_id, httpx.post(sim.sso_url, params=params or {}, data=out.form)


def error_id(response: httpx.Response) -> str:
    """The id on the simulator's error page (HTTP 400)."""
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    node = BeautifulSoup(response.text, "html.parser").select_one("[data-error-id]")
    assert node is not None
    return str(node["data-error-id"])


def artifact_from(response: httpx.Response, sim: Simulated) -> tuple[str, str | None]:
    """SAMLart and RelayState from a 303 to the ACS."""
    assert response.status_code == 303, response.text[:500]
    location = httpx.URL(response.headers["location"])
    assert str(location.copy_with(query=None)) == sim.settings.acs_url
    return location.params["SAMLart"], location.params.get("RelayState")


def login(
    sim: Simulated,
    scenario: str,
    *,
    binding: Literal["redirect", "post"] = "redirect",
    supplier: str | None = SUPPLIER,
    params: dict[str, str] | None = None,
) -> Returned:
    """A whole login in test mode (``scenario=``), up to the artifact arriving at the ACS."""
    request_id, response = start_login(
        sim, binding=binding, supplier=supplier, params={"scenario": scenario, **(params or {})}
    )
    artifact, relay = artifact_from(response, sim)
    return Returned(request_id, artifact, relay)


def resolve(sim: Simulated, artifact: str, *, content_type: str = "text/xml", timeout: float = 10) -> etree._Element:
    async def call() -> bytes:
        async with httpx.AsyncClient() as client:
            return await resolve_artifact(
                client,
                sim.settings,
                signing_key=sp_signing_key(sim.settings),
                artifact=artifact,
                ars_url=sim.ars_url,
                content_type=content_type,
                timeout=timeout,
            )

    # Kept on purpose: the simulator tests that call this are plain functions, and resolve_artifact is
    # async only; so this helper starts a loop of its own (an async test would await resolve_artifact).
    data = asyncio.run(call())
    return xmlsafe.parse(data, max_bytes=sim.settings.max_message_bytes)


def metadata_cert(sim: Simulated, path: str = "/simulator/metadata", index: int = 0) -> x509.Certificate:
    """The signing certificate of entity ``index`` in a metadata document served by the simulator."""
    root = xmlsafe.parse(httpx.get(f"{sim.server.url}{path}").content, max_bytes=1_000_000)
    nodes = root.xpath("md:EntityDescriptor//md:KeyDescriptor[@use='signing']//ds:X509Certificate", namespaces=NS)
    der = "".join(nodes[index].text.split())
    return x509.load_der_x509_certificate(base64.b64decode(der))


def ad_cert(sim: Simulated, supplier: str) -> x509.Certificate:
    """The signing certificate the AD list publishes for this supplier."""
    index = [s.entity_id for s in SUPPLIERS].index(supplier)
    return metadata_cert(sim, "/simulator/listAD.xml", index)


def mr_cert(sim: Simulated) -> x509.Certificate:
    return certs.load_cert(sim.settings.simulator.key_dir / "mr-cert.pem")


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    element: etree._Element = found[0]
    return element


def status_codes(response: etree._Element) -> list[str]:
    return [code.get("Value") for code in response.iterfind(".//samlp:StatusCode", NS)]


def decrypt(attribute_value: etree._Element, key_pem: bytes) -> etree._Element:
    return crypto.decrypt_id(one(attribute_value, "saml:EncryptedID"), [key_pem])
