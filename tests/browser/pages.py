"""What the frame, reflow and instant-navigation tests share: a server on the built site, every page to visit
(help pages from the sitemap, service pages in every state), and the checks a person's browser makes."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from axe_playwright_python.sync_playwright import Axe
from bs4 import BeautifulSoup
from playwright.sync_api import Page

from diagnostics.servicedesk import accounts
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.scenarios import SCENARIO_IDS
from diagnostics.store import Store
from tests.helpers.config import BASE_CONFIG
from tests.helpers.live_server import LiveServer
from tests.routes.roundtrip_server import run_test

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
USER, PASSWORD = "frieda.servicedesk", "een lang en geheim wachtwoord"
# The origin `inloghulp build` wrote into the session's built site (tests/site/helpers.build_site).
BUILT_FOR = BASE_CONFIG["public_base_url"] + "/"


@dataclass(frozen=True)
class SiteServer:
    server: LiveServer
    settings: Settings
    site_dir: Path

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def site_server(directory: Path, built_site_dir: Path, overrides: dict[str, Any] | None = None) -> Iterator[SiteServer]:
    """``inloghulp serve`` on a copy of the built site whose sitemap names this server's origin.

    Material's instant navigation only takes over a click on a link whose address is in ``sitemap.xml``; it
    corrects the sitemap's scheme and host name, not its port. The session's site is built once for
    ``BUILT_FOR``, and each test server has a port of its own, so the copy's sitemap names the test server's
    origin, as ``inloghulp build`` does for the configured ``public_base_url``.
    """
    from tests.routes.roundtrip_server import roundtrip_server

    site = directory / "site"
    shutil.copytree(built_site_dir, site)
    with roundtrip_server(directory, {"site_dir": str(site), **(overrides or {})}) as server:
        sitemap = site / "sitemap.xml"
        sitemap.write_text(sitemap.read_text(encoding="utf-8").replace(BUILT_FOR, server.url + "/"), encoding="utf-8")
        settings = load_settings(directory / "inloghulp.toml").model_copy(update={"public_base_url": server.url})
        yield SiteServer(server, settings, site)


# Waits for the CSS transitions and animations that will end (Material fades its tabs out and in on scroll);
# axe measures colours as they are at that moment, and a half-faded link is no contrast fact of the page.
_SETTLE = """
() => Promise.all(document.getAnimations()
  .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
  .map(a => a.finished.catch(() => null)))
"""


# Resolves once nothing scrolls any more: Material's toc.follow scrolls the table of contents smoothly (no CSS
# animation, so _SETTLE does not wait for it), and axe measuring a half-scrolled sidebar reports its links
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


def settled(page: Page) -> None:
    """Wait until the page stands still (no scrolling, no ending transitions) before measuring it."""
    page.evaluate(_STILL)
    page.evaluate(_SETTLE)


def axe_report(page: Page) -> str | None:
    """None when axe (WCAG 2.2 AA tags) finds nothing on the whole page, else its report."""
    settled(page)
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return None if result.violations_count == 0 else result.generate_report()


# Everything that scrolls sideways, and whether it may: only a data table's scroll box, and only when a
# keyboard user can reach it (tables.js makes it focusable).
_SIDEWAYS = """
() => {
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    if (!["auto", "scroll"].includes(style.overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
    if (el.matches("textarea, select")) continue;  // form controls scroll their own text
    if (el.clientWidth === 0 || el.clientHeight === 0 || !el.checkVisibility({visibilityProperty: true})) continue;
    const allowed = el.matches(".md-typeset__scrollwrap[tabindex='0'][role='region'][aria-label]")
      && el.querySelector("table") !== null;
    if (!allowed) {
      found.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return {page: document.documentElement.scrollWidth, boxes: found};
}
"""


def sideways(page: Page, width: int) -> list[str]:
    """What scrolls sideways at this viewport ``width`` and should not (WCAG 1.4.10 Reflow)."""
    found: dict[str, Any] = page.evaluate(_SIDEWAYS)
    problems = [f"box {box}" for box in found["boxes"]]
    if found["page"] > width:
        problems.insert(0, f"the page is {found['page']} px wide")
    return problems


def add_console_user(settings: Settings) -> None:
    store = Store(settings.database_url)
    try:
        accounts.create_user(store.engine, USER, PASSWORD)
    finally:
        store.close()


def finished_tests(base_url: str) -> dict[str, str]:
    """One login test per simulator scenario, run to its end: scenario id -> result page path.

    Also a test that never came back and was then answered ("Wat zag u?"): key ``answered``.
    """
    results = {}
    with httpx.Client(base_url=base_url, follow_redirects=True, timeout=30) as client:
        for scenario in SCENARIO_IDS:
            reference, _ = run_test(client, scenario)
            results[scenario] = f"/diagnose/{reference}"
        reference, _ = run_test(client, "no-authorisation")
        # The first answer the result page offers to "Wat zag u?".
        choice = re.search(r'name="antwoord" value="([^"]+)"', client.get(f"/diagnose/{reference}").text)
        assert choice, "the result page of a test that never came back asks nothing"
        client.post(f"/diagnose/{reference}/antwoord", data={"antwoord": choice[1]}).raise_for_status()
        results["answered"] = f"/diagnose/{reference}"
    return results


def post_form(page: Page, action: str, fields: dict[str, str]) -> None:
    """Post a form from the page, as a browser does (for states only a crafted or huge post reaches)."""
    with page.expect_navigation():
        page.evaluate(
            """([action, fields]) => {
              const form = document.createElement("form");
              form.method = "post";
              form.action = action;
              for (const [name, value] of Object.entries(fields)) {
                const field = document.createElement("textarea");
                field.name = name;
                field.value = value;
                form.appendChild(field);
              }
              document.body.appendChild(form);
              form.submit();
            }""",
            [action, fields],
        )


def sitemap_urls(built_site_dir: Path, base: str) -> list[str]:
    """Every page in sitemap.xml, with the configured site_url replaced by the live server."""
    sitemap = BeautifulSoup((built_site_dir / "sitemap.xml").read_text(encoding="utf-8"), "xml")
    urls = []
    for loc in sitemap.find_all("loc"):
        path = urlsplit(loc.get_text(strip=True)).path
        urls.append(base.rstrip("/") + path)
    return urls


# A result page's address.
RESULT_URL = re.compile(r"/diagnose/BHP-[0-9A-Z]{4}-[0-9A-Z]{4}")


def start_with_scenario(page: Page, base: str, scenario: str) -> None:
    """Choose the first supplier on the chooser and start the test in a simulator scenario (test mode)."""
    page.goto(f"{base}/diagnose")
    form = page.locator("form.chooser").first
    form.locator('input[name="supplier"]').first.check()
    form.evaluate(
        "(f, s) => { const i = document.createElement('input'); i.type = 'hidden'; i.name = 'scenario';"
        " i.value = s; f.appendChild(i); }",
        scenario,
    )
    form.locator("button[type=submit]").click()
