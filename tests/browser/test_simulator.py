"""The simulator's screens in Chromium: zero axe violations, and usable without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from diagnostics.saml.authn import build_authn_request
from diagnostics.simulator.entities import SUPPLIERS
from tests.browser.pages import settled
from tests.helpers.keys import sp_signing_key
from tests.helpers.simulated import Simulated, start

pytestmark = pytest.mark.browser
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Iterator[Simulated]:
    running = start(tmp_path_factory.mktemp("browser-simulator"), sp_keypair)
    yield running
    running.server.stop()


def _sso(sim: Simulated, supplier: str | None, extra: str = "") -> str:
    out = build_authn_request(
        sim.settings,
        signing_key=sp_signing_key(sim.settings),
        destination=sim.sso_url,
        supplier_id=supplier,
        relay_state="/terug",
    )
    return out.url + extra


def _axe(page: Page) -> None:
    settled(page)
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert result.violations_count == 0, result.generate_report()


def _check(page: Page, url: str, heading: str) -> None:
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "nl"
    assert "Simulator – geen echte eHerkenning" in page.locator("header").inner_text()
    assert heading in page.locator("h1").inner_text()
    _axe(page)


def test_supplier_chooser(page: Page, simulated: Simulated) -> None:
    _check(page, _sso(simulated, None), "Kies uw eHerkenning-leverancier")
    assert page.locator("ul.suppliers a").count() == len(SUPPLIERS)


def test_login_screen(page: Page, simulated: Simulated) -> None:
    _check(page, _sso(simulated, SUPPLIERS[0].entity_id), "Inloggen bij")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in {"INPUT", "A", "SELECT", "BUTTON"}


def test_no_authorisation_page(page: Page, simulated: Simulated) -> None:
    _check(page, _sso(simulated, SUPPLIERS[0].entity_id, "&scenario=no-authorisation"), "geen machtiging")


def test_error_page(page: Page, simulated: Simulated) -> None:
    _check(page, simulated.sso_url, "Inloggen lukt niet")
    assert page.locator("[data-error-id]").inner_text() == "sim-request-missing"


def test_index_page(page: Page, simulated: Simulated) -> None:
    _check(page, f"{simulated.server.url}/simulator/", "Simulator")


def test_post_return_page(page: Page, simulated: Simulated) -> None:
    # Keep the page in place for axe: without its script it does not submit itself.
    page.route("**/simulator/static/autosubmit.js", lambda route: route.abort())
    _check(page, _sso(simulated, SUPPLIERS[0].entity_id, "&scenario=success-loa2plus&return=post"), "Terug")


def test_post_return_works_without_javascript(browser: Browser, simulated: Simulated) -> None:
    options: dict[str, Any] = {"java_script_enabled": False}
    context = browser.new_context(**options)
    try:
        page = context.new_page()
        page.goto(_sso(simulated, SUPPLIERS[0].entity_id, "&scenario=success-loa2plus&return=post"))
        button = page.get_by_role("button", name="Doorgaan naar de dienst")
        assert button.is_visible()
        assert page.locator("form#artifact-form").get_attribute("action") == simulated.settings.acs_url
        with page.expect_request(lambda request: request.method == "POST" and "/saml/acs" in request.url) as sent:
            button.click()
        assert "SAMLart=" in (sent.value.post_data or "")
    finally:
        context.close()
