"""Security headers, the CSP, error pages without internals, the body-size limit and redirect targets."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from diagnostics import csp, middleware, redirects
from diagnostics.app import create_app
from diagnostics.brokers import BrokerRegistry
from diagnostics.settings import Settings, load_settings

HTML = {"accept": "text/html,application/xhtml+xml"}
INTERNALS = re.compile(r"Traceback|File \"|/work/|\.py\b|site-packages|RuntimeError|lxml", re.IGNORECASE)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    application = create_app(settings)
    router = APIRouter(prefix="/_test")

    # Routes that misbehave on purpose.
    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"secret internal path {Path(__file__)}")

    @router.get("/number")
    def number(value: int) -> dict[str, int]:
        return {"value": value}

    @router.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, int]:
        return {"keys": len(body)}

    before = len(application.router.routes)
    application.include_router(router)
    # In front of the help site, which is mounted at "/" and would answer first.
    added = application.router.routes[before:]
    del application.router.routes[before:]
    application.router.routes[0:0] = added
    return application


@pytest.fixture
def client(app: FastAPI, settings: Settings) -> Iterator[TestClient]:
    with TestClient(app, base_url=settings.public_base_url, raise_server_exceptions=False) as test_client:
        yield test_client


# ── headers and CSP ──


def _csp(response_headers: dict[str, str] | object) -> dict[str, list[str]]:
    header = response_headers["content-security-policy"]  # type: ignore[index]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/healthz", "/", "/bestaat-niet"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert response.headers["x-frame-options"] == "DENY"
        assert "camera=()" in response.headers["permissions-policy"]
        csp = _csp(response.headers)
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["default-src"] == ["'self'"]
        assert csp["object-src"] == ["'none'"]
        assert csp["base-uri"] == ["'self'"]
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        assert "'unsafe-eval'" not in response.headers["content-security-policy"]
        assert "*" not in response.headers["content-security-policy"]


def test_form_action_allows_ourselves_and_the_brokers_only(client: TestClient, settings: Settings) -> None:
    csp = _csp(client.get("/healthz").headers)
    assert csp["form-action"][0] == "'self'"
    assert settings.public_base_url in csp["form-action"]
    assert all(source == "'self'" or source.startswith("http") for source in csp["form-action"])


def test_csp_allows_exactly_the_inline_scripts_of_the_built_site(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<script>var a=1;</script><script src="x.js"></script>'
        '<script id="__config" type="application/json">{"a": 1}</script><style>p{color:red}</style>',
        encoding="utf-8",
    )
    (tmp_path / "sub" / "index.html").write_text("<SCRIPT type='text/javascript'>var b=2;</SCRIPT>", encoding="utf-8")
    scripts, styles = csp.inline_hashes(tmp_path)

    def source(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert scripts == sorted([source("var a=1;"), source("var b=2;")])
    assert styles == [source("p{color:red}")]
    policy = csp.content_security_policy(settings, script_hashes=scripts, style_hashes=styles)
    assert f"script-src 'self' {' '.join(scripts)};" in policy


def test_every_inline_script_of_the_real_site_is_hashed(client: TestClient, settings: Settings) -> None:
    page = settings.site_dir / "index.html"
    if not page.is_file():
        pytest.skip("the help site is not built (run `inloghulp build`)")
    allowed = set(_csp(client.get("/").headers)["script-src"])
    inline = [
        body
        for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", page.read_text(), re.S)
        if "src=" not in attributes and "application/json" not in attributes
    ]
    assert inline, "Material pages have inline scripts; the scan must find them"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed


# ── errors never show internals ──


def test_unhandled_exception_gives_json_without_internals(client: TestClient) -> None:
    response = client.get("/_test/boom")
    assert response.status_code == 500
    assert response.json()["error"]["id"] == "internal-error"
    assert not INTERNALS.search(response.text)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]


def test_unhandled_exception_gives_the_dutch_service_fault_page(client: TestClient) -> None:
    response = client.get("/_test/boom", headers=HTML)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Sorry, er is een probleem met de dienst" in response.text
    assert "probeer het later opnieuw" in response.text.lower()
    assert re.search(r'<html\b[^>]*\blang="nl"', response.text)
    assert not INTERNALS.search(response.text)


def test_validation_error_has_a_stable_id_and_does_not_echo_input(client: TestClient) -> None:
    response = client.get("/_test/number", params={"value": "KVK12345678"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["id"] == "invalid-request"
    assert body["error"]["fields"] == [{"field": "query.value", "problem": "int_parsing"}]
    assert "12345678" not in response.text


def test_malformed_json_body_is_a_client_error_not_a_crash(client: TestClient) -> None:
    response = client.post("/_test/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["id"] == "invalid-request"


def test_unknown_method_has_a_stable_id(client: TestClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["id"] == "method-not-allowed"


# ── body-size limit ──


def test_declared_body_over_the_limit_is_refused(client: TestClient, settings: Settings) -> None:
    limit = middleware.max_body_bytes(settings)
    response = client.post(
        "/_test/echo", content=b"{" + b" " * limit + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["id"] == "too-large"
    assert "content-security-policy" in response.headers


def test_streamed_body_over_the_limit_is_refused(client: TestClient, settings: Settings) -> None:
    limit = middleware.max_body_bytes(settings)

    def chunks() -> Iterator[bytes]:
        yield b'{"a": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = client.post("/_test/echo", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["id"] == "too-large"


def test_body_over_the_limit_gives_a_dutch_page_to_browsers(client: TestClient, settings: Settings) -> None:
    response = client.post("/_test/echo", content=b"x" * (middleware.max_body_bytes(settings) + 1), headers=HTML)
    assert response.status_code == 413
    assert "Het bericht is te groot" in response.text


def test_body_under_the_limit_passes(client: TestClient) -> None:
    response = client.post("/_test/echo", json={"a": "b" * 100_000})
    assert response.status_code == 200
    assert response.json() == {"keys": 1}


def test_negative_or_garbage_content_length_is_refused() -> None:
    async def inner(scope: object, receive: object, send: object) -> None:
        raise AssertionError("must not be reached")

    limited = middleware.BodySizeLimitMiddleware(inner, max_bytes=10)  # type: ignore[arg-type]
    app = FastAPI()
    app.mount("/", limited)  # type: ignore[arg-type]
    with TestClient(app) as test_client:
        response = test_client.post("/", content=b"abc", headers={"content-length": "-1"})
    assert response.status_code in {400, 413}


# ── redirect targets ──

SAFE = ["/", "/servicedesk", "/servicedesk/sessies/BHP-ABCD-EFGH?tab=trace", "/a/b#c", "/hulp/inloggen-lukt-niet/"]
UNSAFE = [
    None,
    "",
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "servicedesk",
    " /servicedesk",
    "/servicedesk\r\nSet-Cookie: a=b",
    "/\tevil",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "https:/evil.example",
    "/%0d%0aLocation:%20https://evil.example",
    "/" + "a" * 3000,
    "\u3002evil.example",
]


@pytest.mark.parametrize("value", SAFE)
def test_same_origin_paths_are_allowed(value: str) -> None:
    assert redirects.safe_redirect_target(value) == value


@pytest.mark.parametrize("value", UNSAFE)
def test_other_targets_are_refused(value: str | None) -> None:
    assert redirects.safe_redirect_target(value) is None


# ── cross-site form posts (CSRF) ──

CROSS_SITE = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
# The only POST routes another site may reach, and why that is safe.
CROSS_SITE_BY_DESIGN = {
    # SAML POST binding: the broker posts from its own origin. The artifact is single use and is
    # resolved over the back channel; it must answer an AuthnRequest this service sent.
    "/saml/acs": "broker posts the artifact (HTTP-POST binding)",
    # An SP posts its AuthnRequest to the (simulated) broker; the request must carry the SP signature.
    "/simulator/sso": "SP posts a signed AuthnRequest (HTTP-POST binding)",
    # SOAP back channel between servers: no browser, no cookies; single-use artifacts.
    "/simulator/ars": "SOAP ArtifactResolve, server to server",
}


def _post_paths(app: FastAPI) -> list[str]:
    paths = []
    for route in app.routes:
        contexts: Any = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            if "POST" in (getattr(context, "methods", None) or ()) and not context.path.startswith("/_test"):
                paths.append(context.path)
    return sorted(set(paths))


def _concrete(path: str) -> str:
    return path.replace("{ref}", "BHP-ABCD-EFGH").replace("{code}", "BHP-ABCD-EFGH")


def test_every_post_route_refuses_a_cross_site_form_post(client: TestClient, app: FastAPI) -> None:
    paths = _post_paths(app)
    assert "/diagnose/start" in paths and "/servicedesk/login" in paths, paths
    assert set(CROSS_SITE_BY_DESIGN) <= set(paths) | {"/simulator/sso"}, "the exemptions name real routes"
    for path in paths:
        if path in CROSS_SITE_BY_DESIGN:
            continue
        for headers in (CROSS_SITE, {"origin": "https://evil.example"}, {"sec-fetch-site": "same-site"}):
            response = client.post(_concrete(path), data={"x": "y"}, headers=headers, follow_redirects=False)
            assert response.status_code == 403, f"{path} accepted a cross-site post ({headers})"
            assert response.json()["error"]["id"] == "cross-site-request"


def test_exempt_routes_are_exactly_the_saml_endpoints() -> None:
    assert middleware.CROSS_SITE_ALLOWED == frozenset(CROSS_SITE_BY_DESIGN)


def test_same_origin_posts_pass_the_guard(client: TestClient, settings: Settings) -> None:
    for headers in ({"sec-fetch-site": "same-origin"}, {"origin": settings.public_base_url}, {}):
        response = client.post("/diagnose/start", data={"broker": "bestaat-niet"}, headers=headers)
        assert response.status_code != 403, headers


def test_a_cross_site_post_gets_a_dutch_page(client: TestClient) -> None:
    response = client.post("/diagnose/start", data={"broker": "simulator"}, headers={**CROSS_SITE, **HTML})
    assert response.status_code == 403
    assert "Dit formulier komt niet van deze website" in response.text


def test_saml_acs_may_be_posted_cross_site(client: TestClient) -> None:
    response = client.post("/saml/acs", data={"SAMLart": ""}, headers=CROSS_SITE)
    assert response.status_code != 403


def test_console_forms_need_a_token_even_without_browser_headers(client: TestClient, settings: Settings) -> None:
    """Old browsers send no fetch metadata: the console's CSRF token still stops the post."""
    from diagnostics.servicedesk import accounts
    from diagnostics.store import Store

    accounts.create_user(Store(settings.database_url).engine, "csrf.test", "correct horse battery staple")
    paths = [path for path in _post_paths(client.app) if path.startswith("/servicedesk")]  # type: ignore[arg-type]
    assert "/servicedesk/login" in paths
    for path in paths:
        data = {"name": "csrf.test", "password": "correct horse battery staple", "message": "x", "code": "x"}
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code != 303 or response.headers["location"].startswith("/servicedesk/login"), path
        assert "inloghulp_sd_session" not in response.headers.get("set-cookie", ""), path


