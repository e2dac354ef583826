"""Web security for every response: headers with a strict CSP, a body-size limit, error pages without
internals, and the one rule for redirect targets.

The Content-Security-Policy has no ``'unsafe-inline'``. The built help site (MkDocs Material) carries a
few inline ``<script>`` blocks whose content depends on the theme version and the page depth; their
SHA-256 hashes are read from ``settings.site_dir`` once at start-up and allowed exactly.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diagnostics import page_frame
from diagnostics.allow import allowed_methods
from diagnostics.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES = page_frame.TEMPLATES

# Stable ids for machines; the Dutch texts for people are in the error templates.
ERROR_IDS: dict[int, str] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "rate-limited",
    500: "internal-error",
}
CROSS_SITE_ID = "cross-site-request"
_MESSAGES: dict[str, str] = {
    "bad-request": "Dit verzoek kunnen wij niet verwerken.",
    "unauthorized": "U moet eerst inloggen.",
    "forbidden": "U hebt geen toegang tot deze pagina.",
    "not-found": "Deze pagina of dit adres bestaat niet.",
    "method-not-allowed": "Deze actie kan niet op dit adres.",
    "too-large": "Het verzoek is te groot.",
    "unsupported-media-type": "Dit soort inhoud kunnen wij niet verwerken.",
    "invalid-request": "Het verzoek is niet volledig of niet goed ingevuld.",
    "rate-limited": "U hebt het te vaak geprobeerd. Wacht even en probeer het daarna opnieuw.",
    "internal-error": "Er is een probleem met de dienst. Probeer het later opnieuw.",
    CROSS_SITE_ID: "Dit formulier komt niet van deze website. Open de pagina opnieuw en probeer het nog eens.",
}
# Where another site may post on purpose: the broker's SAML POST binding to our ACS, an SP's
# AuthnRequest to the simulator, and the SOAP back channel (no browser, no cookies). Each of these
# is protected by its own signature or single-use artifact instead of a CSRF token.
CROSS_SITE_ALLOWED: frozenset[str] = frozenset({"/saml/acs", "/simulator/sso", "/simulator/ars"})
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The pages whose forms lead to a broker: the chooser and the start of a login.
LOGIN_START_PREFIX = "/diagnose"
# The JSON API: every answer under it is JSON, errors included.
API_PREFIX = "/api/"
_PAGES: dict[int, str] = {404: "errors/404.html", 413: "errors/413.html", 429: "errors/429.html"}
# Starlette's default HTTPException detail ("Not Found"): English, and the Dutch message already says it.
_REASON_PHRASES = frozenset({"", *(status.phrase for status in HTTPStatus)})

# Extra room above the largest SAML message: base64 (4/3) and form encoding of +, / and =.
_BODY_FACTOR = 3
_BODY_MARGIN = 64 * 1024

_SCRIPT_RE = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_STYLE_RE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTR_RE = re.compile(r"\ssrc\s*=", re.IGNORECASE)
_TYPE_ATTR_RE = re.compile(r"""\stype\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
# Script types a browser executes; data blocks (application/json) need no hash.
_EXECUTABLE_TYPES = {"", "text/javascript", "application/javascript", "module"}


# ── redirect targets ──


def safe_redirect_target(value: str | None) -> str | None:
    """``value`` when it is a same-origin relative path such as ``/x?y``; otherwise None.

    Refused: absolute and scheme-relative URLs (``https://evil``, ``//evil``), backslashes (browsers
    read ``/\\evil`` as ``//evil``), control characters and whitespace, and every percent-encoded
    form of these (decoded repeatedly, because some hops decode once more).
    """
    if not value or len(value) > 2048:
        return None
    candidate = value
    for _ in range(4):
        if not _plain_path(candidate):
            return None
        decoded = unquote(candidate)
        if decoded == candidate:
            return value
        candidate = decoded
    return None  # still changing after several rounds of decoding: not a plain path


def _plain_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//"):
        return False
    if "\\" in value or any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


# ── Content-Security-Policy ──


