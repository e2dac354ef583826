"""TLS on the back channel, as brokers run it: our client certificate, a private CA bundle, and failures in words.

Each broker gets one TLS context per process, built from its settings (``tls_client_cert_file``,
``tls_client_key_file``, ``ca_bundle_file``) and handed to its one long-lived HTTP client
(``diagnostics.brokers``): a new context costs about 31 ms here, so never one per call.

When a connection fails, :func:`explain_failure` says why in the plain words the result page and the
servicedesk read. What the client gets to see was measured against a real server on loopback (OpenSSL 3.0,
httpx over anyio; tests/test_tls_backchannel.py drives each case):

- server certificate from a CA we do not trust: ``ssl.SSLCertVerificationError`` (CERTIFICATE_VERIFY_FAILED)
  inside ``httpx.ConnectError``, TLS 1.2 and 1.3 alike;
- TLS 1.2, a server that wants a client certificate and got none: alert handshake_failure inside
  ``httpx.ConnectError``; one that refuses ours: alert unknown_ca (or bad_certificate, certificate_expired, ...);
- TLS 1.3: the client's handshake is done before the server has looked at our certificate, so httpx sends the
  request at once. The server's alert (certificate_required, unknown_ca, ...) then either arrives as a bare
  ``ssl.SSLError`` on the first read, or, in most runs here, the server's reset for the unread request wipes
  it out first and httpx reports a ``ReadError`` that carries nothing. For that case :func:`probe` asks the
  server again without sending anything: the alert then always arrives (measured 7 to 100 ms on loopback).

A server that drops the connection without any alert looks like any other reset, and stays "not reachable".
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import certifi
import httpx

from diagnostics.settings import BrokerConfig

UNTRUSTED_SERVER = "servercertificaat niet vertrouwd"
CERTIFICATE_WANTED = "de makelaar vraagt een clientcertificaat"
CERTIFICATE_REFUSED = "clientcertificaat geweigerd"

# Long enough for a handshake and an alert across the internet; only spent on a connection that already broke.
PROBE_SECONDS = 3.0

# The server asked for a certificate and we had none to give. TLS 1.3 says so outright; a TLS 1.2 server
# (OpenSSL, measured) answers an empty Certificate message with handshake_failure, some with bad_certificate.
_ALWAYS_WANTED = frozenset({"TLSV13_ALERT_CERTIFICATE_REQUIRED"})
_WANTED_WITHOUT_CERT = frozenset({"SSLV3_ALERT_HANDSHAKE_FAILURE", "SSLV3_ALERT_BAD_CERTIFICATE"})
# We did send a certificate and the server refused it. handshake_failure is left out on purpose: with a
# certificate sent it also means "no cipher in common", and the words must not claim what the alert does not say.
_REFUSED_WITH_CERT = frozenset(
    {
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "TLSV1_ALERT_ACCESS_DENIED",
    }
)


def ssl_context(broker: BrokerConfig) -> ssl.SSLContext:
    """The TLS context for every connection to ``broker``: its CA bundle and our client certificate.

    Raises ``OSError`` (``ssl.SSLError`` included) when a file cannot be used; ``inloghulp check-config``
    names the file.

    The client certificate is loaded into this one context, so it is offered on the metadata and AD-list
    connections too, not only on ArtifactResolve. That is deliberate: a TLS client only sends a certificate
    when the server asks for one (CertificateRequest), so servers that do not ask never see it, and it is our
    public PKIoverheid identity anyway. A second client per broker for the ARS alone would double the contexts
    and pools for no gain, and a broker whose TLS terminator asks on a shared host name expects it on every
    connection to that host.
    """
    # A private bundle replaces the public store: PKIoverheid private roots are the only trust for such a broker.
    # Without one, the store httpx uses by default (certifi): a broker without TLS settings is trusted as before.
    cafile = broker.ca_bundle_file or certifi.where()
    context = ssl.create_default_context(cafile=str(cafile))
    if broker.tls_client_cert is not None:
        cert_file, key_file = broker.tls_client_cert
        context.load_cert_chain(certfile=str(cert_file), keyfile=str(key_file))
    return context


class BrokerClient(httpx.AsyncClient):
    """The long-lived HTTP client for one broker, with the TLS context it was built with.

    Whether it offers a client certificate decides the words for an ambiguous alert: bad_certificate after we
    sent none means the broker wants one, after we sent ours it means the broker refused it.
    """

    def __init__(
        self,
        *,
        context: ssl.SSLContext,
        offers_client_cert: bool,
        transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(verify=context, transport=transport, **kwargs)
        self.context = context
        self.offers_client_cert = offers_client_cert
        # A transport in place of the network (tests): then there is no server to probe either.
        self.on_the_network = transport is None


@dataclass(frozen=True)
class TlsFailure:
    """Why a TLS connection to a broker failed: ``words`` for people, ``technical`` for the log."""

    words: str
    technical: str


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (httpx wraps ssl errors in httpcore's, or not at all)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def describe_failure(exc: BaseException, *, offered_client_cert: bool) -> TlsFailure | None:
    """The plain reason for a failed TLS connection, or None when ``exc`` does not carry one we can name."""
    for error in _chain(exc):
        if not isinstance(error, ssl.SSLError):
            continue
        reason = str(getattr(error, "reason", None) or "")
        if isinstance(error, ssl.SSLCertVerificationError) or reason == "CERTIFICATE_VERIFY_FAILED":
            detail = getattr(error, "verify_message", None) or reason
            return TlsFailure(UNTRUSTED_SERVER, f"CERTIFICATE_VERIFY_FAILED: {detail}")
        if reason in _ALWAYS_WANTED or (not offered_client_cert and reason in _WANTED_WITHOUT_CERT):
            return TlsFailure(CERTIFICATE_WANTED, reason)
        if offered_client_cert and reason in _REFUSED_WITH_CERT:
            return TlsFailure(CERTIFICATE_REFUSED, reason)
    return None


async def probe(url: str, context: ssl.SSLContext, *, offered_client_cert: bool) -> TlsFailure | None:
    """Shake hands with ``url``'s server again and send nothing: a TLS 1.3 server's verdict on our certificate
    then arrives as an alert we can read. None when the server says nothing against us (or cannot be reached)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    try:
        with anyio.fail_after(PROBE_SECONDS):
            stream = await anyio.connect_tcp(
                parts.hostname, parts.port or 443, ssl_context=context, tls_standard_compatible=False
            )
            async with stream:
                await stream.receive(1)
    except TimeoutError:
        return None  # the server waited for a request: it has nothing against our certificate
    except (OSError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
        return describe_failure(exc, offered_client_cert=offered_client_cert)
    return None


def _broken_after_connecting(exc: BaseException) -> bool:
    # A connection that was set up and then broke on the first request: where a TLS 1.3 alert gets lost.
    return isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, ConnectionResetError))


async def explain_failure(exc: BaseException, client: httpx.AsyncClient, url: str) -> TlsFailure | None:
    """Why the call to ``url`` with the broker's ``client`` failed at the TLS level; None when it did not, or
    when no alert says why (then it is an ordinary connection failure)."""
    offered = isinstance(client, BrokerClient) and client.offers_client_cert
    failure = describe_failure(exc, offered_client_cert=offered)
    if failure is None and isinstance(client, BrokerClient) and client.on_the_network and _broken_after_connecting(exc):
        failure = await probe(url, client.context, offered_client_cert=offered)
    return failure
