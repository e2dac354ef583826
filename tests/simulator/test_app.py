"""The simulator on its own (``inloghulp simulator``) and switched off inside the main app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from diagnostics.cli import app as cli_app
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.app import create_app as create_simulator_app
from diagnostics.simulator.scenarios import SCENARIO_IDS


def test_standalone_app_serves_the_simulator(settings: Settings, app_client: Callable[..., TestClient]) -> None:
    client = app_client(create_simulator_app(settings))
    metadata = client.get("/simulator/metadata")
    assert metadata.status_code == 200
    assert b"urn:etoegang:HM:" in metadata.content
    assert client.get("/simulator/").status_code == 200
    assert client.get("/simulator/static/simulator.css").headers["content-type"].startswith("text/css")
    assert client.get("/simulator/static/../keys.py").status_code == 404


def test_disabled_simulator_is_not_mounted(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path]
) -> None:
    config = write_config(
        {
            "simulator": {"enabled": False},
            "brokers": [{"id": "file", "name": "Bestand", "metadata_file": str(Path(__file__))}],
        }
    )
    client = app_client(load_settings(config))
    assert client.get("/simulator/metadata").status_code == 404


def test_cli_has_a_simulator_command() -> None:
    result = CliRunner().invoke(cli_app, ["simulator", "--help"])
    assert result.exit_code == 0
    assert "simulator" in result.output.lower()
    # Rich wraps the help text; every scenario id must still be there, whole.
    words = set(result.output.replace(",", " ").split())
    assert set(SCENARIO_IDS) <= words
