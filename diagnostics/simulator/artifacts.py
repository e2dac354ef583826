"""Type 0x0004 artifacts, and the pending answers they point to in the shared store (single use)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from diagnostics.saml.artifact import ARTIFACT_TYPE_CODE, source_id
from diagnostics.simulator.entities import BROKER_ENTITY_ID
from diagnostics.store import Store

# Long enough for a slow browser, short enough that a stolen artifact is useless soon.
ARTIFACT_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class Pending:
    """What the ARS answers for one artifact: the scenario (for slow / broker-error) and the Response.

    ``sp_entity_id`` is the dienst the artifact was issued to: only that dienst may resolve it (SAML
    Bindings §3.6.5), or one dienst could read another's login answer.
    """

    scenario: str
    response: bytes
    sp_entity_id: str

    def dumps(self) -> bytes:
        """One JSON object with the Response in base64.

        Kept as it is although the base64 costs about 0.06 ms each way: during a rolling restart a worker of
        the previous release may answer the ArtifactResolve for an artifact a new worker stored, and must
        be able to read it (tests/simulator/test_artifacts.py holds the layout).
        """
        return json.dumps(
            {
                "scenario": self.scenario,
                "response": base64.b64encode(self.response).decode(),
                "sp": self.sp_entity_id,
            }
        ).encode()

    @classmethod
    def loads(cls, payload: bytes) -> Pending:
        data = json.loads(payload)
        # An entry from before this field names no dienst, so no dienst can resolve it (they live 5 minutes).
        return cls(
            scenario=str(data["scenario"]),
            response=base64.b64decode(data["response"]),
            sp_entity_id=str(data.get("sp", "")),
        )


def new_artifact(endpoint_index: int = 0) -> tuple[str, str]:
    """``(artifact, handle)``: the base64 artifact for the browser and the hex MessageHandle to store it under."""
    handle = secrets.token_bytes(20)
    raw = (
        ARTIFACT_TYPE_CODE.to_bytes(2, "big") + endpoint_index.to_bytes(2, "big") + source_id(BROKER_ENTITY_ID) + handle
    )
    return base64.b64encode(raw).decode("ascii"), handle.hex()


class _BuiltResponses:
    """The Response elements this process built, by artifact handle, until the ArtifactResolve comes.

    When the worker that answered the SSO also answers the ArtifactResolve (always, with one worker), the
    ARS wraps the element it built instead of parsing the stored bytes again (0.1 ms). Only an element whose
    serialisation is exactly the stored Response is handed out; another worker's artifact or an evicted entry
    is parsed from the store as before. The store still decides whether the artifact is valid (once, in time).
    Bounded: logins that never come back push out the oldest.
    """

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._kept: OrderedDict[str, tuple[bytes, etree._Element]] = OrderedDict()
        # store.run may run a store operation in a thread (busy SQLite, in-memory SQLite).
        self._lock = threading.Lock()

    def keep(self, handle: str, response: bytes, element: etree._Element) -> None:
        with self._lock:
            self._kept[handle] = (response, element)
            while len(self._kept) > self._entries:
                self._kept.popitem(last=False)

    def take(self, handle: str, response: bytes | None) -> etree._Element | None:
        """The element kept for ``handle`` if the store's copy is still ``response``; forgotten either way."""
        with self._lock:
            kept = self._kept.pop(handle, None)
        if kept is None or response is None or kept[0] != response:
            return None
        return kept[1]


# Enough for the logins one worker has between SSO and ARS under load (each entry is one 15 kB answer).
_BUILT = _BuiltResponses(entries=64)


def store_pending(store: Store, pending: Pending, now: datetime | None = None) -> str:
    """Keep ``pending`` under a fresh artifact; returns the artifact."""
    return _put(store, pending, now)[0]


def store_response(store: Store, scenario_id: str, response: etree._Element, sp_entity_id: str) -> str:
    """:func:`store_pending` for a Response built here: the element is also kept in this process for the ARS."""
    pending = Pending(scenario_id, etree.tostring(response), sp_entity_id)
    artifact, handle = _put(store, pending, None)
    _BUILT.keep(handle, pending.response, response)
    return artifact


def _put(store: Store, pending: Pending, now: datetime | None) -> tuple[str, str]:
    artifact, handle = new_artifact()
    store.put_artifact(handle, pending.dumps(), (now or datetime.now(UTC)) + ARTIFACT_LIFETIME)
    return artifact, handle


def take_pending(store: Store, handle: str) -> Pending | None:
    """The pending answer, exactly once across all workers."""
    payload = store.take_artifact(handle)
    return Pending.loads(payload) if payload is not None else None


def take_built(handle: str, pending: Pending | None) -> etree._Element | None:
    """The element this process built for ``pending`` (taken from the store just now), if it has it."""
    return _BUILT.take(handle, pending.response if pending is not None else None)
