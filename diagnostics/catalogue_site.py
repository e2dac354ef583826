"""Render the failure catalogue and the wizard into help-site snippets at build time.

``storingen.md`` holds one section per catalogue entry with the entry id as its anchor
(``inloggen-lukt-niet/#loa-too-low``); ``wizard.md`` is the "Inloggen lukt niet" wizard as a plain
list of links, plus the same data as JSON for ``wizard.js``. Both come from the catalogue only.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from diagnostics import wizard
from diagnostics.beheerder_card import card_text
from diagnostics.catalogue import (
    GROUP_TITLES,
    HELP_PAGE,
    BeheerderRole,
    Catalogue,
    Entry,
    load_catalogue,
    public_url,
    site_path,
)
from diagnostics.settings import Settings

# Who the "send this to your beheerder" text is for; other entries need no message from the user.
MAIL_ADDRESSEES: dict[str, str] = {
    "eHerkenningsbeheerder": "eHerkenningsbeheerder",
    "gebruikersbeheerder": "Gebruikersbeheerder",
}
BEHEERDER_HEADINGS: dict[BeheerderRole, str] = {
    "eHerkenningsbeheerder": "Voor de eHerkenningsbeheerder",
    "gebruikersbeheerder": "Voor de Gebruikersbeheerder",
}


# The help pages; the site build runs from a checkout, with the pages next to the package.
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
_FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n", re.S)
_FIRST_HEADING = re.compile(r"^# (?P<title>.+?)(\s*\{[^}]*\})?\s*$", re.M)


@cache
def page_title(page: str, docs_dir: Path = DOCS_DIR) -> str:
    """The title a docs page shows as its heading: the front matter ``title``, else its first ``# `` heading."""
    text = (docs_dir / page).read_text(encoding="utf-8")
    front = _FRONT_MATTER.match(text)
    meta = yaml.safe_load(front["meta"]) if front else None
    title = meta.get("title") if isinstance(meta, dict) else None
    if isinstance(title, str):
        return title
    heading = _FIRST_HEADING.search(text)
    if heading is None:
        raise ValueError(f"{docs_dir / page}: geen titel / no title and no '# ' heading")
    return heading["title"]


def _href(link: str) -> str:
    """A docs path as a link from the help page itself (same-page anchors stay short)."""
    page, _, anchor = link.partition("#")
    if page == HELP_PAGE and anchor:
        return f"#{anchor}"
    return link


def _markdown(entry: Entry, text: str) -> str:
    """One of the entry's texts with its linked phrases as Markdown links."""
    return "".join(f"[{part.text}]({_href(part.link)})" if part.link else part.text for part in entry.segments(text))


def _wizard_href(link: str) -> str:
    """A docs path as a link from the help page's URL (``inloggen-lukt-niet/``), where the wizard runs."""
    page, _, anchor = link.partition("#")
    if page == HELP_PAGE:
        return f"#{anchor}"
    return f"../{site_path(link)}"


def _link_title(catalogue: Catalogue, link: str) -> str:
    page, _, anchor = link.partition("#")
    if page == HELP_PAGE and anchor in catalogue:
        return catalogue.entry(anchor).title
    return page_title(page)


def beheerder_message(entry: Entry, page_url: str, card: str | None = None) -> tuple[str, str] | None:
    """Subject and body of the message a medewerker sends when a beheerder must act; None otherwise.

    ``card`` is the beheerder card as text (``beheerder_card.card_text``); the message carries it when the
    entry says the eHerkenningsbeheerder needs the machtiging values.
    """
    addressee = MAIL_ADDRESSEES.get(entry.who)
    if addressee is None:
        return None
    subject = f"Inloggen in het Bronhouderportaal: {entry.title}"
    values = f"{card}\n\n" if entry.with_card_values and card else ""
    body = (
        f"Beste {addressee},\n\n"
        f"Ik kan niet inloggen in het Bronhouderportaal. Het probleem: {entry.title}.\n\n"
        f"Wat u kunt doen: {entry.steps.beheerder}\n\n"
        f"{values}"
        f"Meer informatie: {page_url}#{entry.id}\n\n"
        "Met vriendelijke groet,"
    )
    return subject, body


def _indent(text: str) -> str:
    return textwrap.indent(text, "    ")


