"""Request dependencies shared by the routers (``Annotated`` aliases over the composition root).

Every long-lived resource is built once in the app's lifespan (``diagnostics.resources``); a route
names what it needs, e.g. ``store: StoreDep``, and never builds or caches a resource itself. They are
``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread pool, for every request
of every route; these only read an attribute.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from diagnostics.brokers import BrokerRegistry
from diagnostics.certs import KeyFiles
from diagnostics.resources import Resources, resources_in
from diagnostics.settings import Settings
from diagnostics.store import Store


async def get_resources(request: Request) -> Resources:
    return resources_in(request.scope)


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


async def get_store(resources: ResourcesDep) -> Store:
    return resources.store


async def get_registry(resources: ResourcesDep) -> BrokerRegistry:
    """The app's one broker registry: the round trip, readiness, status, metrics and the certificate
    report all use it, so they see the same metadata."""
    return resources.registry


async def get_sp_keys(resources: ResourcesDep) -> KeyFiles:
    return resources.sp_keys


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RegistryDep = Annotated[BrokerRegistry, Depends(get_registry)]
SpKeysDep = Annotated[KeyFiles, Depends(get_sp_keys)]
