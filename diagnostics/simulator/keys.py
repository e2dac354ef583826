"""The simulator's own keys, generated on first run in ``settings.simulator.key_dir``.

Several server workers may start at once against an empty directory; a file lock makes sure exactly
one of them generates each pair and the others read the finished files.

Each supplier (AD) signs its advice assertions with its own key, as real authenticatiediensten do.
Key dirs from before that only hold the one AD key all suppliers shared: that pair stays supplier A's,
and the others are generated next to it on the next start.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from diagnostics import certs
from diagnostics.simulator.entities import SIM_OIN, SUPPLIERS, Supplier

# name -> certificate common name
_PAIRS = {
    "broker": "Simulator herkenningsmakelaar (geen echte eHerkenning)",
    "mr": "Simulator machtigingenregister (geen echte eHerkenning)",
    # Never published anywhere: signs the "untrusted-key" scenario.
    "untrusted": "Onbekende sleutel (simulator)",
}
# The supplier that keeps the files of the once shared AD key ("ad-key.pem", "ad-cert.pem").
_SHARED_AD_HEIR = "A"


def supplier_key_name(supplier: Supplier) -> str:
    """The file stem of the supplier's AD pair in the key dir."""
    return "ad" if supplier.short == _SHARED_AD_HEIR else f"ad-{supplier.short.lower()}"


@dataclass(frozen=True)
class SimulatorKeys:
    broker: certs.KeyPair
    mr: certs.KeyPair
    untrusted: certs.KeyPair
    # (supplier entity id, its AD pair), in SUPPLIERS order; a tuple keeps the keys hashable.
    suppliers: tuple[tuple[str, certs.KeyPair], ...]

    def supplier(self, entity_id: str) -> certs.KeyPair:
        """The AD signing pair of this supplier; KeyError when the simulator has no such supplier."""
        for candidate, pair in self.suppliers:
            if candidate == entity_id:
                return pair
        raise KeyError(entity_id)

    @property
    def ad(self) -> certs.KeyPair:
        """Supplier A's pair: the one AD key older code and key dirs know."""
        return self.supplier(next(s.entity_id for s in SUPPLIERS if s.short == _SHARED_AD_HEIR))


def _ensure(key_dir: Path, name: str, common_name: str, key_size: int) -> certs.KeyPair:
    return certs.ensure(
        key_dir / f"{name}-key.pem", key_dir / f"{name}-cert.pem", common_name, serial_number=SIM_OIN, key_size=key_size
    )


def ensure_keys(key_dir: Path, *, key_size: int = 2048) -> SimulatorKeys:
    """Load the simulator's key pairs, generating any that are missing (existing files are never replaced).

    ``key_size`` only applies to pairs generated now; the benchmark uses it to measure other RSA sizes.
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    with (key_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            pairs = {name: _ensure(key_dir, name, common_name, key_size) for name, common_name in _PAIRS.items()}
            suppliers = tuple(
                (
                    supplier.entity_id,
                    _ensure(
                        key_dir,
                        supplier_key_name(supplier),
                        f"Simulator authenticatiedienst {supplier.short} (geen echte eHerkenning)",
                        key_size,
                    ),
                )
                for supplier in SUPPLIERS
            )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return SimulatorKeys(broker=pairs["broker"], mr=pairs["mr"], untrusted=pairs["untrusted"], suppliers=suppliers)


@lru_cache(maxsize=8)
def keys_for(key_dir: Path) -> SimulatorKeys:
    """Cached per process: the files do not change while the server runs."""
    return ensure_keys(key_dir.resolve())
