"""The question "Wat zag u bij uw eHerkenningsmakelaar?" and what each answer says about the failed login.

Two outcomes of a test leave the cause open, and then the user is asked:

- ``no-response``: the eHerkenningsmakelaar never sent the user back. Usually a missing machtiging: the
  machtigingenregister shows its message, and nothing comes back unless the user cancels.
- ``stopped-at-broker``: the user came back with ``Responder``/``AuthnFailed`` and no StatusMessage that says
  why. That pair means a cancel, a wrong password or code, or a cancel after the machtiging message alike.

Both are refined by the same answers, the same way. "Ik weet het niet" adds nothing: the diagnosis stays as it
was, and the BRO Servicedesk takes it from there with the referentiecode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

QUESTION = "Wat zag u bij uw eHerkenningsmakelaar?"
# The diagnoses whose cause only the user can tell; the result page asks the question for these.
ASKED_FOR: frozenset[str] = frozenset({"no-response", "stopped-at-broker"})

AnswerKey = Literal["geen-machtiging", "geannuleerd", "code-werkte-niet", "weet-niet"]


@dataclass(frozen=True)
class AnswerOption:
    key: AnswerKey
    label: str
    # The diagnosis this answer leads to; None when it tells nothing new (the diagnosis stays).
    diagnosis: str | None


# Order = order on the page.
ANSWERS: tuple[AnswerOption, ...] = (
    AnswerOption(
        "geen-machtiging",
        "Ik kon inloggen, maar kreeg een melding over een machtiging. Of ik kwam daarna niet verder.",
        "no-authorisation",
    ),
    AnswerOption("geannuleerd", "Ik heb zelf op Annuleren of Terug geklikt.", "cancelled"),
    AnswerOption("code-werkte-niet", "Mijn wachtwoord of code werkte niet.", "auth-failed"),
    AnswerOption("weet-niet", "Ik weet het niet.", None),
)


def answer_option(key: str) -> AnswerOption | None:
    """The option with this key; None for anything else (a form value is never trusted)."""
    return next((option for option in ANSWERS if option.key == key), None)


def refined(option: AnswerOption, asked_for: str) -> str:
    """The diagnosis after this answer to the question asked for ``asked_for`` (a diagnosis in ASKED_FOR)."""
    return option.diagnosis or asked_for
