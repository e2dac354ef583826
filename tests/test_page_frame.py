"""The service's pages and the help site share one frame: product name, icon, "Hulp nodig?" and footer links."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from diagnostics.page_frame import SITE_NAME
from diagnostics.settings import load_settings
from tests.site import helpers

pytestmark = pytest.mark.slow
SERVICE_PAGES = ["/diagnose", "/beheer/certificaten", "/diagnose/BHP-2345-6789"]
SITE_PAGES = ["index.html", "eherkenning/index.html", "404.html"]


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


def _one(document: BeautifulSoup, selector: str) -> Tag:
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


@pytest.mark.parametrize("site_page", SITE_PAGES)
def test_service_pages_show_the_help_block_and_footer_links_of_the_site(
    client: TestClient, built: Path, site_page: str
) -> None:
    site = helpers.soup(built / site_page)
    site_help = _one(site, "section.inloghulp-contact")
    site_links = _one(site, "nav[aria-label='Over deze site']")
    assert "eHerkenningsbeheerder" in _text(site_help) and "BRO Servicedesk" in _text(site_help)
    assert [text for text, _ in _links(site_links, "/")] == ["Toegankelijkheid", "Privacy", "Contact"]
    for path in SERVICE_PAGES:
        page = _service_page(client, path)
        footer = _one(page, "footer.site-footer")
        assert _text(_one(footer, "section.inloghulp-contact")) == _text(site_help), path
        help_url, site = f"http://127.0.0.1:8000{path}", _site_url(site_page)
        assert _links(_one(footer, "section.inloghulp-contact"), help_url) == _links(site_help, site), path
        assert _links(_one(footer, "nav[aria-label='Over deze site']"), help_url) == _links(site_links, site), path


def test_service_pages_carry_the_sites_name_and_icon(client: TestClient, built: Path) -> None:
    site = helpers.soup(built / "index.html")
    site_name = _text(site.select(".md-header__topic .md-ellipsis")[0])
    site_icon = urljoin(_site_url("index.html"), str(_one(site, "link[rel='icon']")["href"]))
    assert site_name == "Inloghulp Bronhouderportaal"
    for path in SERVICE_PAGES:
        page = _service_page(client, path)
        assert _text(_one(page, ".site-name a")) == site_name, path
        assert _text(_one(page, "title")).endswith(f" - {site_name}"), path
        icon = urljoin(f"http://127.0.0.1:8000{path}", str(_one(page, "link[rel='icon']")["href"]))
        assert icon == site_icon, path
        assert client.get(icon).status_code == 200


def test_the_theme_includes_the_service_partials_themselves_without_mkdocs_hooks() -> None:
    # site.md's portability rules: no `hooks:` and no Python in mkdocs.yml (Zensical runs neither). The theme
    # reaches the service's partials through symbolic links instead, so there is still one source.
    root = Path(__file__).resolve().parent.parent
    for name in ("help.html", "site_links.html", "not_found.html"):
        assert (root / "theme" / "partials" / name).samefile(root / "diagnostics" / "templates" / "_partials" / name)
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\nhooks:" not in config and "!!python" not in config
    assert f"\nsite_name: {SITE_NAME}\n" in config
