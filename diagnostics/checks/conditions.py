"""Checks 8-11: meant for us, in answer to our request, and valid at this moment."""

from __future__ import annotations

from datetime import timedelta

from diagnostics.checks.state import (
    NO_ASSERTION,
    NO_RESPONSE,
    SAML_TAG,
    Run,
    make_result,
    parse_instant,
    show_time,
)
from diagnostics.verdict import CheckResult
from diagnostics.xmltree import children, text_of


def check_destination(run: Run) -> CheckResult:
    """8. Destination and Recipient are our ACS address."""
    response = run.state.response
    if response is None:
        return make_result("destination", "skip", NO_RESPONSE)
    expected = run.context.acs_url
    destination = response.get("Destination")
    data = {"expected": expected, "destination": destination or ""}
    problems = []
    if destination is None:
        if run.state.success:
            problems.append("De Response noemt geen Destination.")
    elif destination != expected:
        problems.append(f"De Response is bestemd voor {destination}.")
    if run.state.assertion is not None:
        bearer = run.state.bearer
        recipient = bearer.get("Recipient") if bearer is not None else None
        data["recipient"] = recipient or ""
        if recipient != expected:
            problems.append(f"De assertion is bestemd voor {recipient or 'niemand (Recipient ontbreekt)'}.")
    if problems:
        return make_result(
            "destination", "fail", " ".join(problems) + f" Ons adres is {expected}.", "wrong-destination", data
        )
    return make_result("destination", "pass", f"Bestemd voor ons adres {expected}.", data=data)


def check_audience(run: Run) -> CheckResult:
    """9. Every AudienceRestriction names our entity ID."""
    assertion = run.state.assertion
    if assertion is None:
        return make_result("audience", "skip", NO_ASSERTION)
    expected = run.context.sp_entity_id
    restrictions = children(assertion, SAML_TAG["Conditions"], SAML_TAG["AudienceRestriction"])
    audiences = [[text_of(a) for a in children(r, SAML_TAG["Audience"])] for r in restrictions]
    data = {"expected": expected, "audience": ", ".join(a for group in audiences for a in group)}
    # Every AudienceRestriction must include us (SAML core §2.5.1.4); none at all is not enough either.
    if not audiences or any(expected not in group for group in audiences):
        found = data["audience"] or "geen"
        return make_result(
            "audience",
            "fail",
            f"De assertion is bedoeld voor {found}, niet voor onze dienst {expected}.",
            "wrong-audience",
            data,
        )
    return make_result("audience", "pass", f"De assertion is bedoeld voor onze dienst {expected}.", data=data)


def check_in_response_to(run: Run) -> CheckResult:
    """10. The answer belongs to the request we sent."""
    response = run.state.response
    if response is None:
        return make_result("in-response-to", "skip", NO_RESPONSE)
    values = {"Response": response.get("InResponseTo")}
    if run.state.assertion is not None:
        bearer = run.state.bearer
        values["SubjectConfirmationData"] = bearer.get("InResponseTo") if bearer is not None else None
    data = {k.lower(): v or "" for k, v in values.items()}
    expected = run.context.expected_request_id
    present = {v for v in values.values() if v}
    if len(present) > 1:
        return make_result(
            "in-response-to",
            "fail",
            "De Response en de assertion antwoorden op verschillende verzoeken.",
            "unsolicited",
            data,
        )
    if expected is None:
        return make_result(
            "in-response-to",
            "skip",
            f"Niet vergeleken: geen verwacht verzoek-ID opgegeven (gevonden: {next(iter(present), 'geen')}).",
            data=data,
        )
    data["expected"] = expected
    missing = [name for name, value in values.items() if not value]
    if missing:
        return make_result(
            "in-response-to",
            "fail",
            f"Het antwoord noemt geen verzoek ({', '.join(missing)} zonder InResponseTo): ongevraagd antwoord.",
            "unsolicited",
            data,
        )
    if present != {expected}:
        return make_result(
            "in-response-to",
            "fail",
            f"Het antwoord hoort bij verzoek {next(iter(present))}, niet bij ons verzoek {expected}.",
            "unsolicited",
            data,
        )
    return make_result("in-response-to", "pass", f"Het antwoord hoort bij ons verzoek {expected}.", data=data)


def check_time(run: Run) -> CheckResult:
    """11. Now (with the allowed clock skew) lies inside every validity window; the numbers are shown."""
    response = run.state.response
    if response is None:
        return make_result("time", "skip", NO_RESPONSE)
    skew = timedelta(seconds=run.context.allowed_skew_seconds)
    now = run.now
    issued = parse_instant(response.get("IssueInstant"))
    data = {
        "server_time": show_time(now),
        "response_issue_instant": show_time(issued),
        "allowed_skew_seconds": str(run.context.allowed_skew_seconds),
    }
    too_early: list[str] = []
    too_late: list[str] = []
    if issued is not None:
        data["measured_skew_seconds"] = str(int((issued - now).total_seconds()))
        if issued > now + skew:
            too_early.append(f"de Response is gemaakt op {show_time(issued)}")
    assertion = run.state.assertion
    if assertion is not None:
        conditions = run.state.conditions
        not_before = parse_instant(conditions.get("NotBefore")) if conditions is not None else None
        not_after = parse_instant(conditions.get("NotOnOrAfter")) if conditions is not None else None
        bearer = run.state.bearer
        bearer_after = parse_instant(bearer.get("NotOnOrAfter")) if bearer is not None else None
        # The Web SSO profile forbids NotBefore here; when a broker sends one anyway, it still binds.
        bearer_before = parse_instant(bearer.get("NotBefore")) if bearer is not None else None
        assertion_issued = parse_instant(assertion.get("IssueInstant"))
        data |= {
            "assertion_issue_instant": show_time(assertion_issued),
            "not_before": show_time(not_before),
            "not_on_or_after": show_time(not_after),
            "subject_confirmation_not_on_or_after": show_time(bearer_after),
        }
        if assertion_issued is not None and assertion_issued > now + skew:
            too_early.append(f"de assertion is gemaakt op {show_time(assertion_issued)}")
        if not_before is not None and now + skew < not_before:
            too_early.append(f"de assertion geldt pas vanaf {show_time(not_before)}")
        if bearer_before is not None and now + skew < bearer_before:
            too_early.append(f"de bevestiging (SubjectConfirmationData) geldt pas vanaf {show_time(bearer_before)}")
        if not_after is not None and now - skew >= not_after:
            too_late.append(f"de assertion gold tot {show_time(not_after)}")
        if bearer_after is None:
            too_late.append("de bevestiging (SubjectConfirmationData) heeft geen eindtijd")
        elif now - skew >= bearer_after:
            too_late.append(f"de bevestiging gold tot {show_time(bearer_after)}")
    clock = f"Servertijd {show_time(now)}, toegestane afwijking {run.context.allowed_skew_seconds} s"
    if too_late:
        return make_result("time", "fail", f"Te laat: {'; '.join(too_late)}. {clock}.", "expired", data)
    if too_early:
        return make_result("time", "fail", f"Te vroeg: {'; '.join(too_early)}. {clock}.", "not-yet-valid", data)
    return make_result("time", "pass", f"Binnen de geldigheid. {clock}.", data=data)
