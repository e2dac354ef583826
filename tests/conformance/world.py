"""The world every conformance case starts from: settings, keys, one valid simulator response, a context.

A valid ``success-loa2plus`` ArtifactResponse is issued once by the simulator; every case parses a
fresh copy, spoils it in one way, and (where the attack needs a valid signature) signs again with the
key the attacker is assumed to hold.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from lxml import etree

from diagnostics import certs, checks, crypto
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator import responses
from diagnostics.simulator.keys import SimulatorKeys, keys_for
from tests.helpers.config import config_file

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS, "xenc": XENC}

REQUEST_ID = "_conformance0000000000000000000001"
# A fixed instant: cases never depend on the wall clock.
ISSUED = datetime(2026, 3, 2, 9, 30, 0, tzinfo=UTC)
CHECKED = ISSUED + timedelta(seconds=30)


@dataclass
class World:
    settings: Settings
    keys: SimulatorKeys
    valid: bytes
    sp_key_pem: bytes
    sp_cert_pem: bytes
    stranger: certs.KeyPair
    seen: set[str] = field(default_factory=set)

    def tree(self) -> etree._Element:
        """A fresh, mutable copy of the valid ArtifactResponse."""
        return etree.fromstring(self.valid)

    def context(self, **overrides: Any) -> checks.CheckContext:
        """The context of a round trip that sent AuthnRequest ``REQUEST_ID``; replay memory per call."""
        seen: set[str] = set()

        def remember(assertion_id: str, _expires_at: datetime) -> bool:
            if assertion_id in seen:
                return False
            seen.add(assertion_id)
            return True

        values: dict[str, Any] = {
            "sp_entity_id": self.settings.sp.entity_id,
            "acs_url": self.settings.acs_url,
            "required_loa": self.settings.service.required_loa,
            "service_id": self.settings.service.service_id,
            "trusted_certs": [x509.load_pem_x509_certificate(self.keys.broker.cert_pem)],
            "broker_entity_id": responses.entities.BROKER_ENTITY_ID,
            "sp_key_pems": [self.sp_key_pem],
            "expected_request_id": REQUEST_ID,
            "now": CHECKED,
            "allowed_skew_seconds": self.settings.allowed_clock_skew_seconds,
            "max_bytes": self.settings.max_message_bytes,
            "remember_assertion": remember,
        }
        values.update(overrides)
        return checks.CheckContext(**values)

    def identifiers(self) -> list[str]:
        """The simulator's test identifiers in this response, which no trace may show unmasked."""
        pseudonym = responses.entities.pseudonym(
            responses.entities.DEFAULT_PERSON, responses.entities.DEFAULT_KVK, self.settings.sp.entity_id
        )
        return [responses.entities.DEFAULT_KVK, pseudonym]

    # ── finding parts of the message ──

    @staticmethod
    def one(root: etree._Element, path: str) -> etree._Element:
        found = root.find(path, NS)
        assert found is not None, path
        return found

    def response(self, root: etree._Element) -> etree._Element:
        return self.one(root, "samlp:Response")

    def assertion(self, root: etree._Element) -> etree._Element:
        return self.one(root, "samlp:Response/saml:Assertion")

    # ── signing as the broker (or as someone else) ──

    def sign_assertion(self, assertion: etree._Element, pair: certs.KeyPair | None = None, **kwargs: Any) -> None:
        pair = pair or self.keys.broker
        crypto.sign(assertion, pair.key_pem, pair.cert_pem, **kwargs)

    def seal(self, root: etree._Element) -> bytes:
        """Sign the ArtifactResponse again as the broker, so that only the spoiled part can fail."""
        crypto.sign(root, self.keys.broker.key_pem, self.keys.broker.cert_pem)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def make_world(directory: Path | None = None) -> World:
    """Settings with generated keys in ``directory`` (a temporary one by default)."""
    directory = directory or Path(tempfile.mkdtemp(prefix="inloghulp-conformance-"))
    key_file, cert_file = directory / "sp-key.pem", directory / "sp-cert.pem"
    certs.write(certs.generate("Conformance SP", serial_number="00000009999999999000"), key_file, cert_file)
    settings = load_settings(config_file(directory, key_file, cert_file))
    valid = responses.issue(settings, "success-loa2plus", request_id=REQUEST_ID, now=ISSUED)
    return World(
        settings=settings,
        keys=keys_for(settings.simulator.key_dir),
        valid=valid,
        sp_key_pem=key_file.read_bytes(),
        sp_cert_pem=cert_file.read_bytes(),
        stranger=certs.generate("Onbekende partij"),
    )


Mutation = Callable[[World], bytes]
