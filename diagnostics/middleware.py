"""The security middleware every request passes: headers, cross-site guard, body limit, rate limits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diagnostics import csp, errors
from diagnostics.ratelimit import RateLimitMiddleware
from diagnostics.resources import resources_in
from diagnostics.servicedesk.paste_limit import body_limit
from diagnostics.settings import Settings

log = logging.getLogger(__name__)

# Where another site may post on purpose: the broker's SAML POST binding to our ACS, an SP's
# AuthnRequest to the simulator, and the SOAP back channel (no browser, no cookies). Each of these
# is protected by its own signature or single-use artifact instead of a CSRF token.
CROSS_SITE_ALLOWED: frozenset[str] = frozenset({"/saml/acs", "/simulator/sso", "/simulator/ars"})
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The pages whose forms lead to a broker: the chooser and the start of a login.
LOGIN_START_PREFIX = "/diagnose"
# Extra room above the largest SAML message: base64 (4/3) and form encoding of +, / and =.
_BODY_FACTOR = 3
_BODY_MARGIN = 64 * 1024


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set its own.

    The CSP's ``form-action`` follows the brokers' SSO origins; the pages that start a login refresh
    them first when they are stale, so the redirect or form to the broker is never blocked.
    """

    def __init__(self, app: ASGIApp, *, headers: Mapping[str, str], csp: Callable[[frozenset[str]], str]) -> None:
        self.app = app
        self.headers = dict(headers)
        self._csp = csp
        self._policies: dict[frozenset[str], str] = {}

    def _headers(self, origins: frozenset[str]) -> dict[str, str]:
        policy = self._policies.get(origins)
        if policy is None:
            policy = self._policies[origins] = self._csp(origins)
        return {**self.headers, "Content-Security-Policy": policy}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sso = resources_in(scope).sso_origins
        if scope["path"].startswith(LOGIN_START_PREFIX) and sso.stale:
            await sso.refresh()
        headers = self._headers(sso.origins)

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
            await errors.error_response(Request(scope, receive), 403, errors.CROSS_SITE_ID)(scope, receive, send)
            return
        await self.app(scope, receive, send)


# Always allowed besides the public host: a load balancer's probe or an operator on the machine itself uses
# these, and a redirect to one of them can only lead back to the user's own computer.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The host names this service answers to: the one in ``public_base_url``, and loopback."""
    public = urlsplit(settings.public_base_url).hostname
    return LOOPBACK_HOSTS | ({public.lower()} if public else set())


def _host_name(host_header: str) -> str:
    """``example.nl:8443`` -> ``example.nl``; ``[::1]:8000`` -> ``::1``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class HostAllowListMiddleware:
    """Refuses a request whose Host header names another site (400 ``bad-host``).

    Redirects and absolute links are built from the request's host (the help site's directory
    redirects, for one); so a foreign Host would put a foreign address in our own Location header.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.hosts = allowed_hosts(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _host_name(Headers(scope=scope).get("host", "")) not in self.hosts:
            log.warning("refused a request for another host")
            await errors.error_response(Request(scope, receive), 400, errors.BAD_HOST_ID)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuses request bodies above ``max_bytes`` with 413 ``too-large``, declared or streamed.

    ``larger`` may name a higher limit for one request (the console's paste box, ``servicedesk.paste_limit``)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: Callable[[Scope], int | None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = (self.larger(scope) if self.larger else None) or self.max_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise errors.BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except errors.BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.error_response(Request(scope, receive), 413, "too-large")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def max_body_bytes(settings: Settings) -> int:
    return settings.max_message_bytes * _BODY_FACTOR + _BODY_MARGIN


def install(app: FastAPI, settings: Settings) -> None:
    """Register the security middleware and the error handlers on ``app``."""
    script_hashes, style_hashes = csp.inline_hashes(settings.site_dir)

    def csp_for(sso_origins: frozenset[str]) -> str:
        return csp.content_security_policy(
            settings, script_hashes=script_hashes, style_hashes=style_hashes, form_action_urls=sorted(sso_origins)
        )

    headers = csp.security_headers(settings, csp_for(frozenset()))
    app.state.security_headers = headers
    errors.install(app, headers)
    # Added last = outermost: the 413 and 429 answers and every other response get the headers.
    app.add_middleware(RateLimitMiddleware, settings=settings)
    app.add_middleware(CrossSiteGuardMiddleware, settings=settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes(settings), larger=body_limit(settings))
    app.add_middleware(HostAllowListMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware, headers=headers, csp=csp_for)
