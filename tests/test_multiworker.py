"""Four uvicorn workers on one PostgreSQL store: what one worker starts, another finishes, exactly once.

Every response carries ``X-Worker`` (the worker's pid; switched on by ``INLOGHULP_WORKER_HEADER=1``),
so the test can prove that the broker's artifact was issued by one worker and resolved by another,
and that racing resolvers on different workers get an artifact's answer only once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import etree
from sqlalchemy import delete, update

from bench.load import Trip, default_supplier, round_trip
from diagnostics.saml.artifact import _headers, artifact_resolve_envelope
from diagnostics.saml.authn import build_authn_request
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.artifacts import Pending, store_pending
from diagnostics.simulator.responses import Login, build_response
from diagnostics.simulator.scenarios import scenario
from diagnostics.store import SessionRow, Store
from tests.helpers.keys import sp_signing_key
from tests.helpers.live_server import LiveServer
from tests.pg import fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
WORKERS = 4
LOGINS = 16
RACERS = 4
REPLAYS_MIN, REPLAYS_MAX = 6, 40


@pytest.fixture
def cluster(
    live_server: Callable[..., LiveServer], write_config: Callable[..., Any], pg_url: str
) -> tuple[LiveServer, Settings]:
    """The app on 4 workers against a fresh PostgreSQL database, and the settings a client needs."""
    # All test clients share one address; the start limit would otherwise stop the test, not a user.
    overrides = {"database_url": fresh_database(pg_url), "rate_limits": {"roundtrip_start": 100_000}}
    server = live_server(overrides, workers=WORKERS, env={"INLOGHULP_WORKER_HEADER": "1"})
    settings = load_settings(write_config(overrides)).model_copy(update={"public_base_url": server.url})
    return server, settings


async def _sso(client: httpx.AsyncClient, settings: Settings, scenario: str) -> tuple[str, str]:
    """Send a signed AuthnRequest in the simulator's test mode; returns (artifact, worker that issued it)."""
    request = build_authn_request(
        settings,
        signing_key=sp_signing_key(settings),
        destination=f"{settings.public_base_url}/simulator/sso",
        relay_state="/diagnose/multi",
    )
    response = await client.get(f"{request.url}&scenario={scenario}", headers={"Connection": "close"})
    assert response.status_code == 303, response.text[:500]
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == settings.acs_url
    return parse_qs(location.query)["SAMLart"][0], response.headers["x-worker"]


async def _resolve(client: httpx.AsyncClient, settings: Settings, artifact: str) -> tuple[bool, str]:
    """One SOAP ArtifactResolve on a new connection; (got the assertion, worker that answered).

    An unknown or already used artifact still gets a Response, with status Requester and no assertion.
    """
    ars_url = f"{settings.public_base_url}/simulator/ars"
    envelope = artifact_resolve_envelope(
        settings, signing_key=sp_signing_key(settings), artifact=artifact, ars_url=ars_url
    )
    response = await client.post(
        ars_url, content=envelope, headers={**_headers(settings.simulator.soap_content_type), "Connection": "close"}
    )
    assert response.status_code == 200, response.text[:500]
    root = etree.fromstring(response.content)
    inner = root.find(f".//{{{SAMLP}}}ArtifactResponse/{{{SAMLP}}}Response")
    assert inner is not None
    found = inner.find(f"{{{SAML}}}Assertion") is not None or inner.find(f"{{{SAML}}}EncryptedAssertion") is not None
    return found, response.headers["x-worker"]


@pytest.mark.anyio
async def test_artifact_issued_on_one_worker_resolved_once_on_another(cluster: tuple[LiveServer, Settings]) -> None:
    server, settings = cluster

    async with httpx.AsyncClient(timeout=30) as client:
        issued = await asyncio.gather(*(_sso(client, settings, "success-loa3") for _ in range(LOGINS)))
        races = await asyncio.gather(
            *(asyncio.gather(*(_resolve(client, settings, artifact) for _ in range(RACERS))) for artifact, _ in issued)
        )

    winners: list[str] = []
    for race in races:
        got = [worker for success, worker in race if success]
        assert len(got) == 1, f"artifact answered {len(got)} times: {race}"
        winners.append(got[0])
    workers_seen = {worker for _, worker in issued} | {worker for race in races for _, worker in race}
    assert len(workers_seen) >= 2, f"all requests landed on one worker: {workers_seen}"
    crossed = [(issuer, winner) for (_, issuer), winner in zip(issued, winners, strict=True) if issuer != winner]
    assert crossed, "no artifact was resolved by another worker than the one that issued it"
    server.stop()


# ── complete round trips: /diagnose/start → simulator → /saml/acs → result page ──

SCENARIOS = ["success-loa3"] * 14 + ["loa-too-low", "cancelled"]
EXPECTED = {
    "success-loa3": ("ok", None),
    "loa-too-low": ("failed", "loa-too-low"),
    "cancelled": ("failed", "cancelled"),
}


