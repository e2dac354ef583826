"""A real server whose embedded simulator is the broker, and the settings a test client needs to talk to it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from diagnostics.settings import Settings, load_settings
from tests.helpers.config import config_file, merge
from tests.helpers.live_server import LiveServer

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
