"""The round-trip pages in process: chooser states, start errors, POST binding, result and API edge cases."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from lxml import etree

from diagnostics import certs, crypto, ownership
from diagnostics.brokers import BINDING_REDIRECT, MD
from diagnostics.localtime import dutch_time
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.metadata import broker_metadata
from diagnostics.store import Store
from tests.helpers.broker_network import answering_only_together, pinned_brokers
from tests.helpers.brokers import client_for, simulator_handler
from tests.helpers.ownership import latest_reference, own


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def test_chooser_lists_the_suppliers_in_order_with_the_card(client: TestClient, settings: Settings) -> None:
    page = soup(client.get("/diagnose"))
    assert page.html is not None and page.html["lang"] == "nl"
    labels = [label.get_text(strip=True) for label in page.select("form.chooser label")]
    assert labels == [
        "Voorbeeld eHerkenning Leverancier A (simulator)",
        "Voorbeeld eHerkenning Leverancier B (simulator)",
        "Voorbeeld eHerkenning Leverancier C (simulator)",
    ]
    assert page.select_one('input[name="broker"]')["value"] == "simulator"  # type: ignore[index]
    assert page.select_one("form.chooser button").get_text(strip=True) == "Verder"  # type: ignore[union-attr]
    assert page.select_one("#beheerder-kaart") is not None
    assert settings.service.uuid in page.get_text()


def test_api_lists_the_suppliers(client: TestClient) -> None:
    lists = client.get("/api/v1/suppliers").json()
    assert [entry["broker"] for entry in lists] == ["simulator"]
    assert len(lists[0]["suppliers"]) == 3
    assert lists[0]["error"] is None


def test_chooser_explains_an_unreachable_broker(settings: Settings) -> None:
    asked: list[str] = []

    def down(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    with client_for(settings, down) as test_client:
        response = test_client.get("/diagnose")
        assert response.status_code == 200
        alert = soup(response).select_one('[role="alert"]')
        assert alert is not None and "niet op te halen" in alert.get_text()
        assert test_client.get("/api/v1/suppliers").json()[0]["error"] == "broker-unreachable"
        started = test_client.post("/diagnose/start", data={"broker": "simulator"})
        assert started.status_code == 502
        assert "broker-unreachable" in started.text
    # Three pages, one attempt: the registry remembers for a while that the broker is down.
    assert asked == ["/simulator/metadata"]


def test_chooser_asks_all_brokers_at_once(write_config: Callable[..., Path], tmp_path: Path) -> None:
    # Asked in turn, a broker that is down would make the page wait for it before it even asks the next.
    pair = certs.generate("Makelaar", serial_number="00000009999999999001")
    handler, arrived = answering_only_together(pair)
    with client_for(pinned_brokers(write_config, tmp_path, pair), handler) as test_client:
        page = soup(test_client.get("/diagnose"))
    assert page.select('[role="alert"]') == []
    assert [label.get_text(strip=True) for label in page.select("form.chooser label")] == ["Alfa", "Alfa"]
    assert sorted(arrived) == [f"{host}.example{path}" for host in ("hm-a", "hm-b") for path in ("/listAD.xml", "/md")]


def test_start_refuses_an_unknown_broker_without_a_reference_code(client: TestClient) -> None:
    # Not something the user chose (the broker is a hidden field): the problem page, but no test was made.
    response = client.post("/diagnose/start", data={"broker": "elders"})
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "config-error" in response.text
    text = soup(response).get_text(" ", strip=True)
    assert "noem uw referentiecode" not in text
    assert "u hebt geen referentiecode" in text
    # The catalogue entry's explanation (one partial with the result page), its step replaced by the page's action.
    explanation = soup(response).select_one(".explanation")
    assert explanation is not None and "Probeer het over een paar minuten opnieuw." in explanation.get_text(" ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"broker": "simulator"}, "Kies uw eHerkenningsmakelaar."),
        ({"broker": "simulator", "supplier": "urn:etoegang:AD:evil"}, "Kies een eHerkenningsmakelaar uit de lijst."),
    ],
)
def test_start_without_a_valid_choice_asks_again_on_the_chooser(
    client: TestClient, data: dict[str, str], message: str
) -> None:
    response = client.post("/diagnose/start", data=data)
    assert response.status_code == 400
    assert "location" not in response.headers and ownership.COOKIE not in response.cookies
    page = soup(response)
    assert page.title is not None and page.title.get_text().startswith("Fout: ")
    # The form again, not a problem page: no diagnosis code, no referentiecode.
    assert "config-error" not in response.text and "referentiecode" not in page.get_text().lower()
    summary = page.select_one(".error-summary")
    assert summary is not None and summary.has_attr("autofocus") and summary["tabindex"] == "-1"
    link = summary.select_one("a")
    assert link is not None and link.get_text(strip=True) == message
    first_radio = page.select_one(str(link["href"]))
    assert first_radio is not None and first_radio["name"] == "supplier"
    group = page.select_one("fieldset[aria-invalid=true]")
    assert group is not None and group["role"] == "radiogroup"
    error = page.select_one(".error-message")
    assert error is not None and message in error.get_text()
    assert str(error["id"]) in str(group["aria-describedby"]).split()
    assert str(error["id"]) in str(first_radio["aria-describedby"]).split()
    # The broker choice stays: the same form posts to the same broker.
    assert page.select_one('form.chooser input[name="broker"]')["value"] == "simulator"  # type: ignore[index]


def test_chooser_says_what_to_do_when_the_login_does_not_come_back(client: TestClient, settings: Settings) -> None:
    form = soup(client.get("/diagnose")).select_one("form.chooser")
    assert form is not None
    note = form.select_one(".come-back")
    assert note is not None and "niet vanzelf terug" in note.get_text() and "Uw code is" in note.get_text()
    link = note.select_one("a")
    assert link is not None and link["href"] == "/terug"
    assert link.get_text(strip=True) == f"{settings.public_base_url.rstrip('/')}/terug"
    # Before the button, so it is read before the user leaves.
    assert note.find_next("button") is form.select_one("button[type=submit]")


def test_start_redirects_to_the_broker_and_remembers_the_choice(client: TestClient) -> None:
    supplier = soup(client.get("/diagnose")).select('input[name="supplier"]')[2]["value"]
    response = client.post("/diagnose/start", data={"broker": "simulator", "supplier": supplier})
    assert response.status_code == 303
    assert httpx.URL(response.headers["location"]).path == "/simulator/sso"
    assert client.cookies["inloghulp_leverancier"].strip('"') == f"simulator|{supplier}"
    reference = latest_reference(client.cookies.get(ownership.COOKIE))
    page = soup(client.get("/diagnose"))
    assert page.select_one('input[name="supplier"][checked]')["value"] == supplier  # type: ignore[index]
    assert client.get(f"/api/v1/diagnose/{reference}").json()["verdict"] == "inconclusive"


def test_back_before_the_timeout_the_user_can_say_what_they_saw(client: TestClient) -> None:
    # The common case: no machtiging, so the broker never sends the user back; they return to us themselves.
    supplier = soup(client.get("/diagnose")).select('input[name="supplier"]')[0]["value"]
    client.post("/diagnose/start", data={"broker": "simulator", "supplier": supplier})
    reference = latest_reference(client.cookies.get(ownership.COOKIE))
    chooser = client.get("/diagnose")
    assert chooser.headers["cache-control"] == "no-store"  # this browser's referentiecode is on it
    # The banner of every page (tests/routes/test_open_test.py) leads to the question.
    banner = soup(chooser).select_one("[data-inloghulp-open-test]")
    assert banner is not None and "is niet afgerond" in banner.get_text()
    assert banner.select_one("a")["href"] == f"/diagnose/{reference}#vraag"  # type: ignore[index]
    assert client.get("/api/v1/open-test").json()["url"] == f"/diagnose/{reference}#vraag"
    answered = client.post(f"/diagnose/{reference}/antwoord", data={"antwoord": "geen-machtiging"})
    assert answered.status_code == 303
    assert client.get("/api/v1/open-test").json() is None
    verdict = client.get(f"/api/v1/diagnose/{reference}").json()
    assert (verdict["verdict"], verdict["diagnosis"]["id"]) == ("failed", "no-authorisation")
    page = soup(client.get(f"/diagnose/{reference}"))
    assert page.select_one("#vraag") is None and verdict["diagnosis"]["title"] in page.get_text()
    assert soup(client.get("/diagnose")).select_one("[data-inloghulp-open-test]") is None


def test_result_pages_show_dutch_local_time(client: TestClient, settings: Settings) -> None:
    store = Store(settings.database_url)
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    own(client, settings, session.reference)
    local = dutch_time(session.created_at, label=True)
    assert local.endswith(" (Nederlandse tijd)")
    waiting = soup(client.get(f"/diagnose/{session.reference}"))
    assert f"U begon deze test op {local}." in waiting.select_one("#uitslag").get_text(" ", strip=True)  # type: ignore[union-attr]
    store.expire_stale(settings.no_response_timeout_seconds, session.created_at + timedelta(days=1))
    page = soup(client.get(f"/diagnose/{session.reference}"))
    copy_text = page.select_one("#kopieer-tekst").get_text()  # type: ignore[union-attr]
    assert f"Tijdstip: {local}" in copy_text.splitlines()
    assert "UTC" not in copy_text
    assert f"U deed deze test op {local}." in page.select_one(".servicedesk").get_text(" ", strip=True)  # type: ignore[union-attr]


def test_no_open_test_without_the_cookie(client: TestClient) -> None:
    assert client.get("/api/v1/open-test").json() is None
    client.cookies.set(ownership.COOKIE, "BHP-2345-6789.vervalst")
    assert client.get("/api/v1/open-test").json() is None


def test_post_binding_when_the_broker_has_no_redirect_endpoint(settings: Settings) -> None:
    root = etree.fromstring(broker_metadata(settings))
    for sso in root.iter(f"{{{MD}}}SingleSignOnService"):
        if sso.get("Binding") == BINDING_REDIRECT:
            sso.getparent().remove(sso)  # type: ignore[union-attr]
    pair = keys_for(settings.simulator.key_dir).broker
    crypto.sign(root, pair.key_pem, pair.cert_pem)
    with client_for(settings, simulator_handler(settings, metadata=etree.tostring(root))) as test_client:
        supplier = soup(test_client.get("/diagnose")).select('input[name="supplier"]')[0]["value"]
        response = test_client.post("/diagnose/start", data={"broker": "simulator", "supplier": supplier})
        assert response.status_code == 200
        form = soup(response).select_one("form[data-autosubmit]")
        assert form is not None and form["action"].endswith("/simulator/sso")  # type: ignore[union-attr]
        fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
        assert set(fields) == {"SAMLRequest", "RelayState"}
        assert fields["RelayState"].startswith("/diagnose/BHP-")


def test_unknown_reference_is_a_404(client: TestClient) -> None:
    assert client.get("/diagnose/BHP-2345-6789", headers={"accept": "text/html"}).status_code == 404
    assert client.get("/diagnose/geen-code").status_code == 404
    missing = client.get("/api/v1/diagnose/BHP-2345-6789")
    assert missing.status_code == 404
    assert missing.json()["error"]["id"] == "not-found"


def test_reference_is_normalised(client: TestClient, settings: Settings) -> None:
    session = Store(settings.database_url).create_session(broker_id="simulator", supplier_id=None, request_id=None)
    compact = session.reference.replace("-", "").lower()
    assert client.get(f"/api/v1/diagnose/{compact}").json()["reference"] == session.reference


def test_no_response_page_and_bad_answers(client: TestClient, settings: Settings) -> None:
    store = Store(settings.database_url)
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    own(client, settings, session.reference)
    waiting = soup(client.get(f"/diagnose/{session.reference}"))
    assert "Deze test loopt nog" in waiting.get_text()
    # While it waits, the user may already say what they saw; the options are the same as after the timeout.
    assert "Wij kregen nog geen antwoord terug." in waiting.select_one("#vraag-hint").get_text()
    waiting_options = [radio["value"] for radio in waiting.select('#vraag input[name="antwoord"]')]
    store.expire_stale(settings.no_response_timeout_seconds, session.created_at + timedelta(days=1))
    page = soup(client.get(f"/diagnose/{session.reference}"))
    options = [radio["value"] for radio in page.select('#vraag input[name="antwoord"]')]
    assert options == waiting_options == ["geen-machtiging", "geannuleerd", "code-werkte-niet", "weet-niet"]
    assert [
        step.get_text(" ", strip=True).split(":")[0].strip() for step in page.select("ol.timeline > li .step-title")
    ] == [
        "✓ Gelukt",
        "✓ Gelukt",
        "✗ Mislukt",
        "✗ Mislukt",
        "– Overgeslagen",
        "– Overgeslagen",
    ]
    bad = client.post(f"/diagnose/{session.reference}/antwoord", data={"antwoord": "iets"})
    assert bad.status_code == 400
    good = client.post(f"/diagnose/{session.reference}/antwoord", data={"antwoord": "weet-niet"})
    assert good.status_code == 303
    text = soup(client.get(f"/diagnose/{session.reference}")).get_text()
    assert "Wat zag u bij uw eHerkenningsmakelaar?" not in text
    assert session.reference in text


def test_production_refuses_an_unpinned_metadata_url(write_config: Callable[..., Path]) -> None:
    settings = load_settings(
        write_config(
            {
                "environment": "production",
                "session_secret": "a-real-secret-for-this-test-0123",
                "public_base_url": "https://inloghulp.example",
                "brokers": [{"id": "hm", "name": "HM", "metadata_url": "https://hm.example/md"}],
                "simulator": {"enabled": False},
            }
        )
    )

    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("an unpinned broker must not even be fetched")

    with client_for(settings, never) as test_client:
        response = test_client.post("/diagnose/start", data={"broker": "hm"})
        assert response.status_code == 400
        assert "metadata_signing_cert_file" in response.text


def test_a_stranger_with_the_code_sees_the_outcome_but_cannot_change_the_test(
    client: TestClient, settings: Settings
) -> None:
    supplier = soup(client.get("/diagnose")).select('input[name="supplier"]')[0]["value"]
    client.post("/diagnose/start", data={"broker": "simulator", "supplier": supplier})
    reference = latest_reference(client.cookies.get(ownership.COOKIE))
    owner_page = soup(client.get(f"/diagnose/{reference}"))
    for selector in ("#vraag", "ol.timeline", "#kopieer-tekst", "details"):
        assert owner_page.select_one(selector) is not None, selector

    stranger = TestClient(client.app, base_url=str(client.base_url), follow_redirects=False)
    page = soup(stranger.get(f"/diagnose/{reference}"))
    assert page.select_one("#uitslag") is not None
    # No question, no steps, no trace, no copy text: only the outcome.
    for selector in ("#vraag", "ol.timeline", "#kopieer-tekst", "details"):
        assert page.select_one(selector) is None, selector
    assert "in een andere browser gedaan" in page.get_text()
    assert stranger.get(f"/api/v1/diagnose/{reference}").json()["checks"] == []
    answer = stranger.post(f"/diagnose/{reference}/antwoord", data={"antwoord": "geen-machtiging"})
    assert answer.status_code == 403 and answer.json()["error"]["id"] == "not-this-browser"
    assert "Wat zag u bij uw eHerkenningsmakelaar?" in soup(client.get(f"/diagnose/{reference}")).get_text()
    # A forged cookie names the test but cannot prove it, whatever bytes it holds (é as a raw latin-1 byte).
    for forged in (f"{reference}.vervalst".encode(), f"{reference}.v\xe9rvalst".encode("latin-1"), b"~.~"):
        cookie = {"cookie": ownership.COOKIE.encode() + b"=" + forged}
        answer = stranger.post(f"/diagnose/{reference}/antwoord", data={"antwoord": "weet-niet"}, headers=cookie)
        assert answer.status_code == 403, forged


def test_an_artifact_for_a_test_of_another_browser_is_refused_unspent(client: TestClient, settings: Settings) -> None:
    supplier = soup(client.get("/diagnose")).select('input[name="supplier"]')[0]["value"]
    client.post("/diagnose/start", data={"broker": "simulator", "supplier": supplier})
    reference = latest_reference(client.cookies.get(ownership.COOKIE))
    stranger = TestClient(client.app, base_url=str(client.base_url), follow_redirects=False)
    forged = base64.b64encode(b"\x00\x04\x00\x00" + b"\x01" * 40).decode()
    response = stranger.get("/saml/acs", params={"SAMLart": forged, "RelayState": f"/diagnose/{reference}"})
    assert response.status_code == 403
    assert "in een andere browser begonnen" in response.text
    # Not claimed, not finished: the owner's real artifact can still be resolved.
    session = Store(settings.database_url).get_session(reference)
    assert session is not None and session.state == "started"
    assert client.get(f"/api/v1/diagnose/{reference}").json()["verdict"] == "inconclusive"
