"""The result page with "Mail naar mijn eHerkenningsbeheerder" in Chromium: axe 0 at 1280 and 320 px, no sideways scroll."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, expect

from diagnostics.beheerder_mail import LINK_TEXT, MAX_URL
from tests.browser.pages import RESULT_URL, axe_report, start_with_scenario
from tests.helpers.live_server import LiveServer
from tests.routes.roundtrip_server import roundtrip_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[LiveServer]:
    with roundtrip_server(tmp_path_factory.mktemp("browser-result-mail"), {"site_dir": str(built_site_dir)}) as live:
        yield live


@pytest.mark.parametrize("width", [1280, 320])
def test_the_mail_link_and_its_copy_block_pass_axe_and_reflow(browser: Browser, server: LiveServer, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    # A real round trip through the simulator: the level is too low, so the eHerkenningsbeheerder must act.
    start_with_scenario(page, server.url, "loa-too-low")
    page.wait_for_url(RESULT_URL)
    reference = page.url.rsplit("/", 1)[1]
    link = page.get_by_role("link", name=LINK_TEXT, exact=True)
    expect(link).to_be_visible()
    href = link.get_attribute("href") or ""
    assert href.startswith("mailto:") and len(href) <= MAX_URL
    body = parse_qs(urlsplit(href).query)["body"][0]
    # The checker's masked LegalSubjectID reaches the mail as the organisation hint.
    assert reference in body and "KvK-nummer" in body and "deels afgeschermd" in body
    # service.js adds the copy button to the block; the text is the whole mail.
    expect(page.get_by_role("button", name="Kopieer de tekst voor uw beheerder")).to_be_visible()
    assert reference in page.locator("#beheerder-mail-tekst").input_value()
    page.locator("#beheerder-mail").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    report = axe_report(page)
    assert report is None, report
    context.close()
