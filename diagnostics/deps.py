"""Request dependencies shared by the routers (``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from diagnostics.brokers import BrokerRegistry
from diagnostics.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_registry(request: Request) -> BrokerRegistry:
    """The app's one broker registry: metadata is fetched on first use, never at startup, then cached.

    The round trip, readiness, status, metrics and the certificate report all use it, so they see the
    same metadata.
    """
    settings = get_settings(request)
    registry = getattr(request.app.state, "broker_registry", None)
    if not isinstance(registry, BrokerRegistry) or registry.settings is not settings:
        registry = request.app.state.broker_registry = BrokerRegistry(settings)
    return registry


RegistryDep = Annotated[BrokerRegistry, Depends(get_registry)]
