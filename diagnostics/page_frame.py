"""The frame every page shares, help site and service alike: the product name and the templates both render.

A service page (/diagnose, results, card, certificates, console, errors) is shown inside the help site's own
page: header with logo and name, tabs, search, drawer, "Hulp nodig?" block, footer, palette, stylesheets and
scripts. MkDocs renders that frame from ``theme/service_frame.html`` into the built site
(``site/service_frame.html``), and :func:`read_frame` cuts it at its markers; ``templates/base.html`` puts the
page in between. So there is one source (the theme), not a look-alike copy, and a new Material version or
palette reaches the service with the next ``inloghulp build``.

The theme in turn includes the service's partials through symbolic links (``theme/partials/help.html`` and
``site_links.html`` point into ``diagnostics/templates/_partials/``), without MkDocs hooks (which Zensical does
not run). ``mkdocs.yml`` spells the same product name as :data:`SITE_NAME`, and a test keeps the two equal.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from diagnostics import templating

log = logging.getLogger(__name__)

SITE_NAME = "Inloghulp Bronhouderportaal"
# The built frame (theme/service_frame.html, a static template in mkdocs.yml) and its slots, in page order.
FRAME_FILE = "service_frame.html"
SLOTS = ("title", "head", "content", "scripts")
# Used when the site is not built (yet): a plain page with the same slots, the help block and footer links.
PLAIN_FRAME = "_partials/plain_frame.html"
# "Uw inlogtest van 20:19 is niet afgerond": at the top of every page's content while this browser has an open test.
OPEN_TEST_BANNER = "_partials/open_test_banner.html"

_CONFIG_RE = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.DOTALL)


@dataclass(frozen=True)
class Frame:
    """The frame's HTML cut at its slots: what comes before each slot, and the rest after the last one."""

    until_title: Markup
    until_head: Markup
    until_content: Markup
    until_scripts: Markup
    rest: Markup


def split_frame(html: str) -> Frame | None:
    """The frame cut at its slots (``<!--inloghulp:title-->`` ...), or None when a slot is missing or doubled."""
    pieces: list[Markup] = []
    rest = html
    for slot in SLOTS:
        marker = f"<!--inloghulp:{slot}-->"
        if rest.count(marker) != 1:
            return None
        before, rest = rest.split(marker)
        pieces.append(Markup(before))
    until_title, until_head, until_content, until_scripts = pieces
    return Frame(until_title, until_head, until_content, until_scripts, rest=Markup(rest))


def _without_instant_navigation(html: str) -> str:
    """Switch Material's instant navigation off in the frame's ``__config``.

    Instant navigation swaps only the help site's own pages in and out; from a service page it would also
    bring the service page back on "Terug" without its scripts. A link from a service page loads fully.
    The config is a data block (``application/json``), so this changes no hash the CSP allows.
    """

    def rewrite(match: re.Match[str]) -> str:
        config = json.loads(match[2])
        config["features"] = [f for f in config.get("features", []) if not f.startswith("navigation.instant")]
        return match[1] + json.dumps(config, ensure_ascii=False).replace("</", "<\\/") + match[3]

    return _CONFIG_RE.sub(rewrite, html, count=1)


@functools.lru_cache(maxsize=4)
def _built_frame(path: Path, mtime_ns: int) -> Frame | None:
    # Keyed on the file's change time: a new `inloghulp build` is read on the next request.
    del mtime_ns
    frame = split_frame(_without_instant_navigation(path.read_text(encoding="utf-8")))
    if frame is None:
        log.error("%s lacks one of the slots %s; service pages use the plain frame", path, ", ".join(SLOTS))
    return frame


def read_frame(site_dir: Path) -> Frame | None:
    """The built help site's frame in ``site_dir``, or None when the site is not built with it."""
    path = site_dir / FRAME_FILE
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        return None
    return _built_frame(path, mtime_ns)


def _site_dir(request: Request) -> Path | None:
    from diagnostics.resources import resources_in  # the composition root imports routers that import us

    try:
        return resources_in(request.scope).settings.site_dir
    except RuntimeError:  # an app used without its lifespan: no settings, so no site either
        return None


def templates() -> Jinja2Templates:
    """The service's one environment (``diagnostics.templating``) for responses, with ``site_name`` and ``frame``.

    Every service page renders the shared frame, the console's too: one wrapper, so no router can forget it.
    """
    env = templating.ENVIRONMENT

    def frame(request: Request) -> dict[str, Any]:
        site_dir = _site_dir(request)
        found = read_frame(site_dir) if site_dir is not None else None
        if found is None:
            found = split_frame(env.get_template(PLAIN_FRAME).render())
        # Looked up before the page renders (diagnostics.routes.open_test, which names this state attribute).
        open_test = getattr(request.state, "open_test_banner", None)
        if found is not None and open_test is not None:
            banner = Markup(env.get_template(OPEN_TEST_BANNER).render(open_test=open_test))
            found = replace(found, until_content=found.until_content + banner)
        return {"frame": found}

    env.globals["site_name"] = SITE_NAME
    return Jinja2Templates(env=env, context_processors=[frame])


# Every service page (round trip, card, errors, operator pages, the console): one environment for all of them.
TEMPLATES = templates()
