"""The "Wat ziet u?" index on "Inloggen lukt niet" only links to the catalogue; each explanation is on the page once."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from diagnostics.catalogue import INDEX_IDS, load_catalogue
from diagnostics.catalogue_site import beheerder_message
from tests.site import helpers

# The anchors of the former hand-written list: links to them from elsewhere still land on the index.
FORMER_ANCHORS = (
    "eerste-keer-eherkenning",
    "werkte-eerder-wel",
    "niveau-te-laag",
    "verkeerde-organisatie",
    "geen-code",
    "welke-makelaar",
    "geen-eherkenning",
    "e-mailaccount",
    "niet-aangemeld",
    "verkeerde-omgeving",
    "storing",
)


@pytest.fixture(scope="module")
def help_page(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> BeautifulSoup:
    work = tmp_path_factory.mktemp("help-index")
    result = helpers.build_site(work / "site", sp_keypair, work)
    assert result.returncode == 0, f"inloghulp build failed:\n{result.stdout}\n{result.stderr}"
    return helpers.soup(work / "site" / "inloggen-lukt-niet" / "index.html")


def index_section(page: BeautifulSoup) -> list[Tag]:
    """The elements between the "Wat ziet u?" heading and the next h2."""
    heading = page.find(id="wat-ziet-u")
    assert isinstance(heading, Tag) and heading.name == "h2"
    section = []
    for sibling in heading.find_next_siblings():
        if sibling.name == "h2":
            break
        section.append(sibling)
    return section


def index_rows(page: BeautifulSoup) -> list[tuple[Tag, str]]:
    """Each index item: its link and the text of its "Wie moet iets doen?" cell."""
    rows = []
    for element in index_section(page):
        for row in element.select("tbody tr"):
            cells = row.find_all("td")
            link = cells[0].find("a")
            assert isinstance(link, Tag), row
            rows.append((link, " ".join(cells[1].get_text(" ").split())))
    return rows


def squash(text: str) -> str:
    # Glossary tooltips wrap words in <abbr>, which adds spaces in extracted text: compare without them.
    return "".join(text.split())


def test_every_index_link_goes_to_a_catalogue_anchor_on_the_page(help_page: BeautifulSoup) -> None:
    catalogue = load_catalogue()
    rows = index_rows(help_page)
    assert len(rows) >= 10
    targets = []
    for link, _ in rows:
        href = str(link["href"])
        assert href.startswith("#"), href
        target = href.removeprefix("#")
        assert target in catalogue, f"{href} is not a catalogue id"
        heading = help_page.find(id=target)
        assert isinstance(heading, Tag) and heading.name == "h4", href
        assert catalogue.entry(target).title in heading.get_text()
        targets.append(target)
    assert len(targets) == len(set(targets)), "one index item per catalogue entry"
    assert set(INDEX_IDS) <= set(targets), "entries only the index leads to must be in it"


def test_index_names_who_acts_as_the_catalogue_does(help_page: BeautifulSoup) -> None:
    catalogue = load_catalogue()
    for link, who in index_rows(help_page):
        entry = catalogue.entry(str(link["href"]).removeprefix("#"))
        assert who.lower() == entry.who_label.lower(), (entry.id, who)


def test_index_is_links_only(help_page: BeautifulSoup) -> None:
    """No explanations in the index: no sub-sections, nothing but the table and one line of introduction."""
    section = index_section(help_page)
    assert [element.name for element in section] == ["p", "table"]
    assert section[0].find("a") is None


def test_former_anchors_still_land_on_the_index(help_page: BeautifulSoup) -> None:
    links = {str(link.get("id")): link for link, _ in index_rows(help_page)}
    for anchor in FORMER_ANCHORS:
        assert anchor in links, anchor
        assert len(help_page.find_all(id=anchor)) == 1, anchor


def article_text(page: BeautifulSoup) -> str:
    """What a reader sees in the content, squashed; not the wizard's JSON, which repeats texts for wizard.js."""
    page = copy.copy(page)
    for script in page.find_all("script"):
        script.decompose()
    article = page.find("article")
    assert isinstance(article, Tag)
    return squash(article.get_text(" "))


def test_no_cause_is_explained_twice(help_page: BeautifulSoup) -> None:
    text = article_text(help_page)
    for entry in load_catalogue().entries:
        assert text.count(squash(entry.cause)) == 1, entry.id


def rendered_texts(entry_id: str) -> list[str]:
    """The texts the page shows for one catalogue entry (the beheerder message repeats the beheerder step)."""
    entry = load_catalogue().entry(entry_id)
    texts = [entry.seen, entry.cause, *entry.steps.model_dump().values()]
    if beheerder_message(entry, "") is not None:
        texts.append(entry.steps.beheerder)
    return texts


def test_no_sentence_of_a_cause_is_repeated_outside_the_catalogue(help_page: BeautifulSoup) -> None:
    """A hand-written copy of an explanation, even reworded around one sentence, shows up as an extra count."""
    text = article_text(help_page)
    catalogue = load_catalogue()
    shown = [squash(value) for entry_id in catalogue.ids for value in rendered_texts(entry_id)]
    for entry in catalogue.entries:
        for sentence in re.split(r"(?<=[.?!])\s+", entry.cause):
            if len(sentence.split()) < 5:
                continue
            needle = squash(sentence)
            assert text.count(needle) == sum(value.count(needle) for value in shown), (entry.id, sentence)
