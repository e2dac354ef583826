"""The values the eHerkenningsbeheerder needs, for the card widget and other clients."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from diagnostics import page_frame
from diagnostics.deps import SettingsDep
from diagnostics.service_info import ServiceInfo, service_info

router = APIRouter(tags=["service-info"])
TEMPLATES = page_frame.TEMPLATES


@router.get("/api/v1/service-info", response_model=ServiceInfo)
def read_service_info(settings: SettingsDep) -> ServiceInfo:
    """Provider, service, ServiceUUID, ServiceID, required level and brokers, from the configuration."""
    return service_info(settings)


@router.get("/beheerder-kaart", response_class=HTMLResponse)
def read_card_print_view(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The beheerder card on its own page, for printing (one page, no navigation)."""
    return TEMPLATES.TemplateResponse(request, "beheerder_kaart.html", {"info": service_info(settings)})
