"""The failure catalogue: loads ``catalogue.yaml``, validates it, and answers by diagnosis id.

The help site, the wizard, ``inloghulp explain`` and the servicedesk console all take their Dutch
texts from here, so one failure is always explained the same way and always names who must act.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from diagnostics import wizard
from diagnostics.verdict import Diagnosis, Who

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
# The help page the catalogue is rendered into; its anchors are the catalogue ids.
HELP_PAGE = "inloggen-lukt-niet.md"

# Every diagnosis id the code may produce (ARCHITECTURE.md). Each must have an entry.
REQUIRED_IDS: tuple[str, ...] = (
    "cancelled",
    "auth-failed",
    "unknown-principal",
    "request-unsupported",
    "loa-too-low",
    "wrong-service",
    "no-authorisation",
    "no-response",
    "expired",
    "not-yet-valid",
    "bad-signature",
    "unsigned",
    "untrusted-certificate",
    "weak-algorithm",
    "wrong-audience",
    "wrong-destination",
    "wrong-issuer",
    "unsolicited",
    "replay",
    "malformed",
    "too-large",
    "decryption-failed",
    "broker-error",
    "broker-unreachable",
    "artifact-resolve-failed",
    "config-error",
    "stopped-at-broker",
    "interrupted",
    "metadata-unsigned",
)

WHO_LABELS: dict[str, str] = {
    "medewerker": "u zelf",
    "eHerkenningsbeheerder": "uw eHerkenningsbeheerder",
    "gebruikersbeheerder": "de Gebruikersbeheerder van uw organisatie",
    "makelaar": "uw eHerkenningsmakelaar",
    "servicedesk": "de BRO Servicedesk",
    # A medewerker never reaches the beheer directly: name whom they contact, and where it goes from there.
    "beheer": "de BRO Servicedesk; die geeft het door aan het beheer van het Bronhouderportaal",
}
# Whom the ``steps.beheerder`` text is for; an entry without one says NOTHING_TO_DO there.
BeheerderRole = Literal["eHerkenningsbeheerder", "gebruikersbeheerder"]
NOTHING_TO_DO = "U hoeft niets te doen"
# Every ticket reply ends with this; text added to a reply goes just before it.
SIGN_OFF = "Met vriendelijke groet,"
GROUP_TITLES: dict[str, str] = {
    "eherkenning": "Inloggen met eHerkenning",
    "email": "Inloggen met uw e-mailadres",
    "portaal": "Uw organisatie en het Bronhouderportaal",
    "technisch": "Meldingen over de verbinding met eHerkenning",
}
Group = Literal["eherkenning", "email", "portaal", "technisch"]
# Symptoms only the help page's "Wat ziet u?" index leads to (no diagnosis id, no wizard path);
# tests/site/test_help_index.py checks that the index links each of them.
INDEX_IDS: tuple[str, ...] = ("org-not-registered", "wrong-environment", "portal-unavailable")

_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
_LINK = re.compile(r"^(?P<page>[a-z0-9][a-z0-9/_-]*\.md)(#(?P<anchor>[a-z0-9-]+))?$")
_INLINE_LINK = re.compile(r"\[(?P<label>[^\[\]]+)\]\((?P<link>[^()\s]+)\)")
# Words the writing rules forbid (domain.md §11): no officialese, no apology, no blame.
FORBIDDEN_WORDS: tuple[str, ...] = ("ongeldig", "sorry", "oeps", "er is een fout opgetreden", "alstublieft")
# The site speaks to the reader as "u", headings included (domain.md §11): no entry speaks as the user ("Ik kom
# niet terug"), or a result page reads "Inloggen is niet gelukt: Ik kom niet terug".
FIRST_PERSON = re.compile(r"\b(ik|mijn|mij|me)\b", re.IGNORECASE)
# One word for one thing across the site (docs/begrippen.md): the pattern found, and what to write instead.
PREFERRED_WORDING: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bu heeft\b", re.IGNORECASE), "u hebt"),
    (re.compile(r"\bheeft u\b", re.IGNORECASE), "hebt u"),
    (re.compile(r"\bbeheermodule\b", re.IGNORECASE), "beheerdashboard"),
)

Text = Annotated[str, Field(min_length=10)]


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message names the entry and the field."""


class InlineLink(BaseModel):
    """A phrase in an entry's text that links to a help page, written ``[phrase](page.md#anchor)`` in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    link: Annotated[str, Field(pattern=_LINK.pattern)]


class Segment(NamedTuple):
    """A piece of an entry's text; ``link`` (a docs path) is set when the piece is a link's phrase."""

    text: str
    link: str | None = None

    @property
    def site_path(self) -> str | None:
        """The link as a path from the site root, e.g. ``beheerder/#gegevens``."""
        return None if self.link is None else site_path(self.link)


