"""Reflow at 320 CSS px (WCAG 1.4.10) and axe at 320 and 1280 px: every help page in the sitemap and every
service page in every state (chooser, each result the simulator can produce, card, certificates, console,
error pages, the simulator's screens). Only a data table may scroll sideways, and only in a focusable box."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from diagnostics.simulator.responses import issue
from tests.browser.pages import (
    PASSWORD,
    USER,
    SiteServer,
    add_console_user,
    axe_report,
    finished_tests,
    post_form,
    sideways,
    site_server,
    sitemap_urls,
)

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 320, 1280


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[SiteServer]:
    with site_server(tmp_path_factory.mktemp("reflow"), built_site_dir) as running:
        add_console_user(running.settings)
        yield running


@pytest.fixture(scope="module")
def results(site: SiteServer) -> dict[str, str]:
    return finished_tests(site.url)


def help_pages(site: SiteServer) -> list[str]:
    """Every page in the built sitemap, and the site's 404 page."""
    return [*sitemap_urls(site.site_dir, site.url), f"{site.url}/bestaat-niet/"]


def service_states(page: Page, site: SiteServer, results: dict[str, str]) -> Iterator[str]:
    """Bring ``page`` to every state of every service page in turn; yields a name for each."""
    base = site.url
    page.goto(f"{base}/diagnose")
    yield "chooser"
    with page.expect_navigation():
        page.locator("form.chooser").first.evaluate("(form) => form.submit()")
    yield "chooser without a choice"
    for kind, path in results.items():
        page.goto(base + path)
        expect(page.locator("#uitslag-kop")).to_be_visible()
        yield f"result: {kind}"
    page.goto(f"{base}/saml/acs")
    yield "problem page (return without a login message)"
    page.goto(f"{base}/diagnose/BHP-0000-0000")
    expect(page.locator("h1")).to_have_text("Pagina niet gevonden")
    yield "404 of the service"
    post_form(page, f"{base}{results['no-authorisation']}/antwoord", {"antwoord": "iets anders"})
    expect(page.locator("h1")).to_have_text("Dit verzoek kunnen wij niet verwerken")
    yield "400 of the service"
    post_form(page, f"{base}/diagnose/start", {"supplier": "x" * (2 * 1024 * 1024)})
    expect(page.locator("h1")).to_have_text("Het bericht is te groot")
    yield "413 of the service"
    page.goto(f"{base}/beheerder-kaart")
    yield "beheerder card"
    page.goto(f"{base}/beheer/certificaten")
    yield "certificates"

    page.goto(f"{base}/servicedesk")
    yield "console login"
    page.fill("#name", USER)
    page.fill("#password", "niet het goede wachtwoord")
    with page.expect_navigation():
        page.locator("form.stack button[type=submit]").click()
    yield "console login, wrong password"
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("form.stack button[type=submit]").click()
    yield "console start"
    page.goto(f"{base}/servicedesk/referentie/{results['wrong-audience'].rsplit('/', 1)[1]}")
    yield "console: a test looked up"
    page.goto(f"{base}/servicedesk")
    page.fill("#code", "BHP-0000-0000")
    with page.expect_navigation():
        page.get_by_role("button", name="Opzoeken").click()
    yield "console: no such test"
    page.goto(f"{base}/servicedesk")
    page.fill("#message", issue(site.settings, "expired", request_id="_reflow").decode())
    with page.expect_navigation():
        page.get_by_role("button", name="Controleer het bericht").click()
    expect(page.locator("#controles")).to_be_visible()
    yield "console: a pasted message checked"
    page.goto(f"{base}/servicedesk/logboek")
    yield "console: audit log"

    page.goto(f"{base}/simulator/")
    yield "simulator: start"
    page.goto(f"{base}/simulator/sso")
    yield "simulator: error"
    page.goto(f"{base}/diagnose")
    page.locator('input[name="supplier"]').first.check()
    with page.expect_navigation(url="**/simulator/**"):
        page.locator("form.chooser button[type=submit]").first.click()
    yield "simulator: login"
    page.locator('input[name="scenario"][value="no-authorisation"]').check()
    with page.expect_navigation():
        page.locator('button[value="login"]').click()
    expect(page.locator("h1")).to_contain_text("geen machtiging")
    yield "simulator: no machtiging"


def test_no_help_page_scrolls_sideways_at_320_px_and_axe_finds_nothing(browser: Browser, site: SiteServer) -> None:
    context = browser.new_context(viewport={"width": PHONE, "height": 640})
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        for url in help_pages(site):
            page.goto(url)
            page.wait_for_load_state("networkidle")
            found = sideways(page, PHONE)
            report = axe_report(page)
            if found or report:
                problems[url] = [*found, *([report] if report else [])]
    finally:
        context.close()
    assert len(help_pages(site)) >= 13
    assert problems == {}, problems


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_no_service_page_scrolls_sideways_and_axe_finds_nothing(
    browser: Browser, site: SiteServer, results: dict[str, str], width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    seen = []
    try:
        for state in service_states(page, site, results):
            seen.append(state)
            found = sideways(page, width)
            report = axe_report(page)
            if found or report:
                problems[f"{state} ({page.url})"] = [*found, *([report] if report else [])]
    finally:
        context.close()
    assert len(seen) >= len(results) + 18
    assert problems == {}, problems
