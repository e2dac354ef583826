"""One real server per test module, with the embedded simulator as its broker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagnostics.settings import Settings, load_settings
from tests.conftest import LiveServer, config_file, merge

SLOW_DELAY = 1.0


@dataclass(frozen=True)
class Simulated:
    server: LiveServer
    settings: Settings

    @property
    def sso_url(self) -> str:
        return f"{self.server.url}/simulator/sso"

    @property
    def ars_url(self) -> str:
        return f"{self.server.url}/simulator/ars"


def write(tmp: Path, sp_keypair: tuple[Path, Path], overrides: dict[str, object] | None = None) -> Path:
    """A configuration file whose simulator keys live in ``tmp``."""
    return config_file(tmp, *sp_keypair, merge({"simulator": {"slow_delay_seconds": SLOW_DELAY}}, overrides or {}))


def start(tmp: Path, sp_keypair: tuple[Path, Path], overrides: dict[str, object] | None = None) -> Simulated:
    config = write(tmp, sp_keypair, overrides)
    server = LiveServer(config)
    settings = load_settings(config).model_copy(update={"public_base_url": server.url})
    return Simulated(server, settings)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Iterator[Simulated]:
    """A server whose simulator accepts only text/xml on its ARS (the default)."""
    running = start(tmp_path_factory.mktemp("simulated"), sp_keypair)
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Settings:
    """Settings without a server, shared by a module: generating simulator keys per test is slow."""
    return load_settings(write(tmp_path_factory.mktemp("offline"), sp_keypair))
