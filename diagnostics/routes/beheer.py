"""Pages for the operator (beheer): the certificate status in words, beside the JSON for monitoring."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from diagnostics.cert_page import BADGES, PAGE_PATH, SUMMARIES, SUMMARY_WORDS, owner_groups
from diagnostics.cert_status import certificate_report
from diagnostics.deps import RegistryDep, SettingsDep
from diagnostics.page_frame import TEMPLATES

# Open like /api/v1/certificates: the same facts, all public in the metadata we and the brokers publish.
router = APIRouter(prefix="/beheer", tags=["beheer"])


@router.get(PAGE_PATH.removeprefix("/beheer"), response_class=HTMLResponse)
async def read_certificates_page(request: Request, settings: SettingsDep, registry: RegistryDep) -> HTMLResponse:
    """Our current and next certificate and each broker's signing certificates, with who must act."""
    report = await certificate_report(settings, registry)
    context = {
        "report": report,
        "summary": SUMMARIES[report.status],
        "summary_word": SUMMARY_WORDS[report.status],
        "summary_badge": BADGES[report.status],
        "groups": owner_groups(report.certificates),
        "example_values": settings.service.example_values,
    }
    return TEMPLATES.TemplateResponse(request, "beheer/certificaten.html", context)
