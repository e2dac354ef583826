"""The business-address check for the wizard: never stores or logs the address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from diagnostics import email_check

router = APIRouter(prefix="/api/v1", tags=["email-check"])


class EmailCheckRequest(BaseModel):
    # The limit keeps absurd input out of the parser; check() explains anything too long itself.
    address: Annotated[str, Field(max_length=email_check.MAX_INPUT + 1)]


@router.post("/email-check", response_model=email_check.EmailCheck)
def check_email(body: EmailCheckRequest) -> email_check.EmailCheck:
    """Tell whether an address can be a work e-mail address (the answer shows it masked only)."""
    return email_check.check(body.address)
