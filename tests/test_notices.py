"""Operator notices: `inloghulp notice add/list/end`, the writing rules, and every surface that shows them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from diagnostics import notices
from diagnostics.catalogue import load_catalogue
from diagnostics.cli import app as cli
from diagnostics.outage import OutageWatch
from diagnostics.settings import Settings, load_settings
from diagnostics.store import Store
from diagnostics.verdict import Verdict
from tests.helpers.brokers import simulator_handler
from tests.helpers.console import console_client, login

pytestmark = pytest.mark.usefixtures("cheap_argon2")  # the console's test-sized password hashing

TEXT = "Inloggen via de Simulator lukt nu niet. De makelaar werkt eraan."
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def config(write_config: Callable[..., Path]) -> Path:
    brokers = [
        {"id": "simulator", "name": "Simulator", "embedded": True},
        {"id": "tweede", "name": "Tweede makelaar", "embedded": True},
    ]
    return write_config({"brokers": brokers}, name="notices.toml")


@pytest.fixture
def two_brokers(config: Path) -> Settings:
    return load_settings(config)


@pytest.fixture
def store(two_brokers: Settings, open_store: Callable[[str], Store]) -> Store:
    return open_store(two_brokers.database_url)


# ── the writing rules ──


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "De tekst is leeg."),
        ("Er is een fout opgetreden bij de makelaar.", "Gebruik 'er is een fout opgetreden' niet (schrijfregels)."),
        ("Ik los het op.", "Schrijf met 'wij' en 'u', niet met 'Ik'."),
        ("Heeft u vragen? Bel de servicedesk.", "Schrijf 'hebt u', niet 'Heeft u'."),
        ("Inloggen lukt nu niet", "Eindig de tekst met een punt, uitroepteken of vraagteken."),
        ("Inloggen lukt nu niet.\nWacht even.", "De tekst mag geen tab of nieuwe regel bevatten."),
        ("Storing. " * 40, "De tekst is 360 tekens lang; het mogen er hoogstens 300 zijn."),
        (" ".join(["woord"] * 26) + ".", "langer dan 25 woorden"),
    ],
)
def test_the_text_follows_the_writing_rules(text: str, problem: str) -> None:
    assert any(problem in found for found in notices.text_problems(text)), notices.text_problems(text)


def test_a_plain_short_text_passes() -> None:
    assert notices.text_problems(TEXT) == []


@pytest.mark.parametrize(
    ("broker", "until", "message"),
    [
        ("nergens", NOW + timedelta(hours=2), "Onbekende makelaar 'nergens'. Kies uit: simulator, tweede."),
        ("simulator", NOW - timedelta(minutes=1), "De eindtijd ligt niet in de toekomst."),
        ("simulator", NOW + timedelta(days=32), "De eindtijd ligt meer dan 31 dagen vooruit."),
        ("simulator", datetime(2026, 12, 8, 12, 0), "Geef de eindtijd met een tijdzone."),
    ],
)
def test_a_notice_needs_a_known_broker_and_an_end_in_reach(
    two_brokers: Settings, store: Store, broker: str, until: datetime, message: str
) -> None:
    with pytest.raises(notices.NoticeError, match=message.replace("(", r"\(")):
        notices.add(store.engine, two_brokers, broker_id=broker, text=TEXT, until=until, now=NOW)
    assert notices.listing(store.engine, include_past=True) == []


def test_a_notice_is_in_force_until_its_time_or_its_end(two_brokers: Settings, store: Store) -> None:
    first = notices.add(
        store.engine, two_brokers, broker_id="simulator", text=TEXT, until=NOW + timedelta(hours=1), now=NOW
    )
    second = notices.add(
        store.engine, two_brokers, broker_id="tweede", text=TEXT, until=NOW + timedelta(hours=3), now=NOW
    )
    assert [n.id for n in notices.listing(store.engine, now=NOW)] == [second.id, first.id]
    assert [n.id for n in notices.listing(store.engine, now=NOW + timedelta(hours=2))] == [second.id]
    ended = notices.end(store.engine, second.id, now=NOW + timedelta(hours=2))
    assert ended is not None and ended.ended_at == NOW + timedelta(hours=2)
    assert notices.end(store.engine, second.id, now=NOW + timedelta(hours=2)) is None  # once
    assert notices.listing(store.engine, now=NOW + timedelta(hours=2)) == []
    assert len(notices.listing(store.engine, include_past=True)) == 2


# ── the command ──


def test_notice_add_list_end(config: Path) -> None:
    runner = CliRunner()
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(tzinfo=None, microsecond=0).isoformat()
    added = runner.invoke(
        cli, ["notice", "add", "--broker", "simulator", "--until", until, "--config", str(config), TEXT]
    )
    assert added.exit_code == 0, added.stdout
    assert added.stdout.startswith("Melding 1 staat op de site tot ")
    assert "(Nederlandse tijd)" in added.stdout

    listed = runner.invoke(cli, ["notice", "list", "--config", str(config)])
    assert listed.exit_code == 0 and "1\tsimulator\ttot " in listed.stdout and TEXT in listed.stdout

    ended = runner.invoke(cli, ["notice", "end", "1", "--config", str(config)])
    assert (ended.exit_code, ended.stdout) == (0, "Melding 1 is van de site gehaald.\n")
    assert runner.invoke(cli, ["notice", "end", "1", "--config", str(config)]).exit_code == 1
    assert (
        "Er staat geen storingsmelding op de site." in runner.invoke(cli, ["notice", "list", "-c", str(config)]).output
    )
    assert "\tbeëindigd " in runner.invoke(cli, ["notice", "list", "--all", "-c", str(config)]).output


def test_notice_add_refuses_what_breaks_the_rules(config: Path) -> None:
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    result = CliRunner().invoke(
        cli, ["notice", "add", "--broker", "simulator", "--until", until, "-c", str(config), "Sorry, storing."]
    )
    assert result.exit_code == 1
    assert "Melding niet geplaatst / notice not added: Gebruik 'sorry' niet (schrijfregels)." in result.output
    bad_time = CliRunner().invoke(
        cli, ["notice", "add", "--broker", "simulator", "--until", "morgen", "-c", str(config), TEXT]
    )
    assert bad_time.exit_code == 1 and "--until: geen tijdstip in ISO 8601" in bad_time.output


# ── the surfaces ──


@pytest.fixture
def client(two_brokers: Settings, store: Store) -> Iterator[TestClient]:
    with console_client(two_brokers, store) as test_client:
        yield test_client


def _failed(store: Store, broker: str, diagnosis: str = "broker-error") -> str:
    session = store.create_session(broker_id=broker, supplier_id=None, request_id=None)
    found = load_catalogue().diagnosis(diagnosis) if diagnosis != "ok" else None
    store.finish_session(session.reference, Verdict(verdict="failed" if found else "ok", diagnosis=found, checks=[]))
    return session.reference


def test_a_notice_shows_on_the_chooser_the_widget_a_failing_result_and_the_console(
    two_brokers: Settings, store: Store, client: TestClient
) -> None:
    notice = notices.add(
        store.engine, two_brokers, broker_id="simulator", text=TEXT, until=datetime.now(UTC) + timedelta(hours=1)
    )
    title = "Storing bij Simulator"

    assert title in client.get("/diagnose").text
    (shown,) = client.get("/api/v1/notices").json()
    assert (shown["broker"], shown["kind"], shown["title"]) == ("simulator", "operator", title)
    assert shown["text"].startswith(TEXT + " Wij verwachten dat dit voorbij is op ")

    # On the result of a failing test with that broker; not on a good test, nor on another broker's failure.
    assert title in client.get(f"/diagnose/{_failed(store, 'simulator')}").text
    assert title not in client.get(f"/diagnose/{_failed(store, 'simulator', 'ok')}").text
    assert title not in client.get(f"/diagnose/{_failed(store, 'tweede')}").text

    login(client)
    console = client.get("/servicedesk").text
    assert f"Melding {notice.id} van beheer: {TEXT}" in console

    notices.end(store.engine, notice.id)
    assert title not in client.get("/diagnose").text
    assert client.get("/api/v1/notices").json() == []
    assert "Er is nu geen storing bekend." in client.get("/servicedesk").text


def test_the_operator_has_the_last_word_over_the_guess(two_brokers: Settings, store: Store) -> None:
    for _ in range(5):
        _failed(store, "simulator")
        _failed(store, "tweede")
    notices.add(
        store.engine, two_brokers, broker_id="simulator", text=TEXT, until=datetime.now(UTC) + timedelta(hours=1)
    )
    shown = notices.in_force(two_brokers, store.engine, OutageWatch(5))
    assert [(n.broker_id, n.kind, n.title) for n in shown] == [
        ("simulator", "operator", "Storing bij Simulator"),
        ("tweede", "automatic", "Mogelijk een storing bij Tweede makelaar"),
    ]


def test_the_automatic_notice_on_the_pages_names_no_user(
    settings: Settings, app_client: Callable[..., TestClient], open_store: Callable[[str], Store]
) -> None:
    store = open_store(settings.database_url)
    for _ in range(settings.notices.outage_threshold):
        _failed(store, "simulator", "artifact-resolve-failed")
    client = app_client(settings, broker_transport=httpx.MockTransport(simulator_handler(settings)))
    chooser = client.get("/diagnose")
    assert "Mogelijk een storing bij Simulator" in chooser.text
    body = client.get("/api/v1/notices").json()
    assert body == [
        {
            "broker": "simulator",
            "broker_name": "Simulator",
            "kind": "automatic",
            "title": "Mogelijk een storing bij Simulator",
            "text": "In het afgelopen kwartier mislukten veel inlogtests via Simulator. "
            "Dat ligt waarschijnlijk niet aan u. Probeer het later opnieuw.",
            "until": None,
        }
    ]
    references = [session.reference for session in store.recent_sessions()]
    assert not any(reference in chooser.text or reference in str(body) for reference in references)
