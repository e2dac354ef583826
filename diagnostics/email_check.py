"""Can this address be a bronhouder's work e-mail address? Syntax, length and consumer domains.

We cannot prove an address belongs to the organisation; we can say when it certainly does not
(typing errors, private mail providers). The address itself is never stored or logged: results
carry only a masked form.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import idna
from pydantic import BaseModel, ConfigDict

from diagnostics.catalogue import load_catalogue
from diagnostics.privacy import mask_email

CONSUMER_DOMAINS_FILE = Path(__file__).parent / "data" / "consumer_mail_domains.txt"

# RFC 5321 limits: 64 characters before the @, 254 for the whole path, 63 per domain label.
MAX_ADDRESS = 254
MAX_LOCAL = 64
MAX_LABEL = 63
# Anything beyond this is not an address at all; refuse before any parsing work.
MAX_INPUT = 1024

Reason = Literal["business", "consumer-domain", "empty", "too-long", "missing-at", "bad-local-part", "bad-domain"]

# Dot-atom text (RFC 5322 atext) plus non-ASCII letters (RFC 6531); quoted local parts are not accepted.
_LOCAL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]+)*$"
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")

_MESSAGES: dict[str, str] = {
    "empty": "Vul uw e-mailadres in. Bijvoorbeeld: naam@gemeente.nl.",
    "too-long": "Dit e-mailadres is te lang. Een e-mailadres heeft hoogstens 254 tekens, en hoogstens 64 tekens voor de @.",
    "missing-at": "Een e-mailadres heeft precies één @, zoals naam@gemeente.nl.",
    "bad-local-part": "Het deel voor de @ kan niet in een e-mailadres. Controleer punten, spaties en tekens.",
    "bad-domain": "Het deel na de @ is geen bestaande vorm van domeinnaam. Het moet lijken op gemeente.nl.",
    "business": (
        "Dit kan uw werk-e-mailadres zijn. Gebruik het adres dat u van uw organisatie heeft gekregen. "
        "Alleen met dat adres maakt de Gebruikersbeheerder een account voor u."
    ),
}


class EmailCheck(BaseModel):
    """The outcome; ``masked`` is the only form of the address that leaves this module."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    reason: Reason
    masked: str
    domain: str | None
    message: str
    # The catalogue entry with the full explanation, and the note for Gebruikersbeheerders.
    entry: str | None
    gebruikersbeheerder_note: str


@cache
def consumer_domains(path: Path = CONSUMER_DOMAINS_FILE) -> frozenset[str]:
    """The consumer mail domains from the data file, in their ASCII (xn--) form."""
    domains = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip().lower()
        if line and not line.startswith("#"):
            domains.add(idna.encode(line, uts46=True).decode("ascii"))
    return frozenset(domains)


def _ascii_domain(domain: str) -> str | None:
    """The domain in xn-- form when it is a well-formed host name with a TLD; otherwise None."""
    domain = domain.rstrip(".")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or len(ascii_domain) > 253:
        return None
    if not all(_LABEL.fullmatch(label) for label in labels) or not _TLD.fullmatch(labels[-1]):
        return None
    return ascii_domain


def _unicode_domain(ascii_domain: str) -> str:
    try:
        return idna.decode(ascii_domain)
    except (idna.IDNAError, UnicodeError):
        return ascii_domain


def _is_consumer(ascii_domain: str) -> bool:
    domains = consumer_domains()
    labels = ascii_domain.split(".")
    # mail.gmail.com is as private as gmail.com.
    return any(".".join(labels[i:]) in domains for i in range(len(labels) - 1))


def check(address: str) -> EmailCheck:
    """Whether ``address`` can be a work e-mail address, with a Dutch explanation."""
    catalogue = load_catalogue()
    note = catalogue.entry("beheerder-needs-eherkenning").cause

    def result(reason: Reason, masked: str = "", domain: str | None = None, entry: str | None = None) -> EmailCheck:
        if reason == "consumer-domain":
            consumer = catalogue.entry("email-not-business")
            message = f"{consumer.cause} {consumer.steps.medewerker}"
        else:
            message = _MESSAGES[reason]
        return EmailCheck(
            ok=reason == "business",
            reason=reason,
            masked=masked,
            domain=domain,
            message=message,
            entry=entry,
            gebruikersbeheerder_note=note,
        )

    text = address.strip()
    if not text:
        return result("empty")
    if len(text) > MAX_INPUT:
        return result("too-long")
    masked = mask_email(text)
    if text.count("@") != 1:
        return result("missing-at", masked)
    local, domain = text.split("@")
    if len(local) > MAX_LOCAL:
        return result("too-long", masked)
    if not local or not _LOCAL.fullmatch(local):
        return result("bad-local-part", masked)
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None:
        return result("bad-domain", masked)
    if len(local.encode("utf-8")) + 1 + len(ascii_domain) > MAX_ADDRESS:
        return result("too-long", masked)
    shown = _unicode_domain(ascii_domain)
    masked = f"{local[0]}***@{shown}"
    if _is_consumer(ascii_domain):
        return result("consumer-domain", masked, shown, "email-not-business")
    return result("business", masked, shown, None)
