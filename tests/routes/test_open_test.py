"""No dead end after the broker: the banner about this browser's open test, the code before the broker, /terug."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from diagnostics import ownership
from diagnostics.localtime import AMSTERDAM
from diagnostics.settings import Settings
from diagnostics.store import Store
from diagnostics.verdict import Verdict
from tests.helpers.ownership import latest_reference

HTML = {"Accept": "text/html"}
BANNER = "[data-inloghulp-open-test]"


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def banner(response: Any) -> Tag | None:
    return soup(response).select_one(BANNER)


def start(client: TestClient) -> str:
    """Start a test from the chooser, as a person does; its reference."""
    return start_with(client, soup(client.get("/diagnose")))


def start_with(client: TestClient, page: BeautifulSoup) -> str:
    """Choose the first supplier on the chooser ``page`` and press "Verder" (its form's fields as they are)."""
    form = page.select_one("form.chooser")
    assert form is not None
    fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    supplier = form.select_one('input[name="supplier"]')["value"]  # type: ignore[index]
    assert client.post("/diagnose/start", data={**fields, "supplier": supplier}).status_code == 303
    return latest_reference(client.cookies.get(ownership.COOKIE))


def words(element: Tag) -> str:
    """The text as a reader sees it: whitespace in the markup is one space."""
    return " ".join(element.get_text().split())


def hhmm(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).astimezone(AMSTERDAM).strftime("%H:%M")


# ── the code and the way back before the broker ──


def test_the_chooser_shows_the_code_the_test_gets_and_the_way_back(client: TestClient, settings: Settings) -> None:
    page = soup(client.get("/diagnose"))
    note = page.select_one("form.chooser .come-back")
    assert note is not None
    code = note.select_one(".reference-code").get_text()  # type: ignore[union-attr]
    assert words(note) == f"Komt u niet vanzelf terug? Ga dan naar {settings.public_base_url}/terug. Uw code is {code}."
    assert note.select_one("a")["href"] == "/terug"  # type: ignore[index]
    assert start_with(client, page) == code


def test_a_code_the_service_did_not_offer_is_not_taken(client: TestClient) -> None:
    page = soup(client.get("/diagnose"))
    offered = page.select_one('input[name="code"]')
    assert offered is not None
    code = str(offered["value"]).partition(".")[0]
    offered["value"] = "BHP-2345-6789." + str(offered["value"]).partition(".")[2]  # someone else's code, our MAC
    assert start_with(client, page) not in ("BHP-2345-6789", code)


def test_an_offered_code_already_in_use_gives_a_fresh_one(client: TestClient) -> None:
    page = soup(client.get("/diagnose"))
    first = start_with(client, page)
    again = start_with(client, page)  # the same form sent twice (a double click, or back and send again)
    assert again != first
    assert client.get(f"/api/v1/diagnose/{again}").status_code == 200


# ── the banner on service pages, without JavaScript ──


def test_an_open_test_shows_the_banner_on_every_service_page(
    client: TestClient, settings: Settings, store: Store
) -> None:
    assert banner(client.get("/diagnose")) is None
    ref = start(client)
    created = store.get_session(ref)
    assert created is not None
    for path in ("/diagnose", "/beheerder-kaart", "/beheer/certificaten", "/diagnose/BHP-2345-6789", "/servicedesk"):
        response = client.get(path, headers=HTML, follow_redirects=True)
        shown = banner(response)
        assert shown is not None, path
        assert shown["role"] == "status"
        assert words(shown) == f"Uw inlogtest van {hhmm(created.created_at)} is niet afgerond. Vertel ons wat u zag."
        assert shown.select_one("a")["href"] == f"/diagnose/{ref}#vraag"  # type: ignore[index]
    # Not on the test's own page: the question is right there.
    assert banner(client.get(f"/diagnose/{ref}")) is None


def test_no_banner_for_another_browser(client: TestClient) -> None:
    start(client)
    mine = client.cookies.get(ownership.COOKIE)
    client.cookies.clear()
    assert banner(client.get("/diagnose")) is None
    assert client.get("/api/v1/open-test").json() is None
    # A cookie that names the test without our MAC is no proof.
    client.cookies.set(ownership.COOKIE, latest_reference(mine) + ".vervalst")
    assert banner(client.get("/diagnose")) is None
    assert client.get("/api/v1/open-test").json() is None


def test_the_banner_is_gone_once_answered(client: TestClient) -> None:
    ref = start(client)
    assert client.post(f"/diagnose/{ref}/antwoord", data={"antwoord": "geen-machtiging"}).status_code == 303
    assert banner(client.get("/diagnose")) is None
    assert client.get("/api/v1/open-test").json() is None


def test_a_test_that_came_back_has_no_banner(client: TestClient, store: Store) -> None:
    ref = start(client)
    store.finish_session(ref, Verdict(verdict="ok", diagnosis=None, checks=[]))
    assert banner(client.get("/diagnose")) is None


def test_a_test_past_the_timeout_is_still_open(client: TestClient, settings: Settings, store: Store) -> None:
    # The main case: no machtiging, so the broker never answers and the test becomes no-response.
    ref = start(client)
    created = store.get_session(ref)
    assert created is not None
    store.expire_stale(settings.no_response_timeout_seconds, created.created_at + timedelta(hours=1))
    assert banner(client.get("/diagnose")) is not None


def test_the_help_site_asks_for_the_banner_as_json(client: TestClient, store: Store) -> None:
    assert client.get("/api/v1/open-test").json() is None
    ref = start(client)
    created = store.get_session(ref)
    assert created is not None
    response = client.get("/api/v1/open-test")
    assert response.headers["cache-control"] == "no-store"
    time = hhmm(created.created_at)
    assert response.json() == {
        "time": time,
        "text": f"Uw inlogtest van {time} is niet afgerond.",
        "link_text": "Vertel ons wat u zag",
        "url": f"/diagnose/{ref}#vraag",
    }


def test_starting_a_test_leaves_a_hint_the_help_site_may_read_and_nothing_else(client: TestClient) -> None:
    # The help site's script asks for the banner only when this cookie is there (a visitor who never tested
    # makes no request but the HTML's); it is readable by the script, so it must not say which test.
    assert ownership.HINT_COOKIE not in client.cookies
    form = soup(client.get("/diagnose")).select_one("form.chooser")
    assert form is not None
    fields = {field["name"]: field["value"] for field in form.select("input")}
    response = client.post("/diagnose/start", data=fields, follow_redirects=False)
    assert response.status_code == 303
    cookies = {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}
    assert cookies[ownership.HINT_COOKIE].startswith(f"{ownership.HINT_COOKIE}=1;")
    assert "httponly" not in cookies[ownership.HINT_COOKIE].lower()
    assert "httponly" in cookies[ownership.COOKIE].lower()


def test_only_the_latest_test_counts_and_not_after_a_day(settings: Settings, store: Store) -> None:
    older = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    newer = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    now = newer.created_at.replace(tzinfo=UTC)
    found = ownership.open_test(settings, store, [older.reference, newer.reference], now)
    assert found is not None and found.reference == newer.reference
    store.finish_session(newer.reference, Verdict(verdict="ok", diagnosis=None, checks=[]))
    # A newer test that came back: the older one is not asked about any more.
    assert ownership.open_test(settings, store, [older.reference, newer.reference], now) is None
    assert ownership.open_test(settings, store, [older.reference], now) is not None
    assert ownership.open_test(settings, store, [older.reference], now + timedelta(hours=25)) is None


def test_a_test_from_the_day_before_says_so(settings: Settings, store: Store) -> None:
    evening = datetime(2026, 12, 5, 19, 19, tzinfo=UTC)  # 20:19 in Amsterdam (winter time)
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None, now=evening)
    found = ownership.open_test(settings, store, [session.reference], evening + timedelta(hours=1))
    assert found is not None and found.text == "Uw inlogtest van 20:19 is niet afgerond."
    found = ownership.open_test(settings, store, [session.reference], evening + timedelta(hours=5))
    assert found is not None and found.text == "Uw inlogtest van gisteren 20:19 is niet afgerond."


