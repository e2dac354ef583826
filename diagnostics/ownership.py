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

**This browser's open test.** A broker that refuses (no machtiging, the common case) never sends the user
back. So while this browser's latest test waits for the broker's answer, or never got one, and nobody said
what they saw, every page shows "Uw inlogtest van 20:19 is niet afgerond" (:func:`open_test`), and ``/terug``
leads there. A newer test replaces an older one: the question is about the test the user just did.

**The code before the broker.** The chooser shows the reference code before "Verder", together with the way
back: the page offers a code (:func:`offer`), and the start uses it when the offer is ours (:func:`offered`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from diagnostics import housekeeping, localtime, reference, roundtrip
from diagnostics.settings import Settings
from diagnostics.store import DiagSession, Store

COOKIE = "inloghulp_mijn_tests"
# Readable by the help site's script (not HttpOnly) and holding nothing but "1": this browser started a test in
# the last day. Only then does a help page ask /api/v1/open-test for the banner, so a visitor who never tested
# gets a page from the cache without any request but the HTML's (issue 17's second visit).
HINT_COOKIE = "inloghulp_heeft_test"
# The error id (diagnostics.errors) when another browser tries to change a test.
NOT_THIS_BROWSER = "not-this-browser"
# The most recent tests a browser keeps; a sixth pushes out the oldest.
MAX_TESTS = 5
MAX_AGE_SECONDS = 24 * 3600
_MAC_BYTES = 16


def _mac(settings: Settings, ref: str, purpose: str = "test-owner") -> str:
    digest = hmac.new(settings.session_secret.encode("utf-8"), f"{purpose}:{ref}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:_MAC_BYTES]).decode("ascii").rstrip("=")


def _signed_ref(settings: Settings, item: str, purpose: str) -> str | None:
    """The reference in ``REF.MAC`` when the MAC is ours for ``purpose``, else None."""
    ref, _, mac = item.partition(".")
    normal = reference.normalise(ref)
    # As bytes: compare_digest refuses str with non-ASCII characters, and a cookie or form can hold anything.
    given = mac.encode("utf-8", errors="replace")
    if normal is None or normal != ref:
        return None
    return ref if hmac.compare_digest(given, _mac(settings, ref, purpose).encode("ascii")) else None


def owned(request: Request, settings: Settings) -> list[str]:
    """The references this browser started (oldest first), each checked against its MAC."""
    found: list[str] = []
    for item in (request.cookies.get(COOKIE) or "").split("~")[-MAX_TESTS:]:
        ref = _signed_ref(settings, item, "test-owner")
        if ref is not None:
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
    for name, value, httponly in (
        (COOKIE, "~".join(f"{r}.{_mac(settings, r)}" for r in refs), True),
        (HINT_COOKIE, "1", False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=MAX_AGE_SECONDS,
            path="/",
            httponly=httponly,
            # See the module docstring: a broker's cross-site POST back only carries a SameSite=None cookie.
            samesite="none" if secure else "lax",
            secure=secure,
        )


# ── the code before the broker ──


@dataclass(frozen=True)
class Offer:
    """A reference code shown on the chooser before the test exists, and the form value that claims it."""

    reference: str
    token: str


def offer(settings: Settings) -> Offer:
    """A fresh code for the chooser. Signed, so a start only takes a code this service offered; nothing is stored
    until the user presses "Verder" (a GET page does not write)."""
    ref = reference.new_reference()
    return Offer(ref, f"{ref}.{_mac(settings, ref, 'offered-code')}")


def offered(settings: Settings, token: str | None) -> str | None:
    """The code in a form's ``token`` when this service offered it; None for anything else (a fresh code then)."""
    return _signed_ref(settings, token, "offered-code") if token else None


# ── this browser's open test ──


@dataclass(frozen=True)
class OpenTest:
    """This browser's latest test while it is open: the banner's words and where the user answers."""

    reference: str
    # "20:19", or "gisteren 20:19" for a test from the day before (Dutch local time).
    time: str
    link_text: str = "Vertel ons wat u zag"

    @property
    def text(self) -> str:
        return f"Uw inlogtest van {self.time} is niet afgerond."

    @property
    def page(self) -> str:
        """The test's own page (where the question is asked)."""
        return roundtrip.relay_state_for(self.reference)

    @property
    def url(self) -> str:
        return f"{self.page}#vraag"


def is_open(settings: Settings, session: DiagSession, now: datetime) -> bool:
    """Still waiting for the broker, or never answered, and nobody told us what they saw; not older than a day.

    A test that came back (finished, or claimed and being checked) shows its own result and asks there when it
    must. After a day the cookie would be gone too (:data:`MAX_AGE_SECONDS`): no banner about last week's test.
    """
    if now - _aware(session.created_at) > timedelta(seconds=MAX_AGE_SECONDS):
        return False
    seen = housekeeping.as_seen(settings, session, now)
    return seen.state != "finished" and roundtrip.question_open(seen)


def open_test(settings: Settings, store: Store, refs: list[str], now: datetime | None = None) -> OpenTest | None:
    """The open test among ``refs`` (this browser's, from :func:`owned`): the latest one, when it is open.

    Reads the store: call it through ``Store.run`` in async code.
    """
    if not refs:
        return None
    now = now or datetime.now(UTC)
    session = store.get_session(refs[-1])
    if session is None or not is_open(settings, session, now):
        return None
    return OpenTest(session.reference, _clock(session.created_at, now))


def _aware(moment: datetime) -> datetime:
    # The store keeps UTC, naive on SQLite.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _clock(moment: datetime, now: datetime) -> str:
    local = _aware(moment).astimezone(localtime.AMSTERDAM)
    today = _aware(now).astimezone(localtime.AMSTERDAM).date()
    return local.strftime("%H:%M") if local.date() == today else f"gisteren {local.strftime('%H:%M')}"
