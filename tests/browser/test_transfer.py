"""What the start page costs in Chromium: at most 100 kB on a first visit, only the HTML on a second.

Sizes are the browser's own Resource Timing figures (``transferSize``: the encoded body plus the
headers as Chromium counts them, 0 for an answer from its cache), of the page and of its search
worker. Byte counts, not times: they are the same on every run of the same site.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

FIRST_VISIT_BUDGET = 100_000
# Bytes below which an answer need not be compressed.
TINY = 100

# Everything the document and its workers fetched: the page itself, stylesheets, scripts, images,
# fonts, the search index and the files the search worker loads.
ENTRIES = """() => [
  ...performance.getEntriesByType('navigation'),
  ...performance.getEntriesByType('resource'),
].map(e => ({name: e.name, type: e.initiatorType, transfer: e.transferSize,
             encoded: e.encodedBodySize, decoded: e.decodedBodySize}))"""


class Entry(TypedDict):
    name: str
    type: str
    transfer: int
    encoded: int
    decoded: int


@pytest.fixture
def start_page(live_server: Callable[..., Any], built_site_dir: Path) -> str:
    server = live_server({"site_dir": str(built_site_dir)})
    return f"{server.url}/"


def visit(page: Page, url: str) -> list[Entry]:
    """Open ``url`` and wait until the page and its workers fetch nothing new."""
    page.goto(url)
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.wait_for_load_state("networkidle")
        entries: list[Entry] = page.evaluate(ENTRIES)
        for worker in page.workers:
            entries += worker.evaluate(ENTRIES)
        names = sorted(entry["name"] for entry in entries)
        # The search worker starts after the page has loaded and then fetches its own files.
        if page.workers and names == seen:
            return entries
        seen = names
        page.wait_for_timeout(500)
    raise AssertionError(f"the start page kept loading: {seen}")


def listing(entries: list[Entry]) -> str:
    return "\n".join(
        f"{entry['transfer']:8} {entry['encoded']:8} {entry['decoded']:8}  {entry['name']}" for entry in entries
    )


def assert_everything_counted(entries: list[Entry], start_page: str) -> None:
    names = {entry["name"].removeprefix(start_page) for entry in entries}
    # The theme's bundles, the search index and what the search worker loads.
    assert {"", "search/search_index.json"} <= names, names
    assert any(name.startswith("assets/javascripts/bundle.") for name in names), names
    assert any(name.startswith("assets/javascripts/lunr/") for name in names), names
    # Text came compressed (the favicon is a PNG and is sent as it is; an API answer of a few bytes, such as
    # the open-test widget's "null", cannot get smaller).
    for entry in entries:
        if not entry["name"].endswith(".png") and entry["decoded"] > TINY:
            assert entry["encoded"] < entry["decoded"], listing([entry])
    # Our own stylesheets and scripts come as one file each, named by their hash (diagnostics/site_bundle.py):
    # no script of ours by its own name, and of the stylesheets only the theme's own (theme/main.html).
    assert any(re.fullmatch(r"assets/javascripts/inloghulp\.[0-9a-f]{8}\.min\.js", name) for name in names), names
    assert any(re.fullmatch(r"assets/stylesheets/inloghulp\.[0-9a-f]{8}\.min\.css", name) for name in names), names
    unbundled = {name for name in names if re.fullmatch(r"assets/(javascripts|stylesheets)/[\w-]+\.(js|css)", name)}
    assert unbundled <= {"assets/stylesheets/inloghulp.css"}, unbundled


def test_start_page_first_visit_transfers_at_most_100_kb(page: Page, start_page: str) -> None:
    first = visit(page, start_page)
    assert_everything_counted(first, start_page)
    total = sum(entry["transfer"] for entry in first)
    assert total <= FIRST_VISIT_BUDGET, f"first visit: {total} bytes\n{listing(first)}"


def test_start_page_second_visit_transfers_only_the_html(page: Page, start_page: str) -> None:
    # A browser that never started a test: the banner's script does not ask the service (ownership.HINT_COOKIE).
    first = visit(page, start_page)
    assert_everything_counted(first, start_page)
    page.goto("about:blank")
    second = visit(page, start_page)
    assert {entry["name"] for entry in second} == {entry["name"] for entry in first}
    html = [entry for entry in second if entry["type"] == "navigation"]
    rest = [entry for entry in second if entry["type"] != "navigation"]
    # The HTML is asked again (no-cache: a 304 when unchanged) ...
    assert len(html) == 1 and html[0]["transfer"] > 0, listing(html)
    # ... and everything else comes from the browser's cache.
    assert [entry for entry in rest if entry["transfer"] != 0] == [], listing(rest)
