"""The simulator's ArtifactResolutionService reads Issuer and Artifact as text values, like the checker."""

from __future__ import annotations

import pytest
from lxml import etree

from diagnostics.saml.artifact import artifact_resolve_envelope
from diagnostics.saml_names import SAML, SAMLP
from diagnostics.settings import Settings
from diagnostics.simulator import ars
from diagnostics.simulator.artifacts import Pending, store_pending, store_response
from diagnostics.simulator.entities import SUPPLIERS
from diagnostics.simulator.responses import Login, build_response
from diagnostics.simulator.scenarios import scenario
from diagnostics.store import Store
from tests.helpers.keys import sp_signing_key
from tests.helpers.messages import split_by_comment

SUPPLIER = SUPPLIERS[0].entity_id


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


def _inner_response(answer: bytes) -> bytes:
    root = etree.fromstring(answer)
    response = root.find(f".//{{{SAMLP}}}ArtifactResponse/{{{SAMLP}}}Response")
    assert response is not None
    return _c14n(response)


def _built(settings: Settings) -> etree._Element:
    return build_response(settings, scenario("success-loa3"), Login("_req", settings.acs_url, SUPPLIER))


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def test_the_worker_that_built_the_response_answers_with_that_element(module_settings: Settings) -> None:
    store = Store(module_settings.database_url)
    built = _built(module_settings)
    stored = _c14n(etree.fromstring(etree.tostring(built)))
    artifact = store_response(store, "success-loa3", built, module_settings.sp.entity_id)

    resolution = ars.resolve(module_settings, store, _resolve_body(module_settings, artifact, None))

    assert resolution.built is built
    assert resolution.pending is not None
    assert _inner_response(ars.answer(module_settings, resolution)) == stored  # what the store's copy says


def test_another_workers_artifact_is_read_from_the_store(module_settings: Settings) -> None:
    store = Store(module_settings.database_url)
    pending = Pending("success-loa3", etree.tostring(_built(module_settings)), module_settings.sp.entity_id)
    artifact = store_pending(store, pending)

    resolution = ars.resolve(module_settings, store, _resolve_body(module_settings, artifact, None))

    assert resolution.pending == pending
    assert resolution.built is None
    assert _inner_response(ars.answer(module_settings, resolution)) == _c14n(etree.fromstring(pending.response))


def test_a_spent_artifact_leaves_no_element_behind(module_settings: Settings) -> None:
    store = Store(module_settings.database_url)
    built = _built(module_settings)
    body = _resolve_body(
        module_settings, store_response(store, "success-loa3", built, module_settings.sp.entity_id), None
    )

    assert ars.resolve(module_settings, store, body).built is built
    again = ars.resolve(module_settings, store, body)
    assert again.pending is None
    assert again.built is None
