"""One real server per test module, with the embedded simulator as its broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from diagnostics.settings import Settings, load_settings
from tests.helpers.simulated import Simulated, start, write


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
