"""The error pages say how long to wait in words, from the Retry-After the response really carries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup
from fastapi import HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from diagnostics.app import create_app
from diagnostics.localtime import duration_words
from diagnostics.settings import Settings, load_settings
from diagnostics.store import Store
from tests.helpers.ownership import own

HTML = {"accept": "text/html"}


def text_of(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ", strip=True)


def failing_client(app_client: Callable[..., TestClient], settings: Settings, error: Exception) -> TestClient:
    app = create_app(settings)

    async def fail() -> None:
        raise error

    app.add_api_route("/faalt", fail)
    # Before the help site's mount at "/", which answers every path it reaches.
    app.router.routes.insert(0, app.router.routes.pop())
    return app_client(app, base_url=settings.public_base_url, raise_server_exceptions=False)


def test_the_429_page_says_the_wait_in_words(app_client: Callable[..., TestClient], settings: Settings) -> None:
    client = failing_client(app_client, settings, HTTPException(429, headers={"Retry-After": "125"}))
    response = client.get("/faalt", headers=HTML)
    assert response.status_code == 429 and response.headers["retry-after"] == "125"
    text = text_of(response.text)
    assert "Wacht 2 minuten en 5 seconden. Probeer het daarna opnieuw." in text
    assert "125" not in text and "per minuut" not in text


def test_the_limiters_own_retry_after_reaches_the_page(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path]
) -> None:
    # A window of an hour: the wait is minutes long, which the page used to give as thousands of seconds.
    client = app_client(load_settings(write_config({"rate_limits": {"login": 1, "window_seconds": 3600}})))
    client.post("/servicedesk/login", data={"name": "a", "password": "b"}, headers=HTML)
    response = client.post("/servicedesk/login", data={"name": "a", "password": "b"}, headers=HTML)
    assert response.status_code == 429
    assert f"Wacht {duration_words(int(response.headers['retry-after']))}." in text_of(response.text)


def test_the_database_503_says_the_wait_in_words_and_has_no_unsourced_time(
    app_client: Callable[..., TestClient], settings: Settings
) -> None:
    locked = sa_exc.OperationalError("SELECT 1", {}, Exception("database is locked"))
    response = failing_client(app_client, settings, locked).get("/faalt", headers=HTML)
    assert response.status_code == 503
    text = text_of(response.text)
    assert f"Probeer het over {duration_words(int(response.headers['retry-after']))} opnieuw." in text
    assert "kwartier" not in text and "locked" not in text


def test_the_error_pages_say_u_hebt_throughout(app_client: Callable[..., TestClient], settings: Settings) -> None:
    for error in (HTTPException(429), HTTPException(413), RuntimeError("stuk")):
        text = text_of(failing_client(app_client, settings, error).get("/faalt", headers=HTML).text)
        # One form of "u hebben" on every page (the 500 and 429 said "u net heeft verstuurd", the 503 "hebt").
        assert "hebt" in text and not re.search(r"\bu( net)? heeft\b|heeft (verstuurd|geplakt)", text), error


def test_a_bad_answer_gets_the_routes_own_reason_not_the_heading_twice(
    app_client: Callable[..., TestClient], settings: Settings, open_store: Callable[[str], Store]
) -> None:
    session = open_store(settings.database_url).create_session(broker_id="simulator", supplier_id=None, request_id=None)
    client = app_client(settings)
    own(client, settings, session.reference)
    response = client.post(f"/diagnose/{session.reference}/antwoord", data={"antwoord": "iets"}, headers=HTML)
    assert response.status_code == 400
    page = BeautifulSoup(response.text, "html.parser")
    heading = page.select_one("h1")
    assert heading is not None and heading.get_text() == "Dit verzoek kunnen wij niet verwerken"
    reason = heading.find_next_sibling("p")
    assert reason is not None and reason.get_text() == "Kies een van de antwoorden."


def test_an_english_reason_from_the_form_parser_stays_off_the_page(
    app_client: Callable[..., TestClient], settings: Settings
) -> None:
    # A form field above Starlette's 1 MB part limit (the body itself is under the app's limit): the parser
    # answers 400 with "Field exceeded maximum size of 1024KB.", English, which the page showed as the reason.
    client = app_client(settings)
    field = ("", "x" * (1024 * 1024 + 10), "text/plain")
    page = client.post("/diagnose/start", files={"broker": field}, headers=HTML)
    assert page.status_code == 400
    text = text_of(page.text)
    assert "De gegevens in dit verzoek passen niet bij deze pagina." in text
    assert "exceeded" not in text and "Field" not in text
    # The JSON answer keeps the parser's words for a developer.
    answer = client.post("/diagnose/start", files={"broker": field})
    assert answer.status_code == 400 and "exceeded" in answer.json()["error"]["detail"]
