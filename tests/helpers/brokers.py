"""A broker network in process: the embedded simulator's documents served through an httpx transport."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.settings import Settings
from diagnostics.simulator.metadata import ad_list, broker_metadata

Handler = Callable[[httpx.Request], httpx.Response]
AsyncHandler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def simulator_handler(settings: Settings, *, metadata: bytes | None = None) -> Handler:
    """Answers like the embedded simulator's metadata and AD list (``metadata`` replaces the former)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/simulator/metadata":
            return httpx.Response(200, content=metadata if metadata is not None else broker_metadata(settings))
        if request.url.path == "/simulator/listAD.xml":
            return httpx.Response(200, content=ad_list(settings))
        return httpx.Response(404)

    return handler


def client_for(settings: Settings, handler: Handler | AsyncHandler) -> TestClient:
    """A client for an app whose broker calls all go to ``handler``; use it as a context manager."""
    app = create_app(settings, broker_transport=httpx.MockTransport(handler))
    return TestClient(app, base_url=settings.public_base_url, follow_redirects=False)
