"""``inloghulp explain FILE``: run the checker on a saved SAML answer and say, in Dutch, what went wrong.

The servicedesk gets a file (XML, a form value, a HAR or a SAML-tracer export) and wants the verdict,
the failed check and who must act. Configuration comes from the settings file; every flag overrides
one value, so a file can also be checked without any configuration at all.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from pydantic import ValidationError

from diagnostics import artifact_mentions, checks, metrics, user_answer, xmlsafe
from diagnostics.catalogue import WHO_LABELS, load_catalogue
from diagnostics.loa import Loa
from diagnostics.saml import inputs
from diagnostics.saml_names import SAML
from diagnostics.settings import Settings, load_settings
from diagnostics.settings_errors import config_errors
from diagnostics.verdict import CheckResult, Verdict
from diagnostics.xmltree import text_of

MARKERS = {"pass": ("✓", "geslaagd"), "fail": ("✗", "mislukt"), "warn": ("!", "let op"), "skip": ("–", "overgeslagen")}
VERDICT_WORDS = {
    "ok": "IN ORDE: dit inlogantwoord is goed.",
    "failed": "MISLUKT",
    "inconclusive": "NIET VAST TE STELLEN: niet alles kon worden gecontroleerd.",
}
# Measured values worth showing even when a check passes: the numbers people ask about.
ALWAYS_SHOWN = {"time", "signature", "identifiers"}


class UsageError(Exception):
    """A flag, file or configuration problem: exit code 2 with this Dutch message."""


@dataclass(frozen=True)
class Options:
    """The ``explain`` flags; None means: take it from the configuration."""

    config: Path | None = None
    broker_metadata: Path | None = None
    sp_key: Path | None = None
    sp_entity_id: str | None = None
    acs_url: str | None = None
    required_loa: str | None = None
    service_id: str | None = None
    request_id: str | None = None
    at: str | None = None


@dataclass(frozen=True)
class Trusted:
    entity_id: str
    certs: tuple[x509.Certificate, ...]
    source: str


def parse_loa(value: str) -> Loa:
    """``loa3``, ``EH2+``, ``2+``, ``3`` or the full URN → the level; UsageError otherwise."""
    level = Loa.parse(value)
    if level is not None:
        return level
    raise UsageError(f"Onbekend niveau {value!r}. Gebruik bijvoorbeeld loa2plus, loa3 of EH2+.")


def parse_at(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {value!r} is geen ISO 8601-tijd (bijvoorbeeld 2026-03-01T09:30:00Z).")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _settings(options: Options) -> Settings | None:
    from diagnostics.settings import config_path

    path = options.config or config_path()
    if options.config is None and not path.is_file():
        return None
    try:
        return load_settings(path)
    except (ValidationError, tomllib.TOMLDecodeError, FileNotFoundError, OSError) as exc:
        raise UsageError("Configuratie ongeldig:\n" + "\n".join(f"  - {line}" for line in config_errors(exc)))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{what} {path} is niet te lezen: {exc.strerror or exc}.")


def _metadata_trust(path: Path) -> list[Trusted]:
    from diagnostics.brokers import BrokerError, Trust, parse_metadata
    from diagnostics.settings import BrokerConfig

    config = BrokerConfig(id="explain", name="de opgegeven makelaar", metadata_file=path)
    try:
        # The servicedesk chose this file; like an installed metadata file it is trusted as configuration.
        info = parse_metadata(
            _read(path, "Het metadatabestand"), config, Trust((), require_signature=False), source=str(path)
        )
    except BrokerError as exc:
        raise UsageError(f"Metadata {path}: {exc.message}")
    return [Trusted(info.entity_id, info.signing_certs, str(path))]


def _configured_trust(settings: Settings) -> list[Trusted]:
    from diagnostics.brokers import BrokerError, load_broker
    from diagnostics.simulator.embedded import embedded_broker

    found: list[Trusted] = []
    for broker in settings.brokers:
        try:
            info = load_broker(settings, broker.id, embedded=embedded_broker(settings))
        except BrokerError:
            continue  # this broker cannot vouch for anything; the signature check says so if it matters
        found.append(Trusted(info.entity_id, info.signing_certs, info.source))
    return found


def _issuer_of(message: bytes, max_bytes: int) -> str | None:
    try:
        root = xmlsafe.parse(message, max_bytes=max_bytes)
    except xmlsafe.UnsafeXmlError:
        return None
    for node in root.iter(f"{{{SAML}}}Issuer"):
        return text_of(node)
    return None


def build_context(options: Options, message: bytes) -> checks.CheckContext:
    """The check context from configuration plus flags; UsageError when a needed value is missing."""
    settings = _settings(options)
    max_bytes = settings.max_message_bytes if settings else xmlsafe.DEFAULT_MAX_BYTES
    if options.broker_metadata is not None:
        trusted = _metadata_trust(options.broker_metadata)
    else:
        trusted = _configured_trust(settings) if settings else []
    issuer = _issuer_of(message, max_bytes)
    broker = next((t for t in trusted if t.entity_id == issuer), trusted[0] if trusted else None)
    if options.sp_key is not None:
        keys: Sequence[bytes] = (_read(options.sp_key, "De sleutel"),)
    elif settings is not None:
        keys = tuple(key for key in [_optional(settings.sp.key_file)] if key)
    else:
        keys = ()
    values = {
        "--sp-entity-id": options.sp_entity_id or (settings.sp.entity_id if settings else None),
        "--acs-url": options.acs_url or (settings.acs_url if settings else None),
        "--service-id": options.service_id or (settings.service.service_id if settings else None),
    }
    missing = [flag for flag, value in values.items() if not value]
    if missing:
        raise UsageError(
            "Geen configuratie gevonden en niet opgegeven: " + ", ".join(missing) + ". Gebruik --config of deze opties."
        )
    required = parse_loa(options.required_loa) if options.required_loa else None
    return checks.CheckContext(
        sp_entity_id=str(values["--sp-entity-id"]),
        acs_url=str(values["--acs-url"]),
        required_loa=required or (settings.service.required_loa if settings else Loa.EH2PLUS),
        service_id=str(values["--service-id"]),
        trusted_certs=broker.certs if broker else (),
        broker_entity_id=broker.entity_id if broker else None,
        sp_key_pems=keys,
        expected_request_id=options.request_id,
        now=parse_at(options.at) if options.at else None,
        allowed_skew_seconds=settings.allowed_clock_skew_seconds if settings else 60,
        max_bytes=max_bytes,
    )


def _optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def explain_bytes(data: bytes, options: Options) -> tuple[Verdict, str]:
    """The verdict for a file's content and, in Dutch, where the message was found."""
    if options.at:
        parse_at(options.at)  # a bad flag is a usage error even when the file is unusable
    if options.required_loa:
        parse_loa(options.required_loa)
    try:
        extracted = inputs.extract(data)
    except inputs.InputError as exc:
        failed = CheckResult(id="input", status="fail", detail=exc.message, diagnosis=exc.diagnosis)
        skipped = [
            CheckResult(id=check_id, status="skip", detail="Overgeslagen: er is geen SAML-bericht gevonden.")
            for check_id in list(checks.CHECK_TITLES)[1:]
        ]
        return checks.verdict_from([failed, *skipped]), "onbekend"
    context = build_context(options, extracted.message)
    metrics.explain_called("cli")
    return checks.run(extracted.message, context), extracted.source


