"""The help site at ``/`` answers page paths; ``/api/`` paths get the API's JSON 404 and 405; its files are
served as a CDN would (brotli/gzip with Vary, immutable hashed assets, ETag and 304)."""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from diagnostics.app import create_app
from diagnostics.settings import load_settings

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SITE_404 = "<html><body><h1>Deze pagina van de inloghulp bestaat niet</h1></body></html>"
NOT_FOUND = {"error": {"id": "not-found", "message": "Deze pagina of dit adres bestaat niet."}}
NOT_ALLOWED = {"error": {"id": "method-not-allowed", "message": "Deze actie kan niet op dit adres."}}


@pytest.fixture
def client(tmp_path: Path, write_config: Callable[..., Path]) -> Iterator[TestClient]:
    site = tmp_path / "site"
    (site / "eherkenning").mkdir(parents=True)
    (site / "index.html").write_text("<html><body><h1>Start</h1></body></html>", encoding="utf-8")
    (site / "eherkenning" / "index.html").write_text("<html><body>eHerkenning</body></html>", encoding="utf-8")
    (site / "404.html").write_text(SITE_404, encoding="utf-8")
    settings = load_settings(write_config({"site_dir": str(site)}))
    with TestClient(create_app(settings), base_url=settings.public_base_url) as test_client:
        yield test_client


def assert_security_headers(client: TestClient, response: Response) -> None:
    expected = client.app.state.security_headers  # type: ignore[attr-defined]
    assert expected["X-Frame-Options"] == "DENY"
    for name, value in expected.items():
        assert response.headers.get(name) == value, name


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/api/bestaat-niet", "/api/v1/bestaat/niet/", "/api", "/api/v1/feedback/extra"])
@pytest.mark.parametrize("headers", [{}, BROWSER], ids=["client", "browser"])
def test_unknown_api_path_gets_a_json_404(client: TestClient, method: str, path: str, headers: dict[str, str]) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_FOUND
    assert_security_headers(client, response)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("headers", [{}, BROWSER], ids=["client", "browser"])
def test_wrong_method_on_an_api_path_gets_a_json_405(client: TestClient, method: str, headers: dict[str, str]) -> None:
    response = client.request(method, "/api/v1/feedback", headers=headers)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.headers["allow"] == "POST"
    assert response.json() == NOT_ALLOWED
    assert_security_headers(client, response)


def test_known_api_route_still_answers(client: TestClient) -> None:
    response = client.post("/api/v1/feedback", json={"page": "/eherkenning/", "rating": 1})
    assert response.status_code == 201


