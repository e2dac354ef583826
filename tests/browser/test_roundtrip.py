"""The login test in Chromium: axe on every state, the keyboard-only path, the copy block, the widget."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import RESULT_URL, settled, start_with_scenario
from tests.helpers.live_server import LiveServer
from tests.routes.roundtrip_server import roundtrip_server

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TIMEOUT_SECONDS = 1
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[LiveServer]:
    overrides = {"no_response_timeout_seconds": TIMEOUT_SECONDS, "site_dir": str(built_site_dir)}
    with roundtrip_server(tmp_path_factory.mktemp("browser-roundtrip"), overrides) as live:
        yield live


def assert_axe_clean(page: Page) -> None:
    settled(page)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the keyboard focus")


def test_chooser_passes_axe(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/diagnose")
    expect(page.get_by_role("heading", name="Kies uw eHerkenningsmakelaar")).to_be_visible()
    expect(page.locator("#beheerder-kaart")).to_be_visible()
    assert_axe_clean(page)


def test_chooser_without_a_choice_shows_the_error_and_passes_axe(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/diagnose")
    # The browser's own check (required) would stop the form first; the server must handle it as well.
    page.locator("form.chooser").first.evaluate("(f) => f.submit()")
    expect(page).to_have_title(re.compile(r"^Fout: "))
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Kies uw eHerkenningsmakelaar.")).to_be_visible()
    expect(page.get_by_role("radiogroup")).to_have_attribute("aria-invalid", "true")
    assert_axe_clean(page)
    summary.get_by_role("link").click()
    expect(page.locator('input[name="supplier"]').first).to_be_focused()


def test_keyboard_only_from_chooser_to_an_ok_result(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/diagnose")
    tab_to(page, 'input[name="supplier"]')
    page.keyboard.press("Space")
    tab_to(page, "form.chooser button[type=submit]")
    page.keyboard.press("Enter")
    # The simulator's own login screen: its defaults log in successfully.
    page.wait_for_url(re.compile(r"/simulator/"))
    tab_to(page, 'button[value="login"]')
    page.keyboard.press("Enter")
    page.wait_for_url(RESULT_URL)
    expect(page.get_by_role("heading", name="Inloggen met eHerkenning werkt")).to_be_visible()
    steps = page.locator("ol.timeline > li")
    expect(steps).to_have_count(6)
    for index in range(6):
        expect(steps.nth(index)).to_contain_text("Gelukt")
    assert_axe_clean(page)
    # The choice is remembered for the next visit.
    page.goto(f"{server.url}/diagnose")
    expect(page.locator('input[name="supplier"]:checked')).to_have_count(1)


def test_failed_result_explains_and_passes_axe(page: Page, server: LiveServer) -> None:
    start_with_scenario(page, server.url, "loa-too-low")
    page.wait_for_url(RESULT_URL)
    expect(page.locator("#uitslag-kop")).to_contain_text("Inloggen is niet gelukt")
    expect(page.get_by_role("heading", name="Wie moet iets doen?")).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("Mislukt")
    expect(page.locator("ol.checks")).to_contain_text("loa")
    assert_axe_clean(page)


@pytest.mark.parametrize("scenario", ["success-loa2plus", "wrong-audience"])
def test_result_page_fits_a_phone_screen(browser: Browser, server: LiveServer, scenario: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    start_with_scenario(page, server.url, scenario)
    page.wait_for_url(RESULT_URL)
    # Long URNs, addresses and codes wrap instead of widening the page, also with the check trace open.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(".trace summary").click()
    expect(page.locator("ol.checks")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_copy_block_puts_the_servicedesk_text_on_the_clipboard(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    start_with_scenario(page, server.url, "cancelled")
    page.wait_for_url(RESULT_URL)
    reference = page.url.rsplit("/", 1)[1]
    text = page.locator("#kopieer-tekst").input_value()
    assert f"Referentiecode: {reference}" in text
    page.get_by_role("button", name="Kopieer voor de servicedesk").click()
    expect(page.locator(".copy-status")).to_have_text("De tekst staat op het klembord.")
    assert page.evaluate("navigator.clipboard.readText()") == text
    context.close()


def test_no_response_question_passes_axe_and_takes_a_keyboard_answer(page: Page, server: LiveServer) -> None:
    start_with_scenario(page, server.url, "no-authorisation")
    page.wait_for_url(re.compile(r"/simulator/"))
    time.sleep(TIMEOUT_SECONDS + 0.2)  # the configured timeout is 1 s
    page.goto(f"{server.url}/diagnose")
    banner = page.get_by_role("status").filter(has_text="is niet afgerond")
    expect(banner).to_be_visible()
    assert_axe_clean(page)
    banner.get_by_role("link", name="Vertel ons wat u zag").click()
    expect(page.get_by_role("heading", name="Wat zag u bij uw eHerkenningsmakelaar?")).to_be_visible()
    assert_axe_clean(page)
    tab_to(page, 'input[name="antwoord"]')
    page.keyboard.press("Space")  # the first answer: a message about the machtiging
    tab_to(page, "#vraag button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#uitslag-kop")).to_contain_text("Geen machtiging")
    expect(page.get_by_role("heading", name="Wat zag u bij uw eHerkenningsmakelaar?")).to_have_count(0)
    assert_axe_clean(page)


@pytest.fixture(scope="module")
def patient_server(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[LiveServer]:
    """A server with the default timeout (10 minutes): a test stays "waiting" while the page is checked."""
    with roundtrip_server(tmp_path_factory.mktemp("browser-waiting"), {"site_dir": str(built_site_dir)}) as live:
        yield live


def test_back_before_the_timeout_the_question_passes_axe(page: Page, patient_server: LiveServer) -> None:
    start_with_scenario(page, patient_server.url, "no-authorisation")
    page.wait_for_url(re.compile(r"/simulator/"))
    page.goto(f"{patient_server.url}/diagnose")
    banner = page.get_by_role("status").filter(has_text="is niet afgerond")
    expect(banner).to_be_visible()
    assert_axe_clean(page)
    banner.get_by_role("link", name="Vertel ons wat u zag").click()
    expect(page.locator("#uitslag-kop")).to_contain_text("Deze test loopt nog")
    expect(page.get_by_role("heading", name="Wat zag u bij uw eHerkenningsmakelaar?")).to_be_visible()
    assert_axe_clean(page)
    page.locator('input[name="antwoord"]').first.check()
    page.locator("#vraag button[type=submit]").click()
    expect(page.locator("#uitslag-kop")).to_contain_text("Geen machtiging")
    assert_axe_clean(page)


def test_widget_on_the_help_page_starts_a_test(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/eherkenning/")
    widget = page.locator("[data-inloghulp-roundtrip] form")
    expect(widget).to_have_count(1)
    expect(page.locator("[data-inloghulp-roundtrip-link]")).to_be_hidden()
    assert_axe_clean(page)
    # Like the chooser: what to do when the eHerkenningsmakelaar never sends the user back.
    expect(widget.locator(".inloghulp-roundtrip__come-back")).to_contain_text("Komt u niet vanzelf terug?")
    expect(widget.get_by_role("link", name=f"{server.url}/terug")).to_have_attribute("href", "/terug")
    expect(page.locator("[data-inloghulp-open-test]")).to_be_empty()
    widget.locator('input[name="supplier"]').first.check()
    widget.get_by_role("button", name="Test de inlog").click()
    page.wait_for_url(re.compile(r"/simulator/"))
    # Back on the help page by themselves (the broker stopped them): the banner knows the test is open.
    page.goto(f"{server.url}/eherkenning/")
    notice = page.get_by_role("status").filter(has_text="is niet afgerond")
    expect(notice).to_be_visible()
    assert_axe_clean(page)
    notice.get_by_role("link", name="Vertel ons wat u zag").click()
    expect(page.get_by_role("heading", name="Wat zag u bij uw eHerkenningsmakelaar?")).to_be_visible()


def test_help_page_without_javascript_links_to_the_test(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/eherkenning/")
    link = page.locator("[data-inloghulp-roundtrip]").get_by_role("link", name="Test de inlog")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", name="Test de inlog met eHerkenning")).to_be_visible()
    # The whole round trip works without JavaScript; the copy text is then a plain read-only field.
    page.locator('input[name="supplier"]').first.check()
    page.get_by_role("button", name="Verder").click()
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(RESULT_URL)
    expect(page.get_by_role("heading", name="Inloggen met eHerkenning werkt")).to_be_visible()
    expect(page.locator("#kopieer-tekst")).to_have_attribute("readonly", "")
    expect(page.get_by_role("button", name="Kopieer voor de servicedesk")).to_have_count(0)
    context.close()
