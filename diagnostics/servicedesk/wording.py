"""The console's words for one inlogtest: who acts (said about the melder, not to them) and the scenario.

The catalogue speaks to the medewerker ("uw eHerkenningsbeheerder"); a servicedesk employee reads about
someone else's organisation, so the console names each role in the third person.
"""

from __future__ import annotations

from diagnostics.catalogue import Entry
from diagnostics.settings import Settings
from diagnostics.simulator.scenarios import find_scenario
from diagnostics.verdict import Who

# The scenario the console stores for a pasted message it saved (no broker was asked).
PASTED = "geplakt"
WHO_IN_CONSOLE: dict[Who, str] = {
    "medewerker": "de melder zelf",
    "eHerkenningsbeheerder": "het eHerkenningsbeheer van de organisatie van de melder",
    "gebruikersbeheerder": "de Gebruikersbeheerder van de organisatie van de melder",
    "makelaar": "de eHerkenningsmakelaar van de organisatie van de melder",
    "servicedesk": "de BRO Servicedesk (u)",
    "beheer": "het beheer van het Bronhouderportaal; de BRO Servicedesk geeft het door",
}


def who_acts(entry: Entry) -> str:
    """Who must act, in the third person; an entry whose answer depends on the case quotes the melder's text."""
    who = WHO_IN_CONSOLE[entry.who]
    if entry.who_detail:
        return f'{who}, of een ander: dat hangt af van de situatie. De melder leest: "{entry.who_detail}"'
    return who


def scenario_text(settings: Settings, broker_id: str, scenario: str | None) -> str:
    """The simulator scenario of a test, or what took its place (a real broker, a pasted message)."""
    if scenario == PASTED:
        return "geen: een geplakt bericht, gecontroleerd in de console"
    if scenario:
        try:
            return f"{scenario}: {find_scenario(scenario).label}"
        except KeyError:
            return scenario
    embedded = any(broker.id == broker_id and broker.embedded for broker in settings.brokers)
    return "gekozen op het inlogscherm van de simulator (niet bewaard)" if embedded else "geen (echte makelaar)"


def artifact_only(kind: str, *, came_back: bool = True) -> str:
    """Why a pasted text that names a test has no answer to check (``kind``: "Dit HAR-bestand", …)."""
    if came_back:
        return f"{kind} bevat alleen een verwijzing (artifact). Het antwoord van de makelaar gaat niet via de browser."
    return (
        f"{kind} bevat geen antwoord van de makelaar en geen verwijzing (artifact). "
        "De browser ging naar de makelaar en kwam niet terug."
    )


def artifact_maker(broker_name: str | None) -> str:
    """Which herkenningsmakelaar made the artifact, as one sentence; empty when the console cannot tell."""
    return f"De verwijzing komt van herkenningsmakelaar {broker_name}." if broker_name else ""
