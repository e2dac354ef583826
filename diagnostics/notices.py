"""Outages people can see: what the site says about a broker that is down, and the operator's notices.

Two kinds, shown on the same surfaces (the chooser, the result of a failing test with that broker, the
help-site widget through ``GET /api/v1/notices``, the servicedesk console):

- an operator notice, ``inloghulp notice add --broker ID --until ISO "tekst"``: stored in the database, so
  every worker shows it, until its time is up or ``inloghulp notice end ID``;
- the automatic one, "Mogelijk een storing bij <broker>", while ``diagnostics.outage`` counts many
  broker-side failures. Where the operator has said it already, the guess is left out.

The operator's text is shown as written, so it must follow the site's writing rules (the catalogue's
forbidden words, "u" instead of "ik", the preferred words) and stay short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, insert, select, update

from diagnostics.catalogue import FIRST_PERSON, FORBIDDEN_WORDS, PREFERRED_WORDING
from diagnostics.localtime import dutch_time
from diagnostics.models import NoticeRow
from diagnostics.outage import OutageWatch
from diagnostics.settings import Settings

MAX_TEXT = 300
MAX_SENTENCE_WORDS = 25
# A notice nobody ends must not stay forever: the operator gives an end, at most this far ahead.
MAX_DURATION = timedelta(days=31)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

Kind = Literal["operator", "automatic"]


class NoticeError(ValueError):
    """A notice that cannot be stored; the message says why, in Dutch."""


@dataclass(frozen=True)
class Notice:
    """One operator notice as stored."""

    id: int
    broker_id: str
    text: str
    created_at: datetime
    until: datetime
    ended_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.until

    @classmethod
    def from_row(cls, row: NoticeRow) -> Notice:
        return cls(row.id, row.broker_id, row.text, row.created_at, row.until, row.ended_at)


def text_problems(text: str) -> list[str]:
    """What keeps ``text`` off the site (Dutch), or nothing: length, sentences, and the catalogue's rules."""
    problems = []
    if not text.strip():
        problems.append("De tekst is leeg.")
    if len(text) > MAX_TEXT:
        problems.append(f"De tekst is {len(text)} tekens lang; het mogen er hoogstens {MAX_TEXT} zijn.")
    if _CONTROL.search(text):
        problems.append("De tekst mag geen tab of nieuwe regel bevatten.")
    if text.strip() and text.strip()[-1] not in ".!?":
        problems.append("Eindig de tekst met een punt, uitroepteken of vraagteken.")
    for sentence in _SENTENCE_END.split(text.strip()):
        if len(sentence.split()) > MAX_SENTENCE_WORDS:
            problems.append(
                f"Deze zin is langer dan {MAX_SENTENCE_WORDS} woorden: {sentence!r}. Maak er twee zinnen van."
            )
    if (match := FIRST_PERSON.search(text)) is not None:
        problems.append(f"Schrijf met 'wij' en 'u', niet met {match[0]!r}.")
    problems += [f"Gebruik {word!r} niet (schrijfregels)." for word in FORBIDDEN_WORDS if word in text.lower()]
    for pattern, preferred in PREFERRED_WORDING:
        if (match := pattern.search(text)) is not None:
            problems.append(f"Schrijf {preferred!r}, niet {match[0]!r}.")
    return problems


def add(
    engine: Engine, settings: Settings, *, broker_id: str, text: str, until: datetime, now: datetime | None = None
) -> Notice:
    """Store a notice for ``broker_id`` until ``until``; NoticeError when it cannot be shown as given."""
    now = now or datetime.now(UTC)
    text = text.strip()
    if broker_id not in {broker.id for broker in settings.brokers}:
        known = ", ".join(broker.id for broker in settings.brokers)
        raise NoticeError(f"Onbekende makelaar {broker_id!r}. Kies uit: {known}.")
    if until.tzinfo is None:
        raise NoticeError("Geef de eindtijd met een tijdzone.")
    if until <= now:
        raise NoticeError("De eindtijd ligt niet in de toekomst.")
    if until - now > MAX_DURATION:
        raise NoticeError(f"De eindtijd ligt meer dan {MAX_DURATION.days} dagen vooruit.")
    problems = text_problems(text)
    if problems:
        raise NoticeError(" ".join(problems))
    with engine.begin() as connection:
        notice_id = connection.execute(
            insert(NoticeRow)
            .values(broker_id=broker_id, text=text, created_at=now, until=until, ended_at=None)
            .returning(NoticeRow.id)
        ).scalar_one()
    return Notice(int(notice_id), broker_id, text, now, until, None)


