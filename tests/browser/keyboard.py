"""A keyboard user's moves for the journey tests, each checked as a sighted keyboard user would notice a fault.

Every element the focus lands on must be something the user can see: it has a size, it is not hidden, part
of it lies inside the viewport and below the sticky header, nothing else is drawn over it, and it shows a
focus indicator (WCAG 2.1.1 Keyboard, 2.4.7 Focus Visible, 2.4.11 Focus Not Obscured). A journey that only
reaches its goal through an invisible stop fails here, not just a journey that cannot reach it at all.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# What the focused element looks like to the user; ``target`` (an element or null) says whether it is the one
# the journey is after. The header counts as covering only for elements outside it. Transitions that will
# end are waited for first (Material fades the skip link in on focus).
_FOCUS = """
async (target) => {
  await Promise.all(document.getAnimations()
    .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
    .map(a => a.finished.catch(() => null)));
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return {focused: false, reached: false, what: "nothing (the focus left the page)", problems: []};
  }
  const label = (el.getAttribute("aria-label") || el.innerText || el.value || el.getAttribute("title") || "")
    .trim().replace(/\\s+/g, " ").slice(0, 60);
  const what = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${label}" on ${location.pathname}`;
  const problems = [];
  const rect = el.getBoundingClientRect();
  const top = Math.max(rect.top, 0), bottom = Math.min(rect.bottom, window.innerHeight);
  const left = Math.max(rect.left, 0), right = Math.min(rect.right, window.innerWidth);
  if (rect.width === 0 || rect.height === 0) {
    problems.push("it has no size");
  } else if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) {
    problems.push("it is hidden");
  } else if (bottom <= top || right <= left) {
    problems.push(`it is outside the viewport (${Math.round(rect.left)}, ${Math.round(rect.top)})`);
  } else {
    // Some point of its visible part must show the element itself, not what is drawn over it.
    let cover = null, seen = false;
    for (const fy of [0.1, 0.5, 0.9]) {
      for (const fx of [0.1, 0.5, 0.9]) {
        const hit = document.elementFromPoint(left + (right - left) * fx, top + (bottom - top) * fy);
        const label = hit && hit.closest("label");
        if (hit && (el.contains(hit) || hit.contains(el) || (label !== null && label.control === el))) seen = true;
        else cover = cover || hit;
      }
    }
    if (!seen) {
      const header = cover && cover.closest(".md-header, .md-tabs");
      problems.push(header ? "it is under the sticky header"
        : `it is covered by ${cover ? cover.tagName.toLowerCase() + "." + [...cover.classList].join(".") : "nothing"}`);
    }
  }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  // Material's search field shows its focus by opening the search (a white field, or the whole screen).
  const searchOpen = el.matches(".md-search__input") && document.querySelector("#__search")?.checked === true;
  if (!el.matches(":focus-visible") || (!outline && style.boxShadow === "none" && !searchOpen)) {
    problems.push("it shows no focus indicator");
  }
  return {focused: true, reached: target !== null && el === target, what, problems};
}
"""


class FocusError(AssertionError):
    pass


def _look(page: Page, target: Any = None, before: list[str] | None = None) -> dict[str, Any]:
    # A page may answer the focus a moment later (Material brings its tabs back when the focus scrolls the
    # page to them): what shows within about half a second counts, as a person would see it.
    for _ in range(4):
        state: dict[str, Any] = page.evaluate(_FOCUS, target)
        if not state["problems"]:
            return state
        page.wait_for_timeout(150)
    path = "".join(f"\n  after {what}" for what in (before or [])[-5:])
    raise FocusError(f"keyboard focus on {state['what']}: {'; '.join(state['problems'])}{path}")


def assert_focus_visible(page: Page) -> None:
    """Wherever the focus is now (e.g. where a widget put it) must be visible."""
    _look(page)


def press(page: Page, key: str) -> None:
    """Press ``key``; wherever the focus then is must be visible."""
    page.keyboard.press(key)
    _look(page)


def focused_is(page: Page, locator: Locator) -> bool:
    reached: bool = locator.evaluate("(el) => el === document.activeElement")
    return reached


def tab_to(page: Page, locator: Locator, *, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until ``locator`` has the focus; every stop on the way must be visible."""
    target = locator.element_handle()
    key = "Shift+Tab" if backwards else "Tab"
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        state = _look(page, target, seen)
        if state["reached"]:
            return
        seen.append(state["what"])
    raise AssertionError(f"{locator} never got the keyboard focus; the stops were:\n" + "\n".join(seen))


def arrow_to(page: Page, locator: Locator, *, key: str = "ArrowDown", limit: int = 40) -> None:
    """In a radio group that has the focus: arrow keys until ``locator`` is the checked, focused radio."""
    for _ in range(limit):
        if focused_is(page, locator) and locator.is_checked():
            _look(page)
            return
        press(page, key)
    raise AssertionError(f"arrow keys never reached {locator}")


def activate(page: Page, locator: Locator, key: str = "Enter") -> None:
    """Tab to ``locator`` and press ``key`` on it (Enter follows a link or presses a button)."""
    tab_to(page, locator)
    page.keyboard.press(key)


# Material's skip link on help pages, and the service frame's own (theme/service_frame.html) in the same words.
SKIP_LINK = re.compile(r"^Ga naar inhoud$")


def skip_to_content(page: Page) -> None:
    """On a freshly loaded page: Tab to the skip link (the first stop) and follow it into the main content."""
    link = page.get_by_role("link", name=SKIP_LINK)
    tab_to(page, link, limit=1)
    fragment = (link.get_attribute("href") or "").partition("#")[2]
    scrolled_from = page.evaluate("window.scrollY")
    page.keyboard.press("Enter")
    # Material's instant navigation takes the click: it pushes the address (the heading is then :target), and a
    # moment later follows a link to the fragment, which scrolls there and makes the next Tab start there. A
    # person is never that fast; wait for that scroll (a page already there does not scroll: then go on).
    page.wait_for_function("(id) => document.querySelector(':target')?.id === id", arg=fragment)
    try:
        page.wait_for_function("(y) => window.scrollY !== y", arg=scrolled_from, timeout=1500)
    except PlaywrightTimeoutError:
        pass
