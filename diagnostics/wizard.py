"""The "Inloggen lukt niet" wizard: login method → symptom in the user's words → catalogue entry.

Pure data: the help page renders it as a list of links (no JavaScript needed) and ``wizard.js``
turns the same data into a step-by-step widget. Every target must be a catalogue id; the catalogue
loader checks that, and counts these targets as "reachable".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Symptom:
    id: str
    label: str
    entry: str


@dataclass(frozen=True)
class Method:
    id: str
    label: str
    hint: str
    symptoms: tuple[Symptom, ...]


METHODS: tuple[Method, ...] = (
    Method(
        id="eherkenning",
        label="Ik log in met eHerkenning",
        hint="U kiest op de inlogpagina voor \u201cInloggen met eHerkenning\u201d.",
        symptoms=(
            Symptom("eerste-keer", "De eerste keer lukt het nooit", "no-authorisation"),
            Symptom("machtiging-melding", "Melding over machtiging bij de eHerkenningsmakelaar", "no-authorisation"),
            Symptom("werkte-eerder", "Het werkte eerder wel, nu niet meer", "machtiging-expired"),
            Symptom("geen-eherkenning", "Ik heb nog geen eHerkenning", "no-eherkenning"),
            Symptom("welke-makelaar", "Ik weet niet welke eHerkenningsmakelaar ik moet kiezen", "which-makelaar"),
            Symptom("geen-sms", "Ik krijg geen sms-code", "no-sms-code"),
            Symptom("wachtwoord-eh", "Inloggen bij de eHerkenningsmakelaar lukt niet", "auth-failed"),
            Symptom("verkeerde-organisatie", "Ik kom binnen namens de verkeerde organisatie", "wrong-organisation"),
            Symptom("niveau-te-laag", "Melding: niveau te laag", "loa-too-low"),
            Symptom("niet-terug", "Ik kom niet terug in het Bronhouderportaal", "no-response"),
            Symptom("foutmelding", "Ik kom terug in het portaal met een foutmelding", "portal-problem"),
            Symptom("storing", "De eHerkenningsmakelaar meldt een storing", "broker-error"),
        ),
    ),
    Method(
        id="email",
        label="Ik log in met mijn e-mailadres",
        hint="U kiest op de inlogpagina voor inloggen met uw e-mailadres.",
        symptoms=(
            Symptom("email-niet-geaccepteerd", "Mijn e-mailadres wordt niet geaccepteerd", "email-not-business"),
            Symptom("geen-account", "Ik heb nog geen account", "email-no-account"),
            Symptom("wachtwoord-vergeten", "Wachtwoord vergeten", "email-password-forgotten"),
            Symptom("geblokkeerd", "Account geblokkeerd", "email-locked"),
            Symptom("gebruikersbeheerder", "Ik ben Gebruikersbeheerder", "beheerder-needs-eherkenning"),
            Symptom("foutmelding-email", "Ik zie een foutmelding in het portaal", "portal-problem"),
        ),
    ),
)


def targets() -> set[str]:
    """Every catalogue id a wizard path ends in."""
    return {symptom.entry for method in METHODS for symptom in method.symptoms}
