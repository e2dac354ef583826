"""The result page: "Mail naar mijn eHerkenningsbeheerder" where the beheerder must act, and a trace in Dutch."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from diagnostics import checks, privacy, roundtrip_view
from diagnostics.beheerder_mail import LINK_TEXT, MAX_URL
from diagnostics.catalogue import load_catalogue
from diagnostics.service_info import service_info
from diagnostics.servicedesk.router import TEMPLATES as CONSOLE_TEMPLATES
from diagnostics.settings import Settings
from diagnostics.store import Store
from diagnostics.verdict import CheckResult, Verdict
from tests.helpers.ownership import own

# The checker's trace for an answer that names the organisation (a KvK number, masked as the checker masks it).
KVK = privacy.mask_identifier("KvKnr", "12345678")


def verdict_for(diagnosis: str | None) -> Verdict:
    """A verdict with every check of the checker's trace; the one that decides ``diagnosis`` fails."""
    failing = {
        "loa-too-low": "loa",
        "wrong-service": "service",
        "bad-signature": "signature",
        "cancelled": "status",
        "machtiging-expired": "status",
    }
    trace = [
        CheckResult(
            id=check_id,
            status="fail" if failing.get(diagnosis or "") == check_id else "pass",
            detail=f"{title}: gezien.",
            diagnosis=diagnosis if failing.get(diagnosis or "") == check_id else None,
            data={"legalsubjectid": f"KvKnr: {KVK}", "actingsubjectid": "pseudoniem: 1a2b…9z8y"}
            if check_id == "identifiers"
            else {},
        )
        for check_id, title in checks.CHECK_TITLES.items()
    ]
    return Verdict(
        verdict="failed" if diagnosis else "ok",
        diagnosis=load_catalogue().diagnosis(diagnosis) if diagnosis else None,
        checks=trace,
    )


def finished(settings: Settings, diagnosis: str | None) -> str:
    """A stored, finished test with the verdict for ``diagnosis`` (None: it worked); its reference code."""
    store = Store(settings.database_url)
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    store.finish_session(session.reference, verdict_for(diagnosis))
    return session.reference


def page_of(client: TestClient, reference: str) -> BeautifulSoup:
    response = client.get(f"/diagnose/{reference}")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def mail_link(page: BeautifulSoup) -> Tag | None:
    return page.find("a", string=LINK_TEXT)


def mail_parts(href: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(href).query, strict_parsing=True)
    return query["subject"][0], query["body"][0]


def test_the_mail_carries_what_the_beheerder_needs(client: TestClient, settings: Settings) -> None:
    reference = finished(settings, "loa-too-low")
    own(client, settings, reference)
    link = mail_link(page_of(client, reference))
    assert link is not None
    href = str(link["href"])
    assert href.startswith("mailto:?subject=") and len(href) <= MAX_URL
    # Percent-encoded as RFC 6068 asks: no bare space, no "+" a mail client may read as a space, CRLF line breaks.
    assert " " not in href and "+" not in href and "\n" not in href
    assert "%0D%0A" in href and not re.search(r"(?<!%0D)%0A", href)
    subject, body = mail_parts(href)
    assert reference in subject
    info = service_info(settings)
    values = {field.key: field.value for field in info.card_fields()}
    for key in ("service_name", "service_uuid", "service_id", "required_loa_label"):
        assert values[key] in body, key
    entry = load_catalogue().entry("loa-too-low")
    assert f'De uitslag van de inlogtest is: "{entry.title}".' in body and entry.steps.beheerder in body
    assert f"Referentiecode van mijn inlogtest: {reference}" in body
    # The organisation the broker's answer named, masked: the beheerder sees which one was chosen.
    assert f"KvK-nummer {KVK} (deels afgeschermd)" in body and "12345678" not in body
    assert "Mijn eHerkenningsmakelaar" not in body  # this test was stored without a supplier


def test_the_copy_block_holds_the_whole_mail(client: TestClient, settings: Settings) -> None:
    reference = finished(settings, "wrong-service")
    own(client, settings, reference)
    page = page_of(client, reference)
    subject, body = mail_parts(str(mail_link(page)["href"]))  # type: ignore[index]
    area = page.select_one("textarea#beheerder-mail-tekst.copy-text[readonly]")
    assert area is not None and area["data-copy-label"]
    label = page.select_one('label[for="beheerder-mail-tekst"]')
    assert label is not None and label.get_text(strip=True)
    text = area.get_text()
    assert text.startswith(f"Onderwerp: {subject}\n\n")
    # The link may leave the card's general steps out to stay short; the copy block never does.
    for line in body.strip().splitlines():
        assert line in text
    for step in service_info(settings).steps:
        assert step in text


