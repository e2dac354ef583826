"""The verdict contract shared by the round trip, ``inloghulp explain``, the API and the servicedesk."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

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
