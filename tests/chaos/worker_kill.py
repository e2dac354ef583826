"""A worker killed (SIGKILL) while it resolves an artifact: after a restart the test ends as ``interrupted``.

The broker's ArtifactResolutionService is made to hang, so the ACS request sits inside the resolve with the
session claimed; then the server process is killed and a new one started on the same database. The page
must never say the broker gave no answer (it did: the artifact arrived), and must end at ``interrupted``
once the claim is older than the resolve timeout plus the margin.
"""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import create_engine, select

from diagnostics.models import SessionRow
from diagnostics.roundtrip import interrupted_after
from diagnostics.settings import load_settings
from diagnostics.simulator import entities
from diagnostics.simulator.artifacts import new_artifact
from tests.chaos.world import PATIENCE_SECONDS, FakeBroker, Outcome, World, start

RESOLVE_TIMEOUT_SECONDS = 2
# Long enough that the killed worker is still inside the resolve when it dies.
HANGING_ARS_SECONDS = 30.0


def _claimed(database_url: str, reference: str, seconds: float) -> bool:
    """Wait (bounded) until the ACS request has claimed the session for evaluation."""
    engine = create_engine(database_url)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                claimed = connection.execute(
                    select(SessionRow.claimed_at).where(SessionRow.reference == reference)
                ).scalar_one_or_none()
            if claimed is not None:
                return True
            time.sleep(0.1)
        return False
    finally:
        engine.dispose()


def worker_killed_mid_resolve(world: World) -> Outcome:
    fake = FakeBroker()
    try:
        brokers = [
            {"id": "simulator", "name": "Simulator", "embedded": True, "soap_content_type": "text/xml"},
            fake.config(),
        ]
        config = world.config({"brokers": brokers, "resolve_timeout_seconds": RESOLVE_TIMEOUT_SECONDS})
        settings = load_settings(config)
        fake.use(settings)
        first = world.serve(config)
        browser = httpx.Client(base_url=first.url, timeout=PATIENCE_SECONDS)
        try:
            started = start(browser, "nep", entities.SUPPLIERS[0].entity_id)
            fake.answer_with(world.settings_of(config, first), "success-loa2plus", started.request_id)
            fake.delay = HANGING_ARS_SECONDS  # from now on the broker's answers hang
            artifact, _ = new_artifact()
            relay = f"/diagnose/{started.reference}"

            def come_back() -> None:
                try:
                    browser.get("/saml/acs", params={"SAMLart": artifact, "RelayState": relay}, timeout=60)
                except httpx.HTTPError:
                    pass  # the server dies under it: that is the fault

            returning = threading.Thread(target=come_back, daemon=True)
            returning.start()
            if not _claimed(settings.database_url, started.reference, 15):
                return Outcome(False, "the ACS never claimed the session", "\n".join(first.lines[-20:]))
            first.live.process.kill()  # SIGKILL: no shutdown, no cleanup, the claim stays behind
            first.live.process.wait(timeout=15)
            fake.delay = 0.0

            # The reload: a new server on the same database, reached by the same browser (same cookies).
            second = world.serve(config)
            seen: list[str] = []
            deadline = time.monotonic() + interrupted_after(settings).total_seconds() + 15
            while time.monotonic() < deadline:
                answer = browser.get(f"{second.url}/api/v1/diagnose/{started.reference}")
                diagnosis = (answer.json().get("diagnosis") or {}).get("id") or answer.json().get("verdict", "?")
                seen.append(diagnosis)
                if diagnosis == "interrupted":
                    break
                time.sleep(0.5)
            page = browser.get(f"{second.url}{relay}").text
            wrong = {"no-response", "broker-unreachable"} & set(seen)
            passed = seen[-1:] == ["interrupted"] and not wrong and "onderbroken" in page
            got = f"after restart: {' → '.join(dict.fromkeys(seen))}; page says 'onderbroken': {'onderbroken' in page}"
            return Outcome(passed, got, "" if passed else f"seen {seen[-5:]}")
        finally:
            browser.close()
    finally:
        world.stop()
        fake.close()
