"""The simulator's front door: refused requests, the supplier chooser, the login screen, the signed state."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from lxml import etree
from sqlalchemy import func, select

from diagnostics import certs, crypto
from diagnostics.models import ArtifactRow
from diagnostics.saml.authn import (
    authn_request_xml,
    build_authn_request,
    encode_redirect_message,
    new_id,
    signed_redirect_query,
)
from diagnostics.simulator.entities import SUPPLIERS
from diagnostics.simulator.scenarios import SCENARIO_IDS
from diagnostics.store import Store
from tests.helpers.keys import sp_signing_key
from tests.helpers.simulated import Simulated
from tests.simulator.flow import NS, artifact_from, error_id, one, resolve, start_login


def _xml(sim: Simulated, supplier: str | None = None) -> etree._Element:
    return authn_request_xml(
        sim.settings, request_id=new_id(), destination=sim.sso_url, supplier_id=supplier, now=datetime.now(UTC)
    )


@pytest.fixture(scope="module")
def stranger() -> certs.KeyPair:
    return certs.generate("Iemand anders")


def test_unsigned_redirect_request_is_refused(simulated: Simulated) -> None:
    xml = etree.tostring(_xml(simulated))
    answer = httpx.get(simulated.sso_url, params={"SAMLRequest": encode_redirect_message(xml), "RelayState": "/x"})
    assert error_id(answer) == "sim-request-unsigned"
    assert "niet ondertekend" in answer.text


def test_wrongly_signed_redirect_request_is_refused(simulated: Simulated, stranger: certs.KeyPair) -> None:
    query = signed_redirect_query("SAMLRequest", etree.tostring(_xml(simulated)), "/x", stranger.key)
    assert error_id(httpx.get(f"{simulated.sso_url}?{query}")) == "sim-request-bad-signature"


def test_changed_relay_state_breaks_the_redirect_signature(simulated: Simulated) -> None:
    out = build_authn_request(
        simulated.settings,
        signing_key=sp_signing_key(simulated.settings),
        destination=simulated.sso_url,
        relay_state="/a",
    )
    assert error_id(httpx.get(out.url.replace("RelayState=%2Fa", "RelayState=%2Fb"))) == "sim-request-bad-signature"


def test_unsigned_post_request_is_refused(simulated: Simulated) -> None:
    form = {"SAMLRequest": base64.b64encode(etree.tostring(_xml(simulated))).decode(), "RelayState": "/x"}
    assert error_id(httpx.post(simulated.sso_url, data=form)) == "sim-request-unsigned"


def test_wrongly_signed_post_request_is_refused(simulated: Simulated, stranger: certs.KeyPair) -> None:
    element = _xml(simulated)
    crypto.sign(element, stranger.key_pem, stranger.cert_pem)
    form = {"SAMLRequest": base64.b64encode(etree.tostring(element)).decode()}
    assert error_id(httpx.post(simulated.sso_url, data=form)) == "sim-request-bad-signature"


def test_tampered_post_request_is_refused(simulated: Simulated) -> None:
    out = build_authn_request(
        simulated.settings,
        signing_key=sp_signing_key(simulated.settings),
        destination=simulated.sso_url,
        relay_state="/x",
        binding="post",
    )
    xml = base64.b64decode(out.form["SAMLRequest"]).replace(b'ForceAuthn="true"', b'ForceAuthn="false"')
    form = {"SAMLRequest": base64.b64encode(xml).decode(), "RelayState": "/x"}
    assert error_id(httpx.post(simulated.sso_url, data=form)) == "sim-request-bad-signature"


def test_missing_request_is_refused(simulated: Simulated) -> None:
    assert error_id(httpx.get(simulated.sso_url)) == "sim-request-missing"


def test_garbage_request_is_refused(simulated: Simulated) -> None:
    assert error_id(httpx.post(simulated.sso_url, data={"SAMLRequest": "bm90IHhtbA=="})) == "sim-request-malformed"
    assert error_id(httpx.post(simulated.sso_url, data={"SAMLRequest": "***"})) == "sim-request-malformed"


def test_unknown_supplier_gets_a_clear_page(simulated: Simulated) -> None:
    _, answer = start_login(simulated, supplier="urn:etoegang:AD:00000009999999999001:entities:9099")
    assert error_id(answer) == "sim-unknown-supplier"
    assert "niet bekend" in answer.text


def test_unknown_scenario_is_refused(simulated: Simulated) -> None:
    _, answer = start_login(simulated, params={"scenario": "does-not-exist"})
    assert error_id(answer) == "sim-unknown-scenario"


def test_no_supplier_shows_the_chooser_in_display_order(simulated: Simulated) -> None:
    _, answer = start_login(simulated, supplier=None)
    assert answer.status_code == 200
    soup = BeautifulSoup(answer.text, "html.parser")
    assert soup.html is not None and soup.html["lang"] == "nl"
    assert "Simulator – geen echte eHerkenning" in soup.get_text()
    links = soup.select("ul.suppliers a")
    assert [link.get_text(strip=True) for link in links] == [s.display_name for s in SUPPLIERS]
    assert len(links) >= 3


def test_interactive_login_via_chooser_and_form(simulated: Simulated) -> None:
    request_id, chooser = start_login(simulated, supplier=None)
    link = BeautifulSoup(chooser.text, "html.parser").select("ul.suppliers a")[2]
    screen = httpx.get(str(link["href"]))
    assert screen.status_code == 200
    soup = BeautifulSoup(screen.text, "html.parser")
    assert SUPPLIERS[2].display_name in soup.h1.get_text()  # type: ignore[union-attr]
    form = soup.select_one("form")
    assert form is not None
    fields = {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}
    options = [str(option["value"]) for option in soup.select("input[type=radio][name=scenario]")]
    assert options == list(SCENARIO_IDS)
    assert {"requester-error", "unknown-status"} <= set(options)
    data = {**fields, "kvk": "90000002", "person": "fatima", "scenario": "success-loa3", "return_binding": "redirect"}
    submitted = httpx.post(str(form["action"]), data={**data, "action": "login"})
    artifact, relay = artifact_from(submitted, simulated)
    assert relay == "/terug?x=1"
    response = one(resolve(simulated, artifact), "samlp:Response")
    assert response.get("InResponseTo") == request_id
    assert (
        one(response, "saml:Assertion/saml:AuthnStatement//saml:AuthenticatingAuthority").text == SUPPLIERS[2].entity_id
    )


def test_cancel_button_returns_authn_failed(simulated: Simulated) -> None:
    _, screen = start_login(simulated)
    form = BeautifulSoup(screen.text, "html.parser").select_one("form")
    assert form is not None
    fields = {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}
    artifact, _ = artifact_from(httpx.post(str(form["action"]), data={**fields, "action": "cancel"}), simulated)
    codes = [c.get("Value") for c in resolve(simulated, artifact).iterfind(".//{*}Response/{*}Status//{*}StatusCode")]
    assert codes[-1].endswith(":AuthnFailed")


def test_a_login_state_answers_once(simulated: Simulated, open_store: Callable[[str], Store]) -> None:
    # Replaying the login form's state (or the signed request URL) must not mint an artifact each time.
    _, screen = start_login(simulated)
    form = BeautifulSoup(screen.text, "html.parser").select_one("form")
    assert form is not None
    fields = {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}
    first = httpx.post(str(form["action"]), data={**fields, "action": "login"})
    artifact_from(first, simulated)
    store = open_store(simulated.settings.database_url)
    with store.engine.connect() as connection:
        artifacts = connection.execute(select(func.count()).select_from(ArtifactRow)).scalar_one()
    for _ in range(5):
        assert error_id(httpx.post(str(form["action"]), data={**fields, "action": "login"})) == "sim-login-used"
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ArtifactRow)).scalar_one() == artifacts
    # The same for a signed test-mode request sent twice.
    request_id, answer = start_login(simulated, params={"scenario": "success-loa3"})
    artifact_from(answer, simulated)
    again = httpx.get(answer.request.url)
    assert error_id(again) == "sim-login-used"


def test_tampered_state_is_refused(simulated: Simulated) -> None:
    _, screen = start_login(simulated)
    form = BeautifulSoup(screen.text, "html.parser").select_one("form")
    assert form is not None
    fields = {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}
    fields["state"] = fields["state"][:-3] + ("AAA" if not fields["state"].endswith("AAA") else "BBB")
    assert error_id(httpx.post(str(form["action"]), data=fields)) == "sim-state-invalid"


def test_bad_kvk_in_test_mode_is_refused(simulated: Simulated) -> None:
    _, answer = start_login(simulated, params={"scenario": "success-loa2plus", "kvk": "123"})
    assert error_id(answer) == "sim-bad-kvk"


def test_chosen_kvk_arrives_encrypted(simulated: Simulated, sp_keypair: tuple[Path, Path]) -> None:
    _, answer = start_login(simulated, params={"scenario": "success-loa2plus", "kvk": "90000003"})
    artifact, _ = artifact_from(answer, simulated)
    value = one(
        resolve(simulated, artifact),
        "samlp:Response/saml:Assertion/saml:AttributeStatement/saml:Attribute[@Name='urn:etoegang:core:LegalSubjectID']/saml:AttributeValue/saml:EncryptedID",
    )
    assert crypto.decrypt_id(value, [sp_keypair[0].read_bytes()]).text == "90000003"


def test_no_raw_identifiers_in_screens(simulated: Simulated) -> None:
    _, page = start_login(simulated, params={"scenario": "no-authorisation"})
    assert not re.search(r"[0-9a-f]{64}", page.text)


VESTIGING = "urn:etoegang:1.9:ServiceRestriction:Vestigingsnr"


def test_vestiging_restriction_is_optional(simulated: Simulated) -> None:
    _, plain = start_login(simulated, params={"scenario": "success-loa2plus"})
    artifact, _ = artifact_from(plain, simulated)
    assertion = one(resolve(simulated, artifact), "samlp:Response/saml:Assertion")
    assert not assertion.xpath(f"saml:AttributeStatement/saml:Attribute[@Name='{VESTIGING}']", namespaces=NS)
    _, restricted = start_login(simulated, params={"scenario": "success-loa2plus", "vestiging": "000012345678"})
    artifact, _ = artifact_from(restricted, simulated)
    assertion = one(resolve(simulated, artifact), "samlp:Response/saml:Assertion")
    value = one(assertion, f"saml:AttributeStatement/saml:Attribute[@Name='{VESTIGING}']/saml:AttributeValue")
    assert value.text == "000012345678"


def test_bad_vestiging_is_refused(simulated: Simulated) -> None:
    _, answer = start_login(simulated, params={"scenario": "success-loa2plus", "vestiging": "12ab"})
    assert error_id(answer) == "sim-bad-vestiging"
