"""What the simulator takes from the app that mounts it: its own small interface.

The simulator stands for another party's site and is independent of the service (ARCHITECTURE.md,
"Layers"): its routes do not use the service's dependencies or composition root. The app that mounts the
router puts a :class:`SimulatorHost` on ``app.state.simulator`` in its lifespan: the service's
``Resources`` is one, and so is the simulator's own app's. The routes read it through the dependencies
below.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Protocol

from fastapi import Depends, Request
from starlette.types import Scope

from diagnostics.settings import Settings
from diagnostics.store import Store


class SimulatorHost(Protocol):
    """The settings, the database (pending artifacts, used logins) and the page policy."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    def form_policy(self, form_action_urls: Iterable[str]) -> str:
        """The Content-Security-Policy for a page whose form ends at ``form_action_urls``."""
        ...


def host_in(scope: Scope) -> SimulatorHost:
    host: SimulatorHost | None = getattr(scope["app"].state, "simulator", None)
    if host is None:
        # A programming error, not a user error: the router mounted without a host, or used without the lifespan.
        raise RuntimeError("the simulator has no host; start the app that mounts it (with TestClient(app) ...)")
    return host


async def get_host(request: Request) -> SimulatorHost:
    return host_in(request.scope)


async def get_settings(host: Annotated[SimulatorHost, Depends(get_host)]) -> Settings:
    return host.settings


async def get_store(host: Annotated[SimulatorHost, Depends(get_host)]) -> Store:
    return host.store


HostDep = Annotated[SimulatorHost, Depends(get_host)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
