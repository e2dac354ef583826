"""What an answer is checked against: our SP, the trusted broker, the request we sent, the clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from diagnostics import xmlsafe
from diagnostics.settings import Settings

if TYPE_CHECKING:
    from diagnostics.brokers import BrokerInfo

RememberAssertion = Callable[[str, datetime], bool]


@dataclass(frozen=True)
class CheckContext:
    """What the answer is checked against: our SP, the trusted broker, the request, the clock."""

    sp_entity_id: str
    acs_url: str
    required_loa: str
    service_id: str
    trusted_certs: Sequence[x509.Certificate]
    broker_entity_id: str | None
    sp_key_pems: Sequence[bytes]
    expected_request_id: str | None = None
    now: datetime | None = None
    allowed_skew_seconds: int = 60
    max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES
    # Returns False when the assertion ID was seen before (shared store: works across workers).
    remember_assertion: RememberAssertion | None = None


def context_from_settings(
    settings: Settings,
    broker: BrokerInfo | Sequence[x509.Certificate],
    broker_entity_id: str | None = None,
    *,
    expected_request_id: str | None = None,
    now: datetime | None = None,
    remember_assertion: RememberAssertion | None = None,
    sp_key_pems: Sequence[bytes] | None = None,
) -> CheckContext:
    """A context for our own SP from the settings, trusting ``broker`` (a BrokerInfo or its signing certs).

    ``sp_key_pems``: the SP key as the service already holds it (``certs.KeyFiles``); a command line
    tool that has none reads the key file here.
    """
    if isinstance(broker, Sequence):
        trusted: Sequence[x509.Certificate] = tuple(broker)
    else:
        trusted = broker.signing_certs
        broker_entity_id = broker_entity_id or broker.entity_id
    return CheckContext(
        sp_entity_id=settings.sp.entity_id,
        acs_url=settings.acs_url,
        required_loa=settings.service.required_loa,
        service_id=settings.service.service_id,
        trusted_certs=trusted,
        broker_entity_id=broker_entity_id,
        sp_key_pems=tuple(sp_key_pems) if sp_key_pems is not None else _read_keys([settings.sp.key_file]),
        expected_request_id=expected_request_id,
        now=now,
        allowed_skew_seconds=settings.allowed_clock_skew_seconds,
        max_bytes=settings.max_message_bytes,
        remember_assertion=remember_assertion,
    )


def _read_keys(paths: Sequence[Path]) -> tuple[bytes, ...]:
    keys = []
    for path in paths:
        try:
            keys.append(path.read_bytes())
        except OSError:
            continue
    return tuple(keys)
