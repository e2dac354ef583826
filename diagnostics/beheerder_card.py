"""The beheerder card as HTML: one Jinja partial for the static help site and the service pages."""

from __future__ import annotations

import re

from diagnostics import templating
from diagnostics.catalogue import SIGN_OFF, Entry, public_url
from diagnostics.service_info import EXAMPLE_LABEL, service_info
from diagnostics.settings import Settings

TEMPLATE = "_beheerder_kaart.html"
SNIPPET = "beheerder-kaart.html"
# The card's section on the help page for eHerkenningsbeheerders (the catalogue checks that the anchor exists).
BEHEERDER_PAGE = "beheerder.md#gegevens-machtiging"


def render_card(settings: Settings, *, heading_level: int = 2, title: str | None = None) -> str:
    """The card's HTML with the values from ``settings``."""
    context: dict[str, object] = {"info": service_info(settings), "card_heading_level": heading_level}
    if title is not None:
        context["card_title"] = title
    # The service's one environment (the card partial is also part of /beheerder-kaart), so it renders alike.
    return templating.ENVIRONMENT.get_template(TEMPLATE).render(context)


def snippets(settings: Settings) -> dict[str, str]:
    """Site build generator: the card for ``--8<-- "beheerder-kaart.html"`` under an h2 section."""
    html = render_card(settings, heading_level=3, title="De gegevens voor de machtiging")
    # Markdown ends a raw HTML block at a blank line. A newline that would start an empty line is
    # written as a character reference instead, so the browser still shows (and copies) the same text.
    return {SNIPPET: re.sub(r"(?<=\n)\n", "&#10;", html).strip() + "\n"}


def card_text(settings: Settings) -> str:
    """The card as text for a message: the "Kopieer alles" text (one source) and where the page is."""
    return f"{service_info(settings).as_text()}\n\nDeze gegevens staan ook op: {public_url(settings.public_base_url, BEHEERDER_PAGE)}"


def ticket_reply(entry: Entry, settings: Settings) -> str:
    """The entry's ticket reply; where the eHerkenningsbeheerder needs them, with the card's values before the sign-off."""
    if not entry.with_card_values:
        return entry.reply
    body, sign_off, signature = entry.reply.rpartition(SIGN_OFF)
    values = f"Stuur deze gegevens voor de machtiging mee naar uw eHerkenningsbeheerder:\n\n{card_text(settings)}\n\n"
    return f"{body}{values}{sign_off}{signature}"


def card_lines(settings: Settings, keys: tuple[str, ...]) -> list[str]:
    """The card's "label: value" lines for ``keys``, in card order, as "Kopieer alles" writes them.

    For a text that must stay short (the result page's mail link): the values the beheerder types in, not all.
    """
    return [
        f"{field.label}: {field.value}" + (f" ({EXAMPLE_LABEL})" if field.example else "")
        for field in service_info(settings).card_fields()
        if field.key in keys
    ]
