"""Operations wiring for the app: JSON logging, one log line per request, and the worker id header.

The request line replaces uvicorn's access log: it leaves out the query string (an artifact is a
bearer token for a few minutes) and carries the diagnostics session's reference code, taken from
the path (``/diagnose/BHP-…``) or the ACS's ``RelayState``, so that every line of a session can be
found by the code the user reads to the servicedesk.

``X-Worker: <pid>`` is only sent when ``INLOGHULP_WORKER_HEADER=1``: it shows which worker answered,
which the multi-worker test needs and a production response should not reveal.
"""

from __future__ import annotations

import logging
import os
import re
import time
from urllib.parse import parse_qs, unquote

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diagnostics import reference
from diagnostics.logs import configure_logging, reference_bound

WORKER_HEADER_ENV = "INLOGHULP_WORKER_HEADER"
log = logging.getLogger("diagnostics.request")

_REFERENCE_IN_PATH = re.compile(r"/(BHP-[A-Za-z0-9]{4}-[A-Za-z0-9]{4})(?=[/?&#]|$)", re.IGNORECASE)
# Probes and scrapes come every few seconds; they are logged only when they fail.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def reference_for(path: str, query_string: bytes) -> str | None:
    """The session reference a request belongs to, from its path or its RelayState."""
    match = _REFERENCE_IN_PATH.search(path)
    if match:
        return reference.normalise(match[1])
    if query_string and b"RelayState" in query_string:
        relay = parse_qs(query_string.decode("latin-1")).get("RelayState", [""])[0]
        match = _REFERENCE_IN_PATH.search(unquote(relay))
        if match:
            return reference.normalise(match[1])
    return None


def _reference_in_location(message: Message) -> str | None:
    """A new session's reference, from the redirect to the broker (its RelayState names the result page)."""
    for name, value in message.get("headers", []):
        if name.lower() == b"location":
            location = unquote(value.decode("latin-1"))
            match = _REFERENCE_IN_PATH.search(location)
            return reference.normalise(match[1]) if match else None
    return None


class RequestLogMiddleware:
    """Binds the request's reference for every log line it causes, then logs method, path, status, time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        status = 500
        started = time.perf_counter()
        bound = reference_for(path, scope.get("query_string", b""))
        found: str | None = None

        async def send_and_record(message: Message) -> None:
            nonlocal status, found
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if bound is None and 300 <= status < 400:
                    found = _reference_in_location(message)
            await send(message)

        with reference_bound(bound):
            try:
                await self.app(scope, receive, send_and_record)
            finally:
                if path not in _QUIET_PATHS or status >= 400:
                    elapsed = (time.perf_counter() - started) * 1000
                    extra = {"reference": found} if found else {}
                    log.info("%s %s %d %.0fms", scope.get("method", "GET"), path[:200], status, elapsed, extra=extra)


class WorkerHeaderMiddleware:
    """Adds ``X-Worker`` with this process's id to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid = str(os.getpid())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_worker(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Worker"] = self.pid
            await send(message)

        await self.app(scope, receive, send_with_worker)


def install(app: FastAPI) -> None:
    """JSON logs for this worker, the request log line, and the worker header when asked for."""
    configure_logging(os.environ.get("INLOGHULP_LOG_LEVEL", "INFO"))
    # Our request line replaces uvicorn's access log (which would print the artifact in the query).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    app.add_middleware(RequestLogMiddleware)
    if os.environ.get(WORKER_HEADER_ENV) == "1":
        app.add_middleware(WorkerHeaderMiddleware)
