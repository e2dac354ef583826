"""The certificate report in words for the operator's page: a status word that needs no colour, and who acts.

The facts come from ``diagnostics.cert_status`` (the same report as ``/api/v1/certificates``); this
module only chooses the Dutch words and groups the certificates per owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from diagnostics.cert_status import WARNING_DAYS, CertificateStatus, Role, Status, Validity

# The report as a page for people (diagnostics.routes.beheer); the JSON points here with a Link header.
PAGE_PATH = "/beheer/certificaten"
PAGE_LINK = f'<{PAGE_PATH}>; rel="alternate"; type="text/html"'

WORDS: dict[Validity, str] = {
    "valid": "Geldig",
    "expiring": f"Verloopt binnen {WARNING_DAYS} dagen",
    "expired": "Verlopen",
    "not-yet-valid": "Nog niet geldig",
    "unreadable": "Niet te lezen",
}
# The icon and colour of the shared status badge (templates/_partials/status.html).
BADGES: dict[Status, str] = {"ok": "pass", "warning": "warn", "error": "fail"}
ROLE_TITLES: dict[Role, str] = {
    "current": "Huidig certificaat",
    "next": "Volgend certificaat",
    "signing": "Ondertekeningscertificaat",
    # In the broker's section, so "van <makelaar>" follows it in the summary: ours, for the connection to them.
    "tls-client": "Ons clientcertificaat voor de verbinding",
}
SUMMARY_WORDS: dict[Status, str] = {"ok": "In orde", "warning": "Let op", "error": "Actie nodig"}
SUMMARIES: dict[Status, str] = {
    "ok": "Alle certificaten zijn in orde. U hoeft nu niets te doen.",
    "warning": f"Een of meer certificaten verlopen binnen {WARNING_DAYS} dagen. Kijk hieronder wie iets moet doen.",
    "error": "Een of meer certificaten zijn verlopen, nog niet geldig of niet te lezen. Kijk hieronder wie iets moet doen.",
}
MONTHS = ("januari februari maart april mei juni juli augustus september oktober november december").split()

OPERATOR = "Beheer (u)"
_SP_ACTIONS: dict[Validity, str] = {
    "valid": "Nu niets te doen. Vraag ruim voor de einddatum een nieuw certificaat aan.",
    "expiring": (
        "Vraag nu een nieuw certificaat aan. Zet het als volgend certificaat in de configuratie"
        " en stuur de nieuwe metadata naar de makelaar."
    ),
    "expired": "Vervang dit certificaat nu. Met een verlopen certificaat kan inloggen mislukken.",
    "not-yet-valid": "Dit certificaat mag nog niet gebruikt worden. Zet het vorige certificaat terug in de configuratie.",
    "unreadable": "Controleer het bestand en het pad in de configuratie. Gebruik daarvoor inloghulp check-config.",
}
_NEXT_ACTIONS: dict[Validity, str] = {
    **_SP_ACTIONS,
    "valid": (
        "Stuur de metadata met dit certificaat op tijd naar de makelaar."
        " Op de ingangsdatum zet u het als huidig certificaat in de configuratie."
    ),
    "not-yet-valid": "Nu niets te doen. Stuur de metadata met dit certificaat op tijd naar de makelaar.",
    "expiring": "Dit volgende certificaat verloopt binnenkort. Vraag een nieuw certificaat aan.",
}
# Our client certificate for a broker's back channel: ours to renew, like the SP pair, but nothing to publish.
_TLS_CLIENT_ACTIONS: dict[Validity, str] = {
    **_SP_ACTIONS,
    "valid": "Nu niets te doen. Vraag ruim voor de einddatum een nieuw clientcertificaat aan.",
    "expiring": (
        "Vraag nu een nieuw clientcertificaat aan. Zet het in de configuratie en start de dienst opnieuw."
        " Vraagt de makelaar het nieuwe certificaat vooraf? Stuur het dan op tijd."
    ),
    "expired": "Vervang dit certificaat nu. Zonder geldig clientcertificaat kan de test het inlogantwoord niet ophalen.",
}
_BROKER_REPLACES = (
    "De makelaar vervangt dit certificaat. U laadt daarna de nieuwe metadata met inloghulp refresh-metadata."
)
_BROKER_ACTIONS: dict[Validity, str] = {
    "valid": "Nu niets te doen. Als de makelaar dit certificaat vervangt, laadt u de nieuwe metadata.",
    "expiring": _BROKER_REPLACES,
    "expired": _BROKER_REPLACES,
    "not-yet-valid": _BROKER_REPLACES,
    "unreadable": (
        "Controleer of de metadata van de makelaar te laden is met inloghulp refresh-metadata."
        " Lukt dat niet? Neem contact op met de makelaar."
    ),
}


@dataclass(frozen=True)
class CertificateView:
    """One certificate as the page shows it."""

    item: CertificateStatus
    key: str
    title: str
    word: str
    badge: str
    who: str
    action: str
    valid_from: str | None
    valid_until: str | None
    activation: str | None
    days_text: str
    # The report's message only where it adds to the rows above it: why a certificate could not be read.
    note: str | None


@dataclass(frozen=True)
class OwnerGroup:
    """Our certificates, or one broker's."""

    owner: str
    name: str
    is_sp: bool
    certificates: list[CertificateView]


