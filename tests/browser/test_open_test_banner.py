"""No dead end after the broker, in Chromium: the code and /terug on the chooser, the banner "Uw inlogtest van
20:19 is niet afgerond" on help pages (also after Material's instant navigation) and on service pages (also
without JavaScript), only in the browser that started the test, gone once answered; axe clean at 1280 and 320 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from diagnostics import ownership
from tests.browser.pages import SiteServer, axe_report, site_server

pytestmark = pytest.mark.browser

BANNER_TEXT = re.compile(r"^Uw inlogtest van \d\d:\d\d is niet afgerond\. Vertel ons wat u zag\.$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[SiteServer]:
    with site_server(tmp_path_factory.mktemp("open-test"), built_site_dir) as running:
        yield running


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    width: int = getattr(request, "param", 1280)
    opened = browser.new_context(viewport={"width": width, "height": 720})
    yield opened
    opened.close()


def banner(page: Page) -> Locator:
    return page.get_by_role("status").filter(has_text="is niet afgerond")


def start_a_test(page: Page, site: SiteServer) -> str:
    """Start a test on the chooser and stay at the broker (the simulator's login screen), as a user without a
    machtiging does; the code the chooser showed before "Verder"."""
    page.goto(f"{site.url}/diagnose")
    form = page.locator("form.chooser").first
    note = form.locator(".come-back")
    expect(note).to_contain_text(f"Komt u niet vanzelf terug? Ga dan naar {site.url}/terug.")
    expect(note.get_by_role("link", name=f"{site.url}/terug")).to_have_attribute("href", "/terug")
    code = form.locator(".reference-code").inner_text()
    form.locator('input[name="supplier"]').first.check()
    form.get_by_role("button", name="Verder").click()
    page.wait_for_url(re.compile(r"/simulator/"))
    return code


def assert_no_banner(page: Page, help_page: str, service_page: str) -> None:
    """The help page asks and is told "no open test"; the service page has no banner at all."""
    with page.expect_response("**/api/v1/open-test") as asked:
        page.goto(help_page)
    assert asked.value.json() is None
    expect(page.locator("[data-inloghulp-open-test]")).to_be_empty()
    page.goto(service_page)
    expect(page.locator("[data-inloghulp-open-test]")).to_have_count(0)


def assert_axe_clean(page: Page) -> None:
    report = axe_report(page)
    assert report is None, report


@pytest.mark.parametrize("context", [1280, 320], indirect=True, ids=["1280px", "320px"])
def test_the_banner_follows_instant_navigation_and_is_gone_once_answered(
    context: BrowserContext, site: SiteServer
) -> None:
    page = context.new_page()
    code = start_a_test(page, site)
    page.goto(f"{site.url}/")
    page.wait_for_load_state("networkidle")  # Material reads the sitemap before it takes over a click
    expect(banner(page)).to_have_text(BANNER_TEXT)
    expect(banner(page).get_by_role("link", name="Vertel ons wat u zag")).to_have_attribute(
        "href", f"/diagnose/{code}#vraag"
    )
    assert_axe_clean(page)

    # Instant navigation: the next page comes into the same document, and its banner is filled in again.
    page.evaluate("window.__sameDocument = true")
    page.locator("article").get_by_role("link", name="Wachtwoord vergeten").first.click()
    page.wait_for_url("**/wachtwoord-vergeten/")
    expect(banner(page)).to_have_text(BANNER_TEXT)
    assert page.evaluate("window.__sameDocument === true"), "the click loaded a new document"
    expect(page.locator("[data-inloghulp-open-test]")).to_have_count(1)
    # Announced, not focused: the focus stays where the reader is.
    assert page.evaluate("!document.activeElement.closest('[data-inloghulp-open-test]')")
    assert_axe_clean(page)

    # The way back, then "Wat zag u?": after the answer no page mentions the test any more.
    banner(page).get_by_role("link", name="Vertel ons wat u zag").click()
    expect(page.get_by_role("heading", name="Wat zag u bij uw eHerkenningsmakelaar?")).to_be_visible()
    expect(banner(page)).to_have_count(0)  # not on the test's own page: the question is right there
    page.locator('input[name="antwoord"]').first.check()
    page.locator("#vraag button[type=submit]").click()
    expect(page.locator("#uitslag-kop")).to_contain_text("Geen machtiging")
    assert_no_banner(page, f"{site.url}/wachtwoord-vergeten/", f"{site.url}/beheerder-kaart")


@pytest.mark.parametrize("width", [1280, 320], ids=["1280px", "320px"])
def test_service_pages_show_the_banner_without_javascript(browser: Browser, site: SiteServer, width: int) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 720})
    try:
        page = context.new_page()
        code = start_a_test(page, site)
        for path in ("/diagnose", "/beheerder-kaart", "/diagnose/BHP-2345-6789"):
            page.goto(f"{site.url}{path}")
            expect(banner(page)).to_have_text(BANNER_TEXT)
            link = banner(page).get_by_role("link", name="Vertel ons wat u zag")
            expect(link).to_have_attribute("href", f"/diagnose/{code}#vraag")
        # axe needs scripts in the page: the same server-rendered banner, measured with JavaScript on.
        measured = browser.new_context(viewport={"width": width, "height": 720}, storage_state=context.storage_state())
        try:
            with_js = measured.new_page()
            for path in ("/diagnose", "/beheerder-kaart"):  # the chooser also has the code and /terug
                with_js.goto(f"{site.url}{path}")
                expect(banner(with_js)).to_have_text(BANNER_TEXT)
                assert_axe_clean(with_js)
                assert with_js.evaluate("document.documentElement.scrollWidth") <= width, f"{path} scrolls sideways"
        finally:
            measured.close()
        # /terug, typed in from memory, leads to the question.
        page.goto(f"{site.url}/terug")
        expect(page).to_have_url(re.compile(rf"/diagnose/{code}#vraag$"))
        expect(page.get_by_role("heading", name="Wat zag u bij uw eHerkenningsmakelaar?")).to_be_visible()
    finally:
        context.close()


def test_no_banner_in_another_browser(browser: Browser, site: SiteServer) -> None:
    starter = browser.new_context()
    other = browser.new_context()
    try:
        start_a_test(starter.new_page(), site)
        # The other browser has started a test of its own once (the script asks only then), not this one.
        other.add_cookies([{"name": ownership.HINT_COOKIE, "value": "1", "url": site.url}])
        page = other.new_page()
        assert_no_banner(page, f"{site.url}/", f"{site.url}/diagnose")
        page.goto(f"{site.url}/terug")
        expect(page.get_by_role("heading", name="Geen open inlogtest", level=1)).to_be_visible()
        assert_axe_clean(page)
    finally:
        starter.close()
        other.close()
