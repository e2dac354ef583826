"""The console's two checks as dependencies: a logged-in user (``ConsoleUser``) and a valid CSRF token
(``CsrfChecked``). A route names them in its signature instead of repeating the checks in its body.

A failed check raises; the handlers that ``diagnostics.servicedesk.router.install`` registers turn that
into the console's own answer: a redirect to the login form, or the "form expired" page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from diagnostics.deps import ResourcesDep, SettingsDep
from diagnostics.resources import Resources
from diagnostics.servicedesk import sessions
from diagnostics.servicedesk.web_session import csrf_valid, session_claims


class LoginRequired(Exception):
    """The request has no open console session; the user logs in and comes back to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class FormExpired(Exception):
    """A console form came without a valid CSRF token (expired, or not from our page)."""


def logged_in_user(request: Request, resources: Resources) -> str | None:
    """The logged-in console user: a valid signed cookie naming a session that is still open.

    Blocking (a database query): call it from a worker thread.
    """
    claims = session_claims(request, resources.settings)
    if claims is None:
        return None
    name, nonce = claims
    return name if sessions.is_open(resources.store.engine, name, nonce) else None


def console_user(request: Request, resources: ResourcesDep) -> str:
    # A plain ``def``: FastAPI runs it in the thread pool, so its query never blocks the event loop.
    name = logged_in_user(request, resources)
    if name is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return name


def csrf_checked(
    request: Request, settings: SettingsDep, csrf_token: Annotated[str, Form(max_length=500)] = ""
) -> None:
    if not csrf_valid(request, settings, csrf_token):
        raise FormExpired()


ConsoleUser = Annotated[str, Depends(console_user)]
CsrfChecked = Annotated[None, Depends(csrf_checked)]
