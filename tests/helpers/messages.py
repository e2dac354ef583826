"""Changing a simulator answer the way a broker (or an attacker holding its key) would."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from diagnostics import crypto
from diagnostics.saml_names import DS, MD, SAML, SAMLP
from diagnostics.settings import Settings
from diagnostics.simulator.keys import SimulatorKeys, keys_for
from diagnostics.simulator.metadata import broker_metadata


def resign(message: bytes, keys: SimulatorKeys, mutate: Callable[[etree._Element], None]) -> bytes:
    """Change the message, then sign its assertion and ArtifactResponse again with the broker's real key."""
    root = etree.fromstring(message)
    mutate(root)
    for element in (root.find(f"{{{SAMLP}}}Response/{{{SAML}}}Assertion"), root):
        if element is not None and element.find(f"{{{DS}}}Signature") is not None:
            crypto.sign(element, keys.broker.key_pem, keys.broker.cert_pem)
    return etree.tostring(root)


def metadata_with_ars(settings: Settings, ars_url: str) -> bytes:
    """The simulator's broker metadata with its ARS moved to ``ars_url``, signed again with its broker key."""
    root = etree.fromstring(broker_metadata(settings))
    for ars in root.iter(f"{{{MD}}}ArtifactResolutionService"):
        ars.set("Location", ars_url)
    pair = keys_for(settings.simulator.key_dir).broker
    crypto.sign(root, pair.key_pem, pair.cert_pem)
    return etree.tostring(root)


def split_by_comment(element: etree._Element) -> None:
    """Put an XML comment in the middle of ``element``'s text; a signature (comments excluded) still holds."""
    text = element.text or ""
    comment = etree.Comment(" x ")
    comment.tail = text[len(text) // 2 :]
    element.text = text[: len(text) // 2]
    element.insert(0, comment)
