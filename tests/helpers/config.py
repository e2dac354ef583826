"""A valid configuration file for a test, built from one base and the test's own overrides."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import tomli_w

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"

BASE_CONFIG: dict[str, Any] = {
    "public_base_url": "http://127.0.0.1:8000",
    "environment": "development",
    "service": {
        "example_values": True,
        "provider_name": "Voorbeeld Dienstverlener BRO",
        "provider_oin": "00000009999999999000",
        "name": "Bronhouderportaal (voorbeeld)",
        "description": "Inloggen in het Bronhouderportaal. Voorbeeldwaarde.",
        "uuid": "9f1c6a52-3b7e-4d0a-9c55-000000009001",
        "service_id": "urn:etoegang:DV:00000009999999999000:services:9001",
        "required_loa": "urn:etoegang:core:assurance-class:loa2plus",
        "attribute_consuming_service_index": 9001,
    },
    "sp": {
        "entity_id": "urn:etoegang:DV:00000009999999999000:entities:9001",
    },
    "brokers": [{"id": "simulator", "name": "Simulator", "embedded": True, "soap_content_type": "text/xml"}],
}


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a copy of ``base``; a value of None removes the key."""
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def config_file(
    directory: Path,
    key_file: Path,
    cert_file: Path,
    overrides: dict[str, Any] | None = None,
    *,
    name: str = "inloghulp.toml",
) -> Path:
    """A valid configuration file in ``directory``, with the database and simulator keys there too."""
    data = merge(
        BASE_CONFIG,
        {
            "database_url": f"sqlite:///{directory / 'inloghulp.sqlite3'}",
            "site_dir": str(ROOT / "site"),
            "sp": {"key_file": str(key_file), "cert_file": str(cert_file)},
            "simulator": {"key_dir": str(directory / "simulator")},
        },
    )
    path = directory / name
    path.write_text(tomli_w.dumps(merge(data, overrides or {})), encoding="utf-8")
    return path
