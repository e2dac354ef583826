from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian package 'chromium' is missing; `make system-deps` installs it")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def built_site_dir(tmp_path_factory: pytest.TempPathFactory, sp_keypair: tuple[Path, Path]) -> Path:
    """The help site as ``inloghulp build`` makes it now, in a folder of its own (built once per session)."""
    from tests.site.helpers import build_site

    work = tmp_path_factory.mktemp("browser-site")
    result = build_site(work / "site", sp_keypair, work)
    if result.returncode != 0:
        pytest.fail(f"inloghulp build failed:\n{result.stdout}\n{result.stderr}")
    return work / "site"
