"""eHerkenning's levels of assurance: one enum for the URN, the order and the Dutch name.

The configuration (``[service] required_loa``), the ``loa`` check, ``inloghulp explain --required-loa``
and the simulator's scenarios all read this enum (ARCHITECTURE.md, "Where each concept lives"). It imports
nothing, so every layer may read it.
"""

from __future__ import annotations

import re
from enum import StrEnum

_PREFIX = "urn:etoegang:core:assurance-class:"


class Loa(StrEnum):
    """A level as it travels in ``AuthnContextClassRef``; the members are in eHerkenning's order, lowest first.

    A higher level serves every lower one. EH1 stopped on 1 July 2021 but still has its place in the order.
    """

    EH1 = _PREFIX + "loa1"
    EH2 = _PREFIX + "loa2"
    EH2PLUS = _PREFIX + "loa2plus"
    EH3 = _PREFIX + "loa3"
    EH4 = _PREFIX + "loa4"

    @property
    def uri(self) -> str:
        """The URN, as a plain string (also the member's value)."""
        return self.value

    @property
    def rank(self) -> int:
        """Position in eHerkenning's order: EH1 is 0, EH4 is 4."""
        return _ORDER.index(self)

    @property
    def level(self) -> str:
        """The short name after "niveau": ``2+`` for EH2+."""
        return self.value.removeprefix(_PREFIX + "loa").replace("plus", "+")

    @property
    def label(self) -> str:
        """The Dutch name for users and beheerders: "eHerkenning niveau 2+"."""
        return f"eHerkenning niveau {self.level}"

    @classmethod
    def of(cls, uri: str | None) -> Loa | None:
        """The level a URN names; None for anything else (an unknown level is never good enough)."""
        if uri is None:
            return None
        try:
            return cls(uri)
        except ValueError:
            return None

    @classmethod
    def parse(cls, value: str) -> Loa | None:
        """``loa3``, ``EH2+``, ``niveau 2+``, ``2+``, ``3`` or the full URN → the level; None otherwise."""
        compact = value.strip().lower().removeprefix(_PREFIX)
        compact = re.sub(r"^(eh|niveau\s*)", "", compact).removeprefix("loa")
        return next((level for level in cls if level.level == compact.replace("plus", "+")), None)


_ORDER: tuple[Loa, ...] = tuple(Loa)


def loa_rank(uri: str | None) -> int:
    """Position of a level in eHerkenning's order; -1 for anything unknown (never good enough)."""
    level = Loa.of(uri)
    return level.rank if level is not None else -1
