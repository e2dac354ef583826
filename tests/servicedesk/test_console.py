"""Console pages: lookup by reference (redacted trace, audit), paste analyser, counts chart, feedback."""

from __future__ import annotations

import base64
import re

import anyio
import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from diagnostics import checks, roundtrip
from diagnostics.brokers import BrokerRegistry
from diagnostics.catalogue import load_catalogue
from diagnostics.page_frame import SITE_NAME
from diagnostics.servicedesk import records
from diagnostics.servicedesk.paste import analyse
from diagnostics.settings import Settings
from diagnostics.simulator import entities
from diagnostics.simulator.embedded import embedded_broker
from diagnostics.simulator.responses import issue
from diagnostics.store import Store
from diagnostics.verdict import Verdict
from tests.helpers.brokers import simulator_handler
from tests.helpers.console import USER, csrf_token


def identifiers(settings: Settings) -> list[str]:
    """Every KvK number and pseudonym the simulator can put in an answer: none may show unmasked."""
    values = [org.kvk for org in entities.ORGANISATIONS]
    for person in entities.PERSONS:
        for org in entities.ORGANISATIONS:
            values.append(entities.pseudonym(person.key, org.kvk, settings.sp.entity_id))
    return values


def analysed(settings: Settings, text: str, broker_id: str) -> Verdict:
    """The paste box's verdict, with the simulator's documents served in process."""

    async def run() -> Verdict:
        registry = BrokerRegistry(
            settings, transport=httpx.MockTransport(simulator_handler(settings)), embedded=embedded_broker(settings)
        )
        try:
            return await analyse(settings, registry, text, broker_id)
        finally:
            await registry.aclose()

    return anyio.run(run)


def finished_session(settings: Settings, store: Store, scenario: str) -> str:
    request_id = f"_req-{scenario}-{len(store.recent_sessions())}"
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=request_id)
    verdict = analysed(settings, issue(settings, scenario, request_id=request_id).decode(), "simulator")
    store.finish_session(session.reference, verdict)
    return session.reference


def test_lookup_shows_the_diagnosis_the_users_answer_led_to(
    logged_in: TestClient, settings: Settings, store: Store
) -> None:
    # The broker said only "AuthnFailed"; the user then answered that they saw a message about a machtiging.
    ref = finished_session(settings, store, "stopped-at-broker")
    assert roundtrip.record_answer(store, ref, "geen-machtiging") is not None
    page = logged_in.get(f"/servicedesk/referentie/{ref}")
    refined = load_catalogue().entry("no-authorisation")
    assert refined.title in page.text
    reply = BeautifulSoup(page.text, "html.parser").find("textarea", id="reply-text")
    assert reply is not None and reply.text.startswith(refined.reply.splitlines()[0])


