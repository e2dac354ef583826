"""Reference codes the user gives the servicedesk: short, unambiguous, easy to read aloud."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L or U/V look-alikes: a code read over the phone must survive.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
PREFIX = "BHP"
PATTERN = re.compile(rf"^{PREFIX}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
# Left out of ALPHABET because each looks or sounds like another character. Two of them stand for every
# pair (0 and O, 1 and I and L, U and V), so a typed one cannot be mapped back: the reader must check it.
LOOKALIKES = "0O1ILUV"
LOOKALIKE_MESSAGE = "Een referentiecode bevat nooit de tekens 0, O, 1, I, L, U of V. Controleer de code."


def new_reference() -> str:
    """A fresh code like ``BHP-7K3Q-9D2F`` (29^8 ≈ 5·10^11 possibilities)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def _compact(text: str) -> str:
    """The eight characters after the prefix, as typed: upper case, without spaces, dashes, dots or the prefix."""
    return re.sub(r"[\s\-_.]", "", text.upper()).removeprefix(PREFIX)


def normalise(text: str) -> str | None:
    """The canonical code for what someone typed (any case, spaces, missing dashes), or None."""
    compact = _compact(text)
    if len(compact) != 8:
        return None
    candidate = f"{PREFIX}-{compact[:4]}-{compact[4:]}"
    return candidate if PATTERN.fullmatch(candidate) else None


def has_lookalikes(text: str) -> bool:
    """Whether ``text`` has the shape of a code but holds a character no code has (e.g. ``BHP-0000-0000``)."""
    compact = _compact(text)
    allowed = set(ALPHABET) | set(LOOKALIKES)
    return len(compact) == 8 and set(compact) <= allowed and any(character in LOOKALIKES for character in compact)
