"""The values the eHerkenningsbeheerder needs, for the card widget and other clients."""

from __future__ import annotations

from fastapi import APIRouter

from diagnostics.deps import SettingsDep
from diagnostics.service_info import ServiceInfo, service_info

router = APIRouter(prefix="/api/v1", tags=["service-info"])


@router.get("/service-info", response_model=ServiceInfo)
def read_service_info(settings: SettingsDep) -> ServiceInfo:
    """Provider, service, ServiceUUID, ServiceID, required level and brokers, from the configuration."""
    return service_info(settings)
