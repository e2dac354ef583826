"""The result page's "Mail naar mijn eHerkenningsbeheerder": a ``mailto:`` link and the same text to copy.

Only where the verdict says the eHerkenningsbeheerder must act (``diagnosis.who``, ARCHITECTURE.md "Verdict
contract"). The machtiging values come from the beheerder card (``beheerder_card.card_lines``, one source); the
test adds its reference code, its outcome, what the beheerder must do (the catalogue's step for the beheerder)
and, when the broker's answer named one, the organisation (masked).

Some mail clients cut a ``mailto:`` URL after about 2000 characters, so the link stays within
:data:`MAX_URL`: the parts a beheerder can do without go first (the card's general steps, then the hints),
and the link to the card's page always stays. The copy block holds the whole text.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from diagnostics.beheerder_card import BEHEERDER_PAGE, card_lines
from diagnostics.catalogue import Entry, public_url
from diagnostics.service_info import service_info
from diagnostics.settings import Settings
from diagnostics.verdict import Verdict

LINK_TEXT = "Mail naar mijn eHerkenningsbeheerder"
MAX_URL = 1800
# The values the beheerder types in or looks up, in card order (the rest is on the card's page).
MAIL_FIELDS = ("provider_name", "service_name", "service_uuid", "service_id", "required_loa_label")
# Identifier kinds that name an organisation; a pseudonym says nothing to a beheerder.
_ORGANISATION_KINDS = {"kvknr": "KvK-nummer", "vestigingsnr": "Vestigingsnummer", "rsin": "RSIN"}


@dataclass(frozen=True)
class Part:
    """A paragraph of the mail; ``drop`` orders what the link leaves out when too long (1 first), 0 always stays."""

    text: str
    drop: int = 0


@dataclass(frozen=True)
class BeheerderMail:
    subject: str
    body: str
    # The whole text for the copy block; the link may have left optional parts out.
    full_body: str

    @property
    def href(self) -> str:
        return mailto(self.subject, self.body)

    @property
    def copy_text(self) -> str:
        return f"Onderwerp: {self.subject}\n\n{self.full_body}"


def mailto(subject: str, body: str) -> str:
    """RFC 6068: everything outside the unreserved characters percent-encoded (a space as %20, never "+"),
    and a line break as %0D%0A."""
    crlf = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return f"mailto:?subject={quote(subject, safe='')}&body={quote(crlf, safe='')}"


def needs_beheerder(verdict: Verdict) -> bool:
    """The verdict says the eHerkenningsbeheerder must act (missing machtiging, too low a level, other dienst)."""
    return verdict.diagnosis is not None and verdict.diagnosis.who == "eHerkenningsbeheerder"


def organisation_hint(verdict: Verdict) -> str | None:
    """The organisation the broker's answer named (LegalSubjectID, already masked), e.g. "KvK-nummer ******78"."""
    for check in verdict.checks:
        if check.id != "identifiers":
            continue
        for key, value in check.data.items():
            kind, _, masked = value.partition(": ")
            label = _ORGANISATION_KINDS.get(kind.lower())
            if key.startswith("legalsubjectid") and not key.endswith("_cipher") and label and masked:
                return f"{label} {masked}"
    return None


def beheerder_mail(
    settings: Settings,
    entry: Entry,
    *,
    reference: str,
    supplier_name: str | None = None,
    organisation: str | None = None,
) -> BeheerderMail:
    """The mail for ``entry``'s diagnosis of test ``reference``, its link within :data:`MAX_URL` characters."""
    info = service_info(settings)
    subject = f"Hulp nodig bij eHerkenning voor het Bronhouderportaal ({reference})"
    parts = [
        Part("Beste eHerkenningsbeheerder,"),
        Part(
            "Ik kan niet inloggen in het Bronhouderportaal met eHerkenning. "
            f'De uitslag van de inlogtest is: "{entry.title}".\n'
            "Wilt u dit voor mij regelen? Hieronder staat wat er nodig is."
        ),
        # Last to go, and only with values far longer than any real configuration has.
        Part(f"Wat moet u doen?\n{entry.steps.beheerder}", drop=5),
        Part("Gegevens voor de machtiging:\n" + "\n".join(card_lines(settings, MAIL_FIELDS)), drop=4),
        Part(f"Referentiecode van mijn inlogtest: {reference}"),
    ]
    if organisation:
        parts.append(Part(f"Ik logde in namens de organisatie met {organisation} (deels afgeschermd).", drop=3))
    if supplier_name:
        parts.append(Part(f"Mijn eHerkenningsmakelaar: {supplier_name}", drop=2))
    steps = "\n".join(f"{number}. {step}" for number, step in enumerate(info.steps, start=1))
    parts += [
        Part(f"Zo zet u de machtiging:\n{steps}", drop=1),
        Part(f"Alle gegevens staan ook op: {public_url(settings.public_base_url, BEHEERDER_PAGE)}"),
        Part("Met vriendelijke groet,"),
    ]
    full = _body(parts)
    body = full
    for level in sorted({part.drop for part in parts if part.drop}):
        if len(mailto(subject, body)) <= MAX_URL:
            break
        parts = [part for part in parts if part.drop == 0 or part.drop > level]
        body = _body(parts)
    return BeheerderMail(subject=subject, body=body, full_body=full)


def _body(parts: list[Part]) -> str:
    return "\n\n".join(part.text for part in parts) + "\n"
