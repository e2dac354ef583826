"""Reference codes the user gives the servicedesk: short, unambiguous, easy to read aloud."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L or U/V look-alikes: a code read over the phone must survive.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
PREFIX = "BHP"
PATTERN = re.compile(rf"^{PREFIX}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "L": "I", "V": "U"})


def new_reference() -> str:
    """A fresh code like ``BHP-7K3Q-9D2F`` (29^8 ≈ 5·10^11 possibilities)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def normalise(text: str) -> str | None:
    """The canonical code for what someone typed (any case, spaces, missing dashes), or None."""
    compact = re.sub(r"[\s\-_.]", "", text.upper())
    compact = compact.removeprefix(PREFIX)
    if len(compact) != 8:
        return None
    candidate = f"{PREFIX}-{compact[:4]}-{compact[4:]}"
    return candidate if PATTERN.fullmatch(candidate) else None
