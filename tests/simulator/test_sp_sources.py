"""The other diensten' metadata files: parsed once while unchanged, read again when they change."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from diagnostics import certs
from diagnostics.settings import Settings
from diagnostics.simulator import sp
from tests.simulator.foreign import ForeignSp, foreign_sp


@pytest.fixture(scope="module")
def dienst() -> ForeignSp:
    return foreign_sp(9010)


def _trusting(settings: Settings, source: Path) -> Settings:
    simulator = settings.simulator.model_copy(update={"trusted_sp_metadata": (str(source),)})
    return settings.model_copy(update={"simulator": simulator})


def test_an_unchanged_file_is_parsed_once(
    module_settings: Settings, dienst: ForeignSp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _trusting(module_settings, dienst.write_metadata(tmp_path))
    parsed: list[bytes] = []
    real = sp.parse_sp_metadata
    monkeypatch.setattr(sp, "parse_sp_metadata", lambda data: parsed.append(data) or real(data))

    first = sp.find_sp(settings, dienst.entity_id)
    again = sp.find_sp(settings, dienst.entity_id)

    assert again is first
    assert len([data for data in parsed if dienst.entity_id.encode() in data]) == 1  # our own SP is parsed too


def test_a_rolled_key_in_the_file_is_read_at_the_next_lookup(
    module_settings: Settings, dienst: ForeignSp, tmp_path: Path
) -> None:
    source = dienst.write_metadata(tmp_path)
    settings = _trusting(module_settings, source)
    before = sp.find_sp(settings, dienst.entity_id)

    rolled = dataclasses.replace(dienst, pair=certs.generate("Andere dienst 9010, nieuwe sleutel", serial_number="1"))
    rolled.write_metadata(tmp_path)
    after = sp.find_sp(settings, dienst.entity_id)

    assert before.signing_certs == (dienst.pair.cert,)
    assert after.signing_certs == (rolled.pair.cert,)


def test_a_removed_file_makes_its_diensten_unknown(
    module_settings: Settings, dienst: ForeignSp, tmp_path: Path
) -> None:
    source = dienst.write_metadata(tmp_path)
    settings = _trusting(module_settings, source)
    sp.find_sp(settings, dienst.entity_id)

    source.unlink()

    with pytest.raises(sp.UnknownSp) as refused:
        sp.find_sp(settings, dienst.entity_id)
    assert refused.value.unreadable == (str(source),)
