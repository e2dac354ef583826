"""The simulator on its own: ``inloghulp simulator`` or ``uvicorn --factory diagnostics.simulator.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from diagnostics.routes import health
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.router import router


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app with only the simulator (and /healthz), for a broker on its own port."""
    settings = settings or load_settings()
    app = FastAPI(title="Simulator eHerkenning (geen echte eHerkenning)")
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(router)
    return app
