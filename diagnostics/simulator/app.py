"""The simulator on its own: ``inloghulp simulator`` or ``uvicorn --factory diagnostics.simulator.app:create_app``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from diagnostics.resources import open_resources
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.router import router


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app with only the simulator (and /healthz), for a broker on its own port."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The same composition root as the full service: the store keeps the pending artifacts.
        async with open_resources(settings) as resources:
            app.state.resources = resources
            yield
            del app.state.resources

    app = FastAPI(title="Simulator eHerkenning (geen echte eHerkenning)", lifespan=lifespan)
    app.state.settings = settings
    app.include_router(router)

    # Its own liveness probe: the simulator stands for another party's site and uses none of the service's routes.
    @app.get("/healthz", include_in_schema=False)
    async def read_health() -> dict[str, str]:
        return {"status": "ok"}

    return app
