"""The ``inloghulp`` command: serve, build, init-keys, check-config and the diagnostics tools."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from diagnostics import certs, page_frame
from diagnostics.settings import Settings, config_path, load_settings
from diagnostics.settings_errors import config_errors
from diagnostics.simulator.scenarios import SCENARIO_HELP

app = typer.Typer(add_completion=False, no_args_is_help=True, help=f"{page_frame.SITE_NAME}.")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Configuratiebestand (standaard $INLOGHULP_CONFIG).")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Schrijf naar dit bestand (standaard stdout).")
]


def _report(title: str, lines: list[str]) -> None:
    typer.echo(title, err=True)
    for line in lines:
        typer.echo(f"  - {line}", err=True)


def settings_or_exit(path: Path | None, *, check_files: bool = True) -> Settings:
    """Load the settings and check the key and certificate files, or print what is wrong and exit 1.

    Never a traceback. Warnings (a certificate that expires soon) are printed but do not stop.
    ``check_files=False`` is for commands that create the files (init-keys).
    """
    try:
        settings = load_settings(path)
    except (ValidationError, tomllib.TOMLDecodeError, FileNotFoundError, OSError) as exc:
        _report("Configuratie ongeldig / invalid configuration:", config_errors(exc))
        raise typer.Exit(1) from None
    if check_files:
        from diagnostics.config_check import check_files as run_file_checks

        problems = run_file_checks(settings)
        errors = [str(p) for p in problems if p.severity == "error"]
        warnings = [str(p) for p in problems if p.severity == "warning"]
        if warnings:
            _report("Waarschuwing / warning:", warnings)
        if errors:
            _report("Configuratie ongeldig / invalid configuration:", errors)
            raise typer.Exit(1)
    return settings


@app.command("check-config")
def check_config(
    file: Annotated[Path | None, typer.Argument(help="Configuratiebestand (standaard $INLOGHULP_CONFIG).")] = None,
) -> None:
    """Controleer de configuratie: vormen, URN's, niveau, lengtes, sleutel en certificaten."""
    settings = settings_or_exit(file)
    from diagnostics.cert_status import sp_statuses, tls_client_statuses

    for cert in sp_statuses(settings):
        typer.echo(f"  sp.{cert.role}: {cert.status} - {cert.message} ({cert.fingerprint_sha256})")
    for index, broker in enumerate(settings.brokers):
        for cert in tls_client_statuses(broker):
            typer.echo(f"  brokers.{index}.tls-client: {cert.status} - {cert.message} ({cert.fingerprint_sha256})")
    typer.echo(f"Configuratie in orde / configuration OK: {file or config_path()}")


@app.command("init-keys")
def init_keys(config: ConfigOption = None) -> None:
    """Maak een testsleutel en testcertificaat voor de SP aan als ze nog ontbreken."""
    settings = settings_or_exit(config, check_files=False)
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
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile  # every worker writes its metrics here, so /metrics on any worker shows the total

        metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="inloghulp-metrics-")
    try:
        uvicorn.run("diagnostics.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")
    finally:
        if metrics_dir is not None:
            import shutil

            shutil.rmtree(metrics_dir, ignore_errors=True)


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


@app.command("dienstencatalogus")
def dienstencatalogus(
    config: ConfigOption = None,
    output: OutputOption = None,
    broker: Annotated[str | None, typer.Option(help="Id van de broker (standaard de eerste).")] = None,
) -> None:
    """Print our dienstencatalogus fragment (ServiceDefinition + ServiceInstance) for the broker."""
    settings = settings_or_exit(config)
    from diagnostics.dienstencatalogus import FragmentError, fragment

    try:
        xml = fragment(settings, broker)
    except FragmentError as exc:
        _report("Configuratie onvolledig / incomplete configuration:", [str(exc)])
        raise typer.Exit(1) from None
    if output is None:
        sys.stdout.buffer.write(xml)
    else:
        output.write_bytes(xml)
        typer.echo(f"Dienstencatalogus-fragment geschreven naar {output}", err=True)


