"""The simulator's ArtifactResolutionService reads Issuer and Artifact as text values, like the checker."""

from __future__ import annotations

import pytest
from lxml import etree

from diagnostics.saml.artifact import artifact_resolve_envelope
from diagnostics.saml_names import SAML, SAMLP
from diagnostics.settings import Settings
from diagnostics.simulator import ars
from diagnostics.simulator.artifacts import Pending, store_pending
from diagnostics.store import Store
from tests.helpers.keys import sp_signing_key
from tests.helpers.messages import split_by_comment


def _resolve_body(settings: Settings, artifact: str, split: str | None) -> bytes:
    envelope = etree.fromstring(
        artifact_resolve_envelope(
            settings, signing_key=sp_signing_key(settings), artifact=artifact, ars_url="https://ars.example"
        )
    )
    if split is not None:
        element = envelope.find(f".//{{{SAMLP}}}ArtifactResolve/{split}")
        assert element is not None
        split_by_comment(element)
    return etree.tostring(envelope)


@pytest.mark.parametrize(
    "split", [None, f"{{{SAMLP}}}Artifact", f"{{{SAML}}}Issuer"], ids=["plain", "artifact", "issuer"]
)
def test_a_comment_inside_artifact_or_issuer_resolves_the_same_artifact(
    module_settings: Settings, split: str | None
) -> None:
    store = Store(module_settings.database_url)
    pending = Pending(scenario="success-loa3", response=b"<samlp:Response/>", sp_entity_id=module_settings.sp.entity_id)
    artifact = store_pending(store, pending)
    body = _resolve_body(module_settings, artifact, split)
    assert b"<!-- x -->" in body or split is None

    resolution = ars.resolve(module_settings, store, body)

    assert resolution.pending == pending
    assert ars.resolve(module_settings, store, body).pending is None  # still single use
