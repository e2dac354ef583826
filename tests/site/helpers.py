"""Build the help site into a folder and inspect the result: links, external hosts, text, sentences."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import tomli_w
from bs4 import BeautifulSoup

from tests.helpers.config import BASE_CONFIG, ROOT, merge

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Attributes that make a browser fetch or navigate to a URL.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "data", "xlink:href")
# Schemes that never fetch anything from a host; mailto is how the site shows the servicedesk address.
NON_FETCH_SCHEMES = {"mailto", "tel", "data"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
JS_URL = re.compile(r"""["'`](https?:)?//([^/"'`\s]+)""")


def build_site(
    site_dir: Path,
    key_pair: tuple[Path, Path],
    work_dir: Path,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``inloghulp build`` (snippets + ``mkdocs build --strict``) into ``site_dir``."""
    key_file, cert_file = key_pair
    config = merge(
        BASE_CONFIG,
        {
            "site_dir": str(site_dir),
            "database_url": f"sqlite:///{work_dir / 'inloghulp.sqlite3'}",
            "sp": {"key_file": str(key_file), "cert_file": str(cert_file)},
            "simulator": {"key_dir": str(work_dir / "simulator")},
            **(overrides or {}),
        },
    )
    path = work_dir / "inloghulp.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "diagnostics", "build", "--config", str(path)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def html_files(site_dir: Path) -> list[Path]:
    return sorted(site_dir.rglob("*.html"))


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def site_path(site_dir: Path, path: Path) -> str:
    """The URL path of a built file, e.g. ``/eherkenning/index.html``."""
    return "/" + path.relative_to(site_dir).as_posix()


def target_file(site_dir: Path, url_path: str) -> Path | None:
    """The file a URL path on this site serves, the way a static server resolves it."""
    relative = PurePosixPath(unquote(url_path).lstrip("/"))
    candidate = site_dir.joinpath(*relative.parts)
    if url_path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def element_ids(path: Path) -> set[str]:
    document = soup(path)
    ids = {str(tag["id"]) for tag in document.find_all(id=True)}
    return ids | {str(tag["name"]) for tag in document.find_all("a", attrs={"name": True})}


def references(document: BeautifulSoup, *, links: bool = True) -> list[str]:
    """Every URL in an attribute that fetches or navigates (srcset split into its URLs).

    ``links=False`` leaves out the links a reader follows (``<a href>``): they fetch nothing by themselves.
    """
    urls: list[str] = []
    for tag in document.find_all(True):
        for attribute in URL_ATTRIBUTES:
            if not links and tag.name == "a" and attribute == "href":
                continue
            value = tag.get(attribute)
            if isinstance(value, str) and value.strip():
                urls.append(value.strip())
        srcset = tag.get("srcset")
        if isinstance(srcset, str):
            urls.extend(part.split()[0] for part in srcset.split(",") if part.strip())
        style = tag.get("style")
        if isinstance(style, str):
            urls.extend(next(filter(None, match)) for match in CSS_URL.findall(style))
    for block in document.find_all("style"):
        urls.extend(next(filter(None, match)) for match in CSS_URL.findall(block.get_text()))
    return urls


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in NON_FETCH_SCHEMES:
        return False
    if parts.scheme or url.startswith("//"):
        return (parts.hostname or "") not in LOOPBACK_HOSTS
    return False


def service_route_matcher(config: Path) -> Callable[[str], bool]:
    """Whether a path is answered by a route of the FastAPI app that serves the site (e.g. a print view)."""
    from starlette.routing import Match, Mount

    from diagnostics.app import create_app
    from diagnostics.settings import load_settings

    app = create_app(load_settings(config))
    routes = [route for route in app.routes if not (isinstance(route, Mount) and route.name == "site")]

    def matches(path: str) -> bool:
        scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
        return any(route.matches(scope)[0] == Match.FULL for route in routes)

    return matches


def broken_links(
    site_dir: Path,
    site_url: str = "http://127.0.0.1:8000/",
    service_route: Callable[[str], bool] = lambda path: False,
) -> list[str]:
    """Internal links, resources and ``#anchors`` in the built HTML that point at nothing.

    A path without a file counts as found when ``service_route`` says the app serving the site answers it.
    """
    own = urlsplit(site_url)
    ids: dict[Path, set[str]] = {}
    problems: list[str] = []
    for page in html_files(site_dir):
        base = site_path(site_dir, page)
        for url in references(soup(page)):
            parts = urlsplit(url)
            if parts.scheme in NON_FETCH_SCHEMES or parts.scheme == "javascript":
                continue
            if parts.scheme or url.startswith("//"):
                if parts.netloc != own.netloc:
                    continue  # external: reported by external_references()
                url = parts.path + (f"#{parts.fragment}" if parts.fragment else "")
            resolved = urlsplit(urljoin(base, url))
            target = target_file(site_dir, resolved.path)
            if target is None and service_route(resolved.path):
                continue
            if target is None:
                problems.append(f"{base}: {url} -> no file {resolved.path}")
                continue
            fragment = unquote(resolved.fragment)
            if fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = element_ids(target)
                if fragment not in ids[target]:
                    problems.append(f"{base}: {url} -> no id #{fragment} in {site_path(site_dir, target)}")
    return problems


def referenced_assets(site_dir: Path, suffix: str) -> set[Path]:
    """The local files with ``suffix`` (".css", ".js") that some built page loads."""
    found: set[Path] = set()
    for page in html_files(site_dir):
        base = site_path(site_dir, page)
        for url in references(soup(page)):
            if is_external(url) or urlsplit(url).scheme:
                continue
            target = target_file(site_dir, urlsplit(urljoin(base, url)).path)
            if target is not None and target.suffix == suffix:
                found.add(target)
    return found


def external_links(site_dir: Path) -> list[str]:
    """The links (``<a href>``) in built pages that lead to another host, as ``page: url``."""
    found: list[str] = []
    for page in html_files(site_dir):
        document = soup(page)
        name = site_path(site_dir, page)
        found.extend(f"{name}: {a['href']}" for a in document.find_all("a", href=True) if is_external(str(a["href"])))
    return found


def external_references(site_dir: Path, theme_bundles: tuple[str, ...] = ("bundle.",)) -> list[str]:
    """External hosts that built pages, their stylesheets and our own scripts fetch from.

    A link the reader follows (``<a href>``) fetches nothing by itself: ``external_links()`` lists those.

    Material's minified ``bundle.*.js`` names unpkg.com for Mermaid, which it loads only for a page with a
    ``mermaid`` block; the caller checks that no page has one, so the bundle text itself is skipped.
    """
    problems: list[str] = []
    for page in html_files(site_dir):
        document = soup(page)
        name = site_path(site_dir, page)
        problems.extend(f"{name}: {url}" for url in references(document, links=False) if is_external(url))
        for script in document.find_all("script", src=False):
            problems.extend(f"{name}: inline script -> {host}" for host in js_hosts(script.get_text()))
    for css in referenced_assets(site_dir, ".css"):
        for match in CSS_URL.findall(css.read_text(encoding="utf-8")):
            url = next(filter(None, match))
            if is_external(url):
                problems.append(f"{site_path(site_dir, css)}: {url}")
    for script_file in referenced_assets(site_dir, ".js"):
        if script_file.name.startswith(theme_bundles):
            continue
        problems.extend(
            f"{site_path(site_dir, script_file)}: {host}" for host in js_hosts(script_file.read_text(encoding="utf-8"))
        )
    return problems


def js_hosts(text: str) -> list[str]:
    return [host for _, host in JS_URL.findall(text) if host.split(":")[0] not in LOOPBACK_HOSTS]


def page_text(path: Path) -> str:
    """The readable text of a page's main content and help block (no navigation, no scripts)."""
    document = soup(path)
    article = document.find("article")
    return " ".join((article or document).get_text(" ").split())


def normalise_words(text: str) -> str:
    """Lower-case words separated by single spaces: punctuation and layout do not hide a copied sentence."""
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    return " ".join(re.findall(r"[\w'+-]+", text))


def sentences(text: str, min_words: int = 8) -> list[str]:
    """Sentences of at least ``min_words`` words, one per line or ended by . ? ! or :."""
    found = []
    for line in text.splitlines():
        for sentence in re.split(r"(?<=[.?!:])\s+", line.strip()):
            words = normalise_words(sentence)
            if len(words.split()) >= min_words:
                found.append(words)
    return found
