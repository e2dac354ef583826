"""A last line of defence before a trace is shown: mask anything that still looks like an identifier.

The checker already masks identifiers; this catches what slips through (a KvK number or RSIN in a
status message, a pseudonym in a detail text), so the console never shows one in full.
"""

from __future__ import annotations

import re
from typing import Any

from diagnostics.privacy import mask_number, mask_pseudonym

# 8 digits (KvK), 9 (RSIN, BSN), 12 (vestigingsnummer) standing alone; not parts of an OIN or a time.
_NUMBER = re.compile(r"(?<![\w:.\-])\d{8,12}(?![\w:])")
# Pseudonyms: long runs of hex or base64url characters with digits in them.
_PSEUDONYM = re.compile(r"(?<![\w/+=-])(?=[A-Za-z0-9_+/=-]*\d)[A-Za-z0-9_+/=-]{24,}(?![\w/+=-])")


def redact_text(text: str) -> str:
    text = _PSEUDONYM.sub(lambda m: mask_pseudonym(m[0]), text)
    return _NUMBER.sub(lambda m: mask_number(m[0]), text)


def redact(value: Any) -> Any:
    """``value`` (str, list, dict, nested) with every string passed through :func:`redact_text`."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    return value
