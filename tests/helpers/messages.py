"""Changing a simulator answer the way a broker (or an attacker holding its key) would."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from diagnostics import crypto
from diagnostics.simulator.keys import SimulatorKeys
from diagnostics.simulator.xml import DS, SAML, SAMLP


def resign(message: bytes, keys: SimulatorKeys, mutate: Callable[[etree._Element], None]) -> bytes:
    """Change the message, then sign its assertion and ArtifactResponse again with the broker's real key."""
    root = etree.fromstring(message)
    mutate(root)
    for element in (root.find(f"{{{SAMLP}}}Response/{{{SAML}}}Assertion"), root):
        if element is not None and element.find(f"{{{DS}}}Signature") is not None:
            crypto.sign(element, keys.broker.key_pem, keys.broker.cert_pem)
    return etree.tostring(root)
