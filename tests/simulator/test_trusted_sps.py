"""The simulator as a test broker for other diensten: trusted_sp_metadata, and the refusal of unknown ones."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from lxml import etree
from pydantic import ValidationError

from diagnostics import crypto
from diagnostics.saml.artifact import artifact_resolve_envelope
from diagnostics.saml.authn import authn_request_xml, build_authn_request, new_id, signed_redirect_query
from diagnostics.saml_names import SAML, STATUS, XENC
from diagnostics.settings import load_settings
from diagnostics.simulator import entities
from tests.helpers.keys import sp_signing_key
from tests.helpers.simulated import Simulated, start
from tests.simulator.flow import NS, artifact_from, decrypt, error_id, metadata_cert, one, resolve, status_codes
from tests.simulator.foreign import ForeignSp, foreign_sp


class _MetadataServer:
    """One SP metadata document on a loopback port, as a dienst under test would publish it."""

    def __init__(self, document: str) -> None:
        body = document.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metadata"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def by_file() -> ForeignSp:
    return foreign_sp(9002)


@pytest.fixture(scope="module")
def by_url() -> ForeignSp:
    return foreign_sp(9004, acs_url="https://derde-dienst.example/acs")


@pytest.fixture(scope="module")
def stranger() -> ForeignSp:
    return foreign_sp(9006, acs_url="https://onbekend.example/acs")


@pytest.fixture(scope="module")
def broker(
    tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path], by_file: ForeignSp, by_url: ForeignSp
) -> Iterator[Simulated]:
    """A simulator that trusts our SP, one dienst from a file and one from a loopback URL (and a missing file)."""
    tmp = tmp_path_factory.mktemp("trusted")
    published = _MetadataServer(by_url.metadata())
    sources = [str(tmp / "ontbreekt.xml"), str(by_file.write_metadata(tmp)), published.url]
    running = start(tmp, sp_keypair, {"simulator": {"trusted_sp_metadata": sources}})
    yield running
    running.server.stop()
    published.stop()


def _login(sim: Simulated, sp: ForeignSp, *, binding: str = "redirect", scenario: str = "success-loa2plus") -> str:
    """A whole login for ``sp`` in test mode; returns the artifact that came back to its ACS."""
    out = build_authn_request(
        sp.settings(sim.settings),
        signing_key=sp.signing_key,
        destination=sim.sso_url,
        supplier_id=entities.SUPPLIERS[0].entity_id,
        relay_state="/terug",
        binding=binding,  # type: ignore[arg-type]
    )
    if binding == "redirect":
        answer = httpx.get(f"{out.url}&scenario={scenario}")
    else:
        answer = httpx.post(sim.sso_url, params={"scenario": scenario}, data=out.form)
    assert answer.status_code == 303, answer.text[:500]
    location = httpx.URL(answer.headers["location"])
    assert str(location.copy_with(query=None)) == sp.acs_url  # its artifact ACS, not ours and not its POST one
    return location.params["SAMLart"]


def _resolve_as(sim: Simulated, sp: ForeignSp, artifact: str) -> httpx.Response:
    envelope = artifact_resolve_envelope(
        sp.settings(sim.settings), signing_key=sp.signing_key, artifact=artifact, ars_url=sim.ars_url
    )
    return httpx.post(sim.ars_url, content=envelope, headers={"Content-Type": "text/xml; charset=utf-8"})


def _artifact_response(answer: httpx.Response) -> etree._Element:
    assert answer.status_code == 200, answer.text[:500]
    return one(etree.fromstring(answer.content), "//samlp:ArtifactResponse")


# ── settings ──


@pytest.mark.parametrize(
    "source",
    [
        "sp.xml",
        "/etc/inloghulp/andere-dienst.xml",
        "http://127.0.0.1:9000/md",
        "https://localhost/md",
        "http://[::1]/m",
    ],
)
def test_settings_accept_files_and_loopback_urls(write_config: Callable[..., Path], source: str) -> None:
    settings = load_settings(write_config({"simulator": {"trusted_sp_metadata": [source]}}))
    assert settings.simulator.trusted_sp_metadata == (source,)


@pytest.mark.parametrize(
    "source",
    ["https://andere-dienst.example/md", "http://10.0.0.5/md", "ftp://127.0.0.1/md", "http://127.0.0.1.example/md", ""],
)
def test_settings_refuse_anything_that_leaves_the_machine(write_config: Callable[..., Path], source: str) -> None:
    with pytest.raises(ValidationError, match="trusted_sp_metadata"):
        load_settings(write_config({"simulator": {"trusted_sp_metadata": [source]}}))


# ── a trusted dienst logs in with its own keys ──


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_a_dienst_from_a_file_gets_an_answer_made_for_it(
    broker: Simulated, by_file: ForeignSp, sp_keypair: tuple[Path, Path], binding: str
) -> None:
    artifact = _login(broker, by_file, binding=binding)
    wrapper = _artifact_response(_resolve_as(broker, by_file, artifact))
    broker_cert = metadata_cert(broker)
    crypto.verify(wrapper, [broker_cert])
    response = one(wrapper, "samlp:Response")
    assert response.get("Destination") == by_file.acs_url
    assertion = one(response, "saml:Assertion")
    crypto.verify(assertion, [broker_cert])
    assert one(assertion, "saml:Conditions/saml:AudienceRestriction/saml:Audience").text == by_file.entity_id
    recipient = one(assertion, "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData").get("Recipient")
    assert recipient == by_file.acs_url
    service = one(assertion, "saml:AttributeStatement/saml:Attribute[@Name='urn:etoegang:core:ServiceID']")
    assert one(service, "saml:AttributeValue").text == by_file.service_id

    # Both identifiers are locked with this dienst's key: it can read them, our SP cannot.
    ours = Path(sp_keypair[0]).read_bytes()
    for name in ("LegalSubjectID", "ActingSubjectID"):
        value = one(assertion, f"saml:AttributeStatement/saml:Attribute[@Name='urn:etoegang:core:{name}']")
        encrypted_key = value.find(f"{{{SAML}}}AttributeValue/{{{SAML}}}EncryptedID/{{{XENC}}}EncryptedKey")
        assert encrypted_key is not None and encrypted_key.get("Recipient") == by_file.entity_id
        assert decrypt(one(value, "saml:AttributeValue"), by_file.pair.key_pem).text
        with pytest.raises(crypto.DecryptionError):
            decrypt(one(value, "saml:AttributeValue"), ours)
    legal = one(assertion, "saml:AttributeStatement/saml:Attribute[@Name='urn:etoegang:core:LegalSubjectID']")
    assert decrypt(one(legal, "saml:AttributeValue"), by_file.pair.key_pem).text == entities.DEFAULT_KVK


def test_a_dienst_from_a_loopback_url_logs_in_too(broker: Simulated, by_url: ForeignSp) -> None:
    artifact = _login(broker, by_url, binding="post")
    assertion = one(_artifact_response(_resolve_as(broker, by_url, artifact)), "samlp:Response/saml:Assertion")
    assert one(assertion, "saml:Conditions/saml:AudienceRestriction/saml:Audience").text == by_url.entity_id


def test_our_own_sp_stays_trusted_next_to_the_others(broker: Simulated) -> None:
    out = build_authn_request(
        broker.settings, signing_key=sp_signing_key(broker.settings), destination=broker.sso_url, relay_state="/x"
    )
    artifact, _ = artifact_from(httpx.get(f"{out.url}&scenario=success-loa3"), broker)
    assertion = one(resolve(broker, artifact), "samlp:Response/saml:Assertion")
    assert one(assertion, "saml:Conditions/saml:AudienceRestriction/saml:Audience").text == broker.settings.sp.entity_id


def test_the_acs_index_chooses_among_the_artifact_endpoints_only(broker: Simulated, by_file: ForeignSp) -> None:
    def post(index: str) -> httpx.Response:
        element = authn_request_xml(
            by_file.settings(broker.settings),
            request_id=new_id(),
            destination=broker.sso_url,
            supplier_id=None,
            now=datetime.now(UTC),
        )
        del element.attrib["AssertionConsumerServiceURL"]
        element.set("AssertionConsumerServiceIndex", index)
        crypto.sign(element, by_file.pair.key_pem, by_file.pair.cert_pem)
        form = {"SAMLRequest": base64.b64encode(etree.tostring(element)).decode()}
        return httpx.post(broker.sso_url, params={"scenario": "cancelled"}, data=form)

    assert httpx.URL(post("1").headers["location"]).copy_with(query=None) == httpx.URL(by_file.acs_url)
    assert error_id(post("0")) == "sim-wrong-acs"  # index 0 is its HTTP-POST endpoint


def test_a_service_the_metadata_does_not_name_is_refused(broker: Simulated, by_file: ForeignSp) -> None:
    other = by_file.settings(broker.settings)
    other = other.model_copy(
        update={"service": other.service.model_copy(update={"attribute_consuming_service_index": 9999})}
    )
    out = build_authn_request(other, signing_key=by_file.signing_key, destination=broker.sso_url, relay_state="/x")
    assert error_id(httpx.get(out.url)) == "sim-unknown-service"


def _form_action(response: httpx.Response) -> list[str]:
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    return policy["form-action"].split()


def test_pages_whose_form_ends_at_the_diensts_acs_allow_that_origin(broker: Simulated, by_file: ForeignSp) -> None:
    """Without it a browser blocks the login form's redirect, or the POST, to another dienst's ACS."""
    out = build_authn_request(
        by_file.settings(broker.settings),
        signing_key=by_file.signing_key,
        destination=broker.sso_url,
        supplier_id=entities.SUPPLIERS[0].entity_id,
        relay_state="/x",
    )
    login_screen = httpx.get(out.url)
    assert login_screen.status_code == 200 and "<form" in login_screen.text
    assert _form_action(login_screen) == ["'self'", broker.server.url, "https://andere-dienst.example"]
    posted = httpx.get(f"{out.url}&scenario=success-loa2plus&return=post")
    assert f'action="{by_file.acs_url}"' in posted.text
    assert "https://andere-dienst.example" in _form_action(posted)
    # Pages without such a form keep the service's own policy.
    assert "https://andere-dienst.example" not in _form_action(httpx.get(f"{broker.server.url}/simulator/"))


# ── unknown diensten: refused before any signature check ──


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_an_unknown_dienst_is_told_so_not_that_its_signature_is_wrong(
    broker: Simulated, stranger: ForeignSp, binding: str
) -> None:
    out = build_authn_request(
        stranger.settings(broker.settings),
        signing_key=stranger.signing_key,
        destination=broker.sso_url,
        relay_state="/x",
        binding=binding,  # type: ignore[arg-type]
    )
    answer = httpx.get(out.url) if binding == "redirect" else httpx.post(broker.sso_url, data=out.form)
    assert error_id(answer) == "sim-unknown-sp"
    assert "Onbekende dienst" in answer.text
    assert stranger.entity_id in answer.text
    # The missing file in trusted_sp_metadata is named as a possible cause, without its path.
    assert "1 metadatabron(nen) konden niet worden gelezen" in answer.text


def test_an_unknown_dienst_with_a_broken_signature_still_hears_it_is_unknown(
    broker: Simulated, stranger: ForeignSp
) -> None:
    xml = authn_request_xml(
        stranger.settings(broker.settings),
        request_id=new_id(),
        destination=broker.sso_url,
        supplier_id=None,
        now=datetime.now(UTC),
    )
    query = signed_redirect_query("SAMLRequest", etree.tostring(xml), "/a", stranger.pair.key)
    assert error_id(httpx.get(f"{broker.sso_url}?{query.replace('RelayState=%2Fa', 'RelayState=%2Fb')}")) == (
        "sim-unknown-sp"
    )


def test_an_unknown_dienst_cannot_resolve_and_does_not_spend_the_artifact(
    broker: Simulated, by_file: ForeignSp, stranger: ForeignSp
) -> None:
    artifact = _login(broker, by_file)
    refused = _resolve_as(broker, stranger, artifact)
    assert refused.status_code == 500
    fault = etree.fromstring(refused.content).findtext(".//faultstring") or ""
    assert fault.startswith("sim-unknown-sp:") and "onbekende dienst" in fault
    # Refused before the artifact was looked up: its own dienst still gets the answer.
    wrapper = _artifact_response(_resolve_as(broker, by_file, artifact))
    assert status_codes(one(wrapper, "samlp:Response")) == [STATUS + "Success"]


def test_one_diensts_artifact_is_no_use_to_another_trusted_dienst(broker: Simulated, by_file: ForeignSp) -> None:
    artifact = _login(broker, by_file)
    taken = resolve(broker, artifact)  # our own SP, trusted, but not the one the artifact was issued to
    assert status_codes(one(taken, "samlp:Response"))[0] == STATUS + "Requester"
    assert not taken.xpath("//saml:Assertion", namespaces=NS)
    # And it is spent: single use protects the rightful dienst from a replay by the one who took it.
    again = _artifact_response(_resolve_as(broker, by_file, artifact))
    assert status_codes(one(again, "samlp:Response"))[0] == STATUS + "Requester"


def test_the_screens_name_the_dienst_that_asked_and_refuse_it_once_removed(
    tmp_path: Path, sp_keypair: tuple[Path, Path], by_file: ForeignSp
) -> None:
    source = by_file.write_metadata(tmp_path)
    sim = start(tmp_path, sp_keypair, {"simulator": {"trusted_sp_metadata": [str(source)]}})
    try:
        out = build_authn_request(
            by_file.settings(sim.settings), signing_key=by_file.signing_key, destination=sim.sso_url, relay_state="/x"
        )
        chooser = httpx.get(out.url)  # no supplier, no scenario: the supplier chooser
        assert chooser.status_code == 200
        assert "U logt in bij <strong>Andere dienst (test)</strong>." in chooser.text
        assert "voorbeeldwaarde" not in chooser.text  # that label belongs to our own example values
        login_screen = str(etree.HTML(chooser.text).xpath("//ul[@class='suppliers']//a/@href")[0])
        assert "Andere dienst (test)" in httpx.get(login_screen).text
        source.unlink()
        assert error_id(httpx.get(login_screen)) == "sim-unknown-sp"
    finally:
        sim.server.stop()
