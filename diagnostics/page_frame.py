"""The frame every page shares, help site and service alike: the product name and the templates both render.

The help site's theme includes the service's partials through symbolic links (``theme/partials/help.html``
and ``site_links.html`` point into ``diagnostics/templates/_partials/``), so the "Hulp nodig?" block (WCAG
2.2 SC 3.2.6 Consistent help) and the footer links have one source, without MkDocs hooks (which Zensical
does not run). The service's Jinja environments get ``site_name`` from ``register``; ``mkdocs.yml`` spells
the same name, and a test keeps the two equal.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment

SITE_NAME = "Inloghulp Bronhouderportaal"
TEMPLATES_DIR = Path(__file__).parent / "templates"
# The partials the help site renders too; their links use ``base_url`` (MkDocs: relative; service: "/").
HELP_PARTIAL = "_partials/help.html"
LINKS_PARTIAL = "_partials/site_links.html"


def register(env: Environment) -> None:
    """Give the templates of ``env`` the product name as ``site_name``."""
    env.globals["site_name"] = SITE_NAME
