"""The strict Content-Security-Policy in Chromium: every page works and reports no violation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""
SITE_PAGES = ["/", "/inloggen-lukt-niet/", "/eherkenning/", "/beheerder/", "/privacy/", "/bestaat-niet/"]
SERVICE_PAGES = ["/diagnose", "/servicedesk/login", "/simulator/", "/beheerder-kaart"]


@pytest.fixture
def server_url(live_server: Callable[..., Any], built_site_dir: Path) -> str:
    return str(live_server({"site_dir": str(built_site_dir)}).url)


@pytest.fixture
def watched(page: Page) -> tuple[Page, list[str]]:
    """The page, and every CSP violation or console error it reports (violations via the DOM event)."""
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page, problems


def _violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations || []")
    return found


def test_the_response_carries_the_strict_policy(watched: tuple[Page, list[str]], server_url: str) -> None:
    page, _ = watched
    response = page.goto(server_url + "/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "script-src 'self' 'sha256-" in policy


def test_pages_have_no_csp_violation(watched: tuple[Page, list[str]], server_url: str) -> None:
    page, problems = watched
    for path in SITE_PAGES + SERVICE_PAGES:
        page.goto(server_url + path)
        page.wait_for_load_state("networkidle")
        assert _violations(page) == [], f"{path}: {_violations(page)}"
        csp_errors = [text for text in problems if "Content Security Policy" in text or "Refused to" in text]
        assert csp_errors == [], f"{path}: {csp_errors}"


def test_material_scripts_run_under_the_policy(watched: tuple[Page, list[str]], server_url: str) -> None:
    """Search (a web worker), instant navigation and the inline palette script all still work."""
    page, problems = watched
    page.goto(server_url + "/")
    page.wait_for_load_state("networkidle")
    # Material's bundle sets this global; it would be missing if its scripts were blocked.
    assert page.evaluate("typeof window.document$ !== 'undefined' || typeof window.__md_scope !== 'undefined'")
    page.get_by_role("textbox", name="Zoeken").first.click()
    page.keyboard.type("machtiging")
    expect(page.locator(".md-search-result__link").first).to_be_visible(timeout=15_000)
    # Instant navigation: a click loads the next page with fetch and swaps the content.
    page.locator(".md-search-result__link").first.click()
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []
    assert [text for text in problems if "Content Security Policy" in text] == []


def test_a_whole_round_trip_in_the_browser_reports_no_violation(
    watched: tuple[Page, list[str]], server_url: str
) -> None:
    """Chooser, the simulator's screens, the POST binding back (auto-submit script) and the result."""
    page, problems = watched
    page.goto(server_url + "/diagnose")
    page.locator("input[name=supplier]").first.check()
    page.locator(
        "form[action='/diagnose/start'] button[type=submit], form[action='/diagnose/start'] [type=submit]"
    ).first.click()
    page.wait_for_url("**/simulator/**")
    page.locator("input[name=return_binding][value=post]").check()
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/diagnose/BHP-*", timeout=15_000)
    page.wait_for_load_state("networkidle")
    assert _violations(page) == [], _violations(page)
    assert [text for text in problems if "Content Security Policy" in text or "Refused to" in text] == []


def test_the_detector_sees_a_blocked_inline_script(watched: tuple[Page, list[str]], server_url: str) -> None:
    """Proof that the checks above can fail: our policy, a page with an inline script it does not allow."""
    page, problems = watched
    policy = page.request.get(server_url + "/").headers["content-security-policy"]
    page.route(
        server_url + "/csp-probe",
        lambda route: route.fulfill(
            status=200,
            headers={"content-type": "text/html", "content-security-policy": policy},
            body="<!doctype html><title>probe</title><script>document.title = 'ran'</script>",
        ),
    )
    page.goto(server_url + "/csp-probe")
    assert page.title() == "probe", "the inline script must not run"
    assert any(violation.startswith("script-src") for violation in _violations(page)), _violations(page)
