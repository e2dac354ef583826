"""The ``inloghulp`` command: serve, build, init-keys, check-config and the diagnostics tools."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from diagnostics import certs
from diagnostics.settings import Settings, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Bronhouderportaal inloghulp.")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuratiebestand (standaard $INLOGHULP_CONFIG).")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Schrijf naar dit bestand (standaard stdout).")
]


def config_errors(exc: Exception) -> list[str]:
    """Readable lines for a configuration that cannot be used, each naming the field."""
    if isinstance(exc, ValidationError):
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "(bestand)"
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{field}: {message}")
        return lines
    if isinstance(exc, tomllib.TOMLDecodeError):
        return [f"(bestand): geen geldige TOML / not valid TOML: {exc}"]
    return [str(exc)]


def settings_or_exit(path: Path | None) -> Settings:
    """Load the settings, or print what is wrong and stop with exit code 1 (never a traceback)."""
    try:
        return load_settings(path)
    except (ValidationError, tomllib.TOMLDecodeError, FileNotFoundError, OSError) as exc:
        typer.echo("Configuratie ongeldig / invalid configuration:", err=True)
        for line in config_errors(exc):
            typer.echo(f"  - {line}", err=True)
        raise typer.Exit(1) from None


@app.command("init-keys")
def init_keys(config: ConfigOption = None) -> None:
    """Maak een testsleutel en testcertificaat voor de SP aan als ze nog ontbreken."""
    settings = settings_or_exit(config)
    certs.ensure(
        settings.sp.key_file,
        settings.sp.cert_file,
        common_name=f"{settings.service.provider_name} (test)",
        serial_number=settings.service.provider_oin,
    )
    typer.echo(f"SP-sleutel: {settings.sp.key_file}, certificaat: {settings.sp.cert_file}")


@app.command()
def build(config: ConfigOption = None, strict: bool = True) -> None:
    """Bouw de helpsite (mkdocs) met de waarden uit de configuratie."""
    settings = settings_or_exit(config)
    from diagnostics.sitebuild import build_site

    raise typer.Exit(build_site(settings, strict=strict))


@app.command()
def serve(
    config: ConfigOption = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
) -> None:
    """Start de helpsite, de diagnosedienst en de simulator."""
    settings_or_exit(config)  # refuse to start on an invalid configuration, with the same message
    import os

    import uvicorn

    if config is not None:
        # Worker processes load the app themselves and find the file through the environment.
        os.environ["INLOGHULP_CONFIG"] = str(config)
    uvicorn.run("diagnostics.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@app.command()
def metadata(config: ConfigOption = None, output: OutputOption = None) -> None:
    """Print our SAML SP metadata (EntityDescriptor) for the herkenningsmakelaar."""
    settings = settings_or_exit(config)
    from diagnostics.saml.metadata import sp_metadata

    xml = sp_metadata(settings)
    if output is None:
        sys.stdout.buffer.write(xml + b"\n")
    else:
        output.write_bytes(xml)
        typer.echo(f"SP-metadata geschreven naar {output}", err=True)


def main() -> None:
    try:
        app()
    except subprocess.CalledProcessError as exc:
        typer.echo(f"Opdracht mislukt / command failed: {exc.cmd}", err=True)
        sys.exit(1)