# ── open redirects ──


def test_console_login_never_redirects_off_site(write_config: Callable[..., Path]) -> None:
    from diagnostics.servicedesk import accounts
    from diagnostics.store import Store

    settings = load_settings(write_config({"rate_limits": {"login": 0}}))
    accounts.create_user(Store(settings.database_url).engine, "redirect.test", "correct horse battery staple")
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        _login_with_targets(client)


def _login_with_targets(client: TestClient) -> None:
    # Each login costs an argon2 hash: the most telling targets only (all of UNSAFE are unit-tested above).
    targets = ["https://evil.example/", "//evil.example", "/\\evil.example", "/%2F%2Fevil.example", "/elders"]
    for target in targets + ["javascript:alert(1)", "/" + "a" * 3000]:
        page = client.get("/servicedesk/login", params={"next": target})
        assert page.status_code == 200
        if target != "/elders":  # same-origin, so the form may carry it; the POST still stays in the console
            assert 'name="next" value="/servicedesk"' in page.text, target
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        response = client.post(
            "/servicedesk/login",
            data={
                "name": "redirect.test",
                "password": "correct horse battery staple",
                "csrf_token": token[1],
                "next": target,
            },
            follow_redirects=False,
        )
        # A value over the form's length limit is refused outright (422): no redirect at all.
        assert response.status_code in {303, 422}, target
        assert response.status_code == 422 or response.headers["location"] == "/servicedesk", target
        client.cookies.clear()