def _sha256_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_hashes(site_dir: Path) -> tuple[list[str], list[str]]:
    """CSP hash sources of the inline scripts and style blocks in the built site's HTML."""
    scripts: set[str] = set()
    styles: set[str] = set()
    if not site_dir.is_dir():
        return [], []
    for page in site_dir.rglob("*.html"):
        try:
            html = page.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            log.warning("cannot read %s for CSP hashes", page)
            continue
        for attributes, body in _SCRIPT_RE.findall(html):
            if _SRC_ATTR_RE.search(attributes):
                continue
            type_match = _TYPE_ATTR_RE.search(attributes)
            if (type_match[1].lower() if type_match else "") in _EXECUTABLE_TYPES:
                scripts.add(_sha256_source(body))
        styles.update(_sha256_source(body) for body in _STYLE_RE.findall(html))
    return sorted(scripts), sorted(styles)


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def form_action_sources(settings: Settings, extra_urls: Iterable[str] = ()) -> list[str]:
    """Where our forms may post (and be redirected after a post): ourselves and the brokers' SSO endpoints.

    The SAML POST binding posts the AuthnRequest to the broker; the Redirect binding answers our own
    form with a redirect there, which ``form-action`` also governs in Chromium.
    """
    origins: set[str] = set()
    for url in [settings.public_base_url, *extra_urls]:
        origin = _origin(url)
        if origin is not None:
            origins.add(origin)
    return ["'self'", *sorted(origins)]


class BrokerSsoOrigins:
    """The origins of the brokers' SSO endpoints, from their verified metadata; refreshed every hour.

    Read lazily (never at start-up, which must not depend on a broker) by the pages that start a login.
    When a broker cannot be read, the origins already known stay and the next try is a minute later.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        ttl_seconds: float = 3600,
        retry_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._ttl = ttl_seconds
        self._retry = retry_seconds
        self._clock = clock
        self._due = 0.0
        self.origins: frozenset[str] = frozenset()

    @property
    def stale(self) -> bool:
        return self._clock() >= self._due

    def refresh(self) -> None:
        """Read every non-embedded broker's metadata (blocking: run it in a worker thread)."""
        from diagnostics.brokers import BrokerError, load_broker

        found: set[str] = set()
        failed = False
        for broker in self.settings.brokers:
            if broker.embedded:
                continue  # the simulator is served from our own origin
            try:
                info = load_broker(self.settings, broker.id)
            except (BrokerError, OSError, ValueError) as exc:
                log.warning("SSO origin of broker %s not known yet: %s", broker.id, exc)
                failed = True
                continue
            for url in (info.sso_redirect_url, info.sso_post_url):
                origin = _origin(url)
                if origin is not None:
                    found.add(origin)
        self.origins = frozenset(found | set(self.origins) if failed else found)
        self._due = self._clock() + (self._retry if failed else self._ttl)


def content_security_policy(
    settings: Settings,
    *,
    script_hashes: Iterable[str] = (),
    style_hashes: Iterable[str] = (),
    form_action_urls: Iterable[str] = (),
) -> str:
    """The policy for every response; no ``'unsafe-inline'`` anywhere."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", *style_hashes],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": form_action_sources(settings, form_action_urls),
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(settings: Settings, csp: str) -> dict[str, str]:
    """The headers every response carries."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # Other sites get our origin at most, never a path or query (SAML artifacts, reference codes).
        # Not "no-referrer": that turns the Origin header of every form post into "null".
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), geolocation=(), microphone=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.public_base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


# ── error responses ──


def is_api_path(path: str) -> bool:
    """``/api`` and everything under it."""
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


def wants_html(request_headers: Mapping[str, str], path: str) -> bool:
    """A browser asking for a page (not the JSON API) gets an HTML error page."""
    return "text/html" in request_headers.get("accept", "") and not is_api_path(path)


def error_body(error_id: str, message: str | None = None, **extra: Any) -> dict[str, Any]:
    """``{"error": {"id": ..., "message": ...}}``: the one JSON error shape."""
    return {"error": {"id": error_id, "message": message or _MESSAGES.get(error_id, _MESSAGES["bad-request"]), **extra}}


