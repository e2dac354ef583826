"""The round trip as people read it: the timeline of hops, the names of checks, brokers and suppliers.

The notice about an earlier test that is still open is the banner (``diagnostics.ownership``).

The flow itself (start, artifact, checks, a session's verdict) is ``diagnostics.roundtrip``; this module only
words what it found, for the result page, the beheerder mail and the servicedesk console (ARCHITECTURE.md,
"Flows", 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from diagnostics import checks
from diagnostics.brokers import BrokerError, BrokerRegistry
from diagnostics.settings import Settings
from diagnostics.store import DiagSession
from diagnostics.verdict import CheckResult, Verdict

# Diagnoses that happen at the user's supplier (the authenticatiedienst), not in our checks.
SUPPLIER_DIAGNOSES = frozenset(
    {"cancelled", "auth-failed", "stopped-at-broker", "unknown-principal", "no-authorisation", "no-response"}
)

# The round trip's own steps in the check trace, beside the checker's: the names people read for them.
HOP_TITLES: dict[str, str] = {
    "broker-metadata": "Gegevens van de herkenningsmakelaar",
    "artifact": "Terug van de eHerkenningsmakelaar",
    "artifact-resolve": "Inlogantwoord ophalen",
    "response": "Antwoord van de eHerkenningsmakelaar",
    "user-answer": "Wat de gebruiker zag",
}

StepStatus = Literal["pass", "fail", "skip", "wait"]


@dataclass(frozen=True)
class Step:
    """One hop of the round trip, for the timeline on the result page."""

    title: str
    status: StepStatus
    detail: str


# ── names ──


def check_title(check_id: str) -> str:
    """The Dutch name of a check in a verdict's trace (the checker's and the round trip's own)."""
    return HOP_TITLES.get(check_id) or checks.CHECK_TITLES.get(check_id, check_id)


def broker_name(settings: Settings, broker_id: str) -> str:
    """The herkenningsmakelaar's configured name (result page and servicedesk console alike); its id when
    it is no longer configured."""
    try:
        return settings.broker(broker_id).name
    except KeyError:
        return broker_id


async def supplier_name(registry: BrokerRegistry, broker_id: str, entity_id: str | None) -> str | None:
    """The eHerkenningsmakelaar's name from the broker's AD list (result page and servicedesk console alike);
    its entity id when the list has no answer, None when no eHerkenningsmakelaar was chosen."""
    if entity_id is None:
        return None
    try:
        suppliers = await registry.suppliers(broker_id)
    except (BrokerError, KeyError):
        return entity_id
    return next((s.display_name for s in suppliers if s.entity_id == entity_id), entity_id)


# ── the timeline ──


def _check(verdict: Verdict, check_id: str) -> CheckResult | None:
    return next((check for check in verdict.checks if check.id == check_id), None)


def timeline(session: DiagSession, verdict: Verdict, *, broker_name: str, supplier_name: str | None) -> list[Step]:
    """The round trip as hops in plain Dutch for the medewerker, each with a status that reads without colour.

    No URNs, URLs or protocol words here: the servicedesk reads those in the check trace (the verdict's checks).
    The broker is named by its name only, never as "herkenningsmakelaar": users know their supplier by
    that word ("eHerkenningsmakelaar") and the two are easily confused.
    """
    supplier = "Inloggen bij uw eHerkenningsmakelaar" + (f" ({supplier_name})" if supplier_name else "")
    back, fetch, checked = "Terug naar de test", f"Inloggegevens ophalen bij {broker_name}", "Controle van de inlog"
    steps = [
        Step("Test gestart", "pass", "De test heeft een beveiligd inlogverzoek voor u gemaakt."),
        Step(
            f"Doorgestuurd via {broker_name}",
            "pass",
            f"{broker_name} verbindt het Bronhouderportaal met eHerkenning. "
            f"{broker_name} stuurde u door naar uw eHerkenningsmakelaar.",
        ),
    ]
    diagnosis = verdict.diagnosis.id if verdict.diagnosis else None
    if session.state == "started":
        steps += [
            Step(supplier, "wait", "Wij wachten tot u terugkomt van het inloggen."),
            Step(back, "wait", "U bent nog niet terug."),
            Step(fetch, "wait", "Nog niet gedaan."),
            Step(checked, "wait", "Nog niet gedaan."),
        ]
        return steps
    if session.state in ("no-response", "answered"):
        steps += [
            Step(supplier, "fail", "Uw eHerkenningsmakelaar stuurde u niet terug naar de test."),
            Step(back, "fail", "U kwam niet terug. Wij weten daarom niet wat er gebeurde."),
            Step(fetch, "skip", "Niet gedaan: u kwam niet terug."),
            Step(checked, "skip", "Niet gedaan: er was niets om te controleren."),
        ]
        return steps
    artifact_check = _check(verdict, "artifact")
    resolve_check = _check(verdict, "artifact-resolve")
    at_supplier = diagnosis in SUPPLIER_DIAGNOSES
    title = verdict.diagnosis.title if verdict.diagnosis else "Een controle is niet goed gegaan"
    steps.append(
        Step(supplier, "fail", f"{title}.")
        if at_supplier
        else Step(supplier, "pass", "U bent ingelogd en teruggestuurd.")
    )
    if artifact_check is None:
        steps.append(Step(back, "skip", "Niet gedaan."))
    elif artifact_check.status == "fail":
        steps.append(Step(back, "fail", f"U kwam terug, maar niet met een geldig bewijs van {broker_name}. {title}."))
    elif at_supplier:
        # The broker sent the user back with a refusal (e.g. cancelled): an answer, not proof of a login.
        steps.append(Step(back, "pass", f"U kwam terug met een antwoord van {broker_name}."))
    else:
        steps.append(Step(back, "pass", f"U kwam terug met een bewijs van {broker_name} dat u hebt ingelogd."))
    if resolve_check is not None and resolve_check.status == "pass":
        fetched = "het antwoord over uw inlog" if at_supplier else "uw inloggegevens"
        steps.append(Step(fetch, "pass", f"De test heeft {fetched} veilig opgehaald bij {broker_name}."))
    elif resolve_check is not None and resolve_check.status == "fail":
        steps.append(Step(fetch, "fail", f"Het ophalen van uw inloggegevens bij {broker_name} lukte niet. {title}."))
    else:
        steps.append(Step(fetch, "skip", "Niet gedaan."))
    if resolve_check is None or resolve_check.status != "pass":
        steps.append(Step(checked, "skip", "Niet gedaan: er waren geen inloggegevens om te controleren."))
    elif verdict.verdict == "ok":
        steps.append(Step(checked, "pass", "Alle controles zijn goed gegaan."))
    elif at_supplier:
        steps.append(Step(checked, "skip", "Niet gedaan: u bent niet ingelogd."))
    else:
        steps.append(Step(checked, "fail", f"{title}."))
    return steps
