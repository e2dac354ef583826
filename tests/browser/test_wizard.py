"""The "Inloggen lukt niet" wizard in Chromium: both methods, keyboard only, axe clean, and without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from diagnostics.catalogue import load_catalogue
from tests.browser.pages import settled
from tests.routes.roundtrip_server import roundtrip_server

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def help_url(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[str]:
    """One real server for the module, showing the freshly built site."""
    with roundtrip_server(tmp_path_factory.mktemp("wizard"), {"site_dir": str(built_site_dir)}) as server:
        yield f"{server.url}/inloggen-lukt-niet/"


def assert_axe_clean(page: Page, context: str | None = None) -> None:
    """Zero violations on the whole page, or (for later widget states) on the widget only."""
    settled(page)
    result = Axe().run(page, context=context, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert result.violations_count == 0, result.generate_report()


def focused_text(page: Page) -> str:
    text: str = page.evaluate(
        "() => { const e = document.activeElement; return e ? (e.innerText || e.value || '').trim() : ''; }"
    )
    return text


def tab_to(page: Page, label: str, limit: int = 400) -> None:
    """Press Tab until the element with this visible text has the focus (a keyboard user's way there)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_text(page) == label:
            return
    raise AssertionError(f"{label!r} never received keyboard focus")


def wizard(page: Page) -> Any:
    return page.locator(".ih-wizard__widget")


def test_eherkenning_path_by_keyboard_ends_at_the_beheerder_message(browser: Browser, help_url: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(help_url)
        expect(wizard(page)).to_be_visible()
        # The plain list is replaced by the widget; its links stay in the page for no-JS readers only.
        expect(page.locator(".ih-wizard__method").first).to_be_hidden()
        assert_axe_clean(page)

        tab_to(page, "Ik log in met eHerkenning")
        page.keyboard.press("Enter")
        expect(wizard(page).locator(".ih-wizard__title")).to_have_text("Stap 2 van 3: Wat ziet u?")
        tab_to(page, "De eerste keer lukt het nooit")
        page.keyboard.press("Enter")

        entry = load_catalogue().entry("no-authorisation")
        expect(wizard(page).locator(".ih-wizard__title")).to_have_text(f"Stap 3 van 3: {entry.title}")
        expect(wizard(page)).to_contain_text("uw eHerkenningsbeheerder")
        expect(wizard(page)).to_contain_text(entry.steps.medewerker)
        page_link = wizard(page).get_by_role("link", name="pagina voor eHerkenningsbeheerders")
        expect(page_link).to_have_attribute("href", "../beheerder/#gegevens-machtiging")
        expect(wizard(page).get_by_text("Stuur dit naar uw eHerkenningsbeheerder")).to_be_visible()
        message = wizard(page).locator("textarea").input_value()
        assert entry.steps.beheerder in message
        assert "#no-authorisation" in message
        mailto = wizard(page).get_by_role("link", name="Open in uw e-mailprogramma").get_attribute("href")
        assert mailto is not None and mailto.startswith("mailto:?subject=")
        assert_axe_clean(page, ".ih-wizard")

        tab_to(page, "Kopieer de tekst")
        page.keyboard.press("Enter")
        expect(wizard(page).locator(".ih-wizard__status")).to_have_text("De tekst staat op uw klembord.")
        assert page.evaluate("navigator.clipboard.readText()") == message

        tab_to(page, f"Lees alles over: {entry.title}")
        page.keyboard.press("Enter")
        assert page.url.endswith("#no-authorisation")
        expect(page.locator("#no-authorisation")).to_be_in_viewport()
    finally:
        context.close()


def test_email_path_by_keyboard_checks_the_address(page: Page, help_url: str) -> None:
    page.goto(help_url)
    tab_to(page, "Ik log in met mijn e-mailadres")
    page.keyboard.press("Enter")
    tab_to(page, "Mijn e-mailadres wordt niet geaccepteerd")
    page.keyboard.press("Enter")
    entry = load_catalogue().entry("email-not-business")
    expect(wizard(page).locator(".ih-wizard__title")).to_have_text(f"Stap 3 van 3: {entry.title}")
    # The medewerker acts here, so there is no message for a beheerder.
    expect(wizard(page).locator("textarea")).to_have_count(0)
    assert_axe_clean(page, ".ih-wizard")

    tab_to(page, "")  # the e-mail field has no text yet
    assert page.evaluate("document.activeElement.type") == "email"
    page.keyboard.type("pietje.puk@gmail.com")
    page.keyboard.press("Enter")
    result = wizard(page).locator(".ih-wizard__check")
    expect(result).to_contain_text(entry.cause)
    expect(result).to_have_attribute("data-ok", "false")
    expect(wizard(page).locator(".ih-wizard__note")).to_contain_text("eHerkenning niveau 2+")
    assert "pietje.puk" not in result.inner_text()

    # The focus stays in the field: select what is there and type another address.
    assert page.evaluate("document.activeElement.type") == "email"
    page.keyboard.press("Control+A")
    page.keyboard.type("pietje.puk@gemeente-utrecht.nl")
    page.keyboard.press("Enter")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("werk-e-mailadres")
    assert_axe_clean(page, ".ih-wizard")

    tab_to(page, "Terug")
    page.keyboard.press("Enter")
    tab_to(page, "Wachtwoord vergeten")
    page.keyboard.press("Enter")
    expect(wizard(page)).to_contain_text("Wachtwoord vergeten?")
    expect(wizard(page)).to_contain_text("u zelf")


def test_without_javascript_the_wizard_is_a_list_of_links(browser: Browser, help_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(help_url)
        expect(page.locator(".ih-wizard__widget")).to_have_count(0)
        link = page.locator("a[data-symptom=geen-sms]")
        expect(link).to_have_text("Ik krijg geen sms-code")
        expect(link).to_be_visible()
        link.click()
        assert page.url.endswith("#no-sms-code")
        heading = page.locator("h4#no-sms-code")
        expect(heading).to_contain_text(load_catalogue().entry("no-sms-code").title)
        expect(page.locator("a[data-symptom=geblokkeerd]")).to_have_attribute("href", "#email-locked")
    finally:
        context.close()


def test_feedback_widget_posts_to_our_api(page: Page, help_url: str) -> None:
    page.goto(help_url)
    form = page.locator("form[name=feedback]")
    expect(form).to_be_visible()
    with page.expect_response("**/api/v1/feedback") as answer:
        form.get_by_role("button", name="Ja, deze pagina was nuttig").click()
    assert answer.value.status == 201
    assert answer.value.json() == {"page": "/inloggen-lukt-niet/", "rating": 1}
    expect(form.locator(".md-feedback__note [data-md-value='1']")).to_be_visible()
    expect(form.locator(".md-feedback__note [data-md-value='0']")).to_be_hidden()
    assert_axe_clean(page, "form[name=feedback]")
