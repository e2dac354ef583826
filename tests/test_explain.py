"""``inloghulp explain`` on simulator fixtures and on fixtures signed independently with the xmlsec1 tool."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from typer.testing import CliRunner

from diagnostics import checks, crypto
from diagnostics.catalogue import load_catalogue
from diagnostics.cli import app
from diagnostics.explain import render_text
from diagnostics.settings import Settings
from diagnostics.simulator import responses
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.metadata import broker_metadata
from tests.servicedesk.har import acs_url_in, app_with_back_channel, har, run_test

REQUEST_ID = "_explainrequest0001"
SAML, SAMLP, DS = checks.SAML, checks.SAMLP, checks.DS


@pytest.fixture
def config(write_config: object) -> Path:
    return write_config()  # type: ignore[operator,no-any-return]


@pytest.fixture
def settings_for(config: Path) -> Settings:
    from diagnostics.settings import load_settings

    return load_settings(config)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["explain", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_success_report_in_dutch(settings_for: Settings, config: Path, tmp_path: Path) -> None:
    message = responses.issue(settings_for, "success-loa2plus", request_id=REQUEST_ID)
    code, out, _ = invoke(write(tmp_path, "ar.xml", message), "--config", str(config), "--request-id", REQUEST_ID)
    assert code == 0, out
    assert "Uitslag: IN ORDE" in out
    assert "Gevonden: XML-bestand" in out
    for title in checks.CHECK_TITLES.values():
        assert title in out
    # Readable without colour: every check line has a marker AND a word.
    check_lines = [line for line in out.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    assert len(check_lines) == len(checks.CHECK_TITLES)
    assert all(("✓ geslaagd" in line) or ("– overgeslagen" in line) for line in check_lines)
    assert "server_time:" in out
    assert "KvKnr: ******" in out


def test_json_follows_the_verdict_contract(settings_for: Settings, config: Path, tmp_path: Path) -> None:
    message = responses.issue(settings_for, "loa-too-low", request_id=REQUEST_ID)
    code, out, _ = invoke(write(tmp_path, "ar.xml", message), "--config", str(config), "--json")
    assert code == 1
    document = json.loads(out)
    assert set(document) >= {"verdict", "diagnosis", "checks", "reference"}
    assert document["verdict"] == "failed"
    expected = load_catalogue().diagnosis("loa-too-low")
    assert document["diagnosis"] == expected.model_dump()
    assert [check["id"] for check in document["checks"]] == list(checks.CHECK_TITLES)
    assert {"id", "status", "detail"} <= set(document["checks"][0])


def test_failure_report_names_who_acts(settings_for: Settings, config: Path, tmp_path: Path) -> None:
    message = responses.issue(settings_for, "wrong-audience", request_id=REQUEST_ID)
    code, out, _ = invoke(write(tmp_path, "ar.xml", message), "--config", str(config))
    assert code == 1
    entry = load_catalogue().entry("wrong-audience")
    assert f"Uitslag: MISLUKT: {entry.title}" in out
    assert f"Wie moet iets doen: {entry.who_label} ({entry.who})" in out
    assert "✗ mislukt" in out


def test_a_silent_authn_failed_names_no_cause_and_tells_what_to_ask(
    settings_for: Settings, config: Path, tmp_path: Path
) -> None:
    message = responses.issue(settings_for, "stopped-at-broker", request_id=REQUEST_ID)
    file = write(tmp_path, "ar.xml", message)
    code, out, _ = invoke(file, "--config", str(config))
    assert code == 1
    catalogue = load_catalogue()
    assert f"Uitslag: MISLUKT: {catalogue.entry('stopped-at-broker').title}" in out
    assert "Code: stopped-at-broker" in out
    assert 'Vraag de melder: "Wat zag u bij uw eHerkenningsmakelaar?"' in out
    for label, target in (
        ("Ik heb zelf op Annuleren of Terug geklikt.", "cancelled"),
        ("Mijn wachtwoord of code werkte niet.", "auth-failed"),
        ("Ik kon inloggen, maar kreeg een melding over een machtiging.", "no-authorisation"),
        ("Ik weet het niet.", "stopped-at-broker"),
    ):
        line = next(line for line in out.splitlines() if label in line)
        assert line.endswith(f"{catalogue.entry(target).title} ({target})"), line
    _, as_json, _ = invoke(file, "--config", str(config), "--json")
    assert json.loads(as_json)["diagnosis"]["id"] == "stopped-at-broker"
    # A message that says why needs no question.
    cancelled = responses.issue(settings_for, "cancelled", request_id=REQUEST_ID)
    _, out, _ = invoke(write(tmp_path, "cancelled.xml", cancelled), "--config", str(config))
    assert "Code: cancelled" in out and "Vraag de melder" not in out


@pytest.mark.parametrize(
    ("flags", "diagnosis"),
    [
        (["--required-loa", "loa3"], "loa-too-low"),
        (["--required-loa", "EH2+"], None),
        (["--request-id", "_another"], "unsolicited"),
        (["--at", (datetime.now(UTC) + timedelta(days=1)).isoformat()], "expired"),
        (["--at", (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")], "not-yet-valid"),
        (["--service-id", "urn:etoegang:DV:00000009999999999000:services:9002"], "wrong-service"),
        (["--acs-url", "https://elders.example.nl/acs"], "wrong-destination"),
        (["--sp-entity-id", "urn:etoegang:DV:00000009999999999000:entities:9002"], "wrong-audience"),
    ],
)
def test_flags_override_the_configuration(
    settings_for: Settings, config: Path, tmp_path: Path, flags: list[str], diagnosis: str | None
) -> None:
    message = responses.issue(settings_for, "success-loa2plus", request_id=REQUEST_ID)
    code, out, _ = invoke(write(tmp_path, "ar.xml", message), "--config", str(config), "--json", *flags)
    document = json.loads(out)
    if diagnosis is None:
        assert (code, document["verdict"]) == (0, "ok")
    else:
        assert code == 1
        assert document["diagnosis"]["id"] == diagnosis


def flags_only(settings: Settings) -> list[str]:
    return [
        "--sp-entity-id",
        settings.sp.entity_id,
        "--acs-url",
        settings.acs_url,
        "--service-id",
        settings.service.service_id,
        "--sp-key",
        str(settings.sp.key_file),
    ]


def test_without_configuration_using_broker_metadata(
    settings_for: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INLOGHULP_CONFIG", str(tmp_path / "absent.toml"))
    message = responses.issue(settings_for, "success-loa2plus", request_id=REQUEST_ID)
    metadata = write(tmp_path, "broker.xml", broker_metadata(settings_for))
    file = write(tmp_path, "ar.xml", message)
    code, out, _ = invoke(file, "--json", "--broker-metadata", metadata, *flags_only(settings_for))
    assert (code, json.loads(out)["verdict"]) == (0, "ok")
    # Without any trusted broker the signature cannot be checked: inconclusive, exit 1.
    code, out, _ = invoke(file, "--json", *flags_only(settings_for))
    document = json.loads(out)
    assert (code, document["verdict"], document["diagnosis"]) == (1, "inconclusive", None)
    code, out, _ = invoke(file, *flags_only(settings_for))
    assert "NIET VAST TE STELLEN" in out and "vertrouwd certificaat" in out


def test_form_value_and_har(settings_for: Settings, config: Path, tmp_path: Path) -> None:
    message = responses.issue(settings_for, "cancelled", request_id=REQUEST_ID)
    response = etree.fromstring(message).find(f"{{{SAMLP}}}Response")
    assert response is not None
    encoded = base64.b64encode(etree.tostring(response)).decode()
    code, out, _ = invoke(write(tmp_path, "form.txt", encoded.encode()), "--config", str(config), "--json")
    assert (code, json.loads(out)["diagnosis"]["id"]) == (1, "cancelled")
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "url": "https://portaal/saml/acs",
                        "postData": {"params": [{"name": "SAMLResponse", "value": urllib.parse.quote(encoded)}]},
                    }
                }
            ]
        }
    }
    code, out, _ = invoke(write(tmp_path, "login.har", json.dumps(har).encode()), "--config", str(config))
    assert code == 1
    assert "Gevonden: HAR-bestand" in out
    assert load_catalogue().entry("cancelled").title in out


@pytest.fixture
def xmlsec1() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.fail("Debian package 'xmlsec1' is missing; `make system-deps` installs it")
    return path


def xmlsec1_signed_response(settings: Settings, scenario: str, xmlsec1: str, tmp_path: Path) -> bytes:
    """A simulator Response whose assertion is re-signed by the independent xmlsec1 tool."""
    root = etree.fromstring(responses.issue(settings, scenario, request_id=REQUEST_ID))
    response = root.find(f"{{{SAMLP}}}Response")
    assert response is not None
    assertion = response.find(f"{{{SAML}}}Assertion")
    assert assertion is not None
    old = assertion.find(f"{{{DS}}}Signature")
    if old is not None:
        assertion.remove(old)
    template = etree.fromstring(
        f"""<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{crypto.EXC_C14N}"/><ds:SignatureMethod Algorithm="{crypto.RSA_SHA256}"/>
