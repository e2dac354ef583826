"""The site's widgets however a page is reached: start at "/" and only click, so Material's instant navigation
brings each page into the same document, under the server's strict Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from diagnostics import wizard
from diagnostics.catalogue import load_catalogue
from tests.browser.pages import WCAG, SiteServer, settled, site_server

pytestmark = pytest.mark.browser

# Every CSP violation of the document (it lives on across instant navigation, like the page's window).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[SiteServer]:
    with site_server(tmp_path_factory.mktemp("instant"), built_site_dir) as running:
        yield running


def open_start_page(context: BrowserContext, site: SiteServer) -> Page:
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{site.url}/")
    # Material reads the sitemap before it takes over a click.
    page.wait_for_load_state("networkidle")
    page.evaluate("window.__sameDocument = true")
    return page


def assert_same_document(page: Page) -> None:
    """The click was Material's instant navigation, not a new page load (which would lose the marker)."""
    assert page.evaluate("window.__sameDocument === true"), f"{page.url} was loaded as a new document"
    assert page.evaluate("window.__cspViolations") == []


def click_nav(page: Page, section: str, link: str, *, drawer: bool) -> None:
    """Follow the site navigation: the tabs and sidebar on a wide screen, the menu drawer on a phone."""
    if drawer:
        page.locator("label.md-header__button[for=__drawer]").click()
        nav = page.locator(".md-nav--primary")
        nav.locator("label.md-nav__link", has_text=section).click()
        nav.get_by_role("link", name=link, exact=True).click()
    else:
        page.locator(".md-tabs").get_by_role("link", name=section, exact=True).click()
        page.locator(".md-nav--primary").get_by_role("link", name=link, exact=True).click()


def top_of(page: Page, selector: str) -> float:
    top: float = page.locator(selector).evaluate("(el) => el.getBoundingClientRect().top")
    return top


@pytest.mark.parametrize(("width", "drawer"), [(1280, False), (320, True)])
def test_wizard_works_after_instant_navigation_and_shows_each_step_below_the_header(
    browser: Browser, site: SiteServer, width: int, drawer: bool
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 600})
    try:
        page = open_start_page(context, site)
        click_nav(page, "Medewerkers", "Inloggen lukt niet", drawer=drawer)
        page.wait_for_url("**/inloggen-lukt-niet/")
        widget = page.locator(".ih-wizard__widget")
        expect(widget).to_be_visible()
        assert_same_document(page)

        title = widget.locator(".ih-wizard__title")
        widget.get_by_role("button", name=wizard.METHODS[0].label).click()
        expect(title).to_have_text("Stap 2 van 3: Wat ziet u?")
        # The reader has scrolled on: the step's heading is just under the sticky header, its buttons in sight.
        page.evaluate("window.scrollBy(0, document.querySelector('.ih-wizard__title').getBoundingClientRect().top)")
        header_bottom = page.locator(".md-header").evaluate("(el) => el.getBoundingClientRect().bottom")
        assert top_of(page, ".ih-wizard__title") < header_bottom
        symptom = wizard.METHODS[0].symptoms[0]
        choice = widget.get_by_role("button", name=symptom.label, exact=True)
        expect(choice).to_be_in_viewport()
        choice.click()
        entry = load_catalogue().entry(symptom.entry)
        expect(title).to_have_text(f"Stap 3 van 3: {entry.title}")
        expect(widget.locator(".ih-wizard__panel")).to_be_focused()
        # The focused step starts with its heading in sight, not under the header.
        assert header_bottom <= top_of(page, ".ih-wizard__title") < page.viewport_size["height"] / 2  # type: ignore[index]
        expect(widget).to_contain_text(entry.who_label)
        settled(page)
        result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        assert result.violations_count == 0, result.generate_report()
        assert_same_document(page)
    finally:
        context.close()


def test_card_feedback_test_widget_and_tables_work_after_instant_navigation(browser: Browser, site: SiteServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = open_start_page(context, site)
        page.locator(".md-tabs").get_by_role("link", name="eHerkenningsbeheerders", exact=True).click()
        page.wait_for_url("**/beheerder/")
        card = page.locator("[data-bhk-card]")
        expect(card.locator("button.bhk-copy").first).to_be_visible()
        feedback = page.locator("form[name=feedback]")
        expect(feedback).to_be_visible()
        with page.expect_response("**/api/v1/feedback") as answer:
            feedback.get_by_role("button", name="Ja, deze pagina was nuttig").click()
        assert answer.value.status == 201
        assert answer.value.json() == {"page": "/beheerder/", "rating": 1}
        assert_same_document(page)

        page.locator(".md-tabs").get_by_role("link", name="Medewerkers", exact=True).click()
        page.wait_for_url("**/eherkenning/")
        expect(page.locator(".inloghulp-roundtrip__widget")).to_be_visible()
        page.locator(".md-nav--primary").get_by_role("link", name="Welke inlogmethode kiest u?", exact=True).click()
        page.wait_for_url("**/welke-inlogmethode/")
        table_box = page.locator(".md-typeset__scrollwrap").first
        expect(table_box).to_have_attribute("tabindex", "0")
        expect(table_box).to_have_attribute("role", "region")
        assert_same_document(page)
    finally:
        context.close()
