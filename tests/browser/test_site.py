"""The help site in Chromium, served by the real server: axe on every page, search, keyboard-only path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Request, expect

from tests.browser import keyboard
from tests.browser.pages import settled, sitemap_urls
from tests.site.helpers import LOOPBACK_HOSTS

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.browser


@pytest.fixture
def site_url(live_server: Callable[..., Any], built_site_dir: Path) -> str:
    """Base URL of ``inloghulp serve`` showing the freshly built site."""
    server = live_server({"site_dir": str(built_site_dir)})
    return f"{server.url}/"


@pytest.fixture
def outside_requests(page: Page) -> Iterator[list[str]]:
    """Every request the page makes to a host that is not this machine."""
    seen: list[str] = []

    def record(request: Request) -> None:
        host = urlsplit(request.url).hostname
        if urlsplit(request.url).scheme in {"http", "https", "ws", "wss"} and host not in LOOPBACK_HOSTS:
            seen.append(request.url)

    page.on("request", record)
    yield seen


def test_every_page_passes_axe(page: Page, site_url: str, built_site_dir: Path, outside_requests: list[str]) -> None:
    # A script or style the server's CSP blocks shows up as a console error; the page must have none.
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
    )
    urls = sitemap_urls(built_site_dir, site_url)
    assert len(urls) >= 12
    axe = Axe()
    reports = []
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        expect(page.locator("article h1")).to_be_visible()
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        if result.violations_count:
            reports.append(f"{url}\n{result.generate_report()}")
    assert reports == [], "\n\n".join(reports)
    assert outside_requests == []
    assert errors == []


def test_not_found_page_is_dutch_and_passes_axe(page: Page, site_url: str, outside_requests: list[str]) -> None:
    # The 404 page's inline scripts are allowed by the server's CSP like every other page's (no console errors).
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    response = page.goto(f"{site_url}eherkenning/bestaat-niet/")
    assert response is not None and response.status == 404
    expect(page.locator("article h1")).to_have_text("Pagina niet gevonden")
    settled(page)
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert result.violations_count == 0, result.generate_report()
    page.locator("article").get_by_role("link", name="Inloggen lukt niet", exact=True).click()
    expect(page).to_have_url(f"{site_url}inloggen-lukt-niet/")
    assert outside_requests == []
    # The 404 response itself is logged as a failed resource load; nothing else may fail.
    assert [error for error in errors if "404" not in error] == []


def test_start_page_passes_axe_on_a_phone(browser: Any, site_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        for path in ("", "eherkenning/"):
            page.goto(f"{site_url}{path}")
            settled(page)
            result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
            assert result.violations_count == 0, result.generate_report()
    finally:
        context.close()


def test_search_finds_the_eherkenning_page(page: Page, site_url: str) -> None:
    page.goto(site_url)
    page.get_by_role("textbox", name="Zoeken").first.click()
    page.keyboard.type("machtiging")
    result = page.locator(".md-search-result__link[href*='eherkenning/']").first
    expect(result).to_be_visible(timeout=15_000)
    expect(result).to_contain_text("eHerkenning")


def tab_to(page: Page, href_part: str, limit: int = 250) -> None:
    """Press Tab until a link inside the page content whose href contains ``href_part`` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(
            """(part) => {
                const el = document.activeElement;
                return !!el && el.tagName === "A" && !!el.closest(".md-content")
                    && (el.getAttribute("href") || "").includes(part);
            }""",
            href_part,
        )
        if found:
            return
    pytest.fail(f"no link to {href_part!r} in the content within {limit} Tab presses")


def test_main_path_works_by_keyboard_alone(page: Page, site_url: str) -> None:
    page.goto(site_url)
    page.keyboard.press("Tab")
    skip_link = page.evaluate("document.activeElement.textContent.trim()")
    assert skip_link == "Ga naar inhoud"

    tab_to(page, "eherkenning/")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site_url}eherkenning/")
    expect(page.locator("article h1")).to_contain_text("Inloggen met eHerkenning")

    tab_to(page, "inloggen-lukt-niet/")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site_url}inloggen-lukt-niet/")
    expect(page.locator("article h1")).to_contain_text("Inloggen lukt niet")
    expect(page.locator("#hulp-nodig")).to_have_text("Hulp nodig?")


def test_every_page_is_reachable_by_keyboard_on_a_small_screen(browser: Any, site_url: str) -> None:
    # At 320 px Material hides the navigation tabs behind a menu button the keyboard cannot reach (a label for
    # a hidden checkbox). The footer's "Alle pagina's" is the keyboard's way to every page; every stop visible.
    context = browser.new_context(viewport={"width": 320, "height": 720})
    try:
        page = context.new_page()
        page.goto(site_url)
        keyboard.activate(page, page.get_by_role("link", name="Alle pagina's"))
        expect(page.locator("article h1")).to_contain_text("Alle pagina's")
        keyboard.activate(page, page.locator("article").get_by_role("link", name="Voor de eHerkenningsbeheerder"))
        expect(page.locator("article h1")).to_contain_text("eHerkenningsbeheerder")
    finally:
        context.close()


def test_pages_work_without_javascript(browser: Any, site_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{site_url}inloggen-lukt-niet/")
        expect(page.locator("article h1")).to_contain_text("Inloggen lukt niet")
        expect(page.locator("#eerste-keer-eherkenning")).to_be_visible()
        page.get_by_role("link", name="Toegankelijkheid").click()
        expect(page.locator("article h1")).to_contain_text("Toegankelijkheid")
    finally:
        context.close()
