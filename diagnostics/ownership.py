"""A login test belongs to the browser that started it.

A reference code is printed on the page and read out to the servicedesk, so it is no secret. What
proves "this browser started that test" is a cookie set by ``/diagnose/start``: the references this
browser started, each with an HMAC under ``session_secret``. Nobody can make one for a reference
they only read somewhere.

Only the owner's browser may hand in the broker's artifact for a test (before it is resolved, so a
forged or stolen artifact is not spent), answer "Wat zag u?", and see the check trace and the
identifiers on the result page. Anyone with the code sees the verdict and the diagnosis title; the
servicedesk console shows everything to its logged-in staff.

The cookie must come along when the broker sends the user back. A top-level GET redirect carries a
``SameSite=Lax`` cookie; a cross-site POST only carries ``SameSite=None; Secure``, which browsers accept
on https only. So on https the cookie is ``None; Secure``, and on plain-http development the brokers
(our simulator by default) return with the redirect binding.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

from diagnostics import reference
from diagnostics.settings import Settings

COOKIE = "inloghulp_mijn_tests"
# The error id (diagnostics.errors) when another browser tries to change a test.
NOT_THIS_BROWSER = "not-this-browser"
# The most recent tests a browser keeps; a sixth pushes out the oldest.
MAX_TESTS = 5
MAX_AGE_SECONDS = 24 * 3600
_MAC_BYTES = 16


def _mac(settings: Settings, ref: str) -> str:
    digest = hmac.new(settings.session_secret.encode("utf-8"), f"test-owner:{ref}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:_MAC_BYTES]).decode("ascii").rstrip("=")


def owned(request: Request, settings: Settings) -> list[str]:
    """The references this browser started (oldest first), each checked against its MAC."""
    found: list[str] = []
    for item in (request.cookies.get(COOKIE) or "").split("~")[-MAX_TESTS:]:
        ref, _, mac = item.partition(".")
        normal = reference.normalise(ref)
        # As bytes: compare_digest refuses str with non-ASCII characters, and a cookie can hold anything.
        given = mac.encode("utf-8", errors="replace")
        if normal is not None and normal == ref and hmac.compare_digest(given, _mac(settings, ref).encode("ascii")):
            found.append(ref)
    return found


def started_here(request: Request, settings: Settings, ref: str) -> bool:
    return ref in owned(request, settings)


def latest(request: Request, settings: Settings) -> str | None:
    """This browser's most recent test."""
    refs = owned(request, settings)
    return refs[-1] if refs else None


def remember(response: Response, request: Request, settings: Settings, ref: str) -> None:
    """Add ``ref`` to this browser's tests (at the end: it is now the latest)."""
    refs = [*(r for r in owned(request, settings) if r != ref), ref][-MAX_TESTS:]
    secure = settings.served_over_https
    response.set_cookie(
        COOKIE,
        "~".join(f"{r}.{_mac(settings, r)}" for r in refs),
        max_age=MAX_AGE_SECONDS,
        path="/",
        httponly=True,
        # See the module docstring: a broker's cross-site POST back only carries a SameSite=None cookie.
        samesite="none" if secure else "lax",
        secure=secure,
    )
