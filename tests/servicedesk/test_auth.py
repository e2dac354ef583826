"""Console login: redirects, argon2 accounts, the lockout (atomic, per account and address, and per account
for unknown addresses), CSRF, cookie flags."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from diagnostics.app import create_app
from diagnostics.models import ConsoleUser, LoginAttempt
from diagnostics.ratelimit import RateLimiter
from diagnostics.servicedesk import accounts
from diagnostics.servicedesk.web_session import SESSION_COOKIE
from diagnostics.settings import Settings, load_settings
from diagnostics.store import Store
from tests.helpers.console import PASSWORD, USER, csrf_token, login
from tests.helpers.live_server import LiveServer

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


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(
    client: TestClient, store: Store, settings: Settings
) -> None:
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
    # The TestClient's address, as the console hashes it.
    testclient = RateLimiter(store.engine, settings.rate_limits, settings.session_secret).client_key("testclient")
    assert accounts.locked_until(store.engine, USER, testclient) is not None


# ── the lockout itself: budgets per account and address, and per account for unknown addresses ──

HOME, ELSEWHERE = "client-hash-of-the-owners-desk", "client-hash-of-a-guesser"


def window_start() -> datetime:
    """The start of the current lockout window: times in these tests stay inside one window."""
    size = int(accounts.LOCKOUT.total_seconds())
    return datetime.fromtimestamp(int(datetime.now(UTC).timestamp()) // size * size, UTC)


def attempts(store: Store) -> int:
    """Password checks made so far (one LoginAttempt row per check)."""
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(LoginAttempt)) or 0)


def test_lockout_is_in_the_database_and_ends_with_its_window(
    client: TestClient, store: Store, open_store: Callable[[str], Store]
) -> None:
    start = window_start()
    for _ in range(accounts.MAX_FAILURES):
        assert accounts.authenticate(store.engine, USER, "nope", client=HOME, now=start).outcome in {"wrong", "locked"}
    # A second engine on the same database sees the same lock (another worker).
    other = open_store(store.url)
    later = start + accounts.LOCKOUT - timedelta(minutes=1)
    assert accounts.authenticate(other.engine, USER, PASSWORD, client=HOME, now=later).outcome == "locked"
    after = start + accounts.LOCKOUT + timedelta(seconds=1)
    assert accounts.authenticate(other.engine, USER, PASSWORD, client=HOME, now=after).outcome == "ok"
    other.close()


def test_a_locked_name_is_refused_without_checking_the_password(client: TestClient, store: Store) -> None:
    start = window_start()
    for _ in range(accounts.MAX_FAILURES):
        accounts.authenticate(store.engine, USER, "nope", client=HOME, now=start)
    checked = attempts(store)
    result = accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=start + timedelta(seconds=1))
    assert (result.outcome, result.locked_until) == ("locked", start + accounts.LOCKOUT)
    assert attempts(store) == checked == accounts.MAX_FAILURES


def test_four_failures_then_success_resets_the_count(client: TestClient, store: Store) -> None:
    now = window_start()
    for _ in range(accounts.MAX_FAILURES - 1):
        assert accounts.authenticate(store.engine, USER, "nope", client=HOME, now=now).outcome == "wrong"
    assert (
        accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=now + timedelta(seconds=1)).outcome == "ok"
    )
    result = accounts.authenticate(store.engine, USER, "nope", client=HOME, now=now + timedelta(seconds=2))
    assert result.outcome == "wrong"


def test_unknown_names_are_counted_like_known_ones(client: TestClient, store: Store) -> None:
    now = window_start()
    outcomes = [accounts.authenticate(store.engine, "nobody", "x", client=HOME, now=now).outcome for _ in range(6)]
    assert outcomes[:4] == ["wrong"] * 4
    assert outcomes[4:] == ["locked", "locked"]


def test_a_guesser_elsewhere_locks_only_their_own_address(client: TestClient, store: Store) -> None:
    now = window_start()
    outcomes = [accounts.authenticate(store.engine, USER, "guess", client=ELSEWHERE, now=now).outcome for _ in range(7)]
    assert outcomes[-2:] == ["locked", "locked"]
    # The owner, who has never logged in before, still gets in from another address.
    assert accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=now).outcome == "ok"


def test_guessing_from_many_addresses_slows_the_account_but_never_locks_the_owners_address(
    client: TestClient, store: Store
) -> None:
    now = window_start()
    assert accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=now).outcome == "ok"
    guessers = [f"guesser-{number}" for number in range(10)]
    for guesser in guessers:
        for _ in range(accounts.MAX_FAILURES):
            accounts.authenticate(store.engine, USER, "guess", client=guesser, now=now)
    # However many addresses guessed, the account-wide budget was checked, no more (the owner's first
    # login took one unit of it too: their address was not known yet).
    assert attempts(store) == accounts.ACCOUNT_BUDGET
    # A new address, even with the right password, waits for the next window: that is the slowdown.
    newcomer = accounts.authenticate(store.engine, USER, PASSWORD, client="a-new-address", now=now)
    assert newcomer.outcome == "locked"
    # The owner's own address, where they logged in before, keeps its own budget.
    assert accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=now).outcome == "ok"
    for _ in range(accounts.MAX_FAILURES):
        accounts.authenticate(store.engine, USER, "typo", client=HOME, now=now)
    # Even the owner's address has its limit: their own typos lock it like any other.
    assert accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=now).outcome == "locked"


def test_an_address_is_known_only_for_a_while(client: TestClient, store: Store) -> None:
    now = window_start()
    assert accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=now).outcome == "ok"
    much_later = now + accounts.KNOWN_FOR + accounts.LOCKOUT
    for number in range(accounts.ACCOUNT_BUDGET):
        accounts.authenticate(store.engine, USER, "guess", client=f"guesser-{number}", now=much_later)
    assert accounts.authenticate(store.engine, USER, PASSWORD, client=HOME, now=much_later).outcome == "locked"


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


def test_cookies_are_secure_when_the_public_url_is_https(
    write_config: Any, sp_keypair: Any, open_store: Callable[[str], Store]
) -> None:
    settings = load_settings(write_config({"public_base_url": "https://inloghulp.example.nl"}))
    accounts.create_user(open_store(settings.database_url).engine, USER, PASSWORD)
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


# ── real servers: the lockout holds across workers, and the owner's address stays open ──


def _login_form(client: httpx.Client, password: str) -> dict[str, str]:
    page = client.get("/servicedesk/login")
    return {"name": USER, "password": password, "csrf_token": csrf_token(page.text), "next": "/servicedesk"}


@pytest.fixture
def console_server(
    live_server: Callable[..., LiveServer], write_config: Callable[..., Path], open_store: Callable[[str], Store]
) -> Callable[..., tuple[LiveServer, Store]]:
    """A live console with the test user (cheap argon2 parameters travel in the hash, so the server's
    check is cheap too); the per-address request limit is lifted, so only the lockout decides."""

    def _start(workers: int) -> tuple[LiveServer, Store]:
        overrides = {"rate_limits": {"login": 100_000}}
        store = open_store(load_settings(write_config(overrides)).database_url)
        accounts.create_user(store.engine, USER, PASSWORD)
        return live_server(overrides, workers=workers, env={"INLOGHULP_WORKER_HEADER": "1"}), store

    return _start


@pytest.mark.slow
@pytest.mark.anyio
async def test_thirty_concurrent_guesses_on_two_workers_get_at_most_five_password_checks(
    console_server: Callable[..., tuple[LiveServer, Store]],
) -> None:
    server, store = console_server(2)
    guesses = 29

    # Which worker accepts a new connection is up to the kernel, and one worker may take many in a row.
    # Open connections (each keeps its worker) until both workers hold some, so both race for the budget.
    by_worker: dict[str, list[tuple[httpx.AsyncClient, dict[str, str]]]] = {}
    try:
        for number in range(guesses * 10):
            connection = httpx.AsyncClient(base_url=server.url, timeout=60)
            page = await connection.get("/servicedesk/login")
            form = {"name": USER, "password": f"guess {number}", "csrf_token": csrf_token(page.text)}
            by_worker.setdefault(page.headers["x-worker"], []).append((connection, form))
            if len(by_worker) == 2 and sum(map(len, by_worker.values())) >= guesses:
                break
        assert len(by_worker) == 2, f"every connection went to one worker: {list(by_worker)}"
        first, second = by_worker.values()
        second_share = max(1, guesses - len(first))
        chosen = first[: guesses - second_share] + second[:second_share]
        # All at once, each on its own connection: the two workers race for the same budget.
        answers = await asyncio.gather(
            *(connection.post("/servicedesk/login", data=form) for connection, form in chosen)
        )
    finally:
        for held in by_worker.values():
            for connection, _ in held:
                await connection.aclose()

    # A checked guess that finds the budget used up by the time it is answered says "locked" too.
    assert {answer.status_code for answer in answers} <= {401, 429}
    assert sum(answer.status_code == 429 for answer in answers) >= guesses - accounts.MAX_FAILURES
    assert len({answer.headers["x-worker"] for answer in answers}) == 2  # both workers answered guesses
    assert attempts(store) == accounts.MAX_FAILURES  # checked: 5 of 29
    # The right password, after the lock: refused, and not even checked.
    with httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post("/servicedesk/login", data=_login_form(client, PASSWORD), follow_redirects=False)
    assert answer.status_code == 429 and "te vaak een verkeerd wachtwoord" in answer.text
    assert attempts(store) == accounts.MAX_FAILURES


@pytest.mark.slow
def test_guessers_at_other_addresses_cannot_lock_the_owner_out(
    console_server: Callable[..., tuple[LiveServer, Store]],
) -> None:
    """The README's owner path, over real connections from different loopback addresses."""
    server, _ = console_server(1)

    def login_from(address: str, password: str) -> int:
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=server.url, transport=transport, timeout=60) as client:
            return client.post(
                "/servicedesk/login", data=_login_form(client, password), follow_redirects=False
            ).status_code

    owner = "127.0.0.1"
    assert login_from(owner, PASSWORD) == 303
    # Guessers at three other addresses: each locks itself after five tries.
    for guesser in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        answers = [login_from(guesser, "guess") for _ in range(accounts.MAX_FAILURES + 1)]
        assert answers[-1] == 429
    # Together they used up the account-wide budget: a new address waits, even with the right password.
    assert login_from("127.0.0.9", PASSWORD) == 429
    # The owner, at the address where they logged in before, gets in.
    assert login_from(owner, PASSWORD) == 303