@dataclass(frozen=True)
class ArtifactOnly:
    """A file with only the browser's side of HTTP-Artifact: it names tests but holds no answer to check.

    The normal case for a HAR of a real test (the answer goes over the back channel), so the servicedesk must
    hear which test to look up, not "unreadable answer, the operator must act".
    """

    kind: str  # "Dit HAR-bestand", "Deze URL", ... (artifact_mentions.Found.kind)
    references: tuple[str, ...]  # the tests it names, the last one first

    @property
    def message(self) -> str:
        return (
            f"{self.kind} bevat geen inlogantwoord, alleen een verwijzing (artifact) of het verzoek naar de "
            "eHerkenningsmakelaar. Het antwoord van de makelaar gaat niet via de browser."
        )


def artifact_only(data: bytes, options: Options, verdict: Verdict) -> ArtifactOnly | None:
    """For a verdict that found no SAML answer in ``data``: the tests the file names, if it names any."""
    first = verdict.checks[0] if verdict.checks else None
    if first is None or first.id != "input" or first.status != "fail":
        return None
    settings = _settings(options)
    acs_url = options.acs_url or (settings.acs_url if settings else "")
    found = artifact_mentions.find(data.decode("utf-8", errors="replace"), acs_url)
    if found is None:
        return None
    named = [mention.reference for mention in reversed(found.mentions) if mention.reference]
    return ArtifactOnly(found.kind, tuple(dict.fromkeys(named)))


# --- rendering -----------------------------------------------------------------------------------


