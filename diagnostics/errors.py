"""Error responses without internals: a Dutch page for browsers, a JSON body with a stable id otherwise."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from diagnostics import page_frame
from diagnostics.allow import allowed_methods
from diagnostics.localtime import duration_words

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
    503: "unavailable",
}
CROSS_SITE_ID = "cross-site-request"
BAD_HOST_ID = "bad-host"
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
    "unavailable": "De dienst is even niet beschikbaar. Probeer het over een paar minuten opnieuw.",
    "database-unavailable": "De inloghulp kan nu niet bij zijn gegevens. Dat ligt niet aan u. "
    "Probeer het over een paar minuten opnieuw.",
    CROSS_SITE_ID: "Dit formulier komt niet van deze website. Open de pagina opnieuw en probeer het nog eens.",
    BAD_HOST_ID: "Dit adres hoort niet bij deze website. Controleer het adres in de adresbalk.",
    "not-this-browser": "Deze inlogtest is in een andere browser begonnen. Alleen in die browser kunt u hem afmaken.",
}
# The JSON API: every answer under it is JSON, errors included.
API_PREFIX = "/api/"
_PAGES: dict[int, str] = {
    404: "errors/404.html",
    413: "errors/413.html",
    429: "errors/429.html",
    503: "errors/503.html",
}
# A database that is locked, unreachable, replaced or out of connections (every wait is bounded in
# diagnostics.db): the request failed for now, not for good, so 503 with Retry-After instead of a 500.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)
DATABASE_RETRY_AFTER = "30"
# Starlette's default HTTPException detail ("Not Found"): English, and the Dutch message already says it.
_REASON_PHRASES = frozenset({"", *(status.phrase for status in HTTPStatus)})


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
        if (retry_after := _seconds((headers or {}).get("Retry-After"))) is not None:
            # How long to wait, in words, from the header the response really carries (the limiter's window).
            context["wait"] = duration_words(retry_after)
        return TEMPLATES.TemplateResponse(request, template, context, status_code=status, headers=dict(headers or {}))
    return JSONResponse(error_body(error_id, **extra), status_code=status, headers=dict(headers or {}))


def _seconds(retry_after: str | None) -> int | None:
    """A ``Retry-After`` in seconds; None for none or an HTTP date (we only send seconds)."""
    return int(retry_after) if retry_after is not None and retry_after.strip().isdigit() else None


class Reason(StarletteHTTPException):
    """An HTTP error whose ``detail`` is a Dutch sentence for the user: the error page shows it.

    Any other detail stays out of the page: Starlette's form parser explains itself in English ("Field
    exceeded maximum size of 1024KB."), and a route's ids (``not-a-help-page``) are no text for people.
    """

    def __init__(self, status_code: int, sentence: str) -> None:
        super().__init__(status_code=status_code, detail=sentence)


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
    shown = isinstance(exc, Reason) or not wants_html(request.headers, request.url.path)
    if (
        shown
        and isinstance(detail, str)
        and detail not in _REASON_PHRASES
        and detail != error_id
        and exc.status_code < 500
    ):
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


async def database_unavailable(request: Request, exc: Exception) -> Response:
    # The driver's error type only: its message can name hosts, files or SQL.
    cause = getattr(exc, "orig", None) or exc
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(cause).__name__)
    return error_response(request, 503, "database-unavailable", headers={"Retry-After": DATABASE_RETRY_AFTER})


def _internal_error_handler(headers: Mapping[str, str]) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def _internal_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DATABASE_ERRORS):
            # Raised outside the routes (in a middleware, e.g. the rate limiter): the same 503.
            response = await database_unavailable(request, exc)
            response.headers.update(headers)
            return response
        # The traceback goes to the server log only; the response names nothing internal.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        response = error_response(request, 500, "internal-error")
        # This response is made outside the middleware stack, so it carries the headers itself.
        response.headers.update(headers)
        return response

    return _internal_error


def install(app: FastAPI, headers: Mapping[str, str]) -> None:
    """Register the error handlers: Dutch pages or JSON with a stable id, never a stack trace."""
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, database_unavailable)
    app.add_exception_handler(Exception, _internal_error_handler(headers))
