"""The beheerder card in Chromium: exact clipboard values, axe, no-JavaScript fallback, fresh values from the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import settled

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.browser


@pytest.fixture
def server(live_server: Callable[..., Any], built_site_dir: Path) -> Any:
    return live_server({"site_dir": str(built_site_dir)})


def _service_info(page: Page, base: str) -> dict[str, Any]:
    response = page.request.get(f"{base}/api/v1/service-info")
    assert response.ok
    info: dict[str, Any] = response.json()
    return info


@pytest.mark.parametrize("path", ["/beheerder/", "/beheerder-kaart"])
def test_each_copy_button_copies_exactly_its_value(browser: Browser, server: Any, path: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{server.url}{path}")
    info = _service_info(page, server.url)
    card = page.locator("[data-bhk-card]")
    expect(card.locator("button[data-bhk-copy]")).to_have_count(len(info["card"]) + 1)
    for field in info["card"]:
        button = card.locator(f'button[data-bhk-copy="{field["key"]}"]')
        button.click()
        expect(card.locator("[data-bhk-status]")).to_have_text(f"{field['label']} is gekopieerd.")
        assert page.evaluate("navigator.clipboard.readText()") == field["value"], field["key"]
    card.locator('button[data-bhk-copy="all"]').click()
    expect(card.locator("[data-bhk-status]")).to_have_text("Alle gegevens zijn gekopieerd.")
    assert page.evaluate("navigator.clipboard.readText()") == info["text"]
    context.close()


def test_card_passes_axe(page: Page, server: Any) -> None:
    page.goto(f"{server.url}/beheerder/")
    expect(page.locator("[data-bhk-card] button[data-bhk-copy]").first).to_be_visible()
    settled(page)
    results = Axe().run(page, context="#beheerder-kaart", options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()
    page.goto(f"{server.url}/beheerder-kaart")
    expect(page.locator("[data-bhk-card] button[data-bhk-copy]").first).to_be_visible()
    settled(page)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()


def test_without_javascript_all_values_show(browser: Browser, server: Any) -> None:
    info_context = browser.new_context()
    info = _service_info(info_context.new_page(), server.url)
    info_context.close()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for path in ("/beheerder/", "/eherkenning/", "/beheerder-kaart"):
        page.goto(f"{server.url}{path}")
        card = page.locator("[data-bhk-card]")
        for field in info["card"]:
            expect(card.locator(f'[data-bhk-field="{field["key"]}"]')).to_have_text(field["value"])
        expect(card.locator("button")).to_have_count(0)
        mail = card.locator("[data-bhk-mail]").get_attribute("href") or ""
        assert mail == info["mailto"]
        expect(card.locator("[data-bhk-all]")).to_have_text(info["text"])
    context.close()


def test_widget_refreshes_values_from_the_service(
    live_server: Callable[..., Any], built_site_dir: Path, browser: Browser
) -> None:
    # The site was built with the base configuration; the running service now says otherwise.
    server = live_server({"site_dir": str(built_site_dir)}, env={"INLOGHULP_SERVICE__NAME": "Vernieuwde dienstnaam"})
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/beheerder/")
    card = page.locator("[data-bhk-card]")
    expect(card.locator('[data-bhk-field="service_name"]')).to_have_text("Vernieuwde dienstnaam")
    expect(card.locator("[data-bhk-all]")).to_contain_text("Dienst: Vernieuwde dienstnaam")
    assert "Vernieuwde%20dienstnaam" in (card.locator("[data-bhk-mail]").get_attribute("href") or "")
    context.close()


def test_print_shows_only_the_card(page: Page, server: Any) -> None:
    page.goto(f"{server.url}/beheerder/")
    page.locator("[data-bhk-card] [data-bhk-print]").wait_for()
    page.evaluate("document.documentElement.classList.add('bhk-printing')")
    page.emulate_media(media="print")
    # The printable width of A4 (210 mm minus 2 x 12 mm) at 96 px per inch, so text wraps as on paper.
    page.set_viewport_size({"width": round((210 - 24) / 25.4 * 96), "height": 1100})
    assert page.locator("[data-bhk-card]").is_visible()
    for selector in (".md-header", ".md-sidebar--primary", ".md-footer", "h1", "[data-bhk-all]", "button"):
        assert page.locator(selector).first.is_hidden(), selector
    # One A4 page: 297 mm minus 2 x 12 mm margin at 96 px per inch.
    height = page.evaluate("document.querySelector('[data-bhk-card]').getBoundingClientRect().height")
    assert height < (297 - 24) / 25.4 * 96
