"""Masking of identifiers before anything is stored, logged or shown.

KvK numbers, RSIN, BSN, pseudonyms, names and e-mail addresses never leave a check unmasked: the
servicedesk needs to recognise a value ("ends in 78"), not to read it.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")


def mask_number(value: str, keep: int = 2) -> str:
    """``12345678`` → ``******78``: only the last ``keep`` characters stay visible."""
    value = value.strip()
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def mask_pseudonym(value: str) -> str:
    """A 64-hex pseudonym keeps its first and last 4 characters: enough to compare two traces."""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}…{value[-4:]}"


def mask_name(value: str) -> str:
    """``Jan de Vries`` → ``J. d. V.``: initials only."""
    return " ".join(f"{part[0]}." for part in value.split() if part)


def mask_email(value: str) -> str:
    """``jan.devries@gemeente.nl`` → ``j***@gemeente.nl``: the domain is what a diagnosis needs."""
    match = _EMAIL.match(value.strip())
    if not match:
        return mask_number(value, keep=0)
    return f"{match[1][0]}***@{match[2]}"


def mask_identifier(kind: str, value: str) -> str:
    """Mask an eHerkenning identifier by its type (the part after ``EntityConcernedID:``)."""
    kind = kind.rsplit(":", 1)[-1].lower()
    if kind in {"kvknr", "rsin", "bsn", "vestigingsnr"}:
        return mask_number(value)
    return mask_pseudonym(value)