# Its earlier name, for scripts that still call it ("catalogue" is the failure catalogue everywhere else).
app.command("catalogue", hidden=True)(dienstencatalogus)


@app.command()
def purge(
    config: ConfigOption = None,
    days: Annotated[int | None, typer.Option(help="Bewaartermijn in dagen (standaard retention_days).")] = None,
) -> None:
    """Verwijder diagnosesessies ouder dan de bewaartermijn, en verlopen replay- en artifactgegevens."""
    settings = settings_or_exit(config)
    from diagnostics.store import Store

    retention = days if days is not None else settings.retention_days
    deleted = Store(settings.database_url).purge(retention)
    typer.echo(f"{deleted} diagnosesessies ouder dan {retention} dagen verwijderd.")


@app.command("refresh-metadata")
def refresh_metadata(config: ConfigOption = None) -> None:
    """Haal de metadata van elke broker opnieuw op, controleer en vergelijk die met de vorige versie."""
    settings = settings_or_exit(config)
    from diagnostics.metadata_watch import refresh
    from diagnostics.store import Store

    failed = False
    for result in refresh(settings, Store(settings.database_url)):
        if result.error is not None:
            failed = True
            typer.echo(f"{result.broker_id}: GEWEIGERD / refused: {result.error}", err=True)
            continue
        typer.echo(f"{result.broker_id}: ok, {len(result.changes)} wijziging(en)")
        for change in result.changes:
            typer.echo(f"  wijziging ({change.kind}): {change.detail}")
        for warning in result.warnings:
            typer.echo(f"  waarschuwing: {warning}")
    raise typer.Exit(1 if failed else 0)


