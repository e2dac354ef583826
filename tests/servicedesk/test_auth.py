"""Console login: redirects, argon2 accounts, lockout in the database, CSRF, cookie flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.models import ConsoleUser
from diagnostics.servicedesk import accounts
from diagnostics.servicedesk.web_session import SESSION_COOKIE
from diagnostics.settings import load_settings
from diagnostics.store import Store
from tests.servicedesk.conftest import PASSWORD, USER, csrf_token, login

PAGES = ["/servicedesk", "/servicedesk/logboek", "/servicedesk/referentie/BHP-2345-6789"]


@pytest.mark.parametrize("path", PAGES)
def test_unauthenticated_access_redirects_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/servicedesk/login?next={path}"


def test_unauthenticated_post_redirects_to_login(client: TestClient) -> None:
    response = client.post("/servicedesk/zoek", data={"code": "BHP-2345-6789"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/servicedesk/login")


def test_login_sets_a_strict_http_only_cookie_and_opens_the_console(client: TestClient) -> None:
    page = client.get("/servicedesk/login")
    response = client.post(
        "/servicedesk/login",
        data={"name": USER, "password": PASSWORD, "csrf_token": csrf_token(page.text), "next": "/servicedesk/logboek"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/servicedesk/logboek"
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/servicedesk" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    console = client.get("/servicedesk")
    assert console.status_code == 200
    assert USER in console.text


def test_login_redirect_never_leaves_the_console(client: TestClient) -> None:
    page = client.get("/servicedesk/login")
    response = client.post(
        "/servicedesk/login",
        data={"name": USER, "password": PASSWORD, "csrf_token": csrf_token(page.text), "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/servicedesk"


def test_password_is_stored_as_argon2_hash(client: TestClient, store: Store) -> None:
    with store.engine.connect() as connection:
        stored = connection.execute(ConsoleUser.__table__.select()).mappings().one()
    assert stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in stored["password_hash"]


def test_wrong_password_is_refused_and_keeps_the_name(client: TestClient) -> None:
    page = client.get("/servicedesk/login")
    response = client.post(
        "/servicedesk/login",
        data={"name": USER, "password": "wrong password!", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 401
    assert "De naam of het wachtwoord klopt niet" in response.text
    assert f'value="{USER}"' in response.text
    assert client.get("/servicedesk", follow_redirects=False).status_code == 303


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client: TestClient, store: Store) -> None:
    for attempt in range(accounts.MAX_FAILURES):
        page = client.get("/servicedesk/login")
        response = client.post(
            "/servicedesk/login",
            data={"name": USER, "password": f"wrong {attempt}", "csrf_token": csrf_token(page.text)},
        )
    assert response.status_code == 429
    assert "te vaak een verkeerd wachtwoord" in response.text
    page = client.get("/servicedesk/login")
    response = client.post(
        "/servicedesk/login",
        data={"name": USER, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 429
    assert accounts.locked_until(store.engine, USER) is not None


def test_lockout_is_in_the_database_and_ends_after_15_minutes(client: TestClient, store: Store) -> None:
    start = datetime.now(UTC)
    for _ in range(accounts.MAX_FAILURES):
        assert accounts.authenticate(store.engine, USER, "nope", now=start).outcome in {"wrong", "locked"}
    # A second engine on the same database sees the same lock (another worker).
    other = Store(store.url)
    assert accounts.authenticate(other.engine, USER, PASSWORD, now=start + timedelta(minutes=14)).outcome == "locked"
    assert accounts.authenticate(other.engine, USER, PASSWORD, now=start + timedelta(minutes=16)).outcome == "ok"


def test_four_failures_then_success_resets_the_count(client: TestClient, store: Store) -> None:
    now = datetime.now(UTC)
    for _ in range(accounts.MAX_FAILURES - 1):
        assert accounts.authenticate(store.engine, USER, "nope", now=now).outcome == "wrong"
    assert accounts.authenticate(store.engine, USER, PASSWORD, now=now + timedelta(seconds=1)).outcome == "ok"
    result = accounts.authenticate(store.engine, USER, "nope", now=now + timedelta(seconds=2))
    assert result.outcome == "wrong"


def test_unknown_names_are_counted_like_known_ones(client: TestClient, store: Store) -> None:
    now = datetime.now(UTC)
    outcomes = [accounts.authenticate(store.engine, "nobody", "x", now=now).outcome for _ in range(6)]
    assert outcomes[:4] == ["wrong"] * 4
    assert outcomes[4:] == ["locked", "locked"]


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/servicedesk/login")
    response = client.post("/servicedesk/login", data={"name": USER, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 400
    assert "Dit formulier is verlopen" in response.text
    assert client.get("/servicedesk", follow_redirects=False).status_code == 303


def test_forged_csrf_token_is_refused(logged_in: TestClient) -> None:
    response = logged_in.post("/servicedesk/zoek", data={"code": "BHP-2345-6789", "csrf_token": "forged"})
    assert response.status_code == 400


def test_csrf_token_from_another_browser_is_refused(client: TestClient, settings: object) -> None:
    foreign = client.get("/servicedesk/login").text
    client.cookies.clear()
    client.get("/servicedesk/login")  # a new CSRF cookie for this "browser"
    response = client.post(
        "/servicedesk/login", data={"name": USER, "password": PASSWORD, "csrf_token": csrf_token(foreign)}
    )
    assert response.status_code == 400


def test_tampered_session_cookie_is_not_a_login(client: TestClient) -> None:
    login(client)
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/servicedesk", follow_redirects=False).status_code == 200
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value[:-2] + "xx")
    assert client.get("/servicedesk", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_even_for_a_copied_cookie(logged_in: TestClient) -> None:
    copied = logged_in.cookies.get(SESSION_COOKIE)
    assert copied
    page = logged_in.get("/servicedesk")
    response = logged_in.post("/servicedesk/logout", data={"csrf_token": csrf_token(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert logged_in.get("/servicedesk", follow_redirects=False).status_code == 303
    # Someone who copied the cookie before the logout cannot use it afterwards.
    logged_in.cookies.clear()
    logged_in.cookies.set(SESSION_COOKIE, copied)
    assert logged_in.get("/servicedesk", follow_redirects=False).status_code == 303


def test_create_user_refuses_short_passwords_and_duplicates(client: TestClient, store: Store) -> None:
    with pytest.raises(accounts.AccountError, match="minstens"):
        accounts.create_user(store.engine, "bert", "short")
    with pytest.raises(accounts.AccountError, match="al een account"):
        accounts.create_user(store.engine, USER.upper(), "another long password")


def test_cookies_are_secure_when_the_public_url_is_https(write_config: Any, sp_keypair: Any) -> None:
    settings = load_settings(write_config({"public_base_url": "https://inloghulp.example.nl"}))
    accounts.create_user(Store(settings.database_url).engine, USER, PASSWORD)
    with TestClient(create_app(settings), base_url="https://inloghulp.example.nl") as client:
        page = client.get("/servicedesk/login")
        assert all("Secure" in value for value in page.headers.get_list("set-cookie"))
        response = client.post(
            "/servicedesk/login",
            data={"name": USER, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookies = response.headers.get_list("set-cookie")
        assert cookies and all("Secure" in value and "HttpOnly" in value for value in cookies)
