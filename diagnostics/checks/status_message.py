"""What an ``AuthnFailed`` StatusMessage says: the user cancelled, the password or code was wrong, or it does not say.

In eHerkenning a user who presses "Annuleren" comes back with ``Responder`` + ``AuthnFailed``, and so does
a user whose password or code was wrong, and one who cancelled after a message about a missing machtiging.
The StatusMessage that could tell them apart is optional (the afsprakenstelsel says MAY). So a cause is
taken from the message only when it states that cause plainly, and only one of the two: a message that
says neither ("Authentication failed"), both, or says one with a negation ("not cancelled", "niet fout")
claims nothing, and the result page asks the user what they saw (``stopped-at-broker``).

Wrongly naming a cause sends the user to the wrong person; asking costs one click. Every rule here leans
towards asking.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

AuthnFailedCause = Literal["cancelled", "auth-failed", "stopped-at-broker"]

# Enough for any real StatusMessage; bounds the work on a hostile one.
_MAX_CHARS = 2000
# One statement each: sentences, and clauses joined by punctuation or "but"/"maar".
_CLAUSES = re.compile(r"[.;:!?,()\[\]\n]|\s(?:but|however|maar|echter)\s")
_CANCEL = re.compile(r"\b(cancel\w*|abort\w*|annul\w*|geannuleerd|afgebroken|breekt af|brak af)\b")
# What the user types: password, code (not a status or error code), user name, credentials.
_CREDENTIAL = re.compile(
    r"\b(passwords?|passcodes?|pin(code)?|otp|credentials?|user ?names?|wachtwoord(en)?|inloggegevens"
    r"|gebruikersnaam|(sms|toegangs|verificatie|activerings|pin)-?code|one[- ]time (pass)?code"
    r"|(?<!status )(?<!error )(?<!response )codes?)\b"
)
_WRONG = re.compile(
    r"\b(wrong|incorrect\w*|invalid|bad|mismatch\w*|rejected|onjuist\w*|verkeerd\w*|ongeldig\w*"
    r"|fout(e|ief|ieve)?|geweigerd)\b"
)
# Phrases that say "wrong" with a negation in them; replaced first, so their negation does not count as one.
_WRONG_PHRASES = re.compile(
    r"\b(klopt(e)? niet|niet (juist|correct|geldig|herkend|geaccepteerd|goed)"
    r"|not (correct|valid|recogni[sz]ed|accepted)|(does|did) not match|(doesn|didn)'t match)\b"
)
_NEGATION = re.compile(r"\b(not|no|never|without|niet|geen|nooit|zonder)\b|n't\b")


def _normalise(message: str) -> str:
    """Lower case without accents ("geannuleerd" for "geännuleerd"), one kind of apostrophe."""
    decomposed = unicodedata.normalize("NFKD", message[:_MAX_CHARS])
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return plain.lower().replace("\u2019", "'")


def authn_failed_cause(message: str) -> AuthnFailedCause:
    """``cancelled`` or ``auth-failed`` when the message plainly says that and only that; else ``stopped-at-broker``."""
    cancelled = credentials = False
    for clause in _CLAUSES.split(_normalise(message)):
        clause = _WRONG_PHRASES.sub(" wrong ", clause)
        if _NEGATION.search(clause):
            continue  # "not cancelled", "het wachtwoord was niet fout": a negated statement claims nothing
        cancelled = cancelled or _CANCEL.search(clause) is not None
        credentials = credentials or (_CREDENTIAL.search(clause) is not None and _WRONG.search(clause) is not None)
    if cancelled and not credentials:
        return "cancelled"
    if credentials and not cancelled:
        return "auth-failed"
    return "stopped-at-broker"
