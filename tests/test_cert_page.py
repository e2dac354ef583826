"""Words on the operator's certificate page: a status word per validity, and who must act."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

import pytest

from diagnostics import certs
from diagnostics.cert_page import days_text, dutch_date, owner_groups, view
from diagnostics.cert_status import CertificateStatus, describe, unavailable

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _status(
    days: int, *, starts_in: int = -1, owner: str = "sp", role: Literal["current", "next", "signing"] = "current"
) -> CertificateStatus:
    cert = certs.generate("T", days=days - starts_in, not_before=NOW + timedelta(days=starts_in)).cert
    name = "Ons" if owner == "sp" else "Makelaar X"
    return describe(cert, owner=owner, owner_name=name, role=role, now=NOW, activation=date(2026, 12, 20))


@pytest.mark.parametrize(
    ("days", "starts_in", "role", "validity", "status", "word"),
    [
        (200, -1, "current", "valid", "ok", "Geldig"),
        (10, -1, "current", "expiring", "warning", "Verloopt binnen 30 dagen"),
        (-3, -20, "current", "expired", "error", "Verlopen"),
        (200, 5, "current", "not-yet-valid", "error", "Nog niet geldig"),
        (200, 5, "next", "not-yet-valid", "ok", "Nog niet geldig"),  # normal for the next certificate
        (20, 5, "next", "expiring", "warning", "Verloopt binnen 30 dagen"),  # it will not last: that is the news
    ],
)
def test_status_word_per_validity(
    days: int,
    starts_in: int,
    role: Literal["current", "next", "signing"],
    validity: str,
    status: str,
    word: str,
) -> None:
    item = _status(days, starts_in=starts_in, role=role)
    assert (item.validity, item.status) == (validity, status)
    shown = view(item, "k", "t")
    assert shown.word == word
    assert shown.badge == {"ok": "pass", "warning": "warn", "error": "fail"}[status]


def test_broker_certificate_is_replaced_by_the_broker() -> None:
    shown = view(_status(10, owner="hm", role="signing"), "k", "t")
    assert shown.who == "De makelaar (Makelaar X)"
    assert shown.action.startswith("De makelaar vervangt dit certificaat. U laadt daarna de nieuwe metadata")
    assert view(_status(10), "k", "t").who == "Beheer (u)"


def test_unreadable_broker_metadata_is_for_the_operator_first() -> None:
    shown = view(unavailable("hm", "Makelaar X", "signing", "De metadata is niet op tijd opgehaald."), "k", "t")
    assert (shown.word, shown.badge, shown.who) == ("Niet te lezen", "fail", "Beheer (u)")
    assert shown.days_text == "Onbekend" and shown.valid_until is None


def test_keys_and_titles_are_unique_per_page() -> None:
    items = [_status(100), _status(100, role="next"), *(_status(100, owner="hm", role="signing") for _ in range(2))]
    groups = owner_groups(items)
    assert [group.owner for group in groups] == ["sp", "hm"]
    assert [c.key for c in groups[0].certificates] == ["sp-current", "sp-next"]
    assert [(c.key, c.title) for c in groups[1].certificates] == [
        ("hm-signing-1", "Ondertekeningscertificaat 1 van 2"),
        ("hm-signing-2", "Ondertekeningscertificaat 2 van 2"),
    ]


def test_dates_and_days_in_words() -> None:
    assert dutch_date(datetime(2026, 12, 9, 7, 5, tzinfo=UTC)) == "9 december 2026, 07:05 uur UTC"
    assert [days_text(n) for n in (1, 0, 12, -1, -4)] == [
        "1 dag",
        "0 dagen",
        "12 dagen",
        "Verlopen, 1 dag geleden",
        "Verlopen, 4 dagen geleden",
    ]