<ds:Reference URI="#{assertion.get("ID")}"><ds:Transforms><ds:Transform Algorithm="{crypto.ENVELOPED}"/>
<ds:Transform Algorithm="{crypto.EXC_C14N}"/></ds:Transforms><ds:DigestMethod Algorithm="{crypto.SHA256}"/>
<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
</ds:Signature>""".encode()
    )
    issuer = assertion.find(f"{{{SAML}}}Issuer")
    assert issuer is not None
    issuer.addnext(template)
    broker = keys_for(settings.simulator.key_dir).broker
    (tmp_path / "k.pem").write_bytes(broker.key_pem)
    (tmp_path / "c.pem").write_bytes(broker.cert_pem)
    (tmp_path / "t.xml").write_bytes(etree.tostring(response))
    args = [xmlsec1, "--sign", "--id-attr:ID", f"{SAML}:Assertion", "--privkey-pem"]
    args += [f"{tmp_path / 'k.pem'},{tmp_path / 'c.pem'}", "--output", str(tmp_path / "s.xml"), str(tmp_path / "t.xml")]
    result = subprocess.run(args, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    return (tmp_path / "s.xml").read_bytes()


@pytest.mark.parametrize(
    ("scenario", "diagnosis"),
    [("success-loa2plus", None), ("loa-too-low", "loa-too-low"), ("wrong-audience", "wrong-audience")],
)
def test_fixtures_signed_by_xmlsec1(
    settings_for: Settings, config: Path, tmp_path: Path, xmlsec1: str, scenario: str, diagnosis: str | None
) -> None:
    signed = xmlsec1_signed_response(settings_for, scenario, xmlsec1, tmp_path)
    code, out, _ = invoke(write(tmp_path, "r.xml", signed), "--config", str(config), "--json")
    document = json.loads(out)
    signature = next(check for check in document["checks"] if check["id"] == "signature")
    assert signature["status"] == "pass"
    if diagnosis is None:
        assert (code, document["verdict"]) == (0, "ok")
    else:
        assert (code, document["diagnosis"]["id"]) == (1, diagnosis)
    tampered = signed.replace(b"assurance-class:loa2", b"assurance-class:loa4")
    code, out, _ = invoke(write(tmp_path, "t.xml", tampered), "--config", str(config), "--json")
    assert (code, json.loads(out)["diagnosis"]["id"]) == (1, "bad-signature")


def test_usage_errors_exit_2_without_traceback(config: Path, tmp_path: Path) -> None:
    code, out, err = invoke(str(tmp_path / "missing.xml"), "--config", str(config))
    assert code == 2 and "niet te lezen" in err and "Traceback" not in out + err
    file = write(tmp_path, "x.xml", b"<a/>")
    code, _, err = invoke(file, "--config", str(config), "--at", "gisteren")
    assert code == 2 and "ISO 8601" in err
    code, _, err = invoke(file, "--config", str(config), "--required-loa", "loa9")
    assert code == 2 and "niveau" in err
    code, _, err = invoke(file, "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "Configuratie" in err
    code, _, _ = invoke(file, "--no-such-flag")
    assert code == 2


def test_unusable_content_is_a_failed_verdict(config: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(write(tmp_path, "x.txt", b"dit is geen saml"), "--config", str(config))
    assert code == 1
    assert load_catalogue().entry("malformed").title in out
    code, out, _ = invoke(
        write(tmp_path, "xxe.xml", b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'),
        "--config",
        str(config),
        "--json",
    )
    assert (code, json.loads(out)["diagnosis"]["id"]) == (1, "malformed")


def test_render_text_of_an_inconclusive_verdict_lists_what_is_missing() -> None:
    verdict = checks.verdict_from(
        [
            checks.CheckResult(id="input", status="pass", detail="ok"),
            checks.CheckResult(id="signature", status="skip", detail="Niet gecontroleerd: geen certificaat."),
        ],
        ["signature"],
    )
    text = render_text(verdict)
    assert "NIET VAST TE STELLEN" in text
    assert "Handtekening: Niet gecontroleerd: geen certificaat." in text


def test_a_har_with_only_the_artifact_names_the_test_to_look_up(
    settings_for: Settings, config: Path, tmp_path: Path
) -> None:
    # The normal HAR of a real test: the answer went over the back channel, the browser carried only the
    # artifact and the RelayState. Not "unreadable answer, the operator must act": the test's code.
    with TestClient(app_with_back_channel(settings_for), base_url=settings_for.public_base_url) as client:
        entries = run_test(client, "success-loa3")
    reference = dict(parse_qsl(urlsplit(acs_url_in(entries)).query))["RelayState"].removeprefix("/diagnose/")
    path = write(tmp_path, "inlogtest.har", har(entries).encode())
    code, out, _ = invoke(path, "--config", str(config))
    assert code == 1
    assert "Dit HAR-bestand bevat geen inlogantwoord, alleen een verwijzing (artifact)" in out
    assert f"Het gaat om inlogtest {reference}. Zoek die code op in de servicedeskconsole" in out
    assert "Wie moet iets doen: de BRO Servicedesk" in out and "malformed" not in out and "beheer" not in out
    code, out, _ = invoke(path, "--config", str(config), "--json")
    assert code == 1
    assert json.loads(out)["error"] | {"message": ""} == {
        "id": "artifact-only",
        "message": "",
        "references": [reference],
    }


def test_a_har_without_any_saml_stays_unreadable(config: Path, tmp_path: Path) -> None:
    har_text = json.dumps({"log": {"version": "1.2", "entries": [{"request": {"url": "https://x/"}, "response": {}}]}})
    code, out, _ = invoke(write(tmp_path, "leeg.har", har_text.encode()), "--config", str(config))
    assert code == 1 and "Code: malformed" in out
