"""The card HTML: every value in its own element, example labels, mailto built at render time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import markdown
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from diagnostics.beheerder_card import SNIPPET, card_lines, render_card, snippets
from diagnostics.beheerder_mail import MAX_URL, beheerder_mail, mailto
from diagnostics.catalogue import load_catalogue
from diagnostics.page_frame import SITE_NAME
from diagnostics.service_info import service_info
from diagnostics.settings import Settings, load_settings
from diagnostics.sitebuild import generators


def _values(html: str) -> dict[str, str]:
    card = BeautifulSoup(html, "html.parser").select_one("[data-bhk-card]")
    assert card is not None
    return {element["data-bhk-field"]: element.get_text() for element in card.select("[data-bhk-field]")}


def test_each_value_has_its_own_element(settings: Settings) -> None:
    info = service_info(settings)
    assert _values(render_card(settings)) == {field.key: field.value for field in info.card_fields()}


def test_example_values_are_labelled(settings: Settings, write_config: Callable[..., Path]) -> None:
    soup = BeautifulSoup(render_card(settings), "html.parser")
    assert soup.select_one("[data-bhk-example-notice]") is not None
    labelled = {row["data-bhk-row"] for row in soup.select("[data-bhk-row]") if row.select_one("[data-bhk-example]")}
    # The test config's name and description already say "voorbeeld"; the other values get the label.
    assert labelled == {"provider_oin", "service_uuid", "service_id"}
    real = BeautifulSoup(
        render_card(load_settings(write_config({"service": {"example_values": False}}))), "html.parser"
    )
    assert real.select("[data-bhk-example]") == [] and real.select_one("[data-bhk-example-notice]") is None
    assert "voorbeeldwaarde" not in real.get_text()


def test_mailto_and_text_block_work_without_javascript(settings: Settings) -> None:
    soup = BeautifulSoup(render_card(settings), "html.parser")
    info = service_info(settings)
    href = soup.select_one("[data-bhk-mail]")["href"]
    body = parse_qs(urlsplit(href).query)["body"][0]
    for field in info.card_fields():
        assert field.value in body
    assert soup.select_one("[data-bhk-all]").get_text() == info.as_text()
    assert soup.select("button") == []  # buttons come from card.js only


def test_values_are_escaped(write_config: Callable[..., Path]) -> None:
    settings = load_settings(write_config({"service": {"provider_name": "A <b>&amp; B</b>"}}))
    html = render_card(settings)
    assert "<b>" not in html
    assert _values(html)["provider_name"] == "A <b>&amp; B</b>"


def test_snippet_survives_markdown(write_config: Callable[..., Path]) -> None:
    description = "Eerste alinea.\n\nTweede alinea."
    settings = load_settings(write_config({"service": {"description": description}}))
    from diagnostics import beheerder_card

    assert beheerder_card.snippets in generators()
    html = snippets(settings)[SNIPPET]
    assert "\n\n" not in html  # a blank line would end the raw HTML block in Markdown
    rendered = markdown.markdown(f"## Kop\n\n{html}\n## Volgende kop\n")
    assert _values(rendered)["service_description"] == description
    assert (
        BeautifulSoup(rendered, "html.parser").select_one("[data-bhk-all]").get_text()
        == service_info(settings).as_text()
    )


def test_print_view_page(app_client: Callable[..., TestClient], settings: Settings) -> None:
    response = app_client(settings).get("/beheerder-kaart")
    assert response.status_code == 200
    soup = BeautifulSoup(response.text, "html.parser")
    # The page sits in the site's frame like every service page; on paper only the card shows (card.css).
    assert soup.select_one("header.md-header") is not None
    assert soup.select_one(".bhk-card__print-link") is None
    assert _values(response.text) == {f.key: f.value for f in service_info(settings).card_fields()}
    assert soup.title is not None
    assert soup.title.get_text() == f"Machtiging voor het Bronhouderportaal - {SITE_NAME}"


def test_card_says_beheerdashboard_as_the_glossary_does(settings: Settings) -> None:
    text = BeautifulSoup(render_card(settings), "html.parser").get_text()
    assert "beheerdashboard" in text
    assert "beheermodule" not in text


CONFIG_ROWS = ("provider_name", "provider_oin", "service_name", "service_description", "service_uuid", "service_id")


def test_each_example_value_is_marked_once(settings: Settings) -> None:
    """Not "Bronhouderportaal (voorbeeld) (voorbeeldwaarde)": on the card, in the text block and in the e-mail."""
    soup = BeautifulSoup(render_card(settings), "html.parser")
    for key in CONFIG_ROWS:
        row = soup.select_one(f'[data-bhk-row="{key}"] dd')
        assert row is not None
        assert row.get_text().lower().count("voorbeeld") == 1, row.get_text()
    info = service_info(settings)
    lines = {line.split(": ", 1)[0]: line for line in info.as_text().splitlines() if ": " in line}
    for field in info.card_fields():
        if field.key in CONFIG_ROWS:
            assert lines[field.label].lower().count("voorbeeld") == 1, lines[field.label]


def test_ticket_reply_adds_the_card_text_where_the_beheerder_needs_it(settings: Settings) -> None:
    from diagnostics.beheerder_card import card_text, ticket_reply
    from diagnostics.catalogue import load_catalogue

    catalogue = load_catalogue()
    for entry_id in ("no-authorisation", "no-response", "wrong-service"):
        entry = catalogue.entry(entry_id)
        reply = ticket_reply(entry, settings)
        assert card_text(settings) in reply, entry_id
        assert service_info(settings).as_text() in card_text(settings)  # one source: the card's own text
        assert f"{settings.public_base_url}/beheerder/" in reply
        assert reply.endswith("Met vriendelijke groet,\nBRO Servicedesk")
        assert reply.startswith(entry.reply.split("Met vriendelijke groet,")[0])
    assert "(voorbeeldwaarde)" in card_text(settings)
    # Entries where the beheerder needs no values keep their reply as written.
    assert ticket_reply(catalogue.entry("loa-too-low"), settings) == catalogue.entry("loa-too-low").reply


def test_card_intro_fits_the_beheerder_too(settings: Settings) -> None:
    # The card is on the beheerder's own page as well as on the medewerker's: "uw eHerkenningsbeheerder"
    # would address the beheerder as someone else.
    intro = BeautifulSoup(render_card(settings), "html.parser").select_one(".bhk-card__intro")
    assert intro is not None
    assert "uw eHerkenningsbeheerder" not in intro.get_text()
    assert "eHerkenningsbeheerder van uw organisatie" in intro.get_text()


def test_card_lines_are_the_cards_own_values_in_card_order(settings: Settings) -> None:
    info = service_info(settings)
    keys = ("service_id", "service_name", "required_loa_label")
    assert card_lines(settings, keys) == [
        "Dienst: Bronhouderportaal (voorbeeld)",
        f"ServiceID: {info.service_id} (voorbeeldwaarde)",
        f"Minimaal niveau: {info.required_loa_label}",
    ]
    # The same lines as the card's "Kopieer alles" text: one source, not a second wording.
    assert set(card_lines(settings, keys)) <= set(info.as_text().splitlines())


def test_the_beheerder_mail_link_stays_short_and_keeps_what_the_beheerder_needs(settings: Settings) -> None:
    entry = load_catalogue().entry("no-authorisation")
    mail = beheerder_mail(
        settings, entry, reference="BHP-2345-6789", supplier_name="Een eHerkenningsmakelaar " * 20, organisation=None
    )
    # Some mail clients cut a mailto URL after about 2000 characters.
    assert len(mail.href) <= MAX_URL
    body = parse_qs(urlsplit(mail.href).query)["body"][0]
    info = service_info(settings)
    for value in (info.service_id, info.service_uuid, info.required_loa_label, "BHP-2345-6789", entry.steps.beheerder):
        assert value in body
    assert "/beheerder/#gegevens-machtiging" in body
    # The card's general steps go first when it is too long; the copy text keeps them.
    assert info.steps[0] not in body and info.steps[0] in mail.copy_text


def test_the_beheerder_mail_is_percent_encoded_for_every_mail_client(settings: Settings) -> None:
    href = mailto("Niveau 2+ & meer", "Regel één\nRegel twee?")
    assert href == ("mailto:?subject=Niveau%202%2B%20%26%20meer&body=Regel%20%C3%A9%C3%A9n%0D%0ARegel%20twee%3F")