def listing(engine: Engine, *, now: datetime | None = None, include_past: bool = False) -> list[Notice]:
    """The notices in force (all of them with ``include_past``), newest first."""
    query = select(NoticeRow.__table__).order_by(NoticeRow.created_at.desc(), NoticeRow.id.desc())
    if not include_past:
        query = query.where(NoticeRow.ended_at.is_(None), NoticeRow.until > (now or datetime.now(UTC)))
    with engine.connect() as connection:
        return [Notice.from_row(NoticeRow(**row)) for row in connection.execute(query).mappings()]


def end(engine: Engine, notice_id: int, *, now: datetime | None = None) -> Notice | None:
    """End a notice now; None when there is no such notice in force."""
    now = now or datetime.now(UTC)
    with engine.begin() as connection:
        changed = connection.execute(
            update(NoticeRow)
            .where(NoticeRow.id == notice_id, NoticeRow.ended_at.is_(None), NoticeRow.until > now)
            .values(ended_at=now)
        ).rowcount
        row = connection.execute(select(NoticeRow.__table__).where(NoticeRow.id == notice_id)).mappings().first()
    return Notice.from_row(NoticeRow(**row)) if changed == 1 and row is not None else None


# ── what the pages show ──


@dataclass(frozen=True)
class Shown:
    """One notice as a page, the widget or the console shows it."""

    broker_id: str
    broker_name: str
    kind: Kind
    title: str
    text: str
    # Operator notices: when it is expected to be over. Automatic ones: None.
    until: datetime | None
    # For the console: the operator notice's id, or the automatic notice's failure count.
    notice_id: int | None = None
    failures: int | None = None


def in_force(settings: Settings, engine: Engine, outage: OutageWatch, *, now: datetime | None = None) -> list[Shown]:
    """Every notice to show now: the operator's, then the automatic guess for brokers the operator did not name.

    Blocking (the database): call it from a worker thread in async code.
    """
    # A notice for a broker that has since left the configuration names nothing anyone can test.
    configured = {broker.id for broker in settings.brokers}
    operator = [notice for notice in listing(engine, now=now) if notice.broker_id in configured]
    result = [
        Shown(
            broker_id=notice.broker_id,
            broker_name=(name := settings.broker(notice.broker_id).name),
            kind="operator",
            title=f"Storing bij {name}",
            text=f"{notice.text} Wij verwachten dat dit voorbij is op {dutch_time(notice.until, label=True)}.",
            until=notice.until,
            notice_id=notice.id,
        )
        for notice in reversed(operator)  # oldest first: the order in which they were posted
    ]
    named = {notice.broker_id for notice in operator}
    result += [
        automatic(settings, broker_id, failures)
        for broker_id, failures in sorted(outage.suspected(engine, now).items())
        if broker_id not in named and broker_id in configured
    ]
    return result


def automatic(settings: Settings, broker_id: str, failures: int) -> Shown:
    """The words for a broker that ``diagnostics.outage`` suspects: a guess, said as one."""
    name = settings.broker(broker_id).name
    return Shown(
        broker_id=broker_id,
        broker_name=name,
        kind="automatic",
        title=f"Mogelijk een storing bij {name}",
        text=f"In het afgelopen kwartier mislukten veel inlogtests via {name}. "
        "Dat ligt waarschijnlijk niet aan u. Probeer het later opnieuw.",
        until=None,
        failures=failures,
    )