def test_no_get_route_redirects_to_a_target_from_the_query(client: TestClient, app: FastAPI) -> None:
    """Every parameter name that is commonly used for a return address, on every GET route."""
    evil = "https://evil.example/"
    params = dict.fromkeys(("next", "return", "return_to", "redirect", "url", "RelayState", "target"), evil)
    for route in app.routes:
        contexts: Any = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            if "GET" not in (getattr(context, "methods", None) or ()):
                continue
            response = client.get(_concrete(context.path), params=params, follow_redirects=False)
            location = response.headers.get("location")
            if location is not None:
                assert not location.startswith(("//", "https://evil", "http://evil")), context.path
                assert "evil.example" not in location.split("?")[0], context.path


# ── form-action follows the brokers' SSO endpoints ──


def _other_broker_metadata(settings: Settings, directory: Path) -> Path:
    """The simulator's metadata, as if another broker published it with SSO on its own host."""
    from lxml import etree

    from diagnostics.simulator.metadata import broker_metadata

    root = etree.fromstring(broker_metadata(settings))
    for signature in root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        parent = signature.getparent()
        assert parent is not None
        parent.remove(signature)
    for service in root.iter("{urn:oasis:names:tc:SAML:2.0:metadata}SingleSignOnService"):
        service.set("Location", "https://sso.andere-makelaar.example/saml/sso")
    path = directory / "andere-makelaar.xml"
    path.write_bytes(etree.tostring(root))
    return path


