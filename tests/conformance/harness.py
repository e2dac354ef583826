"""Run one conformance case through the checker and judge the outcome."""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics import checks, xmlsafe
from diagnostics.saml import inputs
from diagnostics.verdict import Verdict
from tests.conformance.cases import Case
from tests.conformance.world import World


@dataclass(frozen=True)
class Outcome:
    case: Case
    verdict: str
    diagnosis: str | None
    passed: bool
    note: str = ""

    @property
    def accepted(self) -> bool:
        """A hostile message the checker let through: the one result that must never happen."""
        return self.verdict == "ok" and self.case.expected != "ok"


def _trace_text(verdict: Verdict) -> str:
    return "\n".join(
        [check.detail for check in verdict.checks]
        + [value for check in verdict.checks for value in check.data.values()]
    )


def check_message(case: Case, world: World) -> Verdict | str:
    """The checker's verdict, or the diagnosis id of the decoding step that refused the input."""
    message = case.mutate(world)
    context = world.context(**case.context)
    if case.stage == "redirect":
        # The HTTP-Redirect binding: base64, then raw DEFLATE, then the same checker.
        try:
            compressed = xmlsafe.b64decode(message, max_bytes=context.max_bytes)
            message = xmlsafe.inflate(compressed, max_bytes=context.max_bytes)
        except xmlsafe.UnsafeXmlError as exc:
            return exc.diagnosis
    elif case.stage == "paste":
        # What the servicedesk pastes or ``inloghulp explain`` reads: find the message, then the same checker.
        try:
            message = inputs.extract(message, max_bytes=context.max_bytes).message
        except inputs.InputError as exc:
            return exc.diagnosis
    verdict = checks.run(message, context)
    if case.twice:
        verdict = checks.run(message, context)
    return verdict


def run_case(case: Case, world: World) -> Outcome:
    try:
        result = check_message(case, world)
    except Exception as exc:  # a crash is a failed case, never a pass
        return Outcome(case, "crash", None, False, f"{type(exc).__name__}: {exc}"[:200])
    if isinstance(result, str):
        return Outcome(case, "failed", result, result == case.expected, "refused while decoding")
    diagnosis = result.diagnosis.id if result.diagnosis else None
    if case.expected == "ok":
        passed = result.verdict == "ok" and diagnosis is None
    else:
        passed = result.verdict == "failed" and diagnosis == case.expected
    note = ""
    trace = _trace_text(result)
    leaked = [value for value in world.identifiers() if value in trace]
    if leaked:
        passed = False
        note = "unmasked identifier in the trace"
    elif case.masked is not None:
        if case.masked not in trace:
            passed = False
            note = f"masked value {case.masked} not in the trace"
    if not passed and not note:
        failing = next((check for check in result.checks if check.status == "fail"), None)
        note = f"{failing.id}: {failing.detail}"[:200] if failing else ""
    return Outcome(case, result.verdict, diagnosis, passed, note)
