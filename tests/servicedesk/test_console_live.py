"""A real round trip against the embedded simulator, then the servicedesk looks the reference up over HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from diagnostics.settings import load_settings
from diagnostics.simulator import entities
from tests.helpers.config import ROOT
from tests.helpers.console import PASSWORD, USER, csrf_token
from tests.helpers.live_server import LiveServer
from tests.routes.roundtrip_server import roundtrip_server, run_test

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("console-live")
    with roundtrip_server(directory) as live:
        yield live


def config_of(server: LiveServer) -> Path:
    return Path(server.process.args[server.process.args.index("--config") + 1])


def add_user_with_the_cli(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diagnostics", "user", "add", USER, "--config", str(config)],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_servicedesk_sees_the_redacted_trace_of_a_real_round_trip(server: LiveServer) -> None:
    config = config_of(server)
    created = add_user_with_the_cli(config)
    assert created.returncode == 0, created.stderr
    assert "is gemaakt" in created.stdout
    assert PASSWORD not in created.stdout + created.stderr
    again = add_user_with_the_cli(config)
    assert again.returncode == 1 and "al een account" in again.stderr

    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as user:
        reference, page = run_test(user, "success-loa3")
        assert page.status_code == 200

    settings = load_settings(config)
    secrets = [org.kvk for org in entities.ORGANISATIONS] + [
        entities.pseudonym(person.key, org.kvk, settings.sp.entity_id)
        for person in entities.PERSONS
        for org in entities.ORGANISATIONS
    ]
    with httpx.Client(base_url=server.url, timeout=30) as desk:
        assert desk.get(f"/servicedesk/referentie/{reference}").status_code == 303
        login_page = desk.get("/servicedesk/login")
        response = desk.post(
            "/servicedesk/login",
            data={
                "name": USER,
                "password": PASSWORD,
                "csrf_token": csrf_token(login_page.text),
                "next": "/servicedesk",
            },
        )
        assert response.status_code == 303
        start = desk.get("/servicedesk")
        found = desk.post(
            "/servicedesk/zoek",
            data={"code": reference.lower(), "csrf_token": csrf_token(start.text)},
            follow_redirects=True,
        )
    assert found.status_code == 200
    html = found.text
    assert reference in html
    assert "Uitkomst: Gelukt" in html
    assert "success-loa3" in html  # the scenario
    assert "Simulator" in html  # the broker
    assert "identif" in html.lower()  # the identifier check is in the trace, masked
    for value in secrets:
        assert value not in html
