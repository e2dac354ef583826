"""The service's pages and the help site share one frame: the built theme's header with logo and name, tabs,
search, footer, stylesheets and scripts, the "Hulp nodig?" block and the footer links."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from diagnostics.page_frame import FRAME_FILE, SITE_NAME, split_frame
from diagnostics.settings import load_settings
from tests.site import helpers

pytestmark = pytest.mark.slow
# Every kind of service page: chooser, problem page, 404, card, certificates, console.
SERVICE_PAGES = [
    "/diagnose",
    "/saml/acs",
    "/diagnose/BHP-2345-6789",
    "/beheerder-kaart",
    "/beheer/certificaten",
    "/servicedesk/login",
]
SITE_PAGES = ["index.html", "eherkenning/index.html", "404.html"]
# The parts of a page that come from the theme. 404.html is built like the service frame, with root-relative
# links and without a page of its own, so these parts must be the same markup, character for character.
FRAME_PARTS = ["header.md-header", "nav.md-tabs", "div.md-search", "footer.md-footer", "label.md-overlay"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Path:
    work = tmp_path_factory.mktemp("frame-site")
    result = helpers.build_site(work / "site", sp_keypair, work)
    assert result.returncode == 0, f"inloghulp build failed:\n{result.stdout}\n{result.stderr}"
    return work / "site"


@pytest.fixture
def client(app_client: Callable[..., TestClient], write_config: Callable[..., Path], built: Path) -> TestClient:
    return app_client(load_settings(write_config({"site_dir": str(built)})))


def _service_page(client: TestClient, path: str) -> BeautifulSoup:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html"), path
    return BeautifulSoup(response.text, "html.parser")


def _one(document: BeautifulSoup | Tag, selector: str) -> Tag:
    found = document.select(selector)
    assert len(found) == 1, f"{selector}: {len(found)} found"
    return found[0]


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def _links(tag: Tag, page_url: str) -> list[tuple[str, str]]:
    """Each link's text and absolute target, so relative (site) and absolute (service) links compare."""
    return [(_text(a), urljoin(page_url, str(a["href"]))) for a in tag.find_all("a")]


def _site_url(page: str) -> str:
    return "http://127.0.0.1:8000/" + page.removesuffix("index.html")


def _assets(document: BeautifulSoup) -> tuple[list[str], list[str]]:
    stylesheets = [str(link["href"]) for link in document.select("link[rel=stylesheet]")]
    scripts = [str(script["src"]) for script in document.select("script[src]")]
    return stylesheets, scripts


@pytest.mark.parametrize("path", SERVICE_PAGES)
def test_every_service_page_carries_the_frame_of_the_built_theme(client: TestClient, built: Path, path: str) -> None:
    site = helpers.soup(built / "404.html")
    page = _service_page(client, path)
    for selector in FRAME_PARTS:
        assert str(_one(page, selector)) == str(_one(site, selector)), (path, selector)
    # Material's own stylesheet and scripts (hashed names), the site's extra ones, in the site's order; the
    # service adds its own after them.
    site_styles, site_scripts = _assets(site)
    page_styles, page_scripts = _assets(page)
    assert any(href.startswith("/assets/stylesheets/main.") for href in site_styles)
    assert page_styles[: len(site_styles)] == site_styles, path
    assert page_scripts[: len(site_scripts)] == site_scripts, path
    assert "/static/service.css" in page_styles
    assert _one(page, "html")["lang"] == "nl"
    assert _one(page, "article.md-content__inner.md-typeset").select_one("#inhoud h1") is not None, path


def test_links_from_a_service_page_load_fully_instead_of_by_instant_navigation(client: TestClient, built: Path) -> None:
    site_config = json.loads(_one(helpers.soup(built / "index.html"), "script#__config").get_text())
    page_config = json.loads(_one(_service_page(client, "/diagnose"), "script#__config").get_text())
    assert "navigation.instant" in site_config["features"]
    # Material would swap a help page into the service page and, on "Terug", the service page back without
    # its scripts; everything else in the config (search, translations) is the site's.
    assert [f for f in page_config["features"] if not f.startswith("navigation.instant")] == page_config["features"]
    # Everything else is the site's, with root-relative addresses (the service shows it at any depth).
    assert page_config["base"] == "/"
    assert page_config["search"] == "/" + site_config["search"]
    assert page_config["translations"] == site_config["translations"]


def test_the_skip_link_leads_to_the_service_content(client: TestClient) -> None:
    page = _service_page(client, "/diagnose")
    skip = page.select("a.md-skip")[0]
    assert (
        skip["href"] == "#inhoud" and _text(skip) == "Ga naar inhoud"
    )  # the same words as Material's own skip link on help pages
    assert page.select_one("#inhoud h1") is not None


