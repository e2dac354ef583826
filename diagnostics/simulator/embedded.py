"""The embedded simulator as the broker registry sees it: its signing certificate and its metadata.

``diagnostics.brokers`` is the SAML layer and does not import the simulator; whoever wires a process
(the composition root, the commands) hands it this. See ARCHITECTURE.md, "Layers".
"""

from __future__ import annotations

from diagnostics.brokers import EmbeddedBroker
from diagnostics.settings import Settings
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.metadata import broker_metadata


def embedded_broker(settings: Settings) -> EmbeddedBroker:
    """The simulator of ``settings``; its keys are read (and made, the first time) only when asked for."""
    return EmbeddedBroker(
        signing_cert=lambda: keys_for(settings.simulator.key_dir).broker.cert,
        metadata=lambda: broker_metadata(settings),
    )
