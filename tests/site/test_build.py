"""The help site builds strictly, links only to itself, and carries every fact of the current BRO page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup

from tests.helpers.config import SHARED
from tests.site import helpers

PAGES = [
    "index.html",
    "eherkenning/index.html",
    "beheerder/index.html",
    "email/index.html",
    "wachtwoord-vergeten/index.html",
    "welke-inlogmethode/index.html",
    "inloggen-lukt-niet/index.html",
    "servicedesk/index.html",
    "begrippen/index.html",
    "contact/index.html",
    "privacy/index.html",
    "toegankelijkheid/index.html",
    "alle-paginas/index.html",
]

# Each fact of the current BRO page "Inloggen" (and the domain reference), with the page that must say it.
FACTS = [
    ("index.html", "Inloggen met eHerkenning"),
    ("index.html", "Inloggen met e-mailadres"),
    ("index.html", "niveau 2+ of hoger"),
    ("index.html", "Inloggen lukt niet"),
    ("eherkenning/index.html", "persoonlijk"),
    ("eherkenning/index.html", "veel overheidsdiensten"),
    ("eherkenning/index.html", "DigiD"),
    ("eherkenning/index.html", "zakelijk gebruik"),
    ("eherkenning/index.html", "niveau 2+ of hoger"),
    ("eherkenning/index.html", "sms"),
    ("eherkenning/index.html", "codegenerator"),
    ("eherkenning/index.html", "bij elke inlog"),
    ("eherkenning/index.html", "eHerkenningsmakelaar"),
    ("eherkenning/index.html", "hoort niet bij de BRO"),
    ("eherkenning/index.html", "eHerkenningsbeheerder"),
    ("eherkenning/index.html", "eHerkenningscoördinator"),
    ("eherkenning/index.html", "contractmanager"),
    ("eherkenning/index.html", "trekt ze weer in"),
    ("eherkenning/index.html", "eherkenning.nl"),
    ("eherkenning/index.html", "aparte machtiging"),
    ("eherkenning/index.html", "machtigingsregister"),
    ("eherkenning/index.html", "mandaatregister"),
    ("eherkenning/index.html", "beheerdashboard"),
    ("eherkenning/index.html", "Verder"),
    ("eherkenning/index.html", "eenmalige code"),
    ("eherkenning/index.html", "brief"),
    ("eherkenning/index.html", "terug in het Bronhouderportaal"),
    ("eherkenning/index.html", "machtiging meestal nog niet aangezet"),
    ("eherkenning/index.html", "5 jaar"),
    ("eherkenning/index.html", "24 maanden"),
    ("eherkenning/index.html", "Gegevens voor uw eHerkenningsbeheerder"),
    ("beheerder/index.html", "mandaatregister"),
    ("beheerder/index.html", "beheerdashboard"),
    ("beheerder/index.html", "Gegevens om de machtiging in te stellen"),
    ("email/index.html", "Gebruikersbeheerder"),
    ("email/index.html", "zakelijk e-mailadres"),
    ("email/index.html", "bronhouderorganisatie"),
    ("email/index.html", "tijdelijk gebruik"),
    ("wachtwoord-vergeten/index.html", "Wachtwoord vergeten?"),
    ("wachtwoord-vergeten/index.html", "Direct onder de knop Inloggen"),
    ("wachtwoord-vergeten/index.html", "inlogpagina van uw makelaar"),
    ("welke-inlogmethode/index.html", "wettelijke taken"),
    ("welke-inlogmethode/index.html", "betrouwbaar"),
    ("welke-inlogmethode/index.html", "eHerkenning heeft de voorkeur"),
    ("welke-inlogmethode/index.html", "Gebruikersbeheerders moeten eHerkenning gebruiken"),
    ("welke-inlogmethode/index.html", "(nog) niet verplicht"),
    ("welke-inlogmethode/index.html", "Europese Unie"),
    ("inloggen-lukt-niet/index.html", "Wie moet iets doen?"),
    ("inloggen-lukt-niet/index.html", "Stuur nooit uw wachtwoord"),
    ("inloggen-lukt-niet/index.html", "Productie (blauw)"),
    ("inloggen-lukt-niet/index.html", "Demo (groen)"),
    ("inloggen-lukt-niet/index.html", "Acceptatie (roze)"),
    ("servicedesk/index.html", "Wat vraagt u nooit?"),
    ("servicedesk/index.html", "Geen eenmalige code"),
    ("privacy/index.html", "30 dagen"),
    ("privacy/index.html", "inloghulp purge"),
    ("toegankelijkheid/index.html", "WCAG 2.2"),
    ("contact/index.html", "support@broservicedesk.nl"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Path:
    work = tmp_path_factory.mktemp("site-build")
    site_dir = work / "site"
    result = helpers.build_site(site_dir, sp_keypair, work)
    assert result.returncode == 0, f"inloghulp build failed:\n{result.stdout}\n{result.stderr}"
    return site_dir


def test_strict_build_writes_every_page(built: Path) -> None:
    for page in PAGES:
        assert (built / page).is_file(), page
    sitemap = BeautifulSoup((built / "sitemap.xml").read_text(encoding="utf-8"), "xml")
    assert len(sitemap.find_all("loc")) == len(PAGES)


def test_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    """The gate works: a link to a missing anchor stops ``mkdocs build --strict``."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Start\n\n[Weg](b.md#bestaat-niet)\n", encoding="utf-8")
    (docs / "b.md").write_text("# B\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\nvalidation:\n  anchors: warn\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode != 0
    assert "bestaat-niet" in result.stdout + result.stderr


def test_no_broken_internal_links_or_anchors(built: Path) -> None:
    # Links to the service's own pages (such as the printable beheerder card) count when the app has the route.
    service_route = helpers.service_route_matcher(built.parent / "inloghulp.toml")
    assert helpers.broken_links(built, service_route=service_route) == []


def test_link_checker_finds_broken_links_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="a/">ok</a><a href="a/#er">anker</a><a href="a/#weg">kapot anker</a>'
        '<a href="b/">kapot</a><img src="plaatje.svg" alt=""><a href="mailto:x@example.org">mail</a>'
        '<a href="http://127.0.0.1:8000/a/">eigen site</a><a href="http://127.0.0.1:8000/c/">eigen, kapot</a>',
        encoding="utf-8",
    )
    (tmp_path / "a" / "index.html").write_text('<h2 id="er">Er</h2><a href="../#top">top</a>', encoding="utf-8")
    problems = helpers.broken_links(tmp_path)
    assert len(problems) == 5, problems
    assert len(helpers.broken_links(tmp_path, service_route=lambda path: path == "/b/")) == 4
    assert any("#weg" in problem for problem in problems)
    assert any("plaatje.svg" in problem for problem in problems)
    assert any("/c/" in problem for problem in problems)
    assert any("#top" in problem for problem in problems)


