"""Times for Dutch readers: a moment shown in Dutch local time (Europe/Amsterdam), as "29-11-2026 12:10".

Use this for what a person reads on a page (result page, waiting page, copy text, servicedesk screens).
Keep UTC in technical traces: SAML times are UTC and that is what the servicedesk compares.

API (small on purpose):
- ``dutch_time(moment)`` → "29-11-2026 12:10"
- ``dutch_time(moment, label=True)`` → "29-11-2026 12:10 (Nederlandse tijd)"
- ``AMSTERDAM``: the ZoneInfo, for callers that need the local datetime itself.
- ``duration_words(seconds)`` → "30 seconden", "1 minuut", "1 uur en 30 minuten": a length of time in Dutch words.
- ``register(env)``: adds the Jinja filter ``dutch_time`` (``{{ moment | dutch_time }}``, ``dutch_time(label=true)``).

The time zone data comes from the ``tzdata`` package (a dependency), so it works without the OS database too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LABEL = "(Nederlandse tijd)"


def dutch_time(moment: datetime, *, label: bool = False) -> str:
    """``moment`` in Dutch local time (winter and summer time), day-month-year hour:minute.

    A naive ``moment`` is taken as UTC: that is how the store and the checks keep time.
    """
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    text = aware.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")
    return f"{text} {LABEL}" if label else text


def _count(number: int, one: str, more: str) -> str:
    return f"{number} {one if number == 1 else more}"


def duration_words(seconds: float) -> str:
    """A length of time as people say it, exactly: "30 seconden", "10 minuten", "1 minuut en 30 seconden".

    Never rounded to whole minutes: a 30-second timeout worded as "1 minuut" tells the user to wait twice as long.
    """
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        text
        for number, text in (
            (hours, _count(hours, "uur", "uur")),
            (minutes, _count(minutes, "minuut", "minuten")),
            (secs, _count(secs, "seconde", "seconden")),
        )
        if number
    ]
    if not parts:
        return "0 seconden"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} en {parts[-1]}"


def register(env: Environment) -> None:
    """Make ``dutch_time`` available as a Jinja filter in ``env`` (e.g. ``Jinja2Templates(...).env``)."""
    env.filters["dutch_time"] = dutch_time
