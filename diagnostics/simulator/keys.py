"""The simulator's own keys, generated on first run in ``settings.simulator.key_dir``.

Several server workers may start at once against an empty directory; a file lock makes sure exactly
one of them generates each pair and the others read the finished files.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from diagnostics import certs
from diagnostics.simulator.entities import SIM_OIN

# name -> certificate common name
_PAIRS = {
    "broker": "Simulator herkenningsmakelaar (geen echte eHerkenning)",
    "ad": "Simulator authenticatiedienst (geen echte eHerkenning)",
    "mr": "Simulator machtigingenregister (geen echte eHerkenning)",
    # Never published anywhere: signs the "untrusted-key" scenario.
    "untrusted": "Onbekende sleutel (simulator)",
}


@dataclass(frozen=True)
class SimulatorKeys:
    broker: certs.KeyPair
    ad: certs.KeyPair
    mr: certs.KeyPair
    untrusted: certs.KeyPair


def ensure_keys(key_dir: Path) -> SimulatorKeys:
    """Load the simulator's key pairs, generating any that are missing."""
    key_dir.mkdir(parents=True, exist_ok=True)
    pairs: dict[str, certs.KeyPair] = {}
    with (key_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for name, common_name in _PAIRS.items():
                pairs[name] = certs.ensure(
                    key_dir / f"{name}-key.pem", key_dir / f"{name}-cert.pem", common_name, serial_number=SIM_OIN
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return SimulatorKeys(**pairs)


@lru_cache(maxsize=8)
def keys_for(key_dir: Path) -> SimulatorKeys:
    """Cached per process: the files do not change while the server runs."""
    return ensure_keys(key_dir.resolve())
