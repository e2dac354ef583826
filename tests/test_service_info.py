from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.service_info import service_info
from diagnostics.settings import Settings


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


def test_api_returns_the_same_model(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    response = client.get("/api/v1/service-info")
    assert response.status_code == 200
    assert response.json() == service_info(settings).model_dump(mode="json")
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/service-info"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ServiceInfo"
    }
    assert "service_uuid" in schema["components"]["schemas"]["ServiceInfo"]["properties"]
