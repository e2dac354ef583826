from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from lxml import etree

from diagnostics.beheerder_card import SNIPPET, render_card, snippets
from diagnostics.dienstencatalogus import fragment
from diagnostics.saml_names import ESC
from diagnostics.service_info import service_info
from diagnostics.settings import Settings, load_settings


def test_values_come_from_settings(settings: Settings) -> None:
    info = service_info(settings)
    assert info.provider_oin == settings.service.provider_oin
    assert info.service_uuid == "9f1c6a52-3b7e-4d0a-9c55-000000009001"
    assert info.service_id == "urn:etoegang:DV:00000009999999999000:services:9001"
    assert info.entity_id == settings.sp.entity_id
    assert info.required_loa_label == "eHerkenning niveau 2+"
    assert [broker.name for broker in info.brokers] == ["Simulator"]
    assert info.example_values is True


def test_text_block_lists_every_field_once(settings: Settings) -> None:
    info = service_info(settings)
    text = info.as_text()
    for field in info.card_fields():
        assert text.count(f"{field.label}: {field.value}") == 1
    assert "ServiceUUID: 9f1c6a52-3b7e-4d0a-9c55-000000009001 (voorbeeldwaarde)" in text
    assert "Minimaal niveau: eHerkenning niveau 2+\n" in text


def test_mailto_carries_subject_and_all_values(settings: Settings) -> None:
    info = service_info(settings)
    parts = urlsplit(info.mailto_href())
    assert parts.scheme == "mailto"
    query = parse_qs(parts.query)
    assert query["subject"] == ["Graag een eHerkenning-machtiging voor het Bronhouderportaal"]
    assert info.as_text() in query["body"][0]


def test_api_returns_the_same_model(app_client: Callable[..., TestClient], settings: Settings) -> None:
    client = app_client(settings)
    response = client.get("/api/v1/service-info")
    assert response.status_code == 200
    assert response.json() == service_info(settings).model_dump(mode="json")
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/service-info"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ServiceInfo"
    }
    assert "service_uuid" in schema["components"]["schemas"]["ServiceInfo"]["properties"]


def test_card_api_metadata_and_catalogue_show_identical_values(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path]
) -> None:
    """One config, four surfaces; change values in a fresh config and every surface follows."""
    oin = "00000001234567890000"
    values = {
        "provider_name": "Andere Dienstverlener",
        "provider_oin": oin,
        "name": "Testdienst Kaart",
        "description": "Een andere omschrijving.",
        "uuid": "11111111-2222-4333-8444-555555555555",
        "service_id": f"urn:etoegang:DV:{oin}:services:9042",
        "attribute_consuming_service_index": 9042,
        "required_loa": "urn:etoegang:core:assurance-class:loa3",
    }
    settings = load_settings(
        write_config({"service": values, "sp": {"entity_id": f"urn:etoegang:DV:{oin}:entities:9042"}})
    )
    expected = {
        "provider_name": values["provider_name"],
        "provider_oin": oin,
        "service_name": values["name"],
        "service_description": values["description"],
        "service_uuid": values["uuid"],
        "service_id": values["service_id"],
        "required_loa": values["required_loa"],
        "required_loa_label": "eHerkenning niveau 3",
    }
    client = app_client(settings)

    api = client.get("/api/v1/service-info").json()
    assert {key: api[key] for key in expected} == expected

    for html in (render_card(settings), snippets(settings)[SNIPPET], client.get("/beheerder-kaart").text):
        card = BeautifulSoup(html, "html.parser")
        shown = {el["data-bhk-field"]: el.get_text() for el in card.select("[data-bhk-field]")}
        assert {key: shown[key] for key in expected} == expected

    metadata = etree.fromstring(client.get("/saml/metadata").content)
    md = {"md": "urn:oasis:names:tc:SAML:2.0:metadata"}
    assert metadata.get("entityID") == api["entity_id"] == f"urn:etoegang:DV:{oin}:entities:9042"
    assert metadata.xpath("//md:AttributeConsumingService/@index", namespaces=md) == ["9042"]
    assert metadata.xpath("//md:ServiceName/text()", namespaces=md) == [expected["service_name"]]
    assert metadata.xpath("//md:ServiceDescription/text()", namespaces=md) == [expected["service_description"]]
    assert metadata.xpath("//md:RequestedAttribute/@Name", namespaces=md)[0] == expected["service_id"]

    catalogue = etree.fromstring(fragment(settings))
    ns = {"esc": ESC, "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}

    def one(path: str) -> str:
        (value,) = catalogue.xpath(path, namespaces=ns)
        return str(value)

    assert one("esc:ServiceProviderID/text()") == oin
    assert one("esc:OrganizationDisplayName/text()") == expected["provider_name"]
    assert one("esc:ServiceDefinition/esc:ServiceUUID/text()") == expected["service_uuid"]
    assert one("esc:ServiceDefinition/esc:ServiceName[@xml:lang='nl']/text()") == expected["service_name"]
    assert one("esc:ServiceDefinition/esc:ServiceDescription[@xml:lang='nl']/text()") == expected["service_description"]
    assert one("esc:ServiceDefinition/saml:AuthnContextClassRef/text()") == expected["required_loa"]
    assert one("esc:ServiceInstance/esc:ServiceID/text()") == expected["service_id"]
    assert one("esc:ServiceInstance/esc:InstanceOfService/text()") == expected["service_uuid"]
    assert one("esc:ServiceInstance/esc:ServiceUUID/text()") == api["service_instance_uuid"]