# ── /terug ──


def test_terug_leads_to_the_open_test(client: TestClient) -> None:
    ref = start(client)
    response = client.get("/terug")
    assert response.status_code == 303
    assert response.headers["location"] == f"/diagnose/{ref}#vraag"
    assert response.headers["cache-control"] == "no-store"


def test_terug_without_an_open_test_says_what_to_do(client: TestClient) -> None:
    response = client.get("/terug")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = soup(response)
    assert page.select_one("h1").get_text() == "Geen open inlogtest"  # type: ignore[union-attr]
    assert page.find("h2", string="Wat kunt u doen?") is not None
    assert page.find("a", string="uitslag van uw laatste inlogtest") is None
    ref = start(client)
    client.post(f"/diagnose/{ref}/antwoord", data={"antwoord": "geen-machtiging"})
    page = soup(client.get("/terug"))
    assert page.find("a", string="uitslag van uw laatste inlogtest")["href"] == f"/diagnose/{ref}"  # type: ignore[index]


def test_a_database_that_does_not_answer_costs_the_banner_not_the_page(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(client)

    def broken(*args: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(ownership, "open_test", broken)
    response = client.get("/beheerder-kaart")
    assert response.status_code == 200 and banner(response) is None


def test_only_service_pages_look_the_test_up(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Help pages (their banner comes from roundtrip.js), files and the API cost no database read for the banner."""
    start(client)
    calls: list[object] = []
    looked_up = ownership.open_test

    def counted(*args: Any) -> ownership.OpenTest | None:
        calls.append(args)
        return looked_up(*args)

    monkeypatch.setattr(ownership, "open_test", counted)
    for path in ("/", "/eherkenning/", "/assets/stylesheets/roundtrip.css", "/static/service.css", "/api/v1/suppliers"):
        client.get(path, headers=HTML)
    assert calls == []
    assert banner(client.get("/beheerder-kaart")) is not None
    assert len(calls) == 1
