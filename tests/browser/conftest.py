from __future__ import annotations

import shutil
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
