"""The one base class for failures that carry a stable id and a Dutch message.

``diagnosis`` is a diagnosis id from the catalogue (ARCHITECTURE.md, "Diagnosis ids"), or for the simulator
one of its own ``sim-*`` error codes; ``message`` is the Dutch text a page, a check or the console shows.
Each layer raises its own subclass (``CryptoError``, ``ArtifactError``, ``BrokerError``, …) so callers can
still catch exactly what they expect. Exceptions that only steer control flow (a check's ``Stop``, the
console's ``LoginRequired``) are not problems and do not derive from this class. It imports nothing, so
every layer may use it.
"""

from __future__ import annotations


class Problem(Exception):
    """A failure with a stable id (``diagnosis``) and a Dutch text (``message``, also ``str(problem)``)."""

    def __init__(self, diagnosis: str, message: str) -> None:
        super().__init__(message)
        self.diagnosis = diagnosis
        self.message = message
