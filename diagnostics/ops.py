"""Operations wiring for the app: JSON logging, and the worker id header used by the multi-worker test.

``X-Worker: <pid>`` is only sent when ``INLOGHULP_WORKER_HEADER=1``: it shows which worker answered,
which a test needs and a production response should not reveal.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diagnostics.logs import configure_logging

WORKER_HEADER_ENV = "INLOGHULP_WORKER_HEADER"


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
    """JSON logs for this worker; the worker header when the environment asks for it."""
    configure_logging(os.environ.get("INLOGHULP_LOG_LEVEL", "INFO"))
    if os.environ.get(WORKER_HEADER_ENV) == "1":
        app.add_middleware(WorkerHeaderMiddleware)