# The only other sites a page links to (a link fetches nothing until the reader follows it).
EXTERNAL_LINKS = {"/eherkenning/index.html: https://www.eherkenning.nl/"}


def test_no_page_references_an_external_host(built: Path) -> None:
    assert helpers.external_references(built) == []
    assert set(helpers.external_links(built)) == EXTERNAL_LINKS
    # Material's bundle fetches Mermaid from unpkg.com only for a page with a mermaid diagram.
    for page in helpers.html_files(built):
        assert helpers.soup(page).select(".mermaid") == [], page


def test_external_host_checker_finds_hosts(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "eigen.css").write_text("a{background:url(https://fonts.example/x.woff)}", encoding="utf-8")
    (tmp_path / "assets" / "eigen.js").write_text('fetch("https://cdn.example/x.js")', encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<link rel="stylesheet" href="assets/eigen.css"><script src="assets/eigen.js"></script>'
        '<script src="//cdn.example/lib.js"></script><a href="https://www.example.nl/">weg</a>'
        '<a href="mailto:support@broservicedesk.nl">mail</a><a href="http://127.0.0.1:8000/">thuis</a>'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        encoding="utf-8",
    )
    problems = helpers.external_references(tmp_path)
    assert len(problems) == 3, problems
    assert helpers.external_links(tmp_path) == ["/index.html: https://www.example.nl/"]


