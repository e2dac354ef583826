"""X.509 keys and certificates: generate test pairs, load them, and tell how long they stay valid."""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from diagnostics.settings import Settings


@dataclass(frozen=True)
class KeyPair:
    key_pem: bytes
    cert_pem: bytes

    @property
    def key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("alleen RSA-sleutels worden ondersteund / only RSA keys are supported")
        return key

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


CertRole = Literal["current", "next"]


@dataclass(frozen=True)
class SpCertificate:
    role: CertRole
    cert: x509.Certificate
    # Only for the next certificate: the date it replaces the current one.
    activation: date | None = None


def sp_certificates(settings: Settings) -> list[SpCertificate]:
    """The SP's current certificate, then the next one when a rollover is configured."""
    result = [SpCertificate("current", load_cert(settings.sp.cert_file))]
    if settings.sp.next_cert_file is not None:
        result.append(SpCertificate("next", load_cert(settings.sp.next_cert_file), settings.sp.next_cert_activation))
    return result


def generate(
    common_name: str,
    *,
    serial_number: str | None = None,
    days: int = 365,
    not_before: datetime | None = None,
    key_size: int = 2048,
) -> KeyPair:
    """A fresh RSA key and a self-signed certificate; ``serial_number`` carries the OIN like PKIoverheid."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    name = x509.Name(attributes)
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
    )


def write(pair: KeyPair, key_file: Path, cert_file: Path) -> None:
    """Write a pair; the private key is readable by the owner only."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(pair.key_pem)
    key_file.chmod(0o600)
    cert_file.write_bytes(pair.cert_pem)


def ensure(
    key_file: Path, cert_file: Path, common_name: str, serial_number: str | None = None, *, key_size: int = 2048
) -> KeyPair:
    """Load the pair, or generate and store a new one when neither file exists yet."""
    if not key_file.exists() and not cert_file.exists():
        write(generate(common_name, serial_number=serial_number, key_size=key_size), key_file, cert_file)
    return load(key_file, cert_file)


def load(key_file: Path, cert_file: Path) -> KeyPair:
    return KeyPair(key_pem=key_file.read_bytes(), cert_pem=cert_file.read_bytes())


@dataclass(frozen=True)
class SigningKey:
    """A key pair read from disk and parsed: the PEM bytes (for xmlsec) and the RSA key (for signatures)."""

    key_pem: bytes
    cert_pem: bytes
    private_key: rsa.RSAPrivateKey

    @classmethod
    def from_pair(cls, pair: KeyPair) -> SigningKey:
        return cls(pair.key_pem, pair.cert_pem, pair.key)


def _stamp(path: Path) -> tuple[int, int, int]:
    status = os.stat(path)
    return (status.st_mtime_ns, status.st_size, status.st_ino)


class KeyFiles:
    """A key pair on disk, parsed once per process and again only when one of its files changes.

    Parsing and validating an RSA key costs tens of milliseconds; a signature well under one. So the
    parsed key is kept, and two ``stat`` calls per use notice a certificate rollover (a new file, or the
    old one rewritten) without a restart.
    """

    def __init__(self, key_file: Path, cert_file: Path) -> None:
        self.key_file = key_file
        self.cert_file = cert_file
        self._lock = threading.Lock()
        self._stamps: tuple[tuple[int, int, int], ...] = ()
        self._loaded: SigningKey | None = None

    def current(self) -> SigningKey:
        """The pair as the files hold it now (OSError or ValueError when they cannot be read)."""
        stamps = (_stamp(self.key_file), _stamp(self.cert_file))
        with self._lock:
            if self._loaded is None or stamps != self._stamps:
                self._loaded = SigningKey.from_pair(load(self.key_file, self.cert_file))
                self._stamps = stamps
            return self._loaded

    def loaded_if_unchanged(self) -> SigningKey | None:
        """The parsed pair when neither file changed since: two ``stat`` calls and no parsing, cheap enough
        for the event loop. None when ``current`` has to parse (or is parsing now): that belongs in a thread."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            stamps = (_stamp(self.key_file), _stamp(self.cert_file))
            return self._loaded if stamps == self._stamps else None
        finally:
            self._lock.release()


def load_cert(cert_file: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert_file.read_bytes())


def key_matches_cert(pair: KeyPair) -> bool:
    return pair.key.public_key().public_numbers() == pair.cert.public_key().public_numbers()  # type: ignore[union-attr]


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the DER certificate: eHerkenning's ``KeyName``."""
    return cert.fingerprint(hashes.SHA256()).hex()


def der_base64(cert: x509.Certificate) -> str:
    """The certificate as the base64 text that goes inside ``ds:X509Certificate``."""
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def days_left(cert: x509.Certificate, now: datetime | None = None) -> int:
    """Whole days until the certificate expires; negative once it has."""
    moment = now or datetime.now(UTC)
    return (cert.not_valid_after_utc - moment).days
