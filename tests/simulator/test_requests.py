"""The simulator reads the AuthnRequest's Issuer as a text value, like the checker."""

from __future__ import annotations

import base64

from lxml import etree

from diagnostics.saml.authn import build_authn_request
from diagnostics.saml_names import SAML
from diagnostics.settings import Settings
from diagnostics.simulator.metadata import sso_url
from diagnostics.simulator.requests import from_post
from tests.helpers.keys import sp_signing_key
from tests.helpers.messages import split_by_comment


def test_a_comment_inside_the_issuer_is_the_same_service(module_settings: Settings) -> None:
    out = build_authn_request(
        module_settings,
        signing_key=sp_signing_key(module_settings),
        destination=sso_url(module_settings.public_base_url),
        relay_state="/terug",
        binding="post",
    )
    request = etree.fromstring(out.xml)
    issuer = request.find(f"{{{SAML}}}Issuer")
    assert issuer is not None
    split_by_comment(issuer)

    incoming = from_post(module_settings, base64.b64encode(etree.tostring(request)).decode(), "/terug")

    assert incoming.issuer == module_settings.sp.entity_id
    assert incoming.request_id == out.request_id