def test_every_page_has_the_help_block_and_footer_links(built: Path) -> None:
    for page in PAGES:
        document = helpers.soup(built / page)
        block = document.select_one("article .inloghulp-contact")
        assert block is not None, page
        assert block.select_one("h2").get_text(strip=True) == "Hulp nodig?"
        assert block.select_one('a[href="mailto:support@broservicedesk.nl"]') is not None
        footer_links = [a.get_text(strip=True) for a in document.select("footer .md-copyright a")]
        assert footer_links == ["Alle pagina's", "Toegankelijkheid", "Privacy", "Contact"], page
        assert document.html is not None and document.html.get("lang") == "nl"


def test_every_page_and_the_404_hold_the_open_test_banner_region(built: Path) -> None:
    # roundtrip.js fills it with "Uw inlogtest van 20:19 is niet afgerond" when this browser has an open test.
    for page in [*PAGES, "404.html"]:
        region = helpers.soup(built / page).select("article [data-inloghulp-open-test][role=status]")
        assert len(region) == 1, page


def test_no_announcement_bar_without_a_notice(built: Path) -> None:
    for page in PAGES:
        assert helpers.soup(built / page).select(".md-banner") == [], page


def test_maintenance_notice_is_shown_on_every_page(tmp_path: Path, sp_keypair: tuple[Path, Path]) -> None:
    notice = "Op 1 december is het Bronhouderportaal van 18.00 tot 20.00 uur niet beschikbaar."
    result = helpers.build_site(tmp_path / "site", sp_keypair, tmp_path, env={"INLOGHULP_ANNOUNCEMENT": notice})
    assert result.returncode == 0, result.stderr
    for page in PAGES:
        banner = helpers.soup(tmp_path / "site" / page).select_one(".md-banner")
        assert banner is not None and notice in banner.get_text(" ", strip=True), page


def test_login_chain_picture_has_a_text_alternative(built: Path) -> None:
    document = helpers.soup(built / "eherkenning/index.html")
    svg = document.select_one("#inlogketen ~ figure svg")
    assert svg is not None
    assert svg.get("role") == "img"
    labelled_by = str(svg.get("aria-labelledby", "")).split()
    assert [document.find(id=name).name for name in labelled_by] == ["title", "desc"]
    steps = document.select_one("#inlogketen ~ ol")
    assert steps is not None and len(steps.find_all("li", recursive=False)) == 5
    assert (built / "assets" / "inlogketen.svg").is_file()
    link = document.select_one("#inlogketen ~ figure figcaption a")
    assert link is not None and link.get_text(strip=True) == "Open het plaatje apart"
    assert (
        helpers.target_file(built, urljoin("/eherkenning/", str(link["href"]))) == built / "assets" / "inlogketen.svg"
    )


def test_no_page_shows_raw_markdown(built: Path) -> None:
    """A Markdown link inside raw HTML is not converted; the reader would see ``[text](url)``."""
    raw_link = re.compile(r"\[[^\]]+\]\([^)\s]+\)")
    for page in helpers.html_files(built):
        assert raw_link.findall(helpers.page_text(page)) == [], helpers.site_path(built, page)


def test_glossary_terms_are_tooltips(built: Path) -> None:
    document = helpers.soup(built / "eherkenning/index.html")
    titles = {abbr.get_text(): abbr.get("title") for abbr in document.select("article abbr")}
    for term in ("eHerkenningsmakelaar", "eHerkenningsbeheerder", "machtiging", "mandaatregister", "BRO"):
        assert titles.get(term), term


