"""Dutch local time for people: winter and summer time, naive times taken as UTC, the Jinja filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from jinja2 import Environment

from diagnostics import localtime


def test_winter_time_is_one_hour_ahead_of_utc() -> None:
    assert localtime.dutch_time(datetime(2026, 11, 29, 11, 10, tzinfo=UTC)) == "29-11-2026 12:10"


def test_summer_time_is_two_hours_ahead_and_crosses_midnight() -> None:
    assert localtime.dutch_time(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "02-07-2026 00:30"


def test_naive_times_are_utc_and_other_zones_are_converted() -> None:
    assert localtime.dutch_time(datetime(2026, 1, 5, 8, 0)) == "05-01-2026 09:00"
    tokyo = timezone(timedelta(hours=9))
    assert localtime.dutch_time(datetime(2026, 1, 5, 17, 0, tzinfo=tokyo)) == "05-01-2026 09:00"


def test_label_says_it_is_dutch_time() -> None:
    moment = datetime(2026, 11, 29, 11, 10, tzinfo=UTC)
    assert localtime.dutch_time(moment, label=True) == "29-11-2026 12:10 (Nederlandse tijd)"


def test_the_zone_data_does_not_depend_on_the_os() -> None:
    # The tzdata package is a dependency: a slim container without /usr/share/zoneinfo still knows the zone.
    from importlib.resources import files

    assert files("tzdata").joinpath("zoneinfo", "Europe", "Amsterdam").is_file()


def test_jinja_filter() -> None:
    env = Environment(autoescape=True)
    localtime.register(env)
    template = env.from_string("{{ t | dutch_time }} / {{ t | dutch_time(label=true) }}")
    assert template.render(t=datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == (
        "29-03-2026 03:30 / 29-03-2026 03:30 (Nederlandse tijd)"
    )


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 seconde"),
        (30, "30 seconden"),
        (59, "59 seconden"),
        (60, "1 minuut"),
        (90, "1 minuut en 30 seconden"),
        (600, "10 minuten"),
        (3600, "1 uur"),
        (5400, "1 uur en 30 minuten"),
        (7261, "2 uur, 1 minuut en 1 seconde"),
        (0, "0 seconden"),
    ],
)
def test_durations_are_worded_exactly(seconds: int, words: str) -> None:
    # Under a minute is seconds, never "1 minuut".
    assert localtime.duration_words(seconds) == words