def test_form_action_lists_the_sso_origin_of_every_broker(write_config: Callable[..., Path], tmp_path: Path) -> None:
    base = load_settings(write_config())
    metadata = _other_broker_metadata(base, tmp_path)
    brokers = [
        {"id": "simulator", "name": "Simulator", "embedded": True},
        {"id": "andere", "name": "Andere makelaar", "metadata_file": str(metadata)},
    ]
    settings = load_settings(write_config({"brokers": brokers}, name="twee.toml"))
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        before = _csp(client.get("/healthz").headers)["form-action"]
        assert "https://sso.andere-makelaar.example" not in before, "read lazily, not at start-up"
        chooser = client.get("/diagnose")
        assert "https://sso.andere-makelaar.example" in _csp(chooser.headers)["form-action"]
        assert "https://sso.andere-makelaar.example" in _csp(client.get("/healthz").headers)["form-action"]


@pytest.mark.anyio
async def test_sso_origins_are_kept_when_a_broker_cannot_be_read(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    base = load_settings(write_config())
    metadata = _other_broker_metadata(base, tmp_path)
    settings = load_settings(
        write_config({"brokers": [{"id": "andere", "name": "Andere", "metadata_file": str(metadata)}]}, name="b.toml")
    )
    now = [0.0]
    registry = BrokerRegistry(settings)
    origins = csp.BrokerSsoOrigins(settings, registry, ttl_seconds=100, retry_seconds=10, clock=lambda: now[0])
    assert origins.stale
    await origins.refresh()
    assert origins.origins == {"https://sso.andere-makelaar.example"}
    assert not origins.stale
    metadata.write_bytes(b"<kapot")
    registry.forget()  # the registry would otherwise answer from its cache
    now[0] = 100.0
    assert origins.stale
    await origins.refresh()
    assert origins.origins == {"https://sso.andere-makelaar.example"}, "a failed read keeps what was known"
    now[0] = 105.0
    assert not origins.stale
    now[0] = 110.0
    assert origins.stale, "a failed read is retried soon"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "[::2]"])
def test_a_foreign_host_is_refused_and_never_reflected(client: TestClient, host: str) -> None:
    for path in ("/begrippen", "/diagnose", "/healthz"):
        response = client.get(path, headers={"host": host}, follow_redirects=False)
        assert response.status_code == 400, (host, path)
        assert response.json()["error"]["id"] == "bad-host"
        assert "evil" not in response.headers.get("location", "")


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000", "127.0.0.1"])
def test_our_own_and_loopback_hosts_are_served(client: TestClient, host: str) -> None:
    assert client.get("/healthz", headers={"host": host}).status_code == 200


def test_the_public_host_is_served_and_redirects_stay_on_it(write_config: Callable[..., Path]) -> None:
    settings = load_settings(write_config({"public_base_url": "https://inloghulp.example.nl"}))
    with TestClient(create_app(settings), base_url="https://inloghulp.example.nl") as client:
        # A folder of the help site without its slash: the redirect stays on our own host.
        response = client.get("/begrippen", follow_redirects=False)
        assert response.status_code in {301, 302, 307, 308}
        assert response.headers["location"].startswith(("/", "https://inloghulp.example.nl/"))
        assert client.get("/healthz", headers={"host": "inloghulp.example.nl:443"}).status_code == 200
