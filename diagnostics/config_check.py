"""Checks that need the files a configuration points to: keys, certificates, broker metadata files.

``Settings`` validates shapes when it loads; these checks run before the server starts and in
``inloghulp check-config``, so a missing key or an expired certificate stops the start with a clear
message instead of failing on the first login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID

from diagnostics import broker_tls, certs
from diagnostics.cert_status import WARNING_DAYS
from diagnostics.settings import BrokerConfig, Settings

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _read(field: str, path: Path, problems: list[Problem]) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(field, f"bestand niet gevonden / file not found: {path}"))
    except IsADirectoryError:
        problems.append(Problem(field, f"is een map, geen bestand / is a directory: {path}"))
    except OSError as exc:
        problems.append(Problem(field, f"bestand niet leesbaar / file not readable: {path} ({exc.strerror})"))
    return None


def _load_cert(field: str, path: Path, problems: list[Problem]) -> x509.Certificate | None:
    data = _read(field, path, problems)
    if data is None:
        return None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        problems.append(Problem(field, f"geen PEM-certificaat / not a PEM certificate: {path}"))
        return None


def _load_key(field: str, path: Path, problems: list[Problem]) -> rsa.RSAPrivateKey | None:
    data = _read(field, path, problems)
    if data is None:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        problems.append(
            Problem(field, f"geen onversleutelde PEM-privésleutel / not an unencrypted PEM private key: {path}")
        )
        return None
    if not isinstance(key, rsa.RSAPrivateKey):
        problems.append(Problem(field, "alleen RSA-sleutels worden ondersteund / only RSA keys are supported"))
        return None
    return key


def _validity(field: str, cert: x509.Certificate, now: datetime, problems: list[Problem]) -> None:
    if cert.not_valid_before_utc > now:
        problems.append(
            Problem(field, f"certificaat is pas geldig vanaf {cert.not_valid_before_utc:%Y-%m-%d} / not yet valid")
        )
    days = certs.days_left(cert, now)
    expiry = f"{cert.not_valid_after_utc:%Y-%m-%d}"
    if days < 0:
        problems.append(Problem(field, f"certificaat is verlopen op {expiry} / certificate expired"))
    elif days < WARNING_DAYS:
        problems.append(
            Problem(field, f"certificaat verloopt over {days} dagen ({expiry}) / expires in {days} days", "warning")
        )


def _oin_in_subject(field: str, cert: x509.Certificate, oin: str, problems: list[Problem]) -> None:
    # PKIoverheid puts the OIN in the subject serialNumber; a different one means the wrong certificate.
    serials = [str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
    if serials and oin not in serials:
        problems.append(
            Problem(
                field,
                f"serialNumber in het certificaat ({serials[0]}) is niet de OIN {oin} / subject OIN differs",
                "warning",
            )
        )


def check_files(settings: Settings, now: datetime | None = None) -> list[Problem]:
    """Every problem with the files the configuration points to, errors and warnings."""
    moment = now or datetime.now(UTC)
    problems: list[Problem] = []
    sp = settings.sp
    key = _load_key("sp.key_file", sp.key_file, problems)
    cert = _load_cert("sp.cert_file", sp.cert_file, problems)
    if cert is not None:
        _validity("sp.cert_file", cert, moment, problems)
        _oin_in_subject("sp.cert_file", cert, settings.service.provider_oin, problems)
    if key is not None and cert is not None and key.public_key().public_numbers() != _public_numbers(cert):
        problems.append(
            Problem("sp.key_file", f"sleutel hoort niet bij sp.cert_file / key does not match {sp.cert_file}")
        )
    if sp.next_cert_file is not None:
        upcoming = _load_cert("sp.next_cert_file", sp.next_cert_file, problems)
        if upcoming is not None:
            _validity("sp.next_cert_file", upcoming, moment, problems)
            _check_activation(upcoming, sp.next_cert_activation, problems)
    for index, broker in enumerate(settings.brokers):
        if broker.metadata_file is not None:
            _read(f"brokers.{index}.metadata_file", broker.metadata_file, problems)
        _check_broker_tls(index, broker, moment, problems)
    return problems


def _check_broker_tls(index: int, broker: BrokerConfig, now: datetime, problems: list[Problem]) -> None:
    """The back channel's files: the CA bundle, and our TLS client pair with the same rules as the SP pair."""
    prefix = f"brokers.{index}"
    found = len(problems)
    if broker.ca_bundle_file is not None:
        data = _read(f"{prefix}.ca_bundle_file", broker.ca_bundle_file, problems)
        if data is not None:
            try:
                x509.load_pem_x509_certificates(data)
            except ValueError:
                problems.append(
                    Problem(
                        f"{prefix}.ca_bundle_file",
                        f"geen PEM-certificaten / no PEM certificates: {broker.ca_bundle_file}",
                    )
                )
    if broker.tls_client_cert is not None:
        cert_file, key_file = broker.tls_client_cert
        cert = _load_cert(f"{prefix}.tls_client_cert_file", cert_file, problems)
        key = _load_any_key(f"{prefix}.tls_client_key_file", key_file, problems)
        if cert is not None:
            _validity(f"{prefix}.tls_client_cert_file", cert, now, problems)
        if cert is not None and key is not None and _spki(key.public_key()) != _spki(cert.public_key()):
            problems.append(
                Problem(
                    f"{prefix}.tls_client_key_file",
                    f"sleutel hoort niet bij tls_client_cert_file / key does not match {cert_file}",
                )
            )
    if broker.ca_bundle_file is None and broker.tls_client_cert is None:
        return
    if any(problem.severity == "error" for problem in problems[found:]):
        return
    # What the service itself will do with the files: the TLS library may still refuse what parsed above.
    try:
        broker_tls.ssl_context(broker)
    except OSError as exc:  # ssl.SSLError included
        problems.append(Problem(prefix, f"TLS-bestanden niet te gebruiken / unusable TLS files: {exc}"))


def _load_any_key(field: str, path: Path, problems: list[Problem]) -> PrivateKeyTypes | None:
    # TLS allows EC keys too, unlike our SAML signing key.
    data = _read(field, path, problems)
    if data is None:
        return None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        problems.append(
            Problem(field, f"geen onversleutelde PEM-privésleutel / not an unencrypted PEM private key: {path}")
        )
        return None


def _spki(public: PublicKeyTypes) -> bytes:
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _public_numbers(cert: x509.Certificate) -> rsa.RSAPublicNumbers | None:
    public = cert.public_key()
    return public.public_numbers() if isinstance(public, rsa.RSAPublicKey) else None


def _check_activation(cert: x509.Certificate, activation: date | None, problems: list[Problem]) -> None:
    if activation is None:
        return
    if not cert.not_valid_before_utc.date() <= activation <= cert.not_valid_after_utc.date():
        problems.append(
            Problem(
                "sp.next_cert_activation",
                f"{activation} valt buiten de geldigheid van sp.next_cert_file "
                f"({cert.not_valid_before_utc:%Y-%m-%d} tot {cert.not_valid_after_utc:%Y-%m-%d}) / "
                "activation outside the certificate's validity",
            )
        )
