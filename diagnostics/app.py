"""FastAPI app factory: the service routes, the simulator, and the built help site at ``/``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from diagnostics import __version__, housekeeping, middleware, page_frame, request_log, retention
from diagnostics.readiness import DatabaseProbe
from diagnostics.resources import open_resources
from diagnostics.routes import beheer, certificates, email_check, health, roundtrip, saml_metadata, service_info, status
from diagnostics.routes import feedback as feedback_routes
from diagnostics.routes import open_test as open_test_routes
from diagnostics.servicedesk import router as servicedesk
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.router import router as simulator_router
from diagnostics.site_mount import site_mount

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _lifespan(
    settings: Settings, broker_transport: httpx.AsyncBaseTransport | None
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The composition root's life: resources open at start, the retention purge and the expiry of unanswered
    tests run on a schedule, all close at the end."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings, broker_transport=broker_transport) as resources:
            app.state.resources = resources
            # The mounted simulator's host (diagnostics.simulator.host): the same settings, store and policy.
            app.state.simulator = resources
            # /readyz's write probe, on its own thread (diagnostics.readiness).
            app.state.database_probe = DatabaseProbe(resources.store)
            await retention.purge_safely(resources.store, settings.retention_days)
            tasks = [
                asyncio.create_task(retention.purge_periodically(resources.store, settings.retention_days)),
                # Out of the request path: GET pages never write (diagnostics.housekeeping).
                asyncio.create_task(housekeeping.expire_periodically(settings, resources.store)),
            ]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                app.state.database_probe.close()
                del app.state.resources, app.state.simulator, app.state.database_probe

    return lifespan


def create_app(
    settings: Settings | None = None, *, broker_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the app for ``settings`` (default: the configuration file).

    Resources (store, broker registry, keys, HTTP clients) are built when the app starts, not here:
    see ``diagnostics.resources``. ``broker_transport`` replaces the network for broker calls (tests).
    """
    settings = settings or load_settings()
    app = FastAPI(
        title=page_frame.SITE_NAME,
        version=__version__,
        description="Inloghulp en inlogdiagnose voor het Bronhouderportaal.",
        generate_unique_id_function=_operation_id,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; nothing may come from the
        # internet, so only the OpenAPI document itself is served.
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(settings, broker_transport),
    )
    app.state.settings = settings
    request_log.install(app)
    open_test_routes.install(app)
    middleware.install(app, settings)
    # Routes are matched in this order, one router after another: the round trip's own (six requests per
    # test, the simulator's included) first. No two routes share a path and method, so the order decides
    # only how long the search takes (tests/test_app.py keeps that so).
    app.include_router(roundtrip.router)
    if settings.simulator.enabled:
        app.include_router(simulator_router)
    app.include_router(health.router)
    app.include_router(saml_metadata.router)
    app.include_router(service_info.router)
    app.include_router(certificates.router)
    app.include_router(beheer.router)
    app.include_router(status.router)
    app.include_router(email_check.router)
    app.include_router(feedback_routes.router)
    app.include_router(servicedesk.router)
    servicedesk.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # The help site comes last so that every service route wins over a file of the same name.
    if settings.site_dir.is_dir():
        app.router.routes.append(site_mount(settings.site_dir, app.router.routes))
    else:
        log.warning("site directory %s not found; run `inloghulp build` first", settings.site_dir)
    return app