def render_artifact_only(only: ArtifactOnly, *, name: str | None = None) -> str:
    lines = ["Controle van een eHerkenning-inlogantwoord (inloghulp explain)"]
    if name:
        lines.append(f"Bestand: {name}")
    lines += ["", only.message]
    if only.references:
        latest, *others = only.references
        lines.append(
            f"Het gaat om inlogtest {latest}. Zoek die code op in de servicedeskconsole: daar staat de uitkomst."
        )
        if others:
            lines.append("Eerdere tests in dit bestand: " + ", ".join(others) + ".")
    else:
        lines.append("Er staat geen referentiecode in. Vraag de melder om de code van de inlogtest (begint met BHP).")
    lines.append(f"Wie moet iets doen: {WHO_LABELS['servicedesk']} (servicedesk)")
    return "\n".join(lines) + "\n"


def render_json(verdict: Verdict) -> str:
    return verdict.model_dump_json(indent=2)


def render_text(verdict: Verdict, *, source: str | None = None, name: str | None = None) -> str:
    """A plain-text Dutch report that reads well without colour: markers are always followed by words."""
    lines = ["Controle van een eHerkenning-inlogantwoord (inloghulp explain)"]
    if name:
        lines.append(f"Bestand: {name}")
    if source:
        lines.append(f"Gevonden: {source}")
    lines.append("")
    if verdict.diagnosis is not None:
        lines.append(f"Uitslag: {VERDICT_WORDS[verdict.verdict]}: {verdict.diagnosis.title}")
        lines.append(f"Wat nu: {verdict.diagnosis.advice}")
        who = verdict.diagnosis.who
        lines.append(f"Wie moet iets doen: {WHO_LABELS.get(who, who)} ({who})")
        lines.append(f"Code: {verdict.diagnosis.id}")
        lines += _question_lines(verdict.diagnosis.id)
    else:
        lines.append(f"Uitslag: {VERDICT_WORDS[verdict.verdict]}")
        if verdict.verdict == "inconclusive":
            skipped = [c for c in verdict.checks if c.status == "skip" and c.detail.startswith("Niet ")]
            for check in skipped:
                lines.append(f"  {checks.CHECK_TITLES.get(check.id, check.id)}: {check.detail}")
    if verdict.reference:
        lines.append(f"Referentie: {verdict.reference}")
    lines.append("")
    lines.append("Controles, in volgorde:")
    width = max(len(title) for title in checks.CHECK_TITLES.values())
    for number, check in enumerate(verdict.checks, start=1):
        marker, word = MARKERS[check.status]
        title = checks.CHECK_TITLES.get(check.id, check.id)
        lines.append(f"{number:>2}. {marker} {word:<12} {title:<{width}}  {check.detail}")
        if check.data and (check.status in ("fail", "warn") or check.id in ALWAYS_SHOWN):
            for key, value in check.data.items():
                if value:
                    lines.append(f"{'':>{width + 20}}{key}: {value}")
    lines.append("")
    lines.append("Tekens: ✓ geslaagd, ✗ mislukt, ! let op, – overgeslagen.")
    return "\n".join(lines) + "\n"


def _question_lines(diagnosis_id: str) -> list[str]:
    """For a diagnosis only the user can complete: the question the result page asks, and where each answer leads."""
    if diagnosis_id not in user_answer.ASKED_FOR:
        return []
    catalogue = load_catalogue()
    lines = ["", f'Vraag de melder: "{user_answer.QUESTION}" Het antwoord bepaalt de uitkomst:']
    for option in user_answer.ANSWERS:
        target = user_answer.refined(option, diagnosis_id)
        lines.append(f"  - {option.label} → {catalogue.entry(target).title} ({target})")
    return lines


def command(file: Path, options: Options, *, as_json: bool) -> int:
    """The CLI: print the report and return the exit code (0 ok, 1 failed/inconclusive, 2 usage)."""
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else _read(file, "Het bestand")
        verdict, source = explain_bytes(data, options)
        only = artifact_only(data, options, verdict)
    except UsageError as exc:
        sys.stderr.write(f"inloghulp explain: {exc}\n")
        return 2
    if only is not None:
        if as_json:
            # The API's error shape (diagnostics.errors.error_body), not a verdict: there was nothing to check.
            body = {"error": {"id": "artifact-only", "message": only.message, "references": list(only.references)}}
            sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(render_artifact_only(only, name=str(file)))
        return 1
    if as_json:
        sys.stdout.write(render_json(verdict) + "\n")
    else:
        sys.stdout.write(render_text(verdict, source=source, name=str(file)))
    return 0 if verdict.verdict == "ok" else 1
