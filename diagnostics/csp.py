"""The Content-Security-Policy and the other security headers every response carries.

The policy has no ``'unsafe-inline'``. The built help site (MkDocs Material) carries a few inline
``<script>`` blocks whose content depends on the theme version and the page depth; their SHA-256
hashes are read from ``settings.site_dir`` once at start-up and allowed exactly. ``form-action``
follows the brokers' SSO origins, read through the broker registry.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from diagnostics.settings import Settings

if TYPE_CHECKING:
    from diagnostics.brokers import BrokerRegistry

log = logging.getLogger(__name__)

_SCRIPT_RE = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_STYLE_RE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_SRC_ATTR_RE = re.compile(r"\ssrc\s*=", re.IGNORECASE)
_TYPE_ATTR_RE = re.compile(r"""\stype\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
# Script types a browser executes; data blocks (application/json) need no hash.
_EXECUTABLE_TYPES = {"", "text/javascript", "application/javascript", "module"}


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

    Read lazily (never at start-up, which must not depend on a broker) by the pages that start a login,
    through the broker registry: its fetches are single-flight, bounded in time and remember an outage.
    One refresh at a time; requests that arrive meanwhile wait for it. When a broker cannot be read,
    the origins already known stay and the next try is a minute later.
    """

    def __init__(
        self,
        settings: Settings,
        registry: BrokerRegistry,
        *,
        ttl_seconds: float = 3600,
        retry_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._registry = registry
        self._ttl = ttl_seconds
        self._retry = retry_seconds
        self._clock = clock
        self._due = 0.0
        self._refreshing = asyncio.Lock()
        self.origins: frozenset[str] = frozenset()

    @property
    def stale(self) -> bool:
        return self._clock() >= self._due

    async def refresh(self) -> None:
        """Ask the registry for every non-embedded broker at once (the simulator is our own origin)."""
        async with self._refreshing:
            if not self.stale:
                return  # another request refreshed them while this one waited
            from diagnostics.brokers import BrokerError

            external = [broker.id for broker in self.settings.brokers if not broker.embedded]
            outcomes = await asyncio.gather(
                *(self._registry.broker(broker_id) for broker_id in external), return_exceptions=True
            )
            found: set[str] = set()
            failed = False
            for broker_id, outcome in zip(external, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    if not isinstance(outcome, BrokerError | OSError | ValueError):
                        raise outcome
                    log.warning("SSO origin of broker %s not known yet: %s", broker_id, outcome)
                    failed = True
                    continue
                for url in (outcome.sso_redirect_url, outcome.sso_post_url):
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
    if settings.served_over_https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers
