from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from diagnostics.loa import loa_rank
from diagnostics.settings import load_settings


def test_shipped_example_config_loads() -> None:
    settings = load_settings(Path("config/inloghulp.toml"))
    assert settings.service.example_values is True
    assert settings.service.required_loa_label == "eHerkenning niveau 2+"
    assert settings.acs_url == "http://127.0.0.1:8000/saml/acs"


def test_environment_overrides_file(write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INLOGHULP_SERVICE__NAME", "Andere naam")
    assert load_settings(write_config()).service.name == "Andere naam"


def test_bad_oin_names_the_field(write_config: Callable[..., Path]) -> None:
    with pytest.raises(ValidationError) as info:
        load_settings(write_config({"service": {"provider_oin": "123"}}))
    assert info.value.errors()[0]["loc"] == ("service", "provider_oin")


def test_loa_order() -> None:
    assert loa_rank("urn:etoegang:core:assurance-class:loa2") < loa_rank("urn:etoegang:core:assurance-class:loa2plus")
    assert loa_rank("urn:something:else") == -1