def site_path(link: str) -> str:
    """A docs path (``beheerder.md#anker``) as the site's URL path from the root (``beheerder/#anker``)."""
    page, _, anchor = link.partition("#")
    path = page.removesuffix(".md")
    # Only a page named index is its folder's root: "zoekindex.md" stays "zoekindex/".
    if path == "index" or path.endswith("/index"):
        path = path.removesuffix("index")
    path = f"{path}/" if path and not path.endswith("/") else path
    return f"{path}#{anchor}" if anchor else path


def public_url(base_url: str, link: str) -> str:
    """A docs path as the address people use: ``https://host/beheerder/#anker`` for ``beheerder.md#anker``."""
    return f"{base_url}/{site_path(link)}"


def _strip_inline_links(text: str, found: list[dict[str, str]]) -> str:
    def phrase(match: re.Match[str]) -> str:
        found.append({"label": match["label"], "link": match["link"]})
        return match["label"]

    return _INLINE_LINK.sub(phrase, text)


class Steps(BaseModel):
    """The next step per role."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    medewerker: Text
    beheerder: Text
    servicedesk: Text


class Entry(BaseModel):
    """One failure or symptom: what the user sees, why, who acts, and what each role does next."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID)]
    group: Group
    title: Annotated[str, Field(min_length=3, max_length=90)]
    seen: Text
    cause: Text
    who: Who
    # When who acts depends on the case; ``who`` stays the role of the common case (the verdict's contract).
    who_detail: Annotated[str, Field(min_length=10)] | None = None
    beheerder_role: BeheerderRole | None = None
    # The eHerkenningsbeheerder needs the machtiging values: the mail and the ticket reply carry the card's text.
    with_card_values: bool = False
    steps: Steps
    links: tuple[str, ...] = ()
    reply: Text
    # Taken from the texts: they hold the plain phrase, so every caller that shows text as-is stays readable.
    inline_links: tuple[InlineLink, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _take_inline_links(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        found: list[dict[str, str]] = []
        data = dict(data)
        for key in ("seen", "cause"):
            if isinstance(data.get(key), str):
                data[key] = _strip_inline_links(data[key], found)
        if isinstance(data.get("steps"), dict):
            data["steps"] = {
                role: _strip_inline_links(text, found) if isinstance(text, str) else text
                for role, text in data["steps"].items()
            }
        data["inline_links"] = found
        return data

    @field_validator("links")
    @classmethod
    def _link_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for link in value:
            if not _LINK.fullmatch(link):
                raise ValueError(f"link {link!r} is geen pad als 'pagina.md#anker' / not a docs path")
        return value

    @property
    def who_label(self) -> str:
        return self.who_detail or WHO_LABELS[self.who]

    @property
    def anchor(self) -> str:
        return f"{HELP_PAGE}#{self.id}"

    def segments(self, text: str) -> list[Segment]:
        """One of this entry's texts in pieces, so a renderer can make the linked phrases into links."""
        links = {inline.label: inline.link for inline in self.inline_links}
        if not links:
            return [Segment(text)]
        pattern = "(" + "|".join(re.escape(label) for label in sorted(links, key=len, reverse=True)) + ")"
        return [Segment(part, links.get(part)) for part in re.split(pattern, text) if part]


class Catalogue:
    """The validated entries, in file order."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._entries = {entry.id: entry for entry in entries}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._entries)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries.values())

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def entry(self, entry_id: str) -> Entry:
        try:
            return self._entries[entry_id]
        except KeyError:
            raise KeyError(f"geen catalogusitem {entry_id!r} / unknown catalogue id") from None

    def diagnosis(self, entry_id: str) -> Diagnosis:
        """The verdict's diagnosis: title, the medewerker's next step as advice, and who acts."""
        entry = self.entry(entry_id)
        return Diagnosis(id=entry.id, title=entry.title, advice=entry.steps.medewerker, who=entry.who)

    def by_group(self, group: str) -> tuple[Entry, ...]:
        return tuple(entry for entry in self._entries.values() if entry.group == group)


def _field_errors(entry_id: str, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "ontbreekt / missing"
        lines.append(f"{entry_id}: {field}: {message}")
    return lines


def _text_problems(entry: Entry) -> list[str]:
    # who_detail is shown as it is (help page, result page, console): the same rules as the other texts.
    plain = [entry.title, entry.reply, *([entry.who_detail] if entry.who_detail else [])]
    texts = [*plain, entry.seen, entry.cause, *entry.steps.model_dump().values()]
    problems = []
    # Links are taken only from seen, cause and steps; elsewhere the brackets would be shown to the reader.
    if any(_INLINE_LINK.search(text) for text in plain):
        problems.append(f"{entry.id}: een link [..](..) kan alleen in seen, cause en steps / link in a plain text")
    found = next((match[0] for text in texts if (match := FIRST_PERSON.search(text))), None)
    if found is not None:
        problems.append(f"{entry.id}: tekst spreekt als de gebruiker ({found!r}); schrijf met 'u' / first person")
    for word in FORBIDDEN_WORDS:
        if any(word in text.lower() for text in texts):
            problems.append(f"{entry.id}: tekst bevat {word!r} (schrijfregels) / text uses a forbidden word")
    if (entry.beheerder_role is None) != entry.steps.beheerder.startswith(NOTHING_TO_DO):
        problems.append(
            f"{entry.id}: beheerder_role hoort bij een beheerderstap; zonder rol begint de stap met {NOTHING_TO_DO!r}"
            " / beheerder_role and steps.beheerder disagree"
        )
    if entry.with_card_values and entry.beheerder_role != "eHerkenningsbeheerder":
        problems.append(
            f"{entry.id}: with_card_values is voor de eHerkenningsbeheerder / only for eHerkenningsbeheerder"
        )
    if entry.with_card_values and SIGN_OFF not in entry.reply:
        problems.append(f"{entry.id}: reply mist {SIGN_OFF!r} / the values go before the sign-off")
    for pattern, preferred in PREFERRED_WORDING:
        found = next((match[0] for text in texts if (match := pattern.search(text))), None)
        if found is not None:
            problems.append(f"{entry.id}: schrijf {preferred!r}, niet {found!r} / use the site's wording")
    return problems


def _has_anchor(page: Path, anchor: str) -> bool:
    """True when the Markdown page sets this id: ``{ #anchor }`` on a heading or ``id="anchor"`` in HTML."""
    pattern = rf'\{{[^}}\n]*#{re.escape(anchor)}[\s}}]|id="{re.escape(anchor)}"'
    return re.search(pattern, page.read_text(encoding="utf-8")) is not None


def _link_problems(entries: list[Entry], docs_dir: Path | None) -> list[str]:
    ids = {entry.id for entry in entries}
    problems = []
    for entry in entries:
        for link in (*entry.links, *(inline.link for inline in entry.inline_links)):
            match = _LINK.fullmatch(link)
            assert match is not None  # shape checked by the model
            page, anchor = match["page"], match["anchor"]
            if page == HELP_PAGE and anchor == entry.id:
                # Shown under "Zie ook" (or as a phrase) in the entry itself: a link to where the reader already is.
                problems.append(f"{entry.id}: link {link!r} wijst naar het item zelf / an entry links to itself")
            elif page == HELP_PAGE:
                if anchor is not None and anchor not in ids:
                    problems.append(f"{entry.id}: link {link!r} wijst naar een onbekend item / unknown anchor")
            elif docs_dir is not None and not (docs_dir / page).is_file():
                problems.append(f"{entry.id}: link {link!r}: pagina bestaat niet / page not found in {docs_dir}")
            elif docs_dir is not None and anchor is not None and not _has_anchor(docs_dir / page, anchor):
                problems.append(f"{entry.id}: link {link!r}: anker bestaat niet / anchor not found in {page}")
    return problems


def parse_catalogue(data: object, *, docs_dir: Path | None = None) -> Catalogue:
    """Validate raw YAML data; raises CatalogueError listing every problem found."""
    if not isinstance(data, list):
        raise CatalogueError("de catalogus moet een lijst van items zijn / the catalogue must be a list")
    problems: list[str] = []
    entries: list[Entry] = []
    seen: set[str] = set()
    for position, raw in enumerate(data, start=1):
        entry_id = str(raw.get("id", f"item {position}")) if isinstance(raw, dict) else f"item {position}"
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_field_errors(entry_id, exc))
            continue
        if entry.id in seen:
            problems.append(f"{entry.id}: id komt twee keer voor / duplicate id")
            continue
        seen.add(entry.id)
        entries.append(entry)
        problems.extend(_text_problems(entry))
    problems.extend(
        f"{missing}: diagnose-id zonder item / diagnosis id has no entry"
        for missing in REQUIRED_IDS
        if missing not in seen
    )
    problems.extend(
        f"{target}: de wizard verwijst naar een onbekend item / wizard target unknown"
        for target in sorted(wizard.targets() - seen)
    )
    reachable = set(REQUIRED_IDS) | wizard.targets() | set(INDEX_IDS)
    problems.extend(
        f"{entry.id}: niet bereikbaar (geen diagnose-id, niet in de wizard of de index) / unreachable entry"
        for entry in entries
        if entry.id not in reachable
    )
    problems.extend(_link_problems(entries, docs_dir))
    if problems:
        raise CatalogueError("Catalogus niet bruikbaar / catalogue invalid:\n  - " + "\n  - ".join(problems))
    return Catalogue(entries)


def read_catalogue(path: Path = CATALOGUE_FILE, *, docs_dir: Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (uncached; tests and ``check-config`` use this)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: geen leesbare YAML / not valid YAML: {exc}") from None
    return parse_catalogue(data, docs_dir=docs_dir)


@cache
def load_catalogue() -> Catalogue:
    """The shipped catalogue, validated once per process."""
    return read_catalogue()