def test_lookup_shows_verdict_trace_and_reply_and_is_audited(
    logged_in: TestClient, settings: Settings, store: Store
) -> None:
    ref = finished_session(settings, store, "loa-too-low")
    page = logged_in.get("/servicedesk")
    response = logged_in.post(
        "/servicedesk/zoek", data={"code": ref.lower().replace("-", " "), "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 200
    assert str(response.url).endswith(f"/servicedesk/referentie/{ref}")
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.h1 and ref in soup.h1.text
    entry = load_catalogue().entry("loa-too-low")
    assert entry.title in response.text
    assert soup.find("textarea", id="reply-text").text.startswith(entry.reply.splitlines()[0])
    assert f"Referentiecode: {ref}" in soup.find("textarea", id="reply-text").text
    rows = soup.select("table tbody tr")
    assert any("loa" in row.text.lower() for row in rows)
    lines = records.audit_lines(store.engine)
    assert any(line.user == USER and line.action == "lookup" and line.reference == ref for line in lines)


def test_lookup_of_a_successful_login_never_shows_identifiers(
    logged_in: TestClient, settings: Settings, store: Store
) -> None:
    ref = finished_session(settings, store, "success-loa3")
    html = logged_in.get(f"/servicedesk/referentie/{ref}").text
    assert "Uitkomst: Gelukt" in html
    for value in identifiers(settings):
        assert value not in html


def test_unknown_reference_is_a_clear_404_and_still_audited(logged_in: TestClient, store: Store) -> None:
    response = logged_in.get("/servicedesk/referentie/BHP-2345-6789")
    assert response.status_code == 404
    assert "Geen inlogtest gevonden" in response.text
    assert records.audit_lines(store.engine)[0].reference == "BHP-2345-6789"


def test_console_pages_carry_the_product_name_of_the_help_site(client: TestClient) -> None:
    page = BeautifulSoup(client.get("/servicedesk/login").text, "html.parser")
    header = page.select_one("header.md-header")
    assert header is not None and SITE_NAME == "Inloghulp Bronhouderportaal" and SITE_NAME in header.get_text()
    assert page.title is not None and page.title.get_text().endswith(f"Servicedeskconsole {SITE_NAME}")


def test_reference_that_is_not_a_code_gets_a_message_and_keeps_the_input(logged_in: TestClient) -> None:
    page = logged_in.get("/servicedesk")
    response = logged_in.post("/servicedesk/zoek", data={"code": "hallo", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert "Vul een referentiecode in zoals BHP-7K3Q-9D2F" in response.text
    assert 'value="hallo"' in response.text


@pytest.mark.parametrize("code", ["BHP-0000-0000", "bhp-7k3q-9d2o", "BHP 1LUV 2345"])
def test_code_with_a_character_no_code_has_says_which_characters_never_occur(logged_in: TestClient, code: str) -> None:
    page = logged_in.get("/servicedesk")
    response = logged_in.post("/servicedesk/zoek", data={"code": code, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    error = BeautifulSoup(response.text, "html.parser").select_one("#code-error")
    assert error is not None
    assert error.get_text(" ", strip=True) == (
        "Fout: Een referentiecode bevat nooit de tekens 0, O, 1, I, L, U of V. Controleer de code."
    )


@pytest.mark.parametrize("encode", ["xml", "base64"])
def test_paste_gives_the_same_verdict_as_the_checker_and_stores_nothing(
    logged_in: TestClient, settings: Settings, store: Store, encode: str
) -> None:
    message = issue(settings, "wrong-audience", request_id="_paste-1")
    text = message.decode() if encode == "xml" else base64.b64encode(message).decode()
    before = store.recent_sessions()
    page = logged_in.get("/servicedesk")
    response = logged_in.post(
        "/servicedesk/analyse", data={"message": text, "broker": "simulator", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 200
    assert load_catalogue().entry("wrong-audience").title in response.text
    assert "Bewaar onder referentie" in response.text
    assert store.recent_sessions() == before
    assert records.audit_lines(store.engine)[0].action == "analyse"


def test_paste_verdict_equals_checks_run(settings: Settings) -> None:
    from diagnostics.brokers import load_broker

    message = issue(settings, "expired", request_id="_paste-2")
    info = load_broker(settings, "simulator", embedded=embedded_broker(settings))
    expected = checks.run(message, checks.context_from_settings(settings, info))
    got = analysed(settings, message.decode(), "simulator")
    assert got.diagnosis == expected.diagnosis
    assert [c.id for c in got.checks] == [c.id for c in expected.checks]


def test_paste_of_nonsense_is_malformed(settings: Settings) -> None:
    verdict = analysed(settings, "dit is geen bericht!", "simulator")
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "malformed"


def test_save_stores_the_verdict_under_a_new_reference(logged_in: TestClient, settings: Settings, store: Store) -> None:
    message = issue(settings, "bad-signature", request_id="_paste-3").decode()
    page = logged_in.get("/servicedesk")
    analysed = logged_in.post(
        "/servicedesk/analyse", data={"message": message, "broker": "simulator", "csrf_token": csrf_token(page.text)}
    )
    response = logged_in.post(
        "/servicedesk/analyse/bewaar",
        data={"message": message, "broker": "simulator", "csrf_token": csrf_token(analysed.text)},
    )
    assert response.status_code == 200
    match = re.search(r"/servicedesk/referentie/(BHP-[0-9A-Z]{4}-[0-9A-Z]{4})$", str(response.url))
    assert match
    saved = store.get_session(match[1])
    assert saved is not None and saved.diagnosis_id == "bad-signature"
    assert "<" not in str(saved.verdict_data)  # the message itself is not stored
    assert any(line.action == "save" and line.reference == match[1] for line in records.audit_lines(store.engine))


def test_counts_chart_and_table_show_the_same_numbers(logged_in: TestClient, settings: Settings, store: Store) -> None:
    for scenario in ("loa-too-low", "loa-too-low", "expired"):
        finished_session(settings, store, scenario)
    soup = BeautifulSoup(logged_in.get("/servicedesk").text, "html.parser")
    svg = soup.find("svg", class_="chart")  # the site's frame has icons (svg) of its own
    assert svg is not None and svg.get("role") == "img"
    assert svg.title is not None and "7 dagen" in svg.title.text
    catalogue = load_catalogue()
    labels = {text.text for text in svg.find_all("text")} - {"2", "1"}
    # The Dutch catalogue titles, not the English ids.
    assert labels == {catalogue.entry("loa-too-low").title, catalogue.entry("expired").title}
    table = svg.find_parent("figure").find_next_sibling("table")
    numbers = {row.find("code").text: int(row.find("td", class_="num").text) for row in table.select("tbody tr")}
    assert numbers == {"loa-too-low": 2, "expired": 1}
    widths = {rect.find_previous_sibling("text").text: int(rect["width"]) for rect in svg.find_all("rect")}
    assert widths[catalogue.entry("loa-too-low").title] > widths[catalogue.entry("expired").title]


def test_feedback_api_counts_per_page_in_the_console(logged_in: TestClient, store: Store) -> None:
    for rating in (1, 1, 0):
        response = logged_in.post("/api/v1/feedback", json={"page": "/inloggen-lukt-niet/", "rating": rating})
        assert response.status_code == 201
    assert logged_in.post("/api/v1/feedback", json={"page": "https://evil.example/", "rating": 1}).status_code == 422
    assert logged_in.post("/api/v1/feedback", json={"page": "/x/", "rating": 5}).status_code == 422
    assert logged_in.post("/api/v1/feedback", json={"page": "/servicedesk", "rating": 1}).status_code == 422
    counts = records.feedback_counts(store.engine)
    assert [(c.page, c.useful, c.not_useful) for c in counts] == [("/inloggen-lukt-niet/", 2, 1)]
    soup = BeautifulSoup(logged_in.get("/servicedesk").text, "html.parser")
    row = soup.find("a", string="/inloggen-lukt-niet/").find_parent("tr")
    assert [td.text for td in row.find_all("td")][1:] == ["2", "1"]


def test_audit_log_page_lists_lookups(logged_in: TestClient) -> None:
    logged_in.get("/servicedesk/referentie/BHP-2345-6789")
    html = logged_in.get("/servicedesk/logboek").text
    assert "BHP-2345-6789" in html and "lookup" in html


def test_console_pages_carry_no_inline_style_and_no_store(logged_in: TestClient) -> None:
    response = logged_in.get("/servicedesk")
    assert response.headers["cache-control"] == "no-store"
    assert "style=" not in response.text
    assert "<style" not in response.text


def test_lookup_of_a_login_that_never_came_back_shows_the_users_answer(logged_in: TestClient, store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from diagnostics import roundtrip

    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_never-back")
    assert store.expire_stale(60, now=datetime.now(UTC) + timedelta(minutes=5)) == [session.reference]
    store.answer_no_response(session.reference, "geen-machtiging", "no-authorisation")
    html = logged_in.get(f"/servicedesk/referentie/{session.reference}").text
    option = roundtrip.answer_option("geen-machtiging")
    assert option is not None and option.label in html
    entry = load_catalogue().entry("no-authorisation")
    assert entry.title in html
    assert entry.steps.servicedesk in html


def test_lookup_names_the_first_failed_check(logged_in: TestClient, settings: Settings, store: Store) -> None:
    ref = finished_session(settings, store, "wrong-audience")
    soup = BeautifulSoup(logged_in.get(f"/servicedesk/referentie/{ref}").text, "html.parser")
    term = soup.find("dt", string="Eerste mislukte controle")
    assert term is not None
    verdict = store.get_session(ref)
    assert verdict is not None and verdict.verdict is not None
    first = next(check for check in verdict.verdict.checks if check.status == "fail")
    assert first.id in term.find_next_sibling("dd").text


def test_reply_carries_the_machtiging_values_where_the_beheerder_needs_them(
    logged_in: TestClient, settings: Settings, store: Store
) -> None:
    """The medewerker is told to send the values along: the ticket reply gives them, from the beheerder card."""
    from diagnostics.service_info import service_info

    answered = store.create_session(broker_id="simulator", supplier_id=None, request_id="_no-values-yet")
    store.answer_no_response(answered.reference, "geen-machtiging", "no-authorisation")
    checked = finished_session(settings, store, "wrong-service")  # a verdict: the other reply template
    for ref in (answered.reference, checked):
        soup = BeautifulSoup(logged_in.get(f"/servicedesk/referentie/{ref}").text, "html.parser")
        reply = soup.find("textarea", id="reply-text").text
        assert service_info(settings).as_text() in reply, ref
        assert f"{settings.public_base_url}/beheerder/" in reply
        assert (
            reply.index("ServiceUUID") < reply.index("Met vriendelijke groet,") < reply.index(f"Referentiecode: {ref}")
        )


def _facts(html: str) -> dict[str, str]:
    page = BeautifulSoup(html, "html.parser")
    return {
        dt.get_text(strip=True): " ".join(dd.get_text(" ").split())
        for dl in page.select("dl.facts")
        for dt, dd in zip(dl.find_all("dt"), dl.find_all("dd"), strict=True)
    }


def test_lookup_says_who_acts_in_the_third_person(logged_in: TestClient, settings: Settings, store: Store) -> None:
    # A user who never came back and says a machtiging was missing (the usual no-authorisation case).
    answered = store.create_session(broker_id="simulator", supplier_id=None, request_id="_who-1")
    store.answer_no_response(answered.reference, "geen-machtiging", "no-authorisation")
    facts = _facts(logged_in.get(f"/servicedesk/referentie/{answered.reference}").text)
    assert facts["Wie moet iets doen"] == "het eHerkenningsbeheer van de organisatie van de melder"
    # A checked answer: the same words in the verdict block.
    facts = _facts(logged_in.get(f"/servicedesk/referentie/{finished_session(settings, store, 'cancelled')}").text)
    assert facts["Wie moet iets doen"] == "de melder zelf"


def test_every_role_has_a_third_person_name_in_the_console() -> None:
    from typing import get_args

    from diagnostics.servicedesk.wording import WHO_IN_CONSOLE
    from diagnostics.verdict import Who

    assert set(WHO_IN_CONSOLE) == set(get_args(Who))
    assert not any(name.startswith("uw ") for name in WHO_IN_CONSOLE.values())


@pytest.mark.parametrize(
    ("scenario", "shown"),
    [
        ("no-authorisation", "no-authorisation: Geen machtiging voor deze dienst; u komt niet terug"),
        (None, "gekozen op het inlogscherm van de simulator (niet bewaard)"),
        ("geplakt", "geen: een geplakt bericht, gecontroleerd in de console"),
    ],
)
def test_lookup_shows_the_real_scenario(logged_in: TestClient, store: Store, scenario: str | None, shown: str) -> None:
    from diagnostics.simulator.scenarios import find_scenario

    if scenario == "no-authorisation":
        assert shown.endswith(find_scenario(scenario).label)
    session = store.create_session(
        broker_id="simulator", supplier_id=None, request_id=f"_s-{scenario}", scenario=scenario
    )
    facts = _facts(logged_in.get(f"/servicedesk/referentie/{session.reference}").text)
    assert facts["Scenario"] == shown


def test_lookup_names_the_ehrkenningsmakelaar_from_the_ad_list(
    logged_in: TestClient, settings: Settings, store: Store
) -> None:
    from diagnostics.simulator.entities import SUPPLIERS

    known, unknown = SUPPLIERS[1], "urn:etoegang:AD:00000009999999999999:entities:1"
    for supplier, shown in [(known.entity_id, f"{known.display_name} ( {known.entity_id} )"), (unknown, unknown)]:
        session = store.create_session(broker_id="simulator", supplier_id=supplier, request_id=f"_m-{supplier}")
        facts = _facts(logged_in.get(f"/servicedesk/referentie/{session.reference}").text)
        assert facts["eHerkenningsmakelaar"] == shown


def test_console_times_are_dutch_local_time_and_say_so(logged_in: TestClient, store: Store) -> None:
    from datetime import datetime

    from diagnostics.localtime import dutch_time

    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_t-1")
    facts = _facts(logged_in.get(f"/servicedesk/referentie/{session.reference}").text)
    assert facts["Gestart"] == dutch_time(session.created_at, label=True)
    assert facts["Gestart"].endswith("(Nederlandse tijd)")
    audit = BeautifulSoup(logged_in.get("/servicedesk/logboek").text, "html.parser")
    assert [th.get_text() for th in audit.select("thead th")][0] == "Tijd (Nederlandse tijd)"
    first = records.audit_lines(store.engine, 1)[0]
    assert audit.select_one("tbody td").get_text() == dutch_time(first.at)  # type: ignore[union-attr]
    assert isinstance(first.at, datetime)


def test_ticket_reply_is_a_selectable_text_with_a_copy_status_for_the_script(
    logged_in: TestClient, settings: Settings, store: Store
) -> None:
    ref = finished_session(settings, store, "loa-too-low")
    page = BeautifulSoup(logged_in.get(f"/servicedesk/referentie/{ref}").text, "html.parser")
    area = page.select_one("textarea#reply-text[readonly][data-copy]")
    assert area is not None and area.get_text().endswith(f"Referentiecode: {ref}")
    assert page.select_one('[data-copy-status][role="status"]') is not None
    assert page.select_one('script[src="/servicedesk/console.js"]') is not None
    script = logged_in.get("/servicedesk/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
