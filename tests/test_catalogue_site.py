"""The help site shows the catalogue: one anchored section per entry, with the same texts as the service."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from diagnostics.beheerder_card import card_text
from diagnostics.catalogue import load_catalogue
from diagnostics.catalogue_site import beheerder_message, page_title, snippets, storingen_markdown, wizard_data
from diagnostics.service_info import service_info
from diagnostics.settings import Settings
from tests.site.helpers import build_site

PAGE_URL = "http://127.0.0.1:8000/inloggen-lukt-niet/"


@pytest.fixture(scope="module")
def help_page(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> BeautifulSoup:
    work = tmp_path_factory.mktemp("catalogue-site")
    result = build_site(work / "site", sp_keypair, work)
    assert result.returncode == 0, result.stderr
    html = (work / "site" / "inloggen-lukt-niet" / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


def section_text(heading: Tag) -> str:
    """The text from a catalogue heading up to the next heading of the same or a higher level."""
    parts = []
    for sibling in heading.find_next_siblings():
        if sibling.name in {"h2", "h3", "h4"}:
            break
        parts.append(sibling.get_text(" ", strip=True))
    return squash(" ".join(parts))


def squash(text: str) -> str:
    # Glossary tooltips wrap words in <abbr>, which adds spaces in extracted text: compare without them.
    return "".join(text.split())


def test_every_entry_has_an_anchored_section_with_the_runtime_texts(help_page: BeautifulSoup) -> None:
    catalogue = load_catalogue()
    for entry in catalogue.entries:
        heading = help_page.find(id=entry.id)
        assert isinstance(heading, Tag) and heading.name == "h4", entry.id
        assert entry.title in heading.get_text()
        text = section_text(heading)
        shown = [entry.seen, entry.cause, entry.who_label, entry.steps.medewerker, entry.steps.servicedesk]
        if entry.beheerder_role is not None:
            shown.append(entry.steps.beheerder)
        for value in shown:
            assert squash(value) in text, (entry.id, value)
        # The verdict's advice (what the API, explain and the console show) is the same sentence.
        assert squash(catalogue.diagnosis(entry.id).advice) in text


def test_the_page_wizard_data_is_the_catalogue(help_page: BeautifulSoup, settings: Settings) -> None:
    root = help_page.find(attrs={"data-ih-wizard-data": True})
    assert isinstance(root, Tag)
    data = json.loads(str(root["data-ih-wizard-data"]))
    expected = wizard_data(load_catalogue(), PAGE_URL, card_text(settings))
    assert data == expected


def test_without_javascript_every_symptom_links_to_an_anchor_on_the_page(help_page: BeautifulSoup) -> None:
    links = help_page.select("a[data-symptom]")
    assert len(links) >= 15
    for link in links:
        target = str(link["href"]).removeprefix("#")
        assert help_page.find(id=target) is not None, target


def test_beheerder_message_only_where_a_beheerder_acts() -> None:
    catalogue = load_catalogue()
    assert beheerder_message(catalogue.entry("no-authorisation"), PAGE_URL) is not None
    assert beheerder_message(catalogue.entry("email-no-account"), PAGE_URL) is not None
    assert beheerder_message(catalogue.entry("replay"), PAGE_URL) is None
    subject, body = beheerder_message(catalogue.entry("loa-too-low"), PAGE_URL) or ("", "")
    assert catalogue.entry("loa-too-low").steps.beheerder in body
    assert body.startswith("Beste eHerkenningsbeheerder,")
    assert f"{PAGE_URL}#loa-too-low" in body


def test_snippets_use_the_public_base_url(settings: Settings) -> None:
    files = snippets(settings)
    assert set(files) == {"storingen.md", "wizard.md"}
    assert f"{settings.public_base_url}/inloggen-lukt-niet/#no-authorisation" in files["storingen.md"]


def test_markdown_has_one_anchor_per_entry() -> None:
    text = storingen_markdown(load_catalogue(), PAGE_URL)
    for entry_id in load_catalogue().ids:
        assert text.count(f"{{ #{entry_id} }}") == 1, entry_id


def test_see_also_labels_are_the_page_titles() -> None:
    text = storingen_markdown(load_catalogue(), PAGE_URL)
    assert "[Inloggen met eHerkenning](eherkenning.md)" in text
    assert "[Inloggen met e-mailadres](email.md)" in text
    assert "[Voor de eHerkenningsbeheerder](beheerder.md" in text
    for made_up in ("[Eherkenning]", "[Email]", "[Beheerder]"):
        assert made_up not in text


def test_page_title_reads_front_matter_then_the_first_heading(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: Titel uit de kop\n---\n\n# Andere kop\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("Inleiding\n\n# Eerste kop { #eerste }\n\n## Tweede\n", encoding="utf-8")
    (tmp_path / "c.md").write_text("Geen kop.\n", encoding="utf-8")
    assert page_title("a.md", tmp_path) == "Titel uit de kop"
    assert page_title("b.md", tmp_path) == "Eerste kop"
    with pytest.raises(ValueError, match="c.md"):
        page_title("c.md", tmp_path)


def entry_markdown(entry_id: str) -> str:
    text = storingen_markdown(load_catalogue(), PAGE_URL)
    return text.split(f"{{ #{entry_id} }}", 1)[1].split("\n#### ", 1)[0]


def test_beheerder_steps_are_headed_with_the_role_they_are_for() -> None:
    text = storingen_markdown(load_catalogue(), PAGE_URL)
    assert "Voor de beheerder" not in text
    # who is the medewerker (or the beheer), but the beheerder step is the eHerkenningsbeheerder's.
    for entry_id in ("wrong-organisation", "request-unsupported"):
        assert '??? info "Voor de eHerkenningsbeheerder"' in entry_markdown(entry_id), entry_id
    assert '??? info "Voor de Gebruikersbeheerder"' in entry_markdown("email-locked")


def test_no_beheerder_heading_when_no_beheerder_needs_to_act() -> None:
    catalogue = load_catalogue()
    idle = [entry for entry in catalogue.entries if entry.beheerder_role is None]
    assert {"replay", "config-error", "bad-signature"} <= {entry.id for entry in idle}
    for entry in idle:
        section = entry_markdown(entry.id)
        assert "U hoeft niets te doen" not in section, entry.id
        assert 'beheerder"' not in section, entry.id


def test_who_for_the_beheer_names_whom_the_medewerker_contacts() -> None:
    section = entry_markdown("bad-signature")
    assert (
        "**Wie moet iets doen:** de BRO Servicedesk; die geeft het door aan het beheer van het Bronhouderportaal."
        in section
    )


def test_help_texts_link_the_page_for_eherkenningsbeheerders() -> None:
    assert "Die staan op de [pagina voor eHerkenningsbeheerders](beheerder.md#gegevens-machtiging)." in entry_markdown(
        "no-authorisation"
    )
    assert "[pagina voor eHerkenningsbeheerders](beheerder.md#gegevens-machtiging)" in entry_markdown("wrong-service")
    parts = wizard_data(load_catalogue(), PAGE_URL)["entries"]["no-authorisation"]["step_parts"]
    assert {"text": "pagina voor eHerkenningsbeheerders", "href": "../beheerder/#gegevens-machtiging"} in parts


def test_built_page_links_the_phrase(help_page: BeautifulSoup) -> None:
    heading = help_page.find(id="no-authorisation")
    assert isinstance(heading, Tag)
    links = []
    for sibling in heading.find_next_siblings():
        if sibling.name in {"h2", "h3", "h4"}:
            break
        links += sibling.find_all("a", string="pagina voor eHerkenningsbeheerders")
    assert links and links[0]["href"] == "../beheerder/#gegevens-machtiging"


@pytest.mark.parametrize("entry_id", ["no-authorisation", "no-response", "wrong-service"])
def test_message_to_the_eherkenningsbeheerder_carries_the_card_values(settings: Settings, entry_id: str) -> None:
    card = card_text(settings)
    _, body = beheerder_message(load_catalogue().entry(entry_id), PAGE_URL, card) or ("", "")
    assert card in body and body.index(card) < body.index("Met vriendelijke groet,")
    assert f"ServiceUUID: {service_info(settings).service_uuid}" in body and "/beheerder/" in body
    files = snippets(settings)
    # The help page's "Stuur dit naar uw eHerkenningsbeheerder" block ...
    section = files["storingen.md"].split(f"{{ #{entry_id} }}", 1)[1].split("\n#### ", 1)[0]
    assert f"ServiceUUID: {service_info(settings).service_uuid}" in section
    # ... and the wizard's mail in step 3 (no-response and no-authorisation are wizard targets).
    attribute = files["wizard.md"].split('data-ih-wizard-data="', 1)[1].split('"', 1)[0]
    mails = {key: value["mail"] for key, value in json.loads(html.unescape(attribute))["entries"].items()}
    if entry_id in mails:
        page_url = f"{settings.public_base_url}/inloggen-lukt-niet/"
        assert mails[entry_id]["body"] == (beheerder_message(load_catalogue().entry(entry_id), page_url, card) or "")[1]


def test_other_messages_carry_no_card_values(settings: Settings) -> None:
    subject, body = beheerder_message(load_catalogue().entry("which-makelaar"), PAGE_URL, card_text(settings)) or (
        "",
        "",
    )
    assert "ServiceUUID" not in body
