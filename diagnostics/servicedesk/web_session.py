"""The console's signed session cookie and CSRF tokens (itsdangerous, keyed by ``session_secret``).

Session cookie (naming a row in ``servicedesk_session``, see ``sessions``): HttpOnly, SameSite=Strict, path ``/servicedesk``, Secure whenever the public base URL
is https (over plain http on a developer's loopback a Secure cookie would never be sent back).
CSRF: a random value in its own signed cookie and, signed with another salt, in every form; a POST
is accepted only when both are present, valid, and carry the same value.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from diagnostics.settings import Settings

SESSION_COOKIE = "inloghulp_sd_session"
CSRF_COOKIE = "inloghulp_sd_csrf"
COOKIE_PATH = "/servicedesk"
SESSION_MAX_AGE = 8 * 3600
CSRF_MAX_AGE = 8 * 3600


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret, salt=f"inloghulp-servicedesk-{salt}")


def _set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.served_over_https,
    )


def session_claims(request: Request, settings: Settings) -> tuple[str, str] | None:
    """(user, session nonce) from a valid signed cookie, or None (no cookie, expired, tampered with)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(settings, "session").loads(cookie, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    name, nonce = data.get("u"), data.get("n")
    return (name, nonce) if isinstance(name, str) and isinstance(nonce, str) else None


def start_session(response: Response, settings: Settings, name: str, nonce: str) -> None:
    token = _serializer(settings, "session").dumps({"u": name, "n": nonce})
    _set_cookie(response, settings, SESSION_COOKIE, token, SESSION_MAX_AGE)
    # A fresh CSRF value after login, so a value planted before login is worthless.
    _set_cookie(
        response,
        settings,
        CSRF_COOKIE,
        _serializer(settings, "csrf-cookie").dumps(secrets.token_urlsafe(32)),
        CSRF_MAX_AGE,
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    response.delete_cookie(CSRF_COOKIE, path=COOKIE_PATH)


def _csrf_value(request: Request, settings: Settings) -> str | None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        return None
    try:
        value = _serializer(settings, "csrf-cookie").loads(cookie, max_age=CSRF_MAX_AGE)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


class Csrf:
    """The CSRF token for the forms of one page; ``apply`` sets the cookie when it was new."""

    def __init__(self, request: Request, settings: Settings) -> None:
        self.settings = settings
        value = _csrf_value(request, settings)
        self.new_cookie: str | None = None
        if value is None:
            value = secrets.token_urlsafe(32)
            self.new_cookie = _serializer(settings, "csrf-cookie").dumps(value)
        self.token = _serializer(settings, "csrf-form").dumps(value)

    def apply(self, response: Response) -> Response:
        if self.new_cookie is not None:
            _set_cookie(response, self.settings, CSRF_COOKIE, self.new_cookie, CSRF_MAX_AGE)
        return response


def csrf_valid(request: Request, settings: Settings, token: str | None) -> bool:
    """True when the form token and the cookie carry the same, correctly signed value."""
    expected = _csrf_value(request, settings)
    if expected is None or not token:
        return False
    try:
        value = _serializer(settings, "csrf-form").loads(token, max_age=CSRF_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(value, str) and hmac.compare_digest(value, expected)