def test_a_test_that_never_came_back_answered_no_machtiging_gets_the_mail(
    client: TestClient, settings: Settings
) -> None:
    store = Store(settings.database_url)
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    own(client, settings, session.reference)
    assert mail_link(page_of(client, session.reference)) is None  # still waiting: nobody knows who must act yet
    client.post(f"/diagnose/{session.reference}/antwoord", data={"antwoord": "geen-machtiging"})
    page = page_of(client, session.reference)
    link = mail_link(page)
    assert link is not None
    _, body = mail_parts(str(link["href"]))
    assert load_catalogue().entry("no-authorisation").title in body
    assert "KvK-nummer" not in body  # no answer from the broker, so no organisation


def test_the_mail_shows_exactly_where_the_eherkenningsbeheerder_must_act(
    client: TestClient, settings: Settings
) -> None:
    catalogue = load_catalogue()
    shown = {}
    for diagnosis in (None, "loa-too-low", "wrong-service", "machtiging-expired", "cancelled", "bad-signature"):
        reference = finished(settings, diagnosis)
        own(client, settings, reference)
        page = page_of(client, reference)
        shown[diagnosis] = mail_link(page) is not None
        assert shown[diagnosis] == (page.select_one("#beheerder-mail") is not None)
    # The verdict contract's "who": the eHerkenningsbeheerder, not the medewerker, beheer or nobody.
    assert shown == {
        diagnosis: diagnosis is not None and catalogue.entry(diagnosis).who == "eHerkenningsbeheerder"
        for diagnosis in shown
    }
    assert [diagnosis for diagnosis, link in shown.items() if link] == [
        "loa-too-low",
        "wrong-service",
        "machtiging-expired",
    ]


def test_another_browser_gets_the_mail_without_the_organisation(client: TestClient, settings: Settings) -> None:
    reference = finished(settings, "loa-too-low")
    _, body = mail_parts(str(mail_link(page_of(client, reference))["href"]))  # type: ignore[index]
    assert reference in body and "KvK-nummer" not in body


def test_the_trace_names_each_check_in_dutch(client: TestClient, settings: Settings) -> None:
    reference = finished(settings, "loa-too-low")
    own(client, settings, reference)
    items = page_of(client, reference).select("ol.checks > li")
    assert items
    for item in items:
        code = item.select_one("small code")
        assert code is not None  # the technical id, in small print for the servicedesk
        check_id = code.get_text()
        title = item.select_one(".check-title")
        assert title is not None and title.get_text() == roundtrip_view.check_title(check_id) != check_id
        first_line = item.select_one("p")
        assert first_line is not None and check_id not in first_line.get_text()


def test_the_console_trace_names_each_check_in_dutch(settings: Settings) -> None:
    verdict = verdict_for("loa-too-low")
    html = CONSOLE_TEMPLATES.env.get_template("_verdict.html").render(verdict=verdict, entry=None, who="")
    rows = BeautifulSoup(html, "html.parser").select("tbody th[scope=row]")
    assert [row.get_text(" ", strip=True) for row in rows] == [
        f"{roundtrip_view.check_title(check.id)} {check.id}" for check in verdict.checks
    ]


def test_the_explanation_points_to_the_mail_and_the_trace_labels_its_technical_data(
    client: TestClient, settings: Settings
) -> None:
    reference = finished(settings, "loa-too-low")
    own(client, settings, reference)
    page = page_of(client, reference)
    explanation = page.select_one(".explanation")
    assert explanation is not None and explanation.select_one('a[href="#beheerder-mail"]') is not None
    # The measured values keep their technical names (the servicedesk compares them): said so, in small print.
    with_data = [item for item in page.select("ol.checks > li") if item.select_one("dl.check-data")]
    assert with_data
    for item in with_data:
        label = item.select_one("dl.check-data").find_previous_sibling("p")  # type: ignore[union-attr]
        assert label is not None and label.get_text(strip=True) == "Technische gegevens voor de servicedesk:"


def test_no_mail_while_the_question_what_the_user_saw_is_open(client: TestClient, settings: Settings) -> None:
    store = Store(settings.database_url)
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    own(client, settings, session.reference)
    store.expire_stale(settings.no_response_timeout_seconds, session.created_at + timedelta(days=1))
    asked = page_of(client, session.reference)
    # Never came back: the eHerkenningsbeheerder is the likely one, but the answer may still name someone else.
    assert asked.select_one("#vraag") is not None and mail_link(asked) is None
    client.post(f"/diagnose/{session.reference}/antwoord", data={"antwoord": "weet-niet"})
    answered = page_of(client, session.reference)
    link = mail_link(answered)
    assert answered.select_one("#vraag") is None and link is not None
    assert load_catalogue().entry("no-response").title in mail_parts(str(link["href"]))[1]
