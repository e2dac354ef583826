"""The simulator's scenarios: stable ids, a Dutch label for the login screen, and what each one does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from diagnostics.loa import Loa
from diagnostics.saml_names import STATUS

Tamper = Literal[
    "none",
    "wrong-service",
    "expired",
    "not-yet-valid",
    "bad-signature",
    "unsigned",
    "untrusted-key",
    "wrong-audience",
    "wrong-destination",
]
OnResolve = Literal["answer", "slow", "broker-error"]


@dataclass(frozen=True)
class Scenario:
    id: str
    label: str
    # Top-level and optional second-level status; Success carries an assertion.
    status: str = STATUS + "Success"
    sub_status: str | None = None
    status_message: str | None = None
    loa: str = Loa.EH2PLUS.uri
    tamper: Tamper = "none"
    on_resolve: OnResolve = "answer"
    # The broker shows its own page and never sends the user back to the service.
    returns: bool = True

    @property
    def success(self) -> bool:
        return self.status == STATUS + "Success"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("success-loa2plus", "Gelukt, niveau eHerkenning 2+"),
    Scenario("success-loa3", "Gelukt, niveau eHerkenning 3", loa=Loa.EH3.uri),
    Scenario("loa-too-low", "Gelukt, maar met een te laag niveau: eHerkenning 2 (LoA2)", loa=Loa.EH2.uri),
    Scenario(
        "cancelled",
        "U stopt met inloggen (AuthnFailed)",
        status=STATUS + "Responder",
        sub_status=STATUS + "AuthnFailed",
        status_message="The user cancelled.",
    ),
    Scenario(
        "auth-failed",
        "Verkeerd wachtwoord of verkeerde code (AuthnFailed)",
        status=STATUS + "Responder",
        sub_status=STATUS + "AuthnFailed",
        status_message="Authentication failed: wrong credentials.",
    ),
    # The afsprakenstelsel makes the StatusMessage optional: a broker may send a cancel (or a wrong password,
    # or a cancel at "geen machtiging") as this bare pair, and the service cannot tell which.
    Scenario(
        "stopped-at-broker",
        "U stopt bij de makelaar, die niet zegt waarom (AuthnFailed zonder StatusMessage)",
        status=STATUS + "Responder",
        sub_status=STATUS + "AuthnFailed",
    ),
    Scenario(
        "unknown-principal",
        "De makelaar kent deze gebruiker niet (UnknownPrincipal)",
        status=STATUS + "Responder",
        sub_status=STATUS + "UnknownPrincipal",
    ),
    Scenario(
        "request-unsupported",
        "De makelaar kan het inlogverzoek niet uitvoeren (RequestUnsupported)",
        status=STATUS + "Responder",
        sub_status=STATUS + "RequestUnsupported",
    ),
    # The broker blames our request (here: a ServiceUUID it does not know) before anyone logs in.
    Scenario(
        "requester-error",
        "De makelaar kent de dienst in het inlogverzoek niet (Requester)",
        status=STATUS + "Requester",
        status_message="Unknown service: the ServiceUUID in the request is not registered in the service catalogue.",
    ),
    # Any code the checker has no mapping for; RequestDenied is not allowed in eHerkenning (OpenForms still
    # mentions it), so a broker sending it is the realistic case of an unknown code.
    Scenario(
        "unknown-status",
        "De makelaar weigert met een code die wij niet kennen (RequestDenied)",
        status=STATUS + "Responder",
        sub_status=STATUS + "RequestDenied",
        status_message="Request denied.",
    ),
    Scenario("no-authorisation", "Geen machtiging voor deze dienst; u komt niet terug", returns=False),
    Scenario("wrong-service", "Machtiging voor een andere dienst (ServiceID)", tamper="wrong-service"),
    Scenario("expired", "Het bewijs van inloggen is verlopen (Assertion)", tamper="expired"),
    Scenario("not-yet-valid", "Het bewijs is nog niet geldig: klok loopt voor (Assertion)", tamper="not-yet-valid"),
    Scenario("bad-signature", "Het bewijs is gewijzigd na het ondertekenen (Signature)", tamper="bad-signature"),
    Scenario("unsigned", "Het bewijs van inloggen is niet ondertekend (Assertion, Signature)", tamper="unsigned"),
    Scenario("untrusted-key", "Ondertekend met een sleutel die wij niet kennen (Signature)", tamper="untrusted-key"),
    Scenario("wrong-audience", "Bewijs voor een andere dienstverlener (Audience)", tamper="wrong-audience"),
    Scenario("wrong-destination", "Antwoord naar een ander adres (Destination, Recipient)", tamper="wrong-destination"),
    Scenario("slow", "De makelaar antwoordt traag", on_resolve="slow"),
    Scenario(
        "broker-error",
        "Storing bij de makelaar (SOAP Fault)",
        status=STATUS + "Responder",
        status_message="Internal error.",
        on_resolve="broker-error",
    ),
)
SCENARIO_IDS: tuple[str, ...] = tuple(scenario.id for scenario in SCENARIOS)
# Shown under `inloghulp simulator --help`.
SCENARIO_HELP = "Scenario's (kies op het inlogscherm, of met ?scenario=<id> op het inlogverzoek): " + ", ".join(
    SCENARIO_IDS
)
DEFAULT_SCENARIO = "success-loa2plus"


def find_scenario(scenario_id: str) -> Scenario:
    """The scenario with this id; KeyError when there is none."""
    for candidate in SCENARIOS:
        if candidate.id == scenario_id:
            return candidate
    raise KeyError(scenario_id)


# The short name other modules already import.
scenario = find_scenario
