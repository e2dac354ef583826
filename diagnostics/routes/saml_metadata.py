"""Our SP metadata for the herkenningsmakelaar."""

from __future__ import annotations

from fastapi import APIRouter, Response

from diagnostics.deps import SettingsDep
from diagnostics.saml.metadata import MEDIA_TYPE, sp_metadata

router = APIRouter(prefix="/saml", tags=["saml"])


@router.get(
    "/metadata",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "SAML EntityDescriptor van de dienstverlener."}},
)
def read_metadata(settings: SettingsDep) -> Response:
    """The SP EntityDescriptor, generated from the configuration and signed with the SP key."""
    return Response(sp_metadata(settings), media_type=MEDIA_TYPE)
