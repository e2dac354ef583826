"""The simulator's scenarios: stable ids, a Dutch label for the login screen, and what each one does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
LOA = "urn:etoegang:core:assurance-class:"

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
    loa: str = LOA + "loa2plus"
    tamper: Tamper = "none"
    on_resolve: OnResolve = "answer"
    # The broker shows its own page and never sends the user back to the service.
    returns: bool = True

    @property
    def success(self) -> bool:
        return self.status == STATUS + "Success"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("success-loa2plus", "Gelukt, niveau eHerkenning 2+"),
    Scenario("success-loa3", "Gelukt, niveau eHerkenning 3", loa=LOA + "loa3"),
    Scenario("loa-too-low", "Gelukt, maar met niveau eHerkenning 2 (te laag)", loa=LOA + "loa2"),
    Scenario(
        "cancelled",
        "Gebruiker annuleert het inloggen",
        status=STATUS + "Responder",
        sub_status=STATUS + "AuthnFailed",
        status_message="The user cancelled.",
    ),
    Scenario(
        "auth-failed",
        "Verkeerd wachtwoord of verkeerde code",
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
        "Gebruiker onbekend (UnknownPrincipal)",
        status=STATUS + "Responder",
        sub_status=STATUS + "UnknownPrincipal",
    ),
    Scenario(
        "request-unsupported",
        "Verzoek niet ondersteund (RequestUnsupported)",
        status=STATUS + "Responder",
        sub_status=STATUS + "RequestUnsupported",
    ),
    # The broker blames our request (here: a ServiceUUID it does not know) before anyone logs in.
    Scenario(
        "requester-error",
        "Fout in het inlogverzoek: dienst onbekend bij de makelaar (Requester)",
        status=STATUS + "Requester",
        status_message="Unknown service: the ServiceUUID in the request is not registered in the service catalogue.",
    ),
    # Any code the checker has no mapping for; RequestDenied is not allowed in eHerkenning (OpenForms still
    # mentions it), so a broker sending it is the realistic case of an unknown code.
    Scenario(
        "unknown-status",
        "Onbekende statuscode van de makelaar (RequestDenied)",
        status=STATUS + "Responder",
        sub_status=STATUS + "RequestDenied",
        status_message="Request denied.",
    ),
    Scenario("no-authorisation", "Geen machtiging voor deze dienst (komt nooit terug)", returns=False),
    Scenario("wrong-service", "Machtiging voor een andere dienst (andere ServiceID)", tamper="wrong-service"),
    Scenario("expired", "Verlopen assertion", tamper="expired"),
    Scenario("not-yet-valid", "Assertion nog niet geldig (klok loopt voor)", tamper="not-yet-valid"),
    Scenario("bad-signature", "Handtekening klopt niet (na ondertekening gewijzigd)", tamper="bad-signature"),
    Scenario("unsigned", "Assertion zonder handtekening", tamper="unsigned"),
    Scenario("untrusted-key", "Ondertekend met een onbekende sleutel", tamper="untrusted-key"),
    Scenario("wrong-audience", "Bestemd voor een andere dienstverlener (Audience)", tamper="wrong-audience"),
    Scenario("wrong-destination", "Verkeerde bestemming (Destination en Recipient)", tamper="wrong-destination"),
    Scenario("slow", "Trage makelaar (antwoord met vertraging)", on_resolve="slow"),
    Scenario(
        "broker-error",
        "Storing bij de makelaar (SOAP-fout)",
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
