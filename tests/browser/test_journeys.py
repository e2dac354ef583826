"""The four journeys of issue 18, as a person takes them: start at "/", follow only links and buttons, use only
the keyboard (Tab, Shift+Tab, Enter, Space, arrow keys), at 1280 and at 320 CSS px, with axe (WCAG 2.2 AA tags)
clean and nothing scrolling sideways (but a focusable data table) at every step. Every stop of the focus must be
visible (tests/browser/keyboard.py).

1. A medewerker finds the answer through the wizard.
2. A beheerder copies every value of the beheerder card.
3. A test that never comes back; the way back through the banner; "Wat zag u?"; the result.
4. The servicedesk looks up a test's reference code and pastes an artifact-only HAR of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from diagnostics import wizard
from diagnostics.catalogue import load_catalogue
from diagnostics.user_answer import ANSWERS
from tests.browser.keyboard import activate, arrow_to, assert_focus_visible, press, skip_to_content, tab_to
from tests.browser.pages import PASSWORD, USER, SiteServer, add_console_user, axe_report, sideways, site_server
from tests.servicedesk import har as recorded

pytestmark = pytest.mark.browser

WIDTHS = [pytest.param(1280, id="1280px"), pytest.param(320, id="320px")]
REFERENCE = re.compile(r"BHP-[0-9A-Z]{4}-[0-9A-Z]{4}")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


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


def assert_step_clean(page: Page, step: str) -> None:
    """axe (WCAG 2.2 AA tags) finds nothing, and nothing scrolls sideways but a focusable data table (1.4.10)."""
    report = axe_report(page)
    assert report is None, f"axe at step {step!r} ({page.url}):\n{report}"
    viewport = page.viewport_size
    assert viewport is not None
    wide = sideways(page, viewport["width"])
    assert wide == [], f"sideways at step {step!r} ({page.url}): {wide}"


def start(context: BrowserContext, site: SiteServer) -> Page:
    """The start page, as typed in the address bar: the only page a journey opens by address."""
    page = context.new_page()
    page.goto(f"{site.url}/")
    # Material reads the sitemap before it takes over a click (instant navigation).
    page.wait_for_load_state("networkidle")
    assert_step_clean(page, "start page")
    skip_to_content(page)
    return page


def follow(page: Page, name: str, url: str) -> None:
    """Tab on to the link ``name`` in the page's text, press Enter, arrive at ``url`` (Material's instant
    navigation keeps the document: the focus then continues after the header, not at the skip link)."""
    activate(page, page.get_by_role("article").get_by_role("link", name=name, exact=True).first)
    page.wait_for_url(f"**{url}")


def below_the_header(page: Page, element: Locator) -> None:
    """``element`` starts in sight: below the sticky header, in the upper half of the viewport."""
    header = page.locator(".md-header").evaluate("(el) => el.getBoundingClientRect().bottom")
    top = element.evaluate("(el) => el.getBoundingClientRect().top")
    height = page.evaluate("window.innerHeight")
    assert header <= top < height / 2, f"{element} starts at {top} px (header until {header}, viewport {height})"


def step_in_sight(page: Page, title: Locator) -> None:
    """The wizard moved the focus to its new step (for keyboard and screen reader), and shows that step from its
    "Stap N van 3" heading, not under the sticky header."""
    expect(page.locator(".ih-wizard__panel")).to_be_focused()
    assert_focus_visible(page)
    below_the_header(page, title)


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
    assert_step_clean(page, "wizard step 1")

    method = wizard.METHODS[0]
    activate(page, widget.get_by_role("button", name=method.label, exact=True))
    expect(title).to_have_text("Stap 2 van 3: Wat ziet u?")
    step_in_sight(page, title)
    assert_step_clean(page, "wizard step 2")

    symptom = next(s for s in method.symptoms if s.entry == "no-authorisation")
    activate(page, widget.get_by_role("button", name=symptom.label, exact=True))
    entry = load_catalogue().entry(symptom.entry)
    expect(title).to_have_text(f"Stap 3 van 3: {entry.title}")
    step_in_sight(page, title)
    expect(widget).to_contain_text(entry.who_label)
    expect(widget).to_contain_text(entry.steps.medewerker)
    assert_step_clean(page, "wizard step 3")

    # The answer in full: the catalogue entry on the same page, its heading in sight below the header.
    activate(page, widget.get_by_role("link", name=f"Lees alles over: {entry.title}", exact=True))
    page.wait_for_url(f"**#{symptom.entry}")
    heading = page.locator(f"#{symptom.entry}")
    expect(heading).to_contain_text(entry.title)
    below_the_header(page, heading)
    assert_step_clean(page, "the answer")


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
    assert_step_clean(page, "beheerder page")
    status = card.locator("[data-bhk-status]")
    for field in info["card"]:
        activate(page, card.get_by_role("button", name=f"Kopieer {field['label']}", exact=True))
        expect(status).to_have_text(f"{field['label']} is gekopieerd.")
        assert page.evaluate("navigator.clipboard.readText()") == field["value"], field["key"]
    activate(page, card.get_by_role("button", name="Kopieer alles", exact=True), key="Space")
    expect(status).to_have_text("Alle gegevens zijn gekopieerd.")
    assert page.evaluate("navigator.clipboard.readText()") == info["text"]
    assert_step_clean(page, "every value copied")


def dutch_minutes(*moments: datetime) -> set[str]:
    """Every HH:MM in Dutch time from the first moment to the last (the banner names the test's start)."""
    first, last = (
        moment.astimezone(AMSTERDAM).replace(second=0, microsecond=0) for moment in (moments[0], moments[-1])
    )
    found = set()
    while first <= last:
        found.add(first.strftime("%H:%M"))
        first += timedelta(minutes=1)
    return found


def start_a_test_and_stay_at_the_broker(page: Page) -> str:
    """From the start page: "Doe de inlogtest", choose the supplier, "Verder", and in the simulator (the broker's
    site) the scenario without machtiging: the broker shows its own page and never sends the user back.
    The reference code the chooser showed before "Verder"."""
    follow(page, "Doe de inlogtest", "/diagnose")
    skip_to_content(page)
    form = page.locator("form.chooser").first
    expect(form.get_by_role("link", name=re.compile(r"terug$"))).to_be_visible()
    code = form.locator(".reference-code").inner_text()
    assert REFERENCE.fullmatch(code), code
    assert_step_clean(page, "chooser")
    # No choice yet: Tab enters the radio group on its first choice, and Space chooses it.
    tab_to(page, form.get_by_role("radio").first)
    press(page, "Space")
    expect(form.get_by_role("radio").first).to_be_checked()
    activate(page, form.get_by_role("button", name="Verder"))
    page.wait_for_url(re.compile(r"/simulator/"))

    expect(page.get_by_text("Simulator – geen echte eHerkenning")).to_be_visible()
    assert_step_clean(page, "simulator login")
    scenarios = page.get_by_role("group", name="Wat moet er gebeuren?")
    tab_to(page, scenarios.get_by_role("radio", checked=True))
    arrow_to(page, scenarios.locator('input[value="no-authorisation"]'))
    activate(page, page.get_by_role("button", name="Inloggen", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("U hebt geen machtiging voor deze dienst")
    assert_step_clean(page, "the broker says: no machtiging")
    return code


@pytest.mark.parametrize("width", WIDTHS)
def test_a_test_that_never_comes_back_the_banner_leads_back_to_wat_zag_u(
    context: BrowserContext, site: SiteServer, width: int
) -> None:
    started = datetime.now(UTC)
    page = start(context, site)
    code = start_a_test_and_stay_at_the_broker(page)

    # Stuck at the broker, the user types the help site's address again: the one goto after the start.
    page.goto(f"{site.url}/")
    page.wait_for_load_state("networkidle")
    banner = page.get_by_role("status").filter(has_text="is niet afgerond")
    expect(banner).to_have_text(
        re.compile(r"^Uw inlogtest van (gisteren )?\d\d:\d\d is niet afgerond\. Vertel ons wat u zag\.$")
    )
    shown = re.search(r"\d\d:\d\d", banner.inner_text())
    assert shown and shown[0] in dutch_minutes(started, datetime.now(UTC)), banner.inner_text()
    assert_step_clean(page, "start page with the banner")

    # The banner sits above the page's heading, where the skip link lands: one Shift+Tab back.
    skip_to_content(page)
    tab_to(page, banner.get_by_role("link", name="Vertel ons wat u zag"), backwards=True, limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/diagnose/{code}#vraag")
    question = page.get_by_role("group", name="Wat zag u bij uw eHerkenningsmakelaar?")
    expect(question).to_be_visible()
    assert_step_clean(page, "Wat zag u?")

    # The address's #vraag is where the next Tab starts: the first answer (about the machtiging).
    first = question.get_by_role("radio", name=ANSWERS[0].label)
    tab_to(page, first, limit=5)
    press(page, "Space")
    expect(first).to_be_checked()
    activate(page, page.get_by_role("button", name="Verstuur antwoord"))
    page.wait_for_url(f"**/diagnose/{code}*")
    expect(page.locator("#uitslag-kop")).to_contain_text("Geen machtiging")
    expect(page.get_by_role("group", name="Wat zag u bij uw eHerkenningsmakelaar?")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="is niet afgerond")).to_have_count(0)
    # The next step is the beheerder's: the mail to them is further on, and in sight when it has the focus.
    tab_to(page, page.get_by_role("link", name="Mail naar mijn eHerkenningsbeheerder"))
    assert_step_clean(page, "the result")


def returned_test_as_har(site: SiteServer) -> tuple[str, str]:
    """A user's test that came back from the broker, and the HAR a servicedesk gets of it: only the browser's
    request to our ACS, with the artifact (SAMLart) and the RelayState; the answer itself went over the back
    channel. (reference code, HAR text)."""
    with httpx.Client(base_url=site.url, timeout=30) as client:
        entries = recorded.run_test(client, "stopped-at-broker")  # type: ignore[arg-type]  # a TestClient is an httpx.Client
    acs = [entry for entry in entries if urlsplit(entry["request"]["url"]).path == "/saml/acs"]
    assert len(acs) == 1, [entry["request"]["url"] for entry in entries]
    query = dict(parse_qsl(urlsplit(acs[0]["request"]["url"]).query))
    assert set(query) == {"SAMLart", "RelayState"}, query
    found = REFERENCE.search(query["RelayState"])
    assert found, query["RelayState"]
    return found[0], recorded.har(acs)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_servicedesk_looks_up_a_code_and_pastes_an_artifact_only_har(
    context: BrowserContext, site: SiteServer, width: int
) -> None:
    code, har = returned_test_as_har(site)
    page = start(context, site)
    follow(page, "Voor de BRO Servicedesk", "/servicedesk/")
    activate(page, page.get_by_role("article").get_by_role("link", name="servicedeskconsole"))
    page.wait_for_url(re.compile(r"/servicedesk/login"))
    assert_step_clean(page, "console login")

    skip_to_content(page)
    tab_to(page, page.get_by_role("textbox", name="Naam"))
    page.keyboard.type(USER)
    tab_to(page, page.get_by_label("Wachtwoord"), limit=1)
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Servicedeskconsole")
    assert_step_clean(page, "console")

    skip_to_content(page)
    tab_to(page, page.get_by_role("textbox", name="Referentiecode"))
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Inlogtest {code}")
    assert_step_clean(page, "the test looked up")

    # Back to the console's start through its own navigation, at the top of the content.
    skip_to_content(page)
    activate(page, page.get_by_role("navigation", name="Console").get_by_role("link", name="Start"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Servicedeskconsole")

    # The HAR the user sent is on the clipboard; the servicedesk pastes it with Ctrl+V.
    page.evaluate("(text) => navigator.clipboard.writeText(text)", har)
    skip_to_content(page)
    tab_to(page, page.get_by_role("textbox", name="SAML-bericht"))
    press(page, "Control+V")
    expect(page.get_by_role("textbox", name="SAML-bericht")).to_have_value(har)
    activate(page, page.get_by_role("button", name="Controleer het bericht"))
    found = page.get_by_role("region", name=f"Gevonden: inlogtest {code}")
    expect(found).to_be_visible()
    expect(page.get_by_text("malformed")).to_have_count(0)
    assert_step_clean(page, "the HAR pasted")
    skip_to_content(page)
    activate(page, found.get_by_role("link", name=f"Open inlogtest {code}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Inlogtest {code}")
    assert_step_clean(page, "the test the HAR names")
