"""The server refuses to start on a bad configuration: exit code, the message, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from diagnostics import certs

ROOT = Path(__file__).resolve().parent.parent


def _serve(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diagnostics", "serve", "--config", str(config), "--port", "9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"service": {"provider_oin": "123"}}, "service.provider_oin: een OIN is precies 20 cijfers"),
        ({"sp": {"key_file": "/nonexistent/sp-key.pem"}}, "sp.key_file: bestand niet gevonden"),
    ],
    ids=["bad-oin", "missing-key"],
)
def test_serve_refuses_bad_config(
    overrides: dict[str, object], expected: str, write_config: Callable[..., Path]
) -> None:
    result = _serve(write_config(overrides, name="bad.toml"))
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_refuses_key_that_does_not_match(write_config: Callable[..., Path], tmp_path: Path) -> None:
    certs.write(certs.generate("Other"), tmp_path / "other-key.pem", tmp_path / "other-cert.pem")
    result = _serve(write_config({"sp": {"key_file": str(tmp_path / "other-key.pem")}}, name="bad.toml"))
    assert result.returncode == 1
    assert "sp.key_file: sleutel hoort niet bij sp.cert_file" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_check_config_uses_environment_default(write_config: Callable[..., Path]) -> None:
    path = write_config()
    result = subprocess.run(
        [sys.executable, "-m", "diagnostics", "check-config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"INLOGHULP_CONFIG": str(path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert f"configuration OK: {path}" in result.stdout
