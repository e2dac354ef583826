"""The checker: one SAML answer from the broker in, one verdict with an ordered check trace out.

The round trip, ``inloghulp explain`` and the servicedesk paste box all call :func:`run`. Each check
says pass, fail, warn or skip in plain Dutch, with measured values in ``data``. The first failing check
decides the diagnosis; the checks after it still run, so the trace shows everything that is wrong.
Only the top-level assertion whose own signature was verified is ever read (no signature wrapping),
and anything not proven valid is not ``ok``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from diagnostics.checks import conditions, content, message, trust
from diagnostics.checks.context import CheckContext, RememberAssertion, context_from_settings
from diagnostics.checks.state import Run, Stop, make_result, parse_instant
from diagnostics.saml_names import ACTING_SUBJECT, DS, LEGAL_SUBJECT, SAML, SAMLP, SERVICE_ID, SERVICE_UUID, STATUS
from diagnostics.verdict import CheckResult, Diagnosis, Verdict

__all__ = [
    "ACTING_SUBJECT",
    "CHECK_TITLES",
    "DS",
    "LEGAL_SUBJECT",
    "SAML",
    "SAMLP",
    "SERVICE_ID",
    "SERVICE_UUID",
    "STATUS",
    "CheckContext",
    "CheckResult",
    "RememberAssertion",
    "Verdict",
    "context_from_settings",
    "parse_instant",
    "run",
    "verdict_from",
]

Check = Callable[[Run], CheckResult]

# The checks in the order they run, with their short Dutch names (for reports and the result page).
STEPS: tuple[tuple[str, str, Check], ...] = (
    ("input", "Invoer leesbaar en veilig", message.check_input),
    ("structure", "Opbouw van het bericht", message.check_structure),
    ("artifact-status", "Status van de ArtifactResponse", message.check_artifact_status),
    ("status", "Status van de makelaar", message.check_status),
    ("issuer", "Afzender", trust.check_issuer),
    ("signature", "Handtekening", trust.check_signature),
    ("wrapping", "Ondertekende assertion gebruikt", trust.check_wrapping),
    ("destination", "Bestemming", conditions.check_destination),
    ("audience", "Bedoeld voor onze dienst", conditions.check_audience),
    ("in-response-to", "Antwoord op ons verzoek", conditions.check_in_response_to),
    ("time", "Tijd en geldigheid", conditions.check_time),
    ("loa", "Betrouwbaarheidsniveau", content.check_loa),
    ("service", "Dienst (ServiceID)", content.check_service),
    ("identifiers", "Identificaties", content.check_identifiers),
    ("replay", "Niet eerder gebruikt", content.check_replay),
)
CHECK_TITLES: dict[str, str] = {check_id: title for check_id, title, _ in STEPS}
# Without readable input or a SAML shape there is nothing for the later checks to look at.
_BLOCKING = ("input", "structure")


def results(checking: Run) -> list[CheckResult]:
    """The ordered trace: every check once; after a blocking failure the rest are skipped."""
    trace: list[CheckResult] = []
    blocked = False
    for check_id, _, check in STEPS:
        if blocked:
            trace.append(make_result(check_id, "skip", "Overgeslagen: het bericht is niet bruikbaar."))
            continue
        try:
            result = check(checking)
        except Stop as stop:
            result = stop.result
        trace.append(result)
        blocked = result.id in _BLOCKING and result.status == "fail"
    return trace


def _diagnosis(diagnosis_id: str) -> Diagnosis:
    from diagnostics.catalogue import load_catalogue

    return load_catalogue().diagnosis(diagnosis_id)


def verdict_from(results: list[CheckResult], missing_config: Sequence[str] = ()) -> Verdict:
    """The verdict for a check trace: the first failing check decides; missing configuration is inconclusive."""
    failed = next((result for result in results if result.status == "fail"), None)
    if failed is not None:
        return Verdict(verdict="failed", diagnosis=_diagnosis(failed.diagnosis or "malformed"), checks=results)
    if missing_config:
        return Verdict(verdict="inconclusive", diagnosis=None, checks=results)
    return Verdict(verdict="ok", diagnosis=None, checks=results)


def run(message: bytes, context: CheckContext) -> Verdict:
    """Check one broker answer (ArtifactResponse, Response, or either in a SOAP envelope)."""
    checking = Run(message, context, (context.now or datetime.now(UTC)).astimezone(UTC))
    return verdict_from(results(checking), checking.state.missing_config)
