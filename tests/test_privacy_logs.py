"""Privacy: real round trips leave no unmasked identifier in the logs, the database or our pages,
and ``inloghulp purge`` deletes sessions after the retention period."""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from diagnostics.cli import app as cli
from diagnostics.settings import load_settings
from diagnostics.simulator import entities
from diagnostics.store import SessionRow, Store

ROOT = Path(__file__).resolve().parent.parent

# (organisation index, person key, scenario, binding back to the service)
LOGINS = [
    (0, "jan", "success-loa2plus", "redirect"),
    (1, "fatima", "success-loa3", "post"),
    (2, "kees", "loa-too-low", "redirect"),
    (1, "jan", "wrong-service", "post"),
    (2, "fatima", "bad-signature", "redirect"),
    (0, "kees", "untrusted-key", "redirect"),
]


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no field {name} in the page"
    return html.unescape(match[1])


def _round_trip(client: httpx.Client, supplier: str, kvk: str, person: str, scenario: str, binding: str) -> str:
    """Through the chooser, the simulator's login screen and back; returns the reference code."""
    login = client.post("/diagnose/start", data={"broker": "simulator", "supplier": supplier})
    assert login.status_code == 200 and 'name="state"' in login.text, login.text[:500]
    form = {
        "state": _field(login.text, "state"),
        "supplier": supplier,
        "kvk": kvk,
        "person": person,
        "scenario": scenario,
        "scenario_id": scenario,
        "return_binding": binding,
        "action": "login",
    }
    answer = client.post("/simulator/login", data=form)
    if binding == "post":
        action = re.search(r'<form id="artifact-form" method="post" action="([^"]+)"', answer.text)
        assert action, answer.text[:500]
        fields = {"SAMLart": _field(answer.text, "SAMLart")}
        if 'name="RelayState"' in answer.text:
            fields["RelayState"] = _field(answer.text, "RelayState")
        answer = client.post(html.unescape(action[1]), data=fields)
    match = re.search(r"/diagnose/(BHP-[A-Z0-9]{4}-[A-Z0-9]{4})$", str(answer.url))
    assert match, f"{answer.status_code} {answer.url}"
    return match[1]


def _secrets(sp_entity_id: str) -> list[str]:
    """Every fake identifier the simulator can put in a response, unmasked."""
    values: list[str] = []
    for organisation in entities.ORGANISATIONS:
        values.append(organisation.kvk)
        for person in entities.PERSONS:
            values.append(entities.pseudonym(person.key, organisation.kvk, sp_entity_id))
    # Full names only: their parts ("Voorbeeld", "Simulator") also name the fake suppliers.
    values.extend(person.name for person in entities.PERSONS)
    return values


@pytest.mark.slow
def test_round_trips_leak_no_identifier(live_server: Callable[..., Any], tmp_path: Path) -> None:
    server = live_server()
    shown: list[str] = []
    references: list[str] = []
    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as client:
        suppliers = re.findall(r'name="supplier" value="([^"]+)"', client.get("/diagnose").text)
        assert suppliers
        for index, (organisation, person, scenario, binding) in enumerate(LOGINS):
            supplier = html.unescape(suppliers[index % len(suppliers)])
            kvk = entities.ORGANISATIONS[organisation].kvk
            reference = _round_trip(client, supplier, kvk, person, scenario, binding)
            references.append(reference)
            shown.append(client.get(f"/diagnose/{reference}").text)
            shown.append(client.get(f"/api/v1/diagnose/{reference}").text)
    logs = server.stop()
    assert len(set(references)) == len(LOGINS)
    assert "diagnostics session finished" in logs, "the test must see the service's own log lines"

    settings = load_settings(tmp_path / "inloghulp.toml")
    secrets = _secrets(settings.sp.entity_id)
    for value in secrets:
        assert value not in logs, f"unmasked identifier {value!r} in the server log"
        for page in shown:
            assert value not in page, f"unmasked identifier {value!r} on a result page"

    database = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        dump = "\n".join(connection.iterdump())
    assert all(reference in dump for reference in references), "the sessions are stored"
    for value in secrets:
        assert value not in dump, f"unmasked identifier {value!r} in the database"
    # What the servicedesk needs to recognise a value is there, masked.
    assert "******" + entities.ORGANISATIONS[0].kvk[-2:] in dump


def _age_session(store: Store, reference: str, days: float) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(SessionRow)
            .where(SessionRow.reference == reference)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


def test_purge_deletes_sessions_after_the_retention(write_config: Callable[..., Path]) -> None:
    config = write_config()
    settings = load_settings(config)
    assert settings.retention_days == 30, "the documented default"
    store = Store(settings.database_url)
    young = store.create_session(broker_id="simulator", supplier_id=None, request_id="_young")
    edge = store.create_session(broker_id="simulator", supplier_id=None, request_id="_edge")
    old = store.create_session(broker_id="simulator", supplier_id=None, request_id="_old")
    _age_session(store, edge.reference, 29.9)
    _age_session(store, old.reference, 30.1)

    result = CliRunner().invoke(cli, ["purge", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 diagnosesessies" in result.output
    assert store.get_session(old.reference) is None
    assert store.get_session(edge.reference) is not None
    assert store.get_session(young.reference) is not None

    result = CliRunner().invoke(cli, ["purge", "--config", str(config), "--days", "1"])
    assert result.exit_code == 0
    assert store.get_session(edge.reference) is None
    assert store.get_session(young.reference) is not None


def test_retention_is_configurable(write_config: Callable[..., Path]) -> None:
    assert load_settings(write_config({"retention_days": 7})).retention_days == 7


def test_privacy_page_says_what_is_stored_and_for_how_long() -> None:
    page = ROOT / "docs" / "privacy.md"
    assert page.is_file(), "docs/privacy.md is the help site's privacy section"
    text = page.read_text(encoding="utf-8")
    assert "30 dagen" in text
    assert "referentiecode" in text
    assert "KvK-nummer" in text and "onherkenbaar" in text
    assert "inloghulp purge" in text


@pytest.mark.parametrize("as_json", [False, True])
def test_explain_shows_identifiers_masked(write_config: Callable[..., Path], tmp_path: Path, as_json: bool) -> None:
    from diagnostics.simulator.responses import issue

    config = write_config()
    settings = load_settings(config)
    message = tmp_path / "antwoord.xml"
    message.write_bytes(issue(settings, "success-loa2plus", request_id="_privacy"))
    result = CliRunner().invoke(
        cli, ["explain", str(message), "--config", str(config), *(["--json"] if as_json else [])]
    )
    assert result.output.strip(), result.output
    for value in _secrets(settings.sp.entity_id):
        assert value not in result.output, f"unmasked identifier {value!r} in the explain output"
    assert "******" + entities.DEFAULT_KVK[-2:] in result.output