def _entry_markdown(catalogue: Catalogue, entry: Entry, page_url: str, card: str | None) -> str:
    lines = [
        f"#### {entry.title} {{ #{entry.id} }}",
        "",
        f"**Wat u ziet:** {_markdown(entry, entry.seen)}",
        "",
        f"**Waarschijnlijke oorzaak:** {_markdown(entry, entry.cause)}",
        "",
        f"**Wie moet iets doen:** {entry.who_label}.",
        "",
        f"**Wat u kunt doen:** {_markdown(entry, entry.steps.medewerker)}",
        "",
    ]
    # The beheerder step is headed with the role it is for; when no beheerder needs to act, it is left out.
    if entry.beheerder_role is not None:
        lines += [
            f'??? info "{BEHEERDER_HEADINGS[entry.beheerder_role]}"',
            "",
            _indent(_markdown(entry, entry.steps.beheerder)),
            "",
        ]
    lines += [
        '??? info "Voor de BRO Servicedesk"',
        "",
        _indent(_markdown(entry, entry.steps.servicedesk)),
        "",
    ]
    message = beheerder_message(entry, page_url, card)
    if message is not None:
        subject, body = message
        wrapped = "\n".join(textwrap.fill(paragraph, width=88) if paragraph else "" for paragraph in body.split("\n"))
        lines += [
            f'??? tip "Stuur dit naar uw {MAIL_ADDRESSEES[entry.who]}"',
            "",
            _indent(f"Onderwerp: {subject}"),
            "",
            _indent("```text"),
            _indent(wrapped),
            _indent("```"),
            "",
        ]
    if entry.links:
        related = ", ".join(f"[{_link_title(catalogue, link)}]({_href(link)})" for link in entry.links)
        lines += [f"Zie ook: {related}.", ""]
    return "\n".join(lines)


def storingen_markdown(catalogue: Catalogue, page_url: str, card: str | None = None) -> str:
    """Every catalogue entry under its group heading, anchored by id."""
    parts = [
        "<!-- Gemaakt uit diagnostics/catalogue.yaml door `inloghulp build`; niet met de hand aanpassen. -->",
        "",
    ]
    for group, title in GROUP_TITLES.items():
        entries = catalogue.by_group(group)
        if not entries:
            continue
        parts += [f"### {title} {{ #groep-{group} }}", ""]
        parts += [_entry_markdown(catalogue, entry, page_url, card) for entry in entries]
    return "\n".join(parts)


def wizard_data(catalogue: Catalogue, page_url: str, card: str | None = None) -> dict[str, Any]:
    """The wizard for ``wizard.js``: methods, symptoms and the texts of every target entry."""
    entries: dict[str, Any] = {}
    for target in sorted(wizard.targets()):
        entry = catalogue.entry(target)
        message = beheerder_message(entry, page_url, card)
        entries[target] = {
            "title": entry.title,
            "who": entry.who,
            "who_label": entry.who_label,
            "cause": entry.cause,
            "step": entry.steps.medewerker,
            "step_parts": [
                {"text": part.text, "href": _wizard_href(part.link) if part.link else None}
                for part in entry.segments(entry.steps.medewerker)
            ],
            "addressee": MAIL_ADDRESSEES.get(entry.who),
            "mail": {"subject": message[0], "body": message[1]} if message else None,
        }
    methods = [
        {
            "id": method.id,
            "label": method.label,
            "hint": method.hint,
            "symptoms": [{"id": s.id, "label": s.label, "entry": s.entry} for s in method.symptoms],
        }
        for method in wizard.METHODS
    ]
    return {"methods": methods, "entries": entries}


def wizard_html(catalogue: Catalogue, page_url: str, card: str | None = None) -> str:
    """The wizard without JavaScript: per method a list of symptoms linking to the catalogue anchors."""
    esc = html.escape
    # The data rides in an attribute, not in a <script> block: Material's instant navigation re-creates every
    # script in the page without its type, so the CSP blocked the JSON as code and the widget never came.
    data = json.dumps(wizard_data(catalogue, page_url, card), ensure_ascii=False)
    parts = [f'<div class="ih-wizard" data-ih-wizard data-ih-wizard-data="{esc(data)}">']
    for method in wizard.METHODS:
        parts.append(f'<section class="ih-wizard__method" aria-labelledby="ih-wizard-{method.id}">')
        parts.append(
            f'<p class="ih-wizard__heading" id="ih-wizard-{method.id}"><strong>{esc(method.label)}</strong></p>'
        )
        parts.append("<ul>")
        for symptom in method.symptoms:
            parts.append(f'<li><a href="#{symptom.entry}" data-symptom="{symptom.id}">{esc(symptom.label)}</a></li>')
        parts.append("</ul>")
        parts.append("</section>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"


def snippets(settings: Settings) -> dict[str, str]:
    """Snippet generator for ``diagnostics.sitebuild``: ``storingen.md`` and ``wizard.md``."""
    catalogue = load_catalogue()
    page_url = public_url(settings.public_base_url, HELP_PAGE)
    card = card_text(settings)
    return {
        "storingen.md": storingen_markdown(catalogue, page_url, card),
        "wizard.md": wizard_html(catalogue, page_url, card),
    }
