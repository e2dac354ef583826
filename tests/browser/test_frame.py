"""The service's pages in the help site's frame, in Chromium: Material's search works there, and without
JavaScript the link to "Alle pagina's" stands where the search would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import SiteServer, axe_report, site_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[SiteServer]:
    with site_server(tmp_path_factory.mktemp("frame"), built_site_dir) as running:
        yield running


@pytest.mark.parametrize("path", ["/diagnose", "/servicedesk/login", "/beheer/certificaten"])
def test_the_sites_search_finds_help_pages_from_a_service_page(page: Page, site: SiteServer, path: str) -> None:
    page.goto(site.url + path)
    search = page.get_by_role("textbox", name="Zoeken")
    search.click()
    # The search worker first loads the index ("Zoeken initialiseren"); a person starts typing after that.
    expect(page.locator(".md-search-result__meta")).to_have_text("Typ om te beginnen met zoeken", timeout=20_000)
    search.press_sequentially("machtiging")  # Material searches on keyup
    first = page.locator(".md-search-result__item a").first
    expect(first).to_be_visible()
    assert axe_report(page) is None
    first.click()
    page.wait_for_load_state()
    # A help page, in the same frame.
    assert "/diagnose" not in page.url and "/servicedesk" not in page.url
    expect(page.locator("article h1")).to_be_visible()
    expect(page.locator(".md-header")).to_contain_text("Inloghulp Bronhouderportaal")


@pytest.mark.parametrize("path", ["/diagnose", "/eherkenning/"])
def test_without_javascript_a_link_to_all_pages_replaces_the_search(
    browser: Browser, site: SiteServer, path: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.url + path)
        expect(page.locator(".md-search")).to_be_hidden()
        link = page.get_by_role("link", name="Zoeken werkt alleen met JavaScript. Bekijk alle pagina's.")
        expect(link).to_be_visible()
        link.click()
        expect(page.locator("article h1")).to_contain_text("Alle pagina's")
        # Every page of the navigation, the service's login test among them.
        for name in ("Inloggen lukt niet", "Voor de eHerkenningsbeheerder", "Test de inlog", "Toegankelijkheid"):
            expect(page.locator("article").get_by_role("link", name=name, exact=True)).to_be_visible()
    finally:
        context.close()


def test_with_javascript_there_is_no_search_fallback_link(page: Page, site: SiteServer) -> None:
    page.goto(f"{site.url}/diagnose")
    expect(page.locator(".md-search")).to_be_attached()
    expect(page.get_by_role("link", name="Zoeken werkt alleen met JavaScript. Bekijk alle pagina's.")).to_have_count(0)
