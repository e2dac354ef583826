"""The beheerder card as HTML: one Jinja partial for the static help site and the service pages."""

from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape

from diagnostics.service_info import service_info
from diagnostics.settings import Settings

TEMPLATE = "_beheerder_kaart.html"
SNIPPET = "beheerder-kaart.html"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("diagnostics", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )


def render_card(settings: Settings, *, heading_level: int = 2, title: str | None = None) -> str:
    """The card's HTML with the values from ``settings``."""
    context: dict[str, object] = {"info": service_info(settings), "card_heading_level": heading_level}
    if title is not None:
        context["card_title"] = title
    return _environment().get_template(TEMPLATE).render(context)


def snippets(settings: Settings) -> dict[str, str]:
    """Site build generator: the card for ``--8<-- "beheerder-kaart.html"`` under an h2 section."""
    html = render_card(settings, heading_level=3, title="De gegevens voor de machtiging")
    # Markdown ends a raw HTML block at a blank line. A newline that would start an empty line is
    # written as a character reference instead, so the browser still shows (and copies) the same text.
    return {SNIPPET: re.sub(r"(?<=\n)\n", "&#10;", html).strip() + "\n"}
