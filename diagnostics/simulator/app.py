"""The simulator on its own: ``inloghulp simulator`` or ``uvicorn --factory diagnostics.simulator.app:create_app``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from anyio import to_thread
from fastapi import FastAPI

from diagnostics.csp import content_security_policy
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.router import router
from diagnostics.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StandaloneHost:
    """The simulator's host (``diagnostics.simulator.host``) when it runs alone: settings and a store only.

    Not the service's composition root: that one builds brokers, keys and the outage watch, none of which a
    broker's site needs, and it imports the simulator (to hand the embedded broker to the registry).
    """

    settings: Settings
    # The pending artifacts and used logins.
    store: Store

    def form_policy(self, form_action_urls: Iterable[str]) -> str:
        return content_security_policy(self.settings, form_action_urls=form_action_urls)


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app with only the simulator (and /healthz), for a broker on its own port."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url, migrate=False)
        try:
            # As the service does: a database that is down does not stop the start; the schema follows later.
            await to_thread.run_sync(store.migrate)
        except Exception as exc:  # any driver error
            log.error("database not available at start (%s); the schema follows when it answers", type(exc).__name__)
        app.state.simulator = StandaloneHost(settings, store)
        try:
            yield
        finally:
            del app.state.simulator
            await store.aclose()

    app = FastAPI(title="Simulator eHerkenning (geen echte eHerkenning)", lifespan=lifespan)
    app.state.settings = settings
    app.include_router(router)

    # Its own liveness probe: the simulator stands for another party's site and uses none of the service's routes.
    @app.get("/healthz", include_in_schema=False)
    async def read_health() -> dict[str, str]:
        return {"status": "ok"}

    return app