def error_response(
    request: Request, status: int, error_id: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> Response:
    """A Dutch HTML page for browsers, a JSON body with a stable id for everything else."""
    if wants_html(request.headers, request.url.path):
        template = _PAGES.get(status, "errors/500.html" if status >= 500 else "errors/400.html")
        context = {"status": status, "error_id": error_id, "message": _MESSAGES.get(error_id, ""), **extra}
        return TEMPLATES.TemplateResponse(request, template, context, status_code=status, headers=dict(headers or {}))
    return JSONResponse(error_body(error_id, **extra), status_code=status, headers=dict(headers or {}))


class BodyTooLarge(StarletteHTTPException):
    """A request body above the limit (raised while the body is being read)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="too-large")


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if isinstance(detail, dict) and isinstance(detail.get("error"), dict) and "id" in detail["error"]:
        return JSONResponse(detail, status_code=exc.status_code, headers=exc.headers)
    error_id = ERROR_IDS.get(exc.status_code, "internal-error" if exc.status_code >= 500 else "bad-request")
    extra: dict[str, Any] = {}
    if isinstance(detail, str) and detail not in _REASON_PHRASES and detail != error_id and exc.status_code < 500:
        extra["detail"] = detail
    headers = exc.headers
    if exc.status_code == 405 and (methods := allowed_methods(request.app.router.routes, request.scope)):
        headers = {**(headers or {}), "Allow": ", ".join(methods)}
    return error_response(request, exc.status_code, error_id, headers=headers, **extra)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: never the submitted value, which may hold an identifier.
    fields = [
        {"field": ".".join(str(part) for part in error.get("loc", ())), "problem": str(error.get("type", ""))}
        for error in exc.errors()
    ]
    return error_response(request, 422, "invalid-request", fields=fields)


def _internal_error_handler(headers: Mapping[str, str]) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def _internal_error(request: Request, exc: Exception) -> Response:
        # The traceback goes to the server log only; the response names nothing internal.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        response = error_response(request, 500, "internal-error")
        # This response is made outside the middleware stack, so it carries the headers itself.
        response.headers.update(headers)
        return response

    return _internal_error


# ── middleware ──


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set its own.

    The CSP's ``form-action`` follows the brokers' SSO origins; the pages that start a login refresh
    them first when they are stale, so the redirect or form to the broker is never blocked.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        headers: Mapping[str, str],
        csp: Callable[[frozenset[str]], str] | None = None,
        sso_origins: BrokerSsoOrigins | None = None,
    ) -> None:
        self.app = app
        self.headers = dict(headers)
        self._csp = csp
        self._sso = sso_origins
        self._policies: dict[frozenset[str], str] = {}

    def _headers(self) -> dict[str, str]:
        if self._csp is None or self._sso is None:
            return self.headers
        origins = self._sso.origins
        policy = self._policies.get(origins)
        if policy is None:
            policy = self._policies[origins] = self._csp(origins)
        return {**self.headers, "Content-Security-Policy": policy}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._sso is not None and scope["path"].startswith(LOGIN_START_PREFIX) and self._sso.stale:
            await to_thread.run_sync(self._sso.refresh)
        headers = self._headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    if name not in response_headers:
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def own_origins(settings: Settings, request_headers: Headers, scheme: str) -> set[str]:
    """Our public origin, and the origin the request itself was sent to (behind a proxy they may differ)."""
    origins = {settings.public_base_url}
    host = request_headers.get("host")
    if host:
        origins.add(f"{scheme}://{host}")
    return origins


def is_cross_site(request_headers: Headers, origins: set[str]) -> bool:
    """True when a browser says this request was started by another site.

    Fetch metadata first (``Sec-Fetch-Site``, sent by every current browser and not changed by the
    referrer policy); otherwise the ``Origin`` header. A request with neither is not from a browser form.
    """
    site = request_headers.get("sec-fetch-site")
    if site is not None:
        return site not in {"same-origin", "none"}
    origin = request_headers.get("origin")
    return origin is not None and origin not in origins


class CrossSiteGuardMiddleware:
    """Refuses state-changing requests that another site started (403 ``cross-site-request``).

    A second line of defence beside the console's CSRF tokens and SameSite cookies: it covers every
    form of the service, also the ones without a login.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _UNSAFE_METHODS or scope["path"] in CROSS_SITE_ALLOWED:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if is_cross_site(headers, own_origins(self.settings, headers, scope.get("scheme", "http"))):
            log.warning("refused a cross-site %s %s", scope["method"], scope["path"])
            await error_response(Request(scope, receive), 403, CROSS_SITE_ID)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuses request bodies above ``max_bytes`` with 413 ``too-large``, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(Request(scope, receive), 413, "too-large")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def max_body_bytes(settings: Settings) -> int:
    return settings.max_message_bytes * _BODY_FACTOR + _BODY_MARGIN


def install(app: FastAPI, settings: Settings) -> None:
    """Register the security middleware and the error handlers on ``app``."""
    script_hashes, style_hashes = inline_hashes(settings.site_dir)

    def csp_for(sso_origins: frozenset[str]) -> str:
        return content_security_policy(
            settings, script_hashes=script_hashes, style_hashes=style_hashes, form_action_urls=sorted(sso_origins)
        )

    sso_origins = BrokerSsoOrigins(settings)
    app.state.broker_sso_origins = sso_origins
    headers = security_headers(settings, csp_for(frozenset()))
    app.state.security_headers = headers
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error_handler(headers))
    from diagnostics.ratelimit import RateLimitMiddleware  # it builds its answers with this module

    # Added last = outermost: the 413 and 429 answers and every other response get the headers.
    app.add_middleware(RateLimitMiddleware, settings=settings)
    app.add_middleware(CrossSiteGuardMiddleware, settings=settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes(settings))
    app.add_middleware(SecurityHeadersMiddleware, headers=headers, csp=csp_for, sso_origins=sso_origins)