def test_unknown_page_still_gets_the_sites_html_404(client: TestClient) -> None:
    for path in ("/bestaat-niet/", "/apiverhaal/", "/eherkenning/api/x"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.text == SITE_404
        assert_security_headers(client, response)


def test_site_pages_are_still_served(client: TestClient) -> None:
    assert "Start" in client.get("/").text
    assert client.get("/eherkenning/").text == "<html><body>eHerkenning</body></html>"


# (method, path, the Allow of all its routes). The site's file server would answer these with its own
# ``Allow: GET, HEAD`` (wrong methods) or with the site's HTML 404 (GET on a POST-only path).
SERVICE_PATHS = [
    ("POST", "/healthz", "GET, HEAD"),
    ("PUT", "/readyz", "GET, HEAD"),
    ("POST", "/metrics", "GET"),
    ("DELETE", "/diagnose", "GET"),
    ("POST", "/beheerder-kaart", "GET"),
    ("GET", "/servicedesk/zoek", "POST"),
    ("PUT", "/simulator/ars", "POST"),
]


@pytest.mark.parametrize(("method", "path", "allow"), SERVICE_PATHS)
def test_wrong_method_on_a_service_path_gets_the_routes_405(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_ALLOWED
    assert_security_headers(client, response)


@pytest.mark.parametrize(("method", "path", "allow"), SERVICE_PATHS)
def test_a_browser_gets_the_services_405_page(client: TestClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path, headers=BROWSER)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"].startswith("text/html")
    # The service's error page: its base template with the contact block, not the site's 404.
    assert "Deze actie kan niet op dit adres." in response.text
    assert "support@broservicedesk.nl" in response.text
    assert response.text != SITE_404
    assert_security_headers(client, response)


def test_service_paths_are_derived_from_the_routes(client: TestClient) -> None:
    """A route added after the app was built is owned too: nothing lists the paths twice."""
    from fastapi import APIRouter

    extra = APIRouter()

    @extra.get("/nieuw-in-de-dienst")
    def read_new() -> dict[str, str]:
        return {"status": "ok"}

    app = client.app
    site = app.router.routes.pop()  # type: ignore[attr-defined]
    app.include_router(extra)  # type: ignore[attr-defined]
    app.router.routes.append(site)  # type: ignore[attr-defined]
    response = client.post("/nieuw-in-de-dienst")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_wrong_method_on_a_site_page_is_still_refused(client: TestClient) -> None:
    response = client.post("/eherkenning/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert_security_headers(client, response)


# ── served as a CDN would: compression, cache headers, ETag and 304 ──

BUNDLE = "assets/javascripts/bundle.a5f9d56c.min.js"
MAIN_CSS = "assets/stylesheets/main.57a0d79d.min.css"
SEARCH_WORKER = "assets/javascripts/workers/search.a7633da7.min.js"
# Text that compresses well, and differs per file so a mix-up shows.
TEXT = {
    "index.html": "<html><body><h1>Start</h1>" + "<p>Inloggen in het Bronhouderportaal.</p>" * 200 + "</body></html>",
    BUNDLE: "window.bundle=1;" + "function f(){return 'material';}" * 300,
    f"{BUNDLE}.map": '{"version":3,"sources":["bundle.ts"],"mappings":"' + "AAAA;" * 400 + '"}',
    MAIN_CSS: ".md-typeset{color:#000}" * 400,
    SEARCH_WORKER: "self.onmessage=function(){};" * 200,
    "assets/stylesheets/card.css": ".card{margin:0}" * 300,
    "assets/javascripts/card.js": "document.querySelector('.card');" * 200,
    "assets/javascripts/lunr/min/lunr.nl.min.js": "lunr.nl=function(){};" * 200,
    # Looks hashed, but is not in one of Material's asset folders.
    "assets/images/logo.0123abcd.min.js": "var logo=1;" * 200,
    "search/search_index.json": '{"docs":[' + '{"location":"","text":"inloggen"},' * 200 + "{}]}",
    "sitemap.xml": "<urlset>" + "<url><loc>http://127.0.0.1:8000/</loc></url>" * 100 + "</urlset>",
    "assets/inlogketen.svg": "<svg xmlns='http://www.w3.org/2000/svg'>"
    + "<rect width='1' height='1'/>" * 100
    + "</svg>",
    "robots.txt": "User-agent: *\nAllow: /\n" * 50,
    "tiny.css": "a{}",
}
PNG = bytes.fromhex("89504e470d0a1a0a") + bytes(range(256)) * 8


@pytest.fixture
def cdn_site(tmp_path: Path) -> Path:
    site = tmp_path / "cdn-site"
    for name, text in TEXT.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    (site / "eherkenning").mkdir()
    (site / "eherkenning" / "index.html").write_text(TEXT["index.html"].replace("Start", "eHerkenning"), "utf-8")
    (site / "assets" / "images" / "favicon.png").write_bytes(PNG)
    (site / "sitemap.xml.gz").write_bytes(gzip.compress(TEXT["sitemap.xml"].encode()))
    (site / "404.html").write_text(SITE_404, encoding="utf-8")
    return site


@pytest.fixture
def cdn(cdn_site: Path, write_config: Callable[..., Path]) -> Iterator[TestClient]:
    settings = load_settings(write_config({"site_dir": str(cdn_site)}))
    with TestClient(create_app(settings), base_url=settings.public_base_url) as test_client:
        yield test_client


def raw_get(client: TestClient, path: str, **headers: str) -> tuple[Response, bytes]:
    """The response and its body as sent (still compressed): httpx would decode it otherwise."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def source(site: Path, path: str) -> bytes:
    return (site / path).read_bytes()


@pytest.mark.parametrize("path", [*TEXT.keys() - {"tiny.css"}, "eherkenning/index.html"])
def test_text_assets_are_gzipped_with_vary(cdn: TestClient, cdn_site: Path, path: str) -> None:
    response, body = raw_get(cdn, f"/{path}", **{"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == source(cdn_site, path)
    assert int(response.headers["content-length"]) == len(body) < len(source(cdn_site, path))
    assert_security_headers(cdn, response)


def test_content_type_is_that_of_the_file_not_of_the_encoding(cdn: TestClient) -> None:
    for path, media_type in [
        ("/", "text/html; charset=utf-8"),
        (f"/{MAIN_CSS}", "text/css; charset=utf-8"),
        ("/assets/inlogketen.svg", "image/svg+xml"),
        ("/search/search_index.json", "application/json"),
        ("/assets/images/favicon.png", "image/png"),
    ]:
        response, _ = raw_get(cdn, path, **{"accept-encoding": "gzip, br"})
        assert response.headers["content-type"] == media_type, path


def test_brotli_is_preferred_when_accepted(cdn: TestClient, cdn_site: Path) -> None:
    brotli = pytest.importorskip("brotli")
    response, body = raw_get(cdn, f"/{BUNDLE}", **{"accept-encoding": "gzip, deflate, br"})
    assert response.headers["content-encoding"] == "br"
    assert response.headers["vary"] == "Accept-Encoding"
    assert brotli.decompress(body) == source(cdn_site, BUNDLE)
    # Refused brotli (q=0) gets gzip; a higher q for gzip wins.
    for accept in ("br;q=0, gzip", "gzip;q=1, br;q=0.5", "x-gzip"):
        response, body = raw_get(cdn, f"/{BUNDLE}", **{"accept-encoding": accept})
        assert response.headers["content-encoding"] == "gzip", accept
        assert gzip.decompress(body) == source(cdn_site, BUNDLE)


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0, br;q=0", "*;q=0", "compress"])
def test_without_an_accepted_coding_the_file_comes_as_is_still_with_vary(
    cdn: TestClient, cdn_site: Path, accept: str
) -> None:
    response, body = raw_get(cdn, "/", **{"accept-encoding": accept})
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert body == source(cdn_site, "index.html")


def test_binary_and_tiny_files_are_sent_as_they_are(cdn: TestClient, cdn_site: Path) -> None:
    response, body = raw_get(cdn, "/assets/images/favicon.png", **{"accept-encoding": "gzip, br"})
    assert "content-encoding" not in response.headers and "vary" not in response.headers
    assert body == PNG
    # Compression would make it bigger: as is, but the answer still depends on Accept-Encoding.
    response, body = raw_get(cdn, "/tiny.css", **{"accept-encoding": "gzip, br"})
    assert "content-encoding" not in response.headers and response.headers["vary"] == "Accept-Encoding"
    assert body == b"a{}"
    # A gzip file is a download of its own, not XML sent with Content-Encoding.
    response, body = raw_get(cdn, "/sitemap.xml.gz", **{"accept-encoding": "gzip"})
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers
    assert body == source(cdn_site, "sitemap.xml.gz")


def test_each_file_is_compressed_once_per_process(
    cdn: TestClient, cdn_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diagnostics import site_mount

    calls: list[bytes] = []

    def counting_gzip(data: bytes) -> bytes:
        calls.append(data)
        return site_mount._gzip(data)

    monkeypatch.setitem(site_mount.ENCODERS, "gzip", counting_gzip)
    for _ in range(3):
        for path in ("/", f"/{MAIN_CSS}"):
            assert cdn.get(path, headers={"accept-encoding": "gzip"}).headers["content-encoding"] == "gzip"
    assert sorted(calls) == sorted([source(cdn_site, "index.html"), source(cdn_site, MAIN_CSS)])
    # A rebuilt file is read and compressed again: the new text is served without a restart.
    (cdn_site / "index.html").write_text(TEXT["index.html"].replace("Start", "Nieuw"), encoding="utf-8")
    response, body = raw_get(cdn, "/", **{"accept-encoding": "gzip"})
    assert b"<h1>Nieuw</h1>" in gzip.decompress(body)
    assert len(calls) == 3


def test_concurrent_first_requests_compress_a_file_once(cdn_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio

    from diagnostics import site_mount

    calls: list[bytes] = []

    def slow_gzip(data: bytes) -> bytes:
        calls.append(data)
        time.sleep(0.05)  # long enough for every request to arrive while the first one compresses
        return site_mount._gzip(data)

    monkeypatch.setitem(site_mount.ENCODERS, "gzip", slow_gzip)
    files = site_mount.SiteFiles(cdn_site)
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/{MAIN_CSS}",
        "root_path": "",
        "headers": [(b"accept-encoding", b"gzip")],
    }
    encodings: list[str] = []

    async def fetch() -> None:
        response = await files.get_response(MAIN_CSS, scope)
        encodings.append(response.headers["content-encoding"])

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(fetch)

    anyio.run(main)
    assert encodings == ["gzip"] * 8
    assert len(calls) == 1


@pytest.mark.parametrize("path", [BUNDLE, f"{BUNDLE}.map", MAIN_CSS, SEARCH_WORKER])
def test_materials_hashed_assets_are_immutable(cdn: TestClient, path: str) -> None:
    response = cdn.get(f"/{path}")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "path",
    [
        "assets/stylesheets/card.css",
        "assets/javascripts/card.js",
        "assets/javascripts/lunr/min/lunr.nl.min.js",
        "assets/images/logo.0123abcd.min.js",
        "search/search_index.json",
        "sitemap.xml",
        "assets/images/favicon.png",
    ],
)
def test_unhashed_assets_are_fresh_for_minutes_only(cdn: TestClient, path: str) -> None:
    response = cdn.get(f"/{path}")
    assert response.status_code == 200
    cache_control = response.headers["cache-control"]
    assert "immutable" not in cache_control
    assert cache_control == "public, max-age=600"
    assert response.headers["etag"]


@pytest.mark.parametrize("path", ["/", "/index.html", "/eherkenning/"])
def test_html_is_revalidated_on_every_visit(cdn: TestClient, path: str) -> None:
    response = cdn.get(path)
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}(-gzip|-br)?"', response.headers["etag"])


def test_a_matching_etag_gets_304_with_the_security_headers(cdn: TestClient) -> None:
    first = cdn.get("/", headers={"accept-encoding": "gzip"})
    etag = first.headers["etag"]
    assert etag.endswith('-gzip"')
    assert_security_headers(cdn, first)
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = cdn.get("/", headers={"accept-encoding": "gzip", "if-none-match": if_none_match})
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["vary"] == "Accept-Encoding"
        assert "content-encoding" not in response.headers
        assert_security_headers(cdn, response)
    # The same bytes in another encoding: the browser's copy is still current.
    plain = cdn.get("/", headers={"accept-encoding": "identity", "if-none-match": etag})
    assert plain.status_code == 304 and plain.headers["etag"] == etag.replace("-gzip", "")
    # A hashed asset revalidates too (a browser that ignores immutable).
    asset = cdn.get(f"/{MAIN_CSS}")
    again = cdn.get(f"/{MAIN_CSS}", headers={"if-none-match": asset.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_stale_etag_gets_the_new_file(cdn: TestClient, cdn_site: Path) -> None:
    etag = cdn.get("/").headers["etag"]
    assert cdn.get("/", headers={"if-none-match": '"not-this-one"'}).status_code == 200
    (cdn_site / "index.html").write_text(TEXT["index.html"].replace("Start", "Gewijzigd"), encoding="utf-8")
    response = cdn.get("/", headers={"if-none-match": etag})
    assert response.status_code == 200
    assert "Gewijzigd" in response.text
    assert response.headers["etag"] != etag


def test_the_sites_404_page_has_no_validator(cdn: TestClient) -> None:
    response = cdn.get("/bestaat-niet/", headers={**BROWSER, "if-none-match": "*"})
    assert response.status_code == 404
    assert response.text == SITE_404
    assert "etag" not in response.headers
    assert response.headers["cache-control"] == "no-cache"
    assert_security_headers(cdn, response)


def test_head_gets_the_headers_of_get_without_a_body(cdn: TestClient) -> None:
    get, body = raw_get(cdn, f"/{BUNDLE}", **{"accept-encoding": "gzip"})
    with cdn.stream("HEAD", f"/{BUNDLE}", headers={"accept-encoding": "gzip"}) as head:
        assert b"".join(head.iter_raw()) == b""
    for name in ("content-length", "content-encoding", "etag", "cache-control", "vary", "content-type"):
        assert head.headers[name] == get.headers[name], name
    assert int(head.headers["content-length"]) == len(body)


def test_a_file_too_big_to_keep_is_streamed_with_its_cache_policy(
    cdn: TestClient, cdn_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diagnostics import site_mount

    monkeypatch.setattr(site_mount, "MAX_CACHED_BYTES", 100)
    response, body = raw_get(cdn, f"/{BUNDLE}", **{"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body == source(cdn_site, BUNDLE)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_file_removed_after_the_lookup_is_not_found(cdn: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from diagnostics import site_mount

    def vanished(path: str) -> site_mount._File:
        raise FileNotFoundError(path)

    monkeypatch.setattr(site_mount._File, "read", staticmethod(vanished))
    response = cdn.get("/assets/stylesheets/card.css")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip, deflate", "gzip"),
        ("br;q=0.1, gzip;q=0.9", "gzip"),
        ("GZIP; Q=0.5", "gzip"),
        ("*", "br"),
        ("*, br;q=0", "gzip"),
        ("gzip;q=bad", None),
        ("deflate", None),
        ("", None),
    ],
)
def test_choose_encoding(accept: str, expected: str | None) -> None:
    from diagnostics.site_mount import choose_encoding

    assert choose_encoding(accept, ["br", "gzip"]) == expected
