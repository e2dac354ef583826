"""Masking of identifiers before anything is stored, logged or shown.

KvK numbers, RSIN, BSN, pseudonyms, names and e-mail addresses never leave a check unmasked: the
servicedesk needs to recognise a value ("ends in 78"), not to read it.

:func:`mask_text` is the one masker for free text taken from a message (a StatusMessage, an attribute
value, an Issuer, a SOAP fault): the verdict contract (``diagnostics.verdict``) passes every check's
detail and data through it, so whatever stores, logs or shows a verdict gets masked text, and the JSON
log formatter passes every line through it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

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


def elfproef(digits: str) -> bool:
    """The 11-proef of a BSN (and RSIN): weights 9…2 and -1; the sum is a multiple of 11."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total % 11 == 0 and digits != "000000000"


# ── free text ──

_EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w/+=-])"
# Pseudonyms: long runs of hex or base64url characters with a digit in them. A UUID is no pseudonym:
# the ServiceUUID must stay readable for the wrong-service diagnosis.
_PSEUDONYM = re.compile(rf"(?<![\w/+=-])(?!{_UUID})(?=[A-Za-z0-9_+/=-]*\d)[A-Za-z0-9_+/=-]{{24,}}(?![\w/+=-])")
# A number after the name of its kind: "KvK 12345678", "KvKnr:12345678" (an EntityConcernedID URN),
# "BSN123456782", "KvK 1234 5678". Masked whatever stands before the label, in groups or not.
_LABELLED_NUMBER = re.compile(
    r"(?i)(?<![a-z])(?:kvk(?:-?n(?:umme)?r)?|rsin|bsn|vestigings?(?:-?n(?:umme)?r)?)[^\w]{0,3}"
    r"(\d(?:[ .]?\d){7,11})(?![ .]?\d)"
)
# 8 digits (KvK), 9 (RSIN, BSN), 12 (vestigingsnummer) standing alone; not parts of an OIN
# (20 digits), a UUID, a time or an IP address.
_NUMBER = re.compile(r"(?<![\w.\-])\d{8,12}(?![\w:])")
# A BSN or RSIN written in groups ("123 456 782", "1234.56.782"): masked when it passes the 11-proef.
_GROUPED_NINE = re.compile(r"(?<![\w.\-])\d(?:[ .]?\d){8}(?![\w]|[ .]?\d)")
# Something a checker or an earlier pass already masked: names next to it are still masked.
_MASKED = re.compile(r"\*{3,}\w{0,2}|\S{1,4}…\S{1,4}")

_PARTICLE = r"(?:van|von|de|der|den|het|ter|ten|te|in|op|'t|la|le|du|da|del|dos|el|al|bin|zu)"
_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+)?"
# A person's name: at least two capitalised words, with Dutch particles between them ("Jan de Vries").
_NAME = re.compile(rf"(?<![\w-]){_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{1,3}}(?![\w-])")
# A name after a label that says it is one: also a single word ("naam: Fatima").
_LABELLED_NAME = re.compile(
    rf"(?i:\b(?:naam|name|gebruiker|user|medewerker|persoon|person)\b)\s*[:=]?\s*"
    rf"((?<![\w-]){_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{0,3}})(?![\w-])"
)
# How far (in characters) a name may stand from an identifier to count as "next to" it.
NAME_DISTANCE = 40


def _identifier_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, masked) for every identifier in ``text``; overlaps go to the first and longest."""
    found: list[tuple[int, int, str]] = []
    found += [(m.start(), m.end(), mask_email(m[0])) for m in _EMAIL_IN_TEXT.finditer(text)]
    found += [(m.start(), m.end(), mask_pseudonym(m[0])) for m in _PSEUDONYM.finditer(text)]
    found += [(m.start(1), m.end(1), mask_number(re.sub(r"\D", "", m[1]))) for m in _LABELLED_NUMBER.finditer(text)]
    found += [(m.start(), m.end(), mask_number(m[0])) for m in _NUMBER.finditer(text)]
    found += [
        (m.start(), m.end(), mask_number(digits))
        for m in _GROUPED_NINE.finditer(text)
        if elfproef(digits := re.sub(r"\D", "", m[0]))
    ]
    return _without_overlaps(found)


def _without_overlaps(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for start, end, replacement in sorted(spans, key=lambda span: (span[0], -span[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end, replacement))
    return kept


def _near(start: int, end: int, anchors: list[tuple[int, int]]) -> bool:
    return any(a_start - end <= NAME_DISTANCE and start - a_end <= NAME_DISTANCE for a_start, a_end in anchors)


def mask_text(text: str) -> str:
    """``text`` with every KvK, RSIN, BSN, vestigingsnummer, pseudonym and e-mail address masked, and
    the person names next to them (or after "naam:") reduced to initials.

    Idempotent: masked text stays as it is, so a verdict may pass through it on every load.
    """
    if not text:
        return text
    spans = _identifier_spans(text)
    anchors = [(start, end) for start, end, _ in spans]
    anchors += [(m.start(), m.end()) for m in _MASKED.finditer(text)]
    names: list[tuple[int, int, str]] = [(m.start(1), m.end(1), mask_name(m[1])) for m in _LABELLED_NAME.finditer(text)]
    if anchors:
        names += [
            (m.start(), m.end(), mask_name(m[0])) for m in _NAME.finditer(text) if _near(m.start(), m.end(), anchors)
        ]
    taken = [(start, end) for start, end, _ in spans]
    names = [
        span
        for span in _without_overlaps(names)
        if not any(span[0] < t_end and t_start < span[1] for t_start, t_end in taken)
    ]
    out: list[str] = []
    position = 0
    for start, end, replacement in sorted(spans + names):
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)


# Values the checks compute themselves from public certificates (``*_sha256``): shaped like a
# pseudonym (64 hex), but what the operator compares with the metadata, so they stay whole.
PUBLIC_HASH_SUFFIX = "_sha256"


def mask_data(data: dict[str, str]) -> dict[str, str]:
    """A check's measured values with every value masked, except the public certificate hashes."""
    return {key: value if key.endswith(PUBLIC_HASH_SUFFIX) else mask_text(value) for key, value in data.items()}


def mask_tree(value: Any) -> Any:
    """``value`` (str, list, dict, nested) with every string passed through :func:`mask_text`; keys stay."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list | tuple):
        return [mask_tree(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_tree(item) for key, item in value.items()}
    return value