def dutch_day(moment: date) -> str:
    """``9 december 2026``."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def dutch_date(moment: datetime) -> str:
    """``9 december 2026, 10:00 uur UTC``: readable, and the time zone is said."""
    return f"{dutch_day(moment)}, {moment:%H:%M} uur UTC"


def days_text(days: int | None) -> str:
    if days is None:
        return "Onbekend"
    if days < 0:
        return f"Verlopen, {-days} {'dag' if days == -1 else 'dagen'} geleden"
    return f"{days} {'dag' if days == 1 else 'dagen'}"


def _who_and_action(item: CertificateStatus) -> tuple[str, str]:
    if item.role == "tls-client":
        return OPERATOR, _TLS_CLIENT_ACTIONS[item.validity]
    if item.owner != "sp":
        who = OPERATOR if item.validity == "unreadable" else f"De makelaar ({item.owner_name})"
        return who, _BROKER_ACTIONS[item.validity]
    actions = _NEXT_ACTIONS if item.role == "next" else _SP_ACTIONS
    return OPERATOR, actions[item.validity]


def view(item: CertificateStatus, key: str, title: str) -> CertificateView:
    who, action = _who_and_action(item)
    return CertificateView(
        item=item,
        key=key,
        title=title,
        word=WORDS[item.validity],
        badge=BADGES[item.status],
        who=who,
        action=action,
        valid_from=dutch_date(item.not_before) if item.not_before else None,
        valid_until=dutch_date(item.not_after) if item.not_after else None,
        activation=dutch_day(item.activation) if item.activation else None,
        days_text=days_text(item.days_left),
        note=item.message if item.validity == "unreadable" else None,
    )


def owner_groups(items: Sequence[CertificateStatus]) -> list[OwnerGroup]:
    """The certificates per owner, in the report's order; each gets a key unique on the page."""
    grouped: dict[str, list[CertificateStatus]] = {}
    for item in items:
        grouped.setdefault(item.owner, []).append(item)
    groups = []
    for owner, owned in grouped.items():
        views = []
        seen: dict[str, int] = {}
        for item in owned:
            total = sum(other.role == item.role for other in owned)
            number = seen[item.role] = seen.get(item.role, 0) + 1
            title, key = ROLE_TITLES[item.role], f"{owner}-{item.role}"
            if total > 1:
                title, key = f"{title} {number} van {total}", f"{key}-{number}"
            views.append(view(item, key, title))
        groups.append(OwnerGroup(owner=owner, name=owned[0].owner_name, is_sp=owner == "sp", certificates=views))
    return groups
