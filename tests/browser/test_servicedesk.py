"""The servicedesk console in Chromium: keyboard-only login and lookup, paste box, axe clean on every page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from diagnostics.catalogue import load_catalogue
from diagnostics.servicedesk import accounts
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.responses import issue
from diagnostics.store import Store
from tests.browser.pages import settled
from tests.helpers.verdicts import checked

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
USER, PASSWORD = "bert.servicedesk", "een lang en geheim wachtwoord"

pytestmark = pytest.mark.browser


def assert_axe_clean(page: Page) -> None:
    settled(page)
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert result.violations_count == 0, f"{page.url}\n{result.generate_report()}"


@pytest.fixture
def console(live_server: Callable[..., Any], open_store: Callable[[str], Store]) -> tuple[str, Settings]:
    server = live_server()
    config = Path(server.process.args[server.process.args.index("--config") + 1])
    # The server runs with its own public URL (the ACS address in the answers depends on it).
    settings = load_settings(config).model_copy(update={"public_base_url": server.url})
    accounts.create_user(open_store(settings.database_url).engine, USER, PASSWORD)
    return server.url, settings


def test_keyboard_only_login_lookup_and_paste(
    page: Page, console: tuple[str, Settings], open_store: Callable[[str], Store]
) -> None:
    url, settings = console
    store = open_store(settings.database_url)
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_browser-1")
    store.finish_session(
        session.reference,
        checked(settings, issue(settings, "loa-too-low", request_id="_browser-1")),
    )

    page.goto(f"{url}/servicedesk")
    assert "/servicedesk/login" in page.url
    assert_axe_clean(page)
    # Past the skip link and the site's header, tabs and search (the frame of every page) to the form.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "name":
            break
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type(USER)
    page.keyboard.press("Tab")
    page.keyboard.type("verkeerd wachtwoord")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("De naam of het wachtwoord klopt niet")
    expect(page.locator("#name")).to_have_value(USER)
    assert_axe_clean(page)
    page.locator("#password").focus()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Servicedeskconsole")
    assert_axe_clean(page)

    page.locator("#code").focus()
    page.keyboard.type(session.reference.lower())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Inlogtest {session.reference}")
    entry = load_catalogue().entry("loa-too-low")
    expect(page.locator("#reply-text")).to_have_value(f"{entry.reply}\n\nReferentiecode: {session.reference}")
    assert_axe_clean(page)

    page.goto(f"{url}/servicedesk")
    page.locator("#message").fill(issue(settings, "expired", request_id="_browser-2").decode())
    page.get_by_role("button", name="Controleer het bericht").click()
    expect(page.get_by_role("heading", name="Uitkomst: Niet gelukt")).to_be_visible()
    expect(page.get_by_text(load_catalogue().entry("expired").title).first).to_be_visible()
    assert_axe_clean(page)
    page.get_by_role("button", name="Bewaar onder referentie").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inlogtest BHP-")
    assert_axe_clean(page)

    page.goto(f"{url}/servicedesk/logboek")
    expect(page.locator("table")).to_contain_text(session.reference)
    assert_axe_clean(page)


def _log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/servicedesk/login")
    page.locator("#name").fill(USER)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Servicedeskconsole")


def test_copy_button_copies_the_ticket_reply_and_the_page_stays_axe_clean(
    browser: Browser, console: tuple[str, Settings], open_store: Callable[[str], Store]
) -> None:
    url, settings = console
    store = open_store(settings.database_url)
    for scenario in ("loa-too-low", "expired"):
        finished = store.create_session(broker_id="simulator", supplier_id=None, request_id=f"_copy-{scenario}")
        verdict = issue(settings, scenario, request_id=f"_copy-{scenario}").decode()
        store.finish_session(finished.reference, checked(settings, verdict))
    answered = store.create_session(broker_id="simulator", supplier_id=None, request_id="_copy-answered")
    store.answer_no_response(answered.reference, "geen-machtiging", "no-authorisation")
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    _log_in(page, url)
    expect(page.locator("svg.chart").first).to_contain_text(load_catalogue().entry("expired").title)
    assert_axe_clean(page)  # the chart with Dutch titles
    for reference in (finished.reference, answered.reference):
        page.goto(f"{url}/servicedesk/referentie/{reference}")
        button = page.get_by_role("button", name="Kopieer het antwoord")
        button.click()
        expect(page.locator("[data-copy-status]")).to_have_text("Het antwoord is gekopieerd.")
        assert page.evaluate("navigator.clipboard.readText()") == page.locator("#reply-text").input_value()
        assert_axe_clean(page)
    context.close()


def test_without_javascript_the_reply_is_a_selectable_text(
    browser: Browser, console: tuple[str, Settings], open_store: Callable[[str], Store]
) -> None:
    url, settings = console
    store = open_store(settings.database_url)
    answered = store.create_session(broker_id="simulator", supplier_id=None, request_id="_nojs-answered")
    store.answer_no_response(answered.reference, "geen-machtiging", "no-authorisation")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _log_in(page, url)
    page.goto(f"{url}/servicedesk/referentie/{answered.reference}")
    expect(page.get_by_role("button", name="Kopieer het antwoord")).to_have_count(0)
    expect(page.locator("#reply-text")).to_have_attribute("readonly", "")
    expect(page.locator("#reply-text")).to_contain_text(f"Referentiecode: {answered.reference}")
    context.close()  # no axe here: it runs as a script, which this context does not allow