@app.command(epilog=SCENARIO_HELP)
def simulator(config: ConfigOption = None, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Start alleen de eHerkenning-simulator (geen echte eHerkenning) op een eigen poort."""
    settings_or_exit(config)
    import os

    import uvicorn

    if config is not None:
        os.environ["INLOGHULP_CONFIG"] = str(config)
    uvicorn.run("diagnostics.simulator.app:create_app", factory=True, host=host, port=port, log_level="info")


@app.command()
def explain(
    file: Annotated[Path, typer.Argument(help="SAML-antwoord: XML, base64, HAR of SAML-tracer-JSON ('-' = stdin).")],
    json_output: Annotated[bool, typer.Option("--json", help="Uitslag als JSON.")] = False,
    config: ConfigOption = None,
    broker_metadata: Annotated[Path | None, typer.Option(help="Metadata van de vertrouwde makelaar.")] = None,
    sp_key: Annotated[Path | None, typer.Option(help="Privésleutel om identificaties te ontsleutelen.")] = None,
    sp_entity_id: Annotated[str | None, typer.Option(help="Onze EntityID (Audience).")] = None,
    acs_url: Annotated[str | None, typer.Option(help="Ons ACS-adres (Destination, Recipient).")] = None,
    required_loa: Annotated[str | None, typer.Option(help="Vereist niveau, bijv. loa2plus of EH3.")] = None,
    service_id: Annotated[str | None, typer.Option(help="Onze ServiceID.")] = None,
    request_id: Annotated[str | None, typer.Option(help="Verwachte InResponseTo (anders niet vergeleken).")] = None,
    at: Annotated[str | None, typer.Option(help="Beoordeel alsof het nu dit tijdstip is (ISO 8601).")] = None,
) -> None:
    """Controleer een opgeslagen SAML-antwoord en leg uit wat er mis is."""
    from diagnostics.explain import Options, command

    options = Options(config, broker_metadata, sp_key, sp_entity_id, acs_url, required_loa, service_id, request_id, at)
    raise typer.Exit(command(file, options, as_json=json_output))


user_app = typer.Typer(no_args_is_help=True, help="Accounts voor de servicedeskconsole.")
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Naam van het account (kleine letters, cijfers, . _ -).")],
    config: ConfigOption = None,
) -> None:
    """Maak een account voor de servicedeskconsole; vraagt om het wachtwoord (argon2-hash)."""
    settings = settings_or_exit(config)
    from diagnostics.servicedesk import accounts
    from diagnostics.store import Store

    password = typer.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Herhaal het wachtwoord")
    try:
        accounts.create_user(Store(settings.database_url).engine, name, password)
    except accounts.AccountError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Account {accounts.normalise_name(name)} is gemaakt.")


notice_app = typer.Typer(
    no_args_is_help=True,
    help="Storingsmeldingen: op /diagnose, bij een mislukte test, op de helpsite en in de console.",
)
app.add_typer(notice_app, name="notice")


def _until(value: str) -> datetime:
    """An ISO 8601 moment; without a time zone it is Dutch time, as the operator reads the clock."""
    from diagnostics.localtime import AMSTERDAM

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        typer.echo(
            f"--until: geen tijdstip in ISO 8601, bijvoorbeeld 2026-12-24T17:00 / not ISO 8601: {value}", err=True
        )
        raise typer.Exit(1) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=AMSTERDAM)


@notice_app.command("add")
def notice_add(
    text: Annotated[str, typer.Argument(help="De tekst voor gebruikers: Nederlands (B1), hoogstens 300 tekens.")],
    broker: Annotated[str, typer.Option("--broker", help="Id van de herkenningsmakelaar.")],
    until: Annotated[str, typer.Option("--until", help="Tot wanneer (ISO 8601; zonder tijdzone: Nederlandse tijd).")],
    config: ConfigOption = None,
) -> None:
    """Zet een storingsmelding voor een makelaar op de site, tot --until."""
    settings = settings_or_exit(config)
    from diagnostics import notices
    from diagnostics.localtime import dutch_time
    from diagnostics.store import Store

    store = Store(settings.database_url)
    try:
        notice = notices.add(store.engine, settings, broker_id=broker, text=text, until=_until(until))
    except notices.NoticeError as exc:
        typer.echo(f"Melding niet geplaatst / notice not added: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"Melding {notice.id} staat op de site tot {dutch_time(notice.until, label=True)}.")


@notice_app.command("list")
def notice_list(
    include_past: Annotated[bool, typer.Option("--all", help="Ook beëindigde en verlopen meldingen.")] = False,
    config: ConfigOption = None,
) -> None:
    """Toon de storingsmeldingen die nu op de site staan."""
    settings = settings_or_exit(config)
    from diagnostics import notices
    from diagnostics.localtime import dutch_time
    from diagnostics.store import Store

    store = Store(settings.database_url)
    try:
        now = datetime.now(UTC)
        found = notices.listing(store.engine, now=now, include_past=include_past)
    finally:
        store.close()
    if not found:
        typer.echo("Er staat geen storingsmelding op de site.")
    for notice in found:
        if notice.active(now):
            state = f"tot {dutch_time(notice.until)}"
        elif notice.ended_at is not None:
            state = f"beëindigd {dutch_time(notice.ended_at)}"
        else:
            state = f"verlopen {dutch_time(notice.until)}"
        typer.echo(f"{notice.id}\t{notice.broker_id}\t{state}\t{notice.text}")


@notice_app.command("end")
def notice_end(
    notice_id: Annotated[int, typer.Argument(help="Het nummer van de melding (inloghulp notice list).")],
    config: ConfigOption = None,
) -> None:
    """Haal een storingsmelding nu van de site."""
    settings = settings_or_exit(config)
    from diagnostics import notices
    from diagnostics.store import Store

    store = Store(settings.database_url)
    try:
        ended = notices.end(store.engine, notice_id)
    finally:
        store.close()
    if ended is None:
        typer.echo(f"Melding {notice_id} staat niet (meer) op de site / no such notice in force.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Melding {notice_id} is van de site gehaald.")


def main() -> None:
    try:
        app()
    except subprocess.CalledProcessError as exc:
        typer.echo(f"Opdracht mislukt / command failed: {exc.cmd}", err=True)
        sys.exit(1)
