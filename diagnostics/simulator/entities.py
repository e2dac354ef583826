"""The simulated eHerkenning chain: one broker, its suppliers (ADs), a machtigingenregister and test organisations.

All identifiers use the test index range 9000–9999 and a fake OIN so that nobody mistakes them for
real parties; every display name says "(simulator)".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from diagnostics.settings import SIMULATOR_OIN

SIM_OIN = SIMULATOR_OIN
BROKER_ENTITY_ID = f"urn:etoegang:HM:{SIM_OIN}:entities:9999"
BROKER_NAME = "Simulator eHerkenning (geen echte makelaar)"
MR_ENTITY_ID = f"urn:etoegang:MR:{SIM_OIN}:entities:9998"


@dataclass(frozen=True)
class Supplier:
    """An authenticatiedienst (the user's eHerkenning supplier) behind the simulated broker."""

    entity_id: str
    display_name: str
    short: str


SUPPLIERS: tuple[Supplier, ...] = tuple(
    sorted(
        (
            Supplier(
                f"urn:etoegang:AD:{SIM_OIN}:entities:9001", "Voorbeeld eHerkenning Leverancier A (simulator)", "A"
            ),
            Supplier(
                f"urn:etoegang:AD:{SIM_OIN}:entities:9002", "Voorbeeld eHerkenning Leverancier B (simulator)", "B"
            ),
            Supplier(
                f"urn:etoegang:AD:{SIM_OIN}:entities:9003", "Voorbeeld eHerkenning Leverancier C (simulator)", "C"
            ),
        ),
        key=lambda supplier: supplier.display_name.casefold(),
    )
)


def supplier(entity_id: str) -> Supplier | None:
    """The supplier with this entity id, or None when the simulator does not know it."""
    for candidate in SUPPLIERS:
        if candidate.entity_id == entity_id:
            return candidate
    return None


@dataclass(frozen=True)
class Organisation:
    """A fake organisation the tester can log in for (KvK numbers are not real)."""

    kvk: str
    name: str


@dataclass(frozen=True)
class Person:
    """A fake employee holding an eHerkenning means."""

    key: str
    name: str


ORGANISATIONS: tuple[Organisation, ...] = (
    Organisation("90000001", "Voorbeeld Boorbedrijf B.V. (nep)"),
    Organisation("90000002", "Voorbeeld Waterschap (nep)"),
    Organisation("90000003", "Voorbeeld Ingenieursbureau (nep)"),
)
PERSONS: tuple[Person, ...] = (
    Person("jan", "Jan Testpersoon"),
    Person("fatima", "Fatima Voorbeeld"),
    Person("kees", "Kees de Simulator"),
)
DEFAULT_KVK = ORGANISATIONS[0].kvk
DEFAULT_PERSON = PERSONS[0].key


def person(key: str) -> Person | None:
    for candidate in PERSONS:
        if candidate.key == key:
            return candidate
    return None


def pseudonym(person_key: str, kvk: str, sp_entity_id: str) -> str:
    """A stable 64-hex specific pseudonym: per person × organisation × DV, like the real one."""
    return hashlib.sha256(f"simulator|{person_key}|{kvk}|{sp_entity_id}".encode()).hexdigest()
