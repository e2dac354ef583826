"""One run of the checks: the message, its context, what earlier checks found, and shared helpers."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from diagnostics.checks.context import CheckContext
from diagnostics.saml_names import SAML, SAMLP, STATUS
from diagnostics.verdict import CheckResult, CheckStatus
from diagnostics.xmltree import Tags

SAML_TAG = Tags(SAML)
SAMLP_TAG = Tags(SAMLP)
CLASS_REF_PATH = (SAML_TAG["AuthnStatement"], SAML_TAG["AuthnContext"], SAML_TAG["AuthnContextClassRef"])
_INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


@functools.lru_cache(maxsize=256)
def parse_instant(value: str | None) -> datetime | None:
    """An xs:dateTime as SAML uses it (UTC); None when absent or not a full date and time."""
    if not value or not _INSTANT_RE.fullmatch(value.strip()):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def show_time(moment: datetime | None) -> str:
    # isoformat is several times faster than strftime; the first 19 characters are "YYYY-MM-DD HH:MM:SS".
    return moment.astimezone(UTC).isoformat(" ", "seconds")[:19] + " UTC" if moment else "ontbreekt"


def short_status(urn: str) -> str:
    return urn.removeprefix(STATUS)


class Stop(Exception):
    """A check cannot go on; carries its result."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result


@dataclass
class State:
    """What the checks found so far; later checks build on it."""

    root: etree._Element | None = None
    artifact_response: etree._Element | None = None
    response: etree._Element | None = None
    assertion: etree._Element | None = None
    encrypted_assertion: etree._Element | None = None
    # How often each ID value occurs in the whole message (and a decrypted assertion): computed once.
    ids: Counter[str] = field(default_factory=Counter)
    # Parts of the assertion read once by the structure check; the later checks use them.
    bearer: etree._Element | None = None
    conditions: etree._Element | None = None
    attributes: dict[str, list[etree._Element]] = field(default_factory=dict)  # AttributeValues by Name
    success: bool = False
    signature_verified: bool = False
    # Checks that could not run for lack of configuration make the verdict inconclusive.
    missing_config: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One message going through the checks, what it is checked against, and the moment it is judged at."""

    message: bytes
    context: CheckContext
    now: datetime
    state: State = field(default_factory=State)


# Why a check did not run, for the checks that need the same missing part.
NO_ASSERTION = "Overgeslagen: er is geen assertion."
NO_RESPONSE = "Overgeslagen: geen Response gevonden."
NO_MESSAGE = "Overgeslagen: geen bruikbaar bericht."


def make_result(
    check_id: str,
    status: CheckStatus,
    detail: str,
    diagnosis: str | None = None,
    data: dict[str, str] | None = None,
) -> CheckResult:
    return CheckResult(id=check_id, status=status, detail=detail, diagnosis=diagnosis, data=data or {})
