"""The frame every page shares, help site and service alike: the product name and the templates both render.

The help site's theme includes the service's partials through symbolic links (``theme/partials/help.html``
and ``site_links.html`` point into ``diagnostics/templates/_partials/``), so the "Hulp nodig?" block (WCAG
2.2 SC 3.2.6 Consistent help) and the footer links have one source, without MkDocs hooks (which Zensical
does not run). The service's Jinja environments come from ``templates()``, which gives them ``site_name``;
``mkdocs.yml`` spells the same name, and a test keeps the two equal.
"""

from __future__ import annotations

from pathlib import Path

from starlette.templating import Jinja2Templates

from diagnostics import localtime

SITE_NAME = "Inloghulp Bronhouderportaal"
TEMPLATES_DIR = Path(__file__).parent / "templates"


def templates(directory: Path = TEMPLATES_DIR) -> Jinja2Templates:
    """Jinja templates (autoescaped) for service pages: ``site_name`` and the ``dutch_time`` filter included.

    Every service page renders the shared frame, so every environment needs both; building them here means
    a new router cannot forget one.
    """
    found = Jinja2Templates(directory=directory)
    found.env.globals["site_name"] = SITE_NAME
    localtime.register(found.env)
    return found


# The service's own pages (round trip, card, errors): one environment for all of them.
TEMPLATES = templates()
