"""Everything the simulator and the SP side produce is valid against the SAML 2.0 XML schemas.

The schemas are the ones pysaml2 ships (and validates with ``xmlschema``); an independent check of
element order and types that signature tests cannot catch.
"""

from __future__ import annotations

import base64
from importlib.resources import files
from urllib.parse import unquote_plus

import pytest
from lxml import etree
from saml2.xml import schema

from diagnostics.saml.artifact import artifact_resolve_envelope
from diagnostics.saml.authn import build_authn_request, decode_redirect_message
from diagnostics.saml_names import SOAP_ENV
from diagnostics.settings import Settings
from diagnostics.simulator import responses
from diagnostics.simulator.metadata import ad_list, broker_metadata
from diagnostics.simulator.scenarios import SCENARIO_IDS
from tests.helpers.keys import sp_signing_key

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


@pytest.fixture(scope="module")
def settings(module_settings: Settings) -> Settings:
    return module_settings


@pytest.fixture(scope="module")
def metadata_schema() -> object:
    path = files("saml2.data.schemas").joinpath("saml-schema-metadata-2.0.xsd")
    return schema._create_xml_schema_validator(str(path))


@pytest.mark.parametrize("scenario", [s for s in SCENARIO_IDS if s != "no-authorisation"])
def test_artifact_responses_are_schema_valid(settings: Settings, scenario: str) -> None:
    schema.validate(responses.issue(settings, scenario, request_id="_req").decode())


def test_metadata_and_ad_list_are_schema_valid(settings: Settings, metadata_schema: object) -> None:
    schema.validate(broker_metadata(settings).decode(), metadata_schema)
    schema.validate(ad_list(settings).decode(), metadata_schema)


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_authn_request_is_schema_valid(settings: Settings, binding: str) -> None:
    out = build_authn_request(
        settings,
        signing_key=sp_signing_key(settings),
        destination="https://makelaar.example/sso",
        supplier_id="urn:etoegang:AD:00000009999999999001:entities:9001",
        relay_state="/x",
        binding=binding,  # type: ignore[arg-type]
    )
    if binding == "post":
        xml = base64.b64decode(out.form["SAMLRequest"])
    else:
        query = dict(part.split("=", 1) for part in out.url.split("?", 1)[1].split("&"))
        xml = decode_redirect_message(unquote_plus(query["SAMLRequest"]), max_bytes=100_000)
    schema.validate(xml.decode())


def test_artifact_resolve_is_schema_valid(settings: Settings) -> None:
    envelope = etree.fromstring(
        artifact_resolve_envelope(
            settings, signing_key=sp_signing_key(settings), artifact="AAQAAA==", ars_url="https://x/ars"
        )
    )
    resolve = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SAMLP}}}ArtifactResolve")
    assert resolve is not None
    schema.validate(etree.tostring(resolve).decode())