def _verdict(url: str, ref: str) -> tuple[str, str | None]:
    body = httpx.get(f"{url}/api/v1/diagnose/{ref}").json()
    return body["verdict"], (body["diagnosis"] or {}).get("id")


@pytest.fixture
def browser(cluster: tuple[LiveServer, Settings]) -> Iterator[httpx.Client]:
    """One user's browser: it keeps the cookie that makes the tests it starts its own."""
    with httpx.Client(base_url=cluster[0].url, timeout=30) as client:
        yield client


@pytest.mark.anyio
async def test_round_trips_cross_workers_and_replays_are_refused(
    cluster: tuple[LiveServer, Settings], open_store: Callable[[str], Store], browser: httpx.Client
) -> None:
    server, settings = cluster
    url = server.url

    async def one_user(scenario: str) -> Trip:
        # A browser of its own per user (a test belongs to the browser that started it), and a new
        # connection per request, as behind a round-robin proxy: any step may land on any worker.
        async with httpx.AsyncClient(timeout=60, headers={"Connection": "close"}) as client:
            return await round_trip(client, url, scenario=scenario)

    # The rest of the test uses blocking clients: it runs alone on this loop, so they hold up nothing.
    trips = await asyncio.gather(*(one_user(s) for s in SCENARIOS))
    for trip in trips:
        assert trip.error is None, trip.error
        assert (trip.verdict, trip.diagnosis) == EXPECTED[trip.scenario], trip
    # The AuthnRequest went out from one worker and the artifact came back to another.
    crossed = [trip for trip in trips if trip.workers["start"] != trip.workers["acs"]]
    assert crossed, f"every round trip stayed on one worker: {[t.workers for t in trips]}"

    store = open_store(settings.database_url)
    for trip in trips:
        assert trip.reference is not None
        session = store.get_session(trip.reference)
        assert session is not None and session.state == "finished"

    # A replayed artifact, offered on any worker for a new test, resolves to nothing: refused.
    first = next(trip for trip in trips if trip.scenario == "success-loa3")
    assert first.artifact is not None
    for _ in range(3):
        ref = _start(browser)
        response = browser.get("/saml/acs", params={"SAMLart": first.artifact, "RelayState": f"/diagnose/{ref}"})
        assert response.status_code == 303
        verdict, diagnosis = _verdict(url, ref)
        assert verdict == "failed" and diagnosis is not None, (verdict, diagnosis)

    # The same assertion (same ID, matching InResponseTo) delivered again, on whichever worker: replay.
    original = _start(browser)
    request_id = _request_id(store, original)
    login = Login(request_id, settings.acs_url, default_supplier())
    message = etree.tostring(build_response(settings, scenario("success-loa3"), login))
    artifact = store_pending(store, Pending("success-loa3", message, settings.sp.entity_id))
    first_worker = browser.get(
        "/saml/acs", params={"SAMLart": artifact, "RelayState": f"/diagnose/{original}"}
    ).headers["x-worker"]
    assert _verdict(url, original) == ("ok", None)
    replay_workers: set[str] = set()
    previous = original
    # Which worker accepts a connection is up to the kernel, and a run of sequential requests can land on
    # one worker many times in a row; so replay until one lands elsewhere (each one must be refused).
    for replays in range(1, REPLAYS_MAX + 1):
        ref = _start(browser)
        # Give the new session the old request ID, so that only the assertion-ID check can refuse it.
        with store.engine.begin() as connection:
            connection.execute(delete(SessionRow).where(SessionRow.reference == previous))
            connection.execute(update(SessionRow).where(SessionRow.reference == ref).values(request_id=request_id))
        again = store_pending(store, Pending("success-loa3", message, settings.sp.entity_id))
        response = browser.get(
            "/saml/acs",
            params={"SAMLart": again, "RelayState": f"/diagnose/{ref}"},
            headers={"Connection": "close"},
        )
        replay_workers.add(response.headers["x-worker"])
        assert _verdict(url, ref) == ("failed", "replay")
        previous = ref
        if replays >= REPLAYS_MIN and replay_workers - {first_worker}:
            break
    assert replay_workers - {first_worker}, "every replay landed on the worker that saw the original"

    # The metrics of all workers together count every round trip started.
    text = httpx.get(f"{url}/metrics").text
    line = next(
        line for line in text.splitlines() if line.startswith('inloghulp_roundtrips_started_total{broker="simulator"}')
    )
    assert float(line.rsplit(" ", 1)[1]) >= len(SCENARIOS) + 10
    store.engine.dispose()


def _start(browser: httpx.Client) -> str:
    """POST /diagnose/start in this browser (which then owns the test); the new session's reference."""
    response = browser.post("/diagnose/start", data={"broker": "simulator", "supplier": default_supplier()})
    assert response.status_code == 303, response.text[:300]
    relay = parse_qs(urlsplit(response.headers["location"]).query)["RelayState"][0]
    return relay.rsplit("/", 1)[-1]


def _request_id(store: Store, ref: str) -> str:
    session = store.get_session(ref)
    assert session is not None and session.request_id is not None
    return session.request_id