def test_stable_anchors_for_generated_sections(built: Path) -> None:
    heading = helpers.soup(built / "eherkenning/index.html").find(id="gegevens-voor-uw-eherkenningsbeheerder")
    assert heading is not None and heading.name == "h2"
    # The beheerder's own page speaks to the beheerder; the section's old anchor still leads to it.
    beheerder = helpers.soup(built / "beheerder/index.html")
    heading = beheerder.find(id="gegevens-machtiging")
    assert heading is not None and heading.name == "h2"
    assert "Gegevens om de machtiging in te stellen" in heading.get_text()
    old_anchor = beheerder.find(id="gegevens-voor-uw-eherkenningsbeheerder")
    assert old_anchor is not None and old_anchor.find_next(["h2", "h3"]) is heading
    assert "uw eHerkenningsbeheerder" not in " ".join(h.get_text() for h in beheerder.select("article h2"))
    assert helpers.soup(built / "inloggen-lukt-niet/index.html").find(id="wat-ziet-u") is not None


@pytest.mark.parametrize(("page", "fact"), FACTS)
def test_fact_is_on_the_site(built: Path, page: str, fact: str) -> None:
    assert fact in helpers.page_text(built / page)


def test_no_sentence_of_the_source_page_is_copied(built: Path) -> None:
    source = SHARED / "source" / "bronhouderportaal-inloggen.txt"
    if not source.is_file():
        pytest.skip(f"{source} is absent (the shared reference folder is not next to the repository)")
    site = " ".join(helpers.normalise_words(helpers.page_text(page)) for page in helpers.html_files(built))
    source_sentences = helpers.sentences(source.read_text(encoding="utf-8"))
    assert len(source_sentences) > 40  # the splitter found the page's sentences
    copied = [sentence for sentence in source_sentences if sentence in site]
    assert copied == []


def test_copy_check_detects_a_copied_sentence() -> None:
    source = "Inloggen\n\nEen eHerkenningsmakelaar is geen onderdeel van de BRO-dienstverlening. Kort."
    site = helpers.normalise_words("Let op: een  eHerkenningsmakelaar is geen onderdeel van de BRO-dienstverlening!")
    assert [sentence for sentence in helpers.sentences(source) if sentence in site] == [
        "een eherkenningsmakelaar is geen onderdeel van de bro-dienstverlening"
    ]


def table_rows(document: BeautifulSoup) -> list[str]:
    return [
        " | ".join(" ".join(cell.get_text().split()) for cell in row.find_all(["td", "th"]))
        for row in document.select("article table tr")
    ]


def test_who_helps_when_the_sms_code_does_not_arrive(built: Path) -> None:
    """One rule on every page: a wrong or old number is for the eHerkenningsbeheerder, the rest for the makelaar."""
    row = next(r for r in table_rows(helpers.soup(built / "inloggen-lukt-niet/index.html")) if "geen sms" in r)
    assert "| Uw eHerkenningsbeheerder als uw telefoonnummer niet klopt" in row
    assert "Klopt het nummer wel? Dan uw eHerkenningsmakelaar" in row
    rows = [r for r in table_rows(helpers.soup(built / "servicedesk/index.html")) if "Sms-code" in r]
    assert len(rows) == 2, rows
    assert "fout of oud" in rows[0] and rows[0].endswith("| eHerkenningsbeheerder: nummer veranderen")
    assert "nummer klopt" in rows[1] and "(opnieuw) worden geactiveerd" in rows[1]
    assert rows[1].endswith("| eHerkenningsmakelaar")
    for page in ("eherkenning/index.html", "contact/index.html", "beheerder/index.html"):
        text = helpers.page_text(built / page)
        assert "fout of oud" in text, page
        assert "terwijl uw nummer klopt" in text or "terwijl het nummer klopt" in text, page


