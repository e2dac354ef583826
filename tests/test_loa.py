"""The one LoA enum: eHerkenning's order, the URN, the Dutch name, and what the command line accepts."""

from __future__ import annotations

import pytest

from diagnostics.loa import Loa, loa_rank
from diagnostics.settings import ServiceConfig

PREFIX = "urn:etoegang:core:assurance-class:"


def test_levels_in_eherkenning_order_with_their_urn_and_dutch_name() -> None:
    assert [(level.rank, level.uri, level.label) for level in Loa] == [
        (0, PREFIX + "loa1", "eHerkenning niveau 1"),
        (1, PREFIX + "loa2", "eHerkenning niveau 2"),
        (2, PREFIX + "loa2plus", "eHerkenning niveau 2+"),
        (3, PREFIX + "loa3", "eHerkenning niveau 3"),
        (4, PREFIX + "loa4", "eHerkenning niveau 4"),
    ]


def test_a_level_is_its_urn_wherever_a_string_is_expected() -> None:
    assert Loa.EH3 == PREFIX + "loa3" and f"{Loa.EH3}" == PREFIX + "loa3"
    assert Loa.of(PREFIX + "loa2plus") is Loa.EH2PLUS


@pytest.mark.parametrize("unknown", [None, "", PREFIX + "loa5", PREFIX + "LOA3", "http://eidas.europa.eu/LoA/high"])
def test_an_unknown_level_ranks_below_every_level(unknown: str | None) -> None:
    assert Loa.of(unknown) is None
    assert loa_rank(unknown) == -1 < loa_rank(Loa.EH1)


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("loa2plus", Loa.EH2PLUS),
        ("EH2+", Loa.EH2PLUS),
        ("niveau 2+", Loa.EH2PLUS),
        ("2plus", Loa.EH2PLUS),
        ("3", Loa.EH3),
        ("eh4", Loa.EH4),
        (f" {PREFIX}loa2 ", Loa.EH2),
        ("2++", None),
        ("5", None),
        ("", None),
    ],
)
def test_parse_reads_what_people_type(typed: str, level: Loa | None) -> None:
    assert Loa.parse(typed) is level


def test_the_configured_level_defaults_to_eh2plus() -> None:
    assert ServiceConfig.model_fields["required_loa"].default is Loa.EH2PLUS
