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
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Pseudonyms: long runs of hex or base64url characters with a digit in them (the run is found here, the
# rest is checked in ``_pseudonyms``). A UUID is no pseudonym: the ServiceUUID must stay readable.
_RUN = re.compile(r"[A-Za-z0-9_+/=-]{24,}")
# A number after the name of its kind: "KvK 12345678", "KvKnr:12345678" (an EntityConcernedID URN),
# "BSN123456782", "KvK 1234 5678". Masked whatever stands before the label, in groups or not.
_LABELS = ("kvk", "rsin", "bsn", "vestiging")
_LABELLED_NUMBER = re.compile(
    r"(?i)(?<![a-z])(?:kvk(?:-?n(?:umme)?r)?|rsin|bsn|vestigings?(?:-?n(?:umme)?r)?)[^\w]{0,3}"
    r"(\d(?:[ .]?\d){7,11})(?![ .]?\d)"
)
# 8 digits (KvK), 9 (RSIN, BSN), 12 (vestigingsnummer) standing alone, or 9 in groups ("123 456 782",
# "1234.56.782"; masked when they pass the 11-proef, see ``_numbers``); not parts of an OIN (20 digits), a
# UUID, a time or an IP address. One pattern for both: every pattern is one more pass over the text.
# (The look-behinds stand after the first character: a pattern that starts with a character class lets
# the regex engine skip to the places where that class occurs, which makes a search several times faster.
# "(?<!X)\d" and "\d(?<!X\d)" accept the same places.)
_NUMBER = re.compile(r"\d(?<![\w.\-]\d)(?:[ .]?\d){7,11}(?![\w:]|[ .]?\d)")
_GROUP = re.compile(r"\d{8,12}(?!\d)")
# Something a checker or an earlier pass already masked: names next to it are still masked.
_MASKED = re.compile(r"\*{3,}\w{0,2}|\S{1,4}…\S{1,4}")

_PARTICLE = r"(?:van|von|de|der|den|het|ter|ten|te|in|op|'t|la|le|du|da|del|dos|el|al|bin|zu)"
_CAPITAL = "[A-ZÀ-ÖØ-Þ]"
_WORD = rf"{_CAPITAL}[a-zß-öø-ÿ'’]+(?:-{_CAPITAL}[a-zß-öø-ÿ'’]+)?"
# A person's name: at least two capitalised words, with Dutch particles between them ("Jan de Vries").
_NAME = re.compile(
    rf"{_CAPITAL}(?<![\w-]{_CAPITAL})[a-zß-öø-ÿ'’]+(?:-{_CAPITAL}[a-zß-öø-ÿ'’]+)?"
    rf"(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{1,3}}(?![\w-])"
)
# A name after a label that says it is one: also a single word ("naam: Fatima").
_NAME_LABELS = ("naam", "name", "gebruiker", "user", "medewerker", "persoon", "person")
_LABELLED_NAME = re.compile(
    rf"(?i:\b(?:{'|'.join(_NAME_LABELS)})\b)\s*[:=]?\s*"
    rf"((?<![\w-]){_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{0,3}})(?![\w-])"
)
# Anything at all that one of the patterns above could match: a text without it is returned as it is.
# (Runs of 13 digits or more, such as an OIN, are no identifier: the pattern for numbers skips them too.)
_SUSPECT = re.compile(
    r"(?<![\w.\-])\d(?:[ .]?\d){7}(?!\d{5})|@|[A-Za-z0-9_+/=-]{24}|\*\*\*|…"
    rf"|(?i:{'|'.join(_LABELS)}|\b(?:{'|'.join(_NAME_LABELS)})\b)"
)
# The same test in parts, for ASCII text (nearly every text): each part is a plain substring test or a
# pattern that starts with a character class, where the one pattern above has to try every alternative at
# every position (four times slower). On ASCII, lower() matches exactly what IGNORECASE matches.
_SUSPECT_NUMBER = re.compile(r"\d(?<![\w.\-]\d)(?:[ .]?\d){7}(?!\d{5})")
_SUSPECT_RUN = re.compile(r"[A-Za-z0-9_+/=-]{24}")
_SUSPECT_LABEL = re.compile(rf"{'|'.join(_LABELS)}|\b(?:{'|'.join(_NAME_LABELS)})\b")  # on lower-case text


def _suspect(text: str, lowered: str) -> bool:
    """Whether ``_SUSPECT`` matches ``text`` (``lowered`` is ``text.lower()``)."""
    if "@" in text or "***" in text or "…" in text:
        return True
    if not text.isascii():
        return _SUSPECT.search(text) is not None
    return bool(_SUSPECT_NUMBER.search(text) or _SUSPECT_RUN.search(text) or _SUSPECT_LABEL.search(lowered))


# How far (in characters) a name may stand from an identifier to count as "next to" it.
NAME_DISTANCE = 40


def _pseudonyms(text: str) -> list[tuple[int, int, str]]:
    found = []
    for match in _RUN.finditer(text):
        start, end = match.span()
        before, after = text[start - 1 : start], text[end : end + 1]
        if (before and before.isalnum()) or (after and after.isalnum()):
            continue  # part of a longer word (letters outside the run's alphabet)
        if _is_pseudonym(match[0]):
            found.append((start, end, mask_pseudonym(match[0])))
    return found


def _is_pseudonym(run: str) -> bool:
    """Whether a run of ``_RUN`` is a pseudonym: it holds a digit and is no UUID."""
    return any(char.isdigit() for char in run) and not _UUID.fullmatch(run)


def _identifier_spans(text: str, lowered: str) -> list[tuple[int, int, str]]:
    """(start, end, masked) for every identifier in ``text``; overlaps go to the first and longest.

    Each pattern runs only when the text can hold what it looks for: most texts hold none of them."""
    found: list[tuple[int, int, str]] = []
    if "@" in text:
        found += [(m.start(), m.end(), mask_email(m[0])) for m in _EMAIL_IN_TEXT.finditer(text)]
    if len(text) >= 24:
        found += _pseudonyms(text)
    if any(label in lowered for label in _LABELS):
        found += [(m.start(1), m.end(1), mask_number(_digits(m[1]))) for m in _LABELLED_NUMBER.finditer(text)]
    found += _numbers(text)
    return _without_overlaps(found)


def _numbers(text: str) -> list[tuple[int, int, str]]:
    found = []
    for match in _NUMBER.finditer(text):
        value = match[0]
        digits = value if value.isdigit() else _digits(value)
        # Written in one piece: any 8 to 12 digits. In groups: a BSN or RSIN that passes the 11-proef, else
        # each group of 8 to 12 digits on its own ("KvK 12345678 12 keer").
        if value.isdigit() or (len(digits) == 9 and elfproef(digits)):
            found.append((match.start(), match.end(), mask_number(digits)))
            continue
        for group in _GROUP.finditer(value):
            found.append((match.start() + group.start(), match.start() + group.end(), mask_number(group[0])))
    return found


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


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
    if not text or text in _MASKED_BEFORE:
        return text
    masked = _mask(text)
    if len(_MASKED_BEFORE) >= MASKED_BEFORE_MAX:
        _MASKED_BEFORE.clear()
    _MASKED_BEFORE[masked] = None
    return masked


# Texts this process has masked before: the masker's outputs, never the raw text they came from. Masking is
# idempotent, so such a text passing again (a verdict's texts pass up to five times on one round trip: made,
# stored, loaded, shown, sent as JSON) is returned after one dictionary look-up. Bounded: emptied when full.
_MASKED_BEFORE: dict[str, None] = {}
MASKED_BEFORE_MAX = 4096


def _mask(text: str) -> str:
    if _RUN.fullmatch(text) and _is_pseudonym(text):
        # A pseudonym or an ID on its own (a check's data value): its mask covers all of it, so no other
        # pattern can add anything. What the full pass below gives, without its dozen passes.
        return mask_pseudonym(text)
    return _mask_in_text(text)


def _mask_in_text(text: str) -> str:
    lowered = text.lower()
    if not _suspect(text, lowered):
        return text  # most texts: nothing any of the patterns below could match
    spans = _identifier_spans(text, lowered)
    anchors = [(start, end) for start, end, _ in spans]
    if "*" in text or "…" in text:
        anchors += [(m.start(), m.end()) for m in _MASKED.finditer(text)]
    names: list[tuple[int, int, str]] = []
    if any(label in lowered for label in _NAME_LABELS):
        names += [(m.start(1), m.end(1), mask_name(m[1])) for m in _LABELLED_NAME.finditer(text)]
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