@pytest.mark.parametrize(
    "path", ["/bestaat-niet", "/eherkenning/bestaat-niet/", "/assets/weg.png", "/eherkenning.html"]
)
def test_unknown_site_path_gets_the_dutch_404_page(built: Path, path: str) -> None:
    from starlette.testclient import TestClient

    from diagnostics.app import create_app
    from diagnostics.settings import load_settings

    settings = load_settings(built.parent / "inloghulp.toml")
    assert settings.site_dir == built
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    document = BeautifulSoup(response.text, "html.parser")
    assert (
        document.title is not None and document.title.get_text() == "Pagina niet gevonden - Inloghulp Bronhouderportaal"
    )
    assert document.select_one("article h1").get_text(strip=True) == "Pagina niet gevonden"
    assert "Not found" not in response.text
    links = {a.get_text(" ", strip=True): a["href"] for a in document.select("article a")}
    # Root-relative: the page is served at any depth.
    assert links["startpagina van de inloghulp"] == "/"
    assert links["Inloggen lukt niet"] == "/inloggen-lukt-niet/"
    assert links["inlogtest"] == "/diagnose"
    assert document.select_one("article .inloghulp-contact") is not None


def test_the_inlogtest_is_linked_from_start_page_nav_and_help_request(built: Path) -> None:
    """The inlogtest (/diagnose, a page of the service on the same host) is easy to find."""
    start = helpers.soup(built / "index.html")
    assert start.select_one("#inlogtest") is not None
    assert start.select('article a[href="/diagnose"]') != []
    for page in PAGES:
        nav = helpers.soup(built / page).select('nav.md-nav--primary a.md-nav__link[href="/diagnose"]')
        assert [a.get_text(strip=True) for a in nav] == ["Test de inlog"], page
    help_request = helpers.soup(built / "inloggen-lukt-niet/index.html").select_one("#voordat-u-hulp-vraagt")
    assert help_request is not None
    items = help_request.find_next("ul").find_all("li")
    assert any(li.select_one('a[href="/diagnose"]') and "referentiecode" in li.get_text() for li in items)


def test_canonical_links_follow_the_configured_public_base_url(tmp_path: Path, sp_keypair: tuple[Path, Path]) -> None:
    base = "https://inloghulp.example.nl"
    result = helpers.build_site(tmp_path / "site", sp_keypair, tmp_path, overrides={"public_base_url": base})
    assert result.returncode == 0, result.stdout + result.stderr
    for page, path in (("index.html", "/"), ("eherkenning/index.html", "/eherkenning/")):
        canonical = helpers.soup(tmp_path / "site" / page).find("link", rel="canonical")
        assert canonical is not None and canonical["href"] == f"{base}{path}", page
    sitemap = BeautifulSoup((tmp_path / "site" / "sitemap.xml").read_text(encoding="utf-8"), "xml")
    assert {loc.get_text(strip=True).split("/")[2] for loc in sitemap.find_all("loc")} == {"inloghulp.example.nl"}
    # The 404 page is served at any depth: its links stay root-relative, whatever the host.
    article = helpers.soup(tmp_path / "site" / "404.html").select_one("article")
    assert article is not None
    start = next(a for a in article.select("a") if a.get_text() == "startpagina van de inloghulp")
    assert start["href"] == "/"


def test_begrippen_explains_the_words_of_the_beheerder_card(built: Path) -> None:
    document = helpers.soup(built / "begrippen/index.html")
    terms = {" ".join(dt.get_text().split()): dt.find_next_sibling("dd") for dt in document.select("article dl dt")}
    for term in ("OIN", "ServiceID", "ServiceUUID", "Vestigingsnummer", "Herkenningsmakelaar"):
        assert term in terms and terms[term] is not None, term
    # The broker is not the supplier the reader bought eHerkenning from: the entry says so.
    assert "eHerkenningsmakelaar" in terms["Herkenningsmakelaar"].get_text()
    assert "beheermodule" in terms["Beheerdashboard"].get_text()


def test_the_site_says_u_hebt(built: Path) -> None:
    """One form everywhere: 'u hebt', never 'u heeft' or 'heeft u'."""
    wrong = re.compile(r"\b(u heeft|heeft u)\b", re.IGNORECASE)
    for page in helpers.html_files(built):
        assert wrong.findall(helpers.page_text(page)) == [], helpers.site_path(built, page)
