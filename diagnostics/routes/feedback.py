""" "Was deze pagina nuttig?": the help pages' feedback widget posts here; counts show in the console."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, field_validator

from diagnostics.deps import StoreDep
from diagnostics.servicedesk import records

router = APIRouter(prefix="/api/v1", tags=["feedback"])

# A help-site path: lower-case words, slashes and dots; no query, no fragment, no host.
_PAGE = re.compile(r"^/([a-z0-9._-]+/)*([a-z0-9._-]+)?$")


class FeedbackIn(BaseModel):
    page: Annotated[str, Field(min_length=1, max_length=255)]
    # Material's default ratings: 1 = nuttig, 0 = niet nuttig.
    rating: Literal[0, 1]

    @field_validator("page")
    @classmethod
    def _page(cls, value: str) -> str:
        if not _PAGE.fullmatch(value) or "/../" in f"{value}/" or "/./" in f"{value}/":
            raise ValueError("page must be a path on this site")
        return value


class FeedbackStored(BaseModel):
    page: str
    rating: int


@router.post("/feedback", response_model=FeedbackStored, status_code=201)
async def create_feedback(body: FeedbackIn, store: StoreDep) -> FeedbackStored:
    """Count one answer to "Was deze pagina nuttig?" for a help page (nothing about the reader is kept)."""
    if body.page.startswith(("/api/", "/servicedesk", "/simulator", "/saml")):
        raise HTTPException(status_code=422, detail="not-a-help-page")
    await to_thread.run_sync(records.add_feedback, store.engine, body.page, body.rating)
    return FeedbackStored(page=body.page, rating=body.rating)