@pytest.mark.parametrize("site_page", SITE_PAGES)
def test_service_pages_show_the_help_block_and_footer_links_of_the_site(
    client: TestClient, built: Path, site_page: str
) -> None:
    site = helpers.soup(built / site_page)
    site_help = _one(site, "section.inloghulp-contact")
    site_links = _one(site, "nav[aria-label='Over deze site']")
    assert "eHerkenningsbeheerder" in _text(site_help) and "BRO Servicedesk" in _text(site_help)
    assert [text for text, _ in _links(site_links, "/")] == ["Alle pagina's", "Toegankelijkheid", "Privacy", "Contact"]
    for path in SERVICE_PAGES:
        page = _service_page(client, path)
        help_url, site_url = f"http://127.0.0.1:8000{path}", _site_url(site_page)
        assert _text(_one(page, "section.inloghulp-contact")) == _text(site_help), path
        assert _links(_one(page, "section.inloghulp-contact"), help_url) == _links(site_help, site_url), path
        assert _links(_one(page, "nav[aria-label='Over deze site']"), help_url) == _links(site_links, site_url), path


def test_service_pages_carry_the_sites_name_and_icon(client: TestClient, built: Path) -> None:
    site = helpers.soup(built / "index.html")
    site_name = _text(site.select(".md-header__topic .md-ellipsis")[0])
    site_icon = urljoin(_site_url("index.html"), str(_one(site, "link[rel='icon']")["href"]))
    assert site_name == SITE_NAME
    for path in SERVICE_PAGES:
        page = _service_page(client, path)
        assert _text(page.select(".md-header__topic .md-ellipsis")[0]) == site_name, path
        title = _text(_one(page, "title"))
        assert " - " in title and title.endswith(site_name), path
        icon = urljoin(f"http://127.0.0.1:8000{path}", str(_one(page, "link[rel='icon']")["href"]))
        assert icon == site_icon, path
        assert client.get(icon).status_code == 200


def test_both_not_found_pages_say_what_you_can_do(client: TestClient, built: Path) -> None:
    site = _one(helpers.soup(built / "404.html"), "article")
    service = _one(_service_page(client, "/diagnose/BHP-2345-6789"), "#inhoud")
    for page in (site, service):
        assert _text(_one(page, "h2#wat-kunt-u-doen")) == "Wat kunt u doen?"
        assert "referentiecode" in _text(page) and page.select_one("a[href='/diagnose']") is not None


def test_without_a_built_site_service_pages_keep_the_help_block_and_footer_links(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    # No site yet (before `inloghulp build`): a plain page, still with the help block and the footer links.
    client = app_client(load_settings(write_config({"site_dir": str(tmp_path / "no-site")})))
    page = _service_page(client, "/diagnose")
    assert _text(_one(page, "title")) == f"Test de inlog met eHerkenning - {SITE_NAME}"
    assert page.select_one("#inhoud h1") is not None
    assert "BRO Servicedesk" in _text(_one(page, "section.inloghulp-contact"))
    assert _one(page, "nav[aria-label='Over deze site']").select_one("a[href='/privacy/']") is not None


def test_the_frame_is_cut_at_each_slot_exactly_once() -> None:
    html = "<title><!--inloghulp:title--></title><!--inloghulp:head--><main><!--inloghulp:content--></main>"
    frame = split_frame(html + "<!--inloghulp:scripts--></body>")
    assert frame is not None
    assert (frame.until_title, frame.until_head, frame.until_scripts, frame.rest) == (
        "<title>",
        "</title>",
        "</main>",
        "</body>",
    )
    assert split_frame(html) is None  # a slot missing
    assert split_frame(html + "<!--inloghulp:scripts--><!--inloghulp:scripts-->") is None  # a slot twice


def test_the_theme_includes_the_service_partials_themselves_without_mkdocs_hooks() -> None:
    # site.md's portability rules: no `hooks:` and no Python in mkdocs.yml (Zensical runs neither). The theme
    # reaches the service's partials through symbolic links instead, so there is still one source.
    root = Path(__file__).resolve().parent.parent
    for name in ("help.html", "site_links.html", "not_found.html"):
        assert (root / "theme" / "partials" / name).samefile(root / "diagnostics" / "templates" / "_partials" / name)
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\nhooks:" not in config and "!!python" not in config
    assert f"\nsite_name: {SITE_NAME}\n" in config
    assert f"    - {FRAME_FILE}\n" in config and (root / "theme" / FRAME_FILE).is_file()
