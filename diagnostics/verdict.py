"""The verdict contract shared by the round trip, ``inloghulp explain``, the API and the servicedesk."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator

from diagnostics.privacy import mask_data, mask_text

CheckStatus = Literal["pass", "fail", "warn", "skip"]
VerdictValue = Literal["ok", "failed", "inconclusive"]
Who = Literal["medewerker", "eHerkenningsbeheerder", "gebruikersbeheerder", "makelaar", "servicedesk", "beheer"]


class CheckResult(BaseModel):
    """One named check: what was checked and what was found, in words a person can read."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: CheckStatus
    detail: str
    # The diagnosis this check points to when it fails (e.g. "expired"); None when it passes.
    diagnosis: str | None = None
    # Measured values (times, algorithms, masked identifiers) for the trace; never raw identifiers.
    data: dict[str, str] = {}

    # The one masker at the boundary: a detail or value taken from a message (a StatusMessage, an Issuer,
    # an attribute value, a SOAP fault) is masked when a result is made or loaded, and again when it is
    # written out (database, API, CLI), so no surface can show it unmasked. Masking is idempotent.
    @field_validator("detail")
    @classmethod
    def _mask_detail(cls, value: str) -> str:
        return mask_text(value)

    @field_validator("data")
    @classmethod
    def _mask_data(cls, value: dict[str, str]) -> dict[str, str]:
        return mask_data(value)

    @field_serializer("detail")
    def _dump_detail(self, value: str) -> str:
        return mask_text(value)

    @field_serializer("data")
    def _dump_data(self, value: dict[str, str]) -> dict[str, str]:
        return mask_data(value)


class Diagnosis(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    advice: str
    who: Who


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: VerdictValue
    diagnosis: Diagnosis | None
    checks: list[CheckResult]
    reference: str | None = None
