"""Real TLS on loopback: a private CA, certificates it signs, and an HTTPS server that demands a client certificate.

Brokers run their ArtifactResolutionService behind TLS with PKIoverheid private roots and ask for our
client certificate. The tests generate all of it here, nothing is committed and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from diagnostics import certs


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_ca(common_name: str = "Test Private Root CA") -> certs.KeyPair:
    """A self-signed CA certificate that may sign other certificates (like a PKIoverheid private root)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certs.KeyPair(_pem_key(key), cert.public_bytes(serialization.Encoding.PEM))


def issue(
    ca: certs.KeyPair,
    common_name: str,
    *,
    server_ip: str | None = None,
    days: int = 365,
    serial_number: str | None = None,
) -> certs.KeyPair:
    """A certificate signed by ``ca``: a server certificate for ``server_ip``, else a client certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    start = datetime.now(UTC) - timedelta(minutes=5)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server_ip else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if server_ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(server_ip))]), critical=False
        )
    cert = builder.sign(ca.key, hashes.SHA256())
    return certs.KeyPair(_pem_key(key), cert.public_bytes(serialization.Encoding.PEM))


@dataclass
class TlsFiles:
    """A private CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it, on disk."""

    directory: Path
    ca: certs.KeyPair = field(default_factory=make_ca)
    ca_file: Path = field(init=False)
    server_key: Path = field(init=False)
    server_cert: Path = field(init=False)
    client_key: Path = field(init=False)
    client_cert: Path = field(init=False)

    def __post_init__(self) -> None:
        self.ca_file = self.directory / "private-root.pem"
        self.ca_file.write_bytes(self.ca.cert_pem)
        self.server_key, self.server_cert = self.directory / "server-key.pem", self.directory / "server-cert.pem"
        certs.write(issue(self.ca, "ars.test", server_ip="127.0.0.1"), self.server_key, self.server_cert)
        self.client_key, self.client_cert = self.directory / "client-key.pem", self.directory / "client-cert.pem"
        certs.write(
            issue(self.ca, "Test DV TLS", serial_number="00000009999999999000"), self.client_key, self.client_cert
        )


@dataclass
class HttpsServer:
    """A stdlib HTTPS server on a free loopback port: POST gets the SOAP body, GET the document for its path."""

    url: str
    # Method, path and the client certificate's common name (None without one) of every request served.
    requests: list[tuple[str, str, str | None]]
    # What the server saw of each handshake that failed (ssl errors on the server side).
    handshake_errors: list[str]


def _client_name(connection: ssl.SSLSocket) -> str | None:
    for rdn in (connection.getpeercert() or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


@contextmanager
def https_server(
    files: TlsFiles,
    body: bytes,
    *,
    documents: dict[str, bytes] | None = None,
    require_client_cert: bool = True,
    maximum_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> Iterator[HttpsServer]:
    """Serve ``body`` (POST) and ``documents`` (GET by path) over TLS with ``files``' server certificate;
    with ``require_client_cert`` every client must present a certificate signed by ``files``' CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = maximum_version
    context.load_cert_chain(files.server_cert, files.server_key)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(files.ca_file)
    seen: list[tuple[str, str, str | None]] = []
    errors: list[str] = []
    served = documents if documents is not None else {}  # the caller may add to it once the URL is known

    class Handler(BaseHTTPRequestHandler):
        def answer(self, content: bytes | None) -> None:
            assert isinstance(self.connection, ssl.SSLSocket)
            seen.append((self.command, self.path, _client_name(self.connection)))
            self.send_response(200 if content is not None else 404)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(content or b"")))
            self.end_headers()
            self.wfile.write(content or b"")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer(body)

        def do_GET(self) -> None:
            self.answer(served.get(self.path.partition("?")[0]))

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> tuple[ssl.SSLSocket, object]:
            raw, address = self.socket.accept()
            try:
                # The handshake happens here, so a refused client never reaches the handler.
                return context.wrap_socket(raw, server_side=True), address
            except OSError as exc:  # ssl.SSLError included; socketserver drops the connection
                errors.append(str(exc))
                raw.close()
                raise

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpsServer(f"https://127.0.0.1:{server.server_address[1]}", seen, errors)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
