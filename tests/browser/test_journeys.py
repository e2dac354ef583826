"""The four journeys of issue 18, as a person takes them: start at "/", follow only links and buttons, use only
the keyboard (Tab, Shift+Tab, Enter, Space, arrow keys), at 1280 and at 320 CSS px, with axe (WCAG 2.2 AA tags)
clean at every step. Every stop of the focus must be visible (tests/browser/keyboard.py).

1. A medewerker finds the answer through the wizard.
2. A beheerder copies every value of the beheerder card.
3. A test that never comes back; the way back through the banner; "Wat zag u?"; the result.
4. The servicedesk looks up a test's reference code and pastes an artifact-only HAR of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from diagnostics import wizard
from diagnostics.catalogue import load_catalogue
from tests.browser.keyboard import activate, skip_to_content
from tests.browser.pages import SiteServer, add_console_user, axe_report, site_server

pytestmark = pytest.mark.browser

WIDTHS = [pytest.param(1280, id="1280px"), pytest.param(320, id="320px")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[SiteServer]:
    """One server for all journeys (a server per journey would double the module's time)."""
    with site_server(tmp_path_factory.mktemp("journeys"), built_site_dir) as running:
        add_console_user(running.settings)
        yield running


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    width: int = request.node.callspec.params["width"]
    opened = browser.new_context(
        viewport={"width": width, "height": 720}, permissions=["clipboard-read", "clipboard-write"]
    )
    yield opened
    opened.close()


# Resolves once nothing scrolls any more: Material's toc.follow scrolls the table of contents smoothly (no CSS
# animation, so settled() does not wait for it), and axe measuring a half-scrolled sidebar reports its links
# as too small targets (WCAG 2.5.8) while they are only clipped for a moment.
_STILL = """
async () => {
  const where = () => [window.scrollY, ...[...document.querySelectorAll(".md-sidebar__scrollwrap")].map(e => e.scrollTop)].join();
  for (let before = where(), round = 0; round < 30; round++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = where();
    if (now === before) return;
    before = now;
  }
}
"""


def assert_axe_clean(page: Page, step: str) -> None:
    page.evaluate(_STILL)
    report = axe_report(page)
    assert report is None, f"axe at step {step!r} ({page.url}):\n{report}"


def start(context: BrowserContext, site: SiteServer) -> Page:
    """The start page, as typed in the address bar: the only page a journey opens by address."""
    page = context.new_page()
    page.goto(f"{site.url}/")
    # Material reads the sitemap before it takes over a click (instant navigation).
    page.wait_for_load_state("networkidle")
    assert_axe_clean(page, "start page")
    skip_to_content(page)
    return page


def follow(page: Page, name: str, url: str) -> None:
    """Tab on to the link ``name`` in the page's text, press Enter, arrive at ``url`` (Material's instant
    navigation keeps the document: the focus then continues after the header, not at the skip link)."""
    activate(page, page.get_by_role("article").get_by_role("link", name=name, exact=True).first)
    page.wait_for_url(f"**{url}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_medewerker_finds_the_answer_through_the_wizard(
    context: BrowserContext, site: SiteServer, width: int
) -> None:
    page = start(context, site)
    follow(page, "Inloggen lukt niet", "/inloggen-lukt-niet/")
    widget = page.get_by_role("group", name="Inloggen lukt niet: stap voor stap")
    expect(widget).to_be_visible()
    title = widget.locator(".ih-wizard__title")
    expect(title).to_have_text("Stap 1 van 3: Hoe logt u in?")
    assert_axe_clean(page, "wizard step 1")

    method = wizard.METHODS[0]
    activate(page, widget.get_by_role("button", name=method.label, exact=True))
    expect(title).to_have_text("Stap 2 van 3: Wat ziet u?")
    assert_axe_clean(page, "wizard step 2")

    symptom = next(s for s in method.symptoms if s.entry == "no-authorisation")
    activate(page, widget.get_by_role("button", name=symptom.label, exact=True))
    entry = load_catalogue().entry(symptom.entry)
    expect(title).to_have_text(f"Stap 3 van 3: {entry.title}")
    expect(widget).to_contain_text(entry.who_label)
    expect(widget).to_contain_text(entry.steps.medewerker)
    assert_axe_clean(page, "wizard step 3")

    # The answer in full: the catalogue entry on the same page, its heading in sight below the header.
    activate(page, widget.get_by_role("link", name=f"Lees alles over: {entry.title}", exact=True))
    page.wait_for_url(f"**#{symptom.entry}")
    heading = page.locator(f"#{symptom.entry}")
    expect(heading).to_contain_text(entry.title)
    expect(heading).to_be_in_viewport()
    header_bottom = page.locator(".md-header").evaluate("(el) => el.getBoundingClientRect().bottom")
    assert heading.evaluate("(el) => el.getBoundingClientRect().top") >= header_bottom, "the answer is under the header"
    assert_axe_clean(page, "the answer")


def service_info(site: SiteServer) -> dict[str, Any]:
    info: dict[str, Any] = httpx.get(f"{site.url}/api/v1/service-info", timeout=10).raise_for_status().json()
    return info


@pytest.mark.parametrize("width", WIDTHS)
def test_a_beheerder_copies_every_card_value(context: BrowserContext, site: SiteServer, width: int) -> None:
    info = service_info(site)
    page = start(context, site)
    follow(page, "Voor de eHerkenningsbeheerder", "/beheerder/")
    card = page.locator("[data-bhk-card]")
    expect(card.get_by_role("button", name="Kopieer alles")).to_be_visible()
    assert_axe_clean(page, "beheerder page")
    status = card.locator("[data-bhk-status]")
    for field in info["card"]:
        activate(page, card.get_by_role("button", name=f"Kopieer {field['label']}", exact=True))
        expect(status).to_have_text(f"{field['label']} is gekopieerd.")
        assert page.evaluate("navigator.clipboard.readText()") == field["value"], field["key"]
    activate(page, card.get_by_role("button", name="Kopieer alles", exact=True), key="Space")
    expect(status).to_have_text("Alle gegevens zijn gekopieerd.")
    assert page.evaluate("navigator.clipboard.readText()") == info["text"]
    assert_axe_clean(page, "every value copied")
