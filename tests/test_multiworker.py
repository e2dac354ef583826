"""Four uvicorn workers on one PostgreSQL store: what one worker starts, another finishes, exactly once.

Every response carries ``X-Worker`` (the worker's pid; switched on by ``INLOGHULP_WORKER_HEADER=1``),
so the test can prove that the broker's artifact was issued by one worker and resolved by another,
and that racing resolvers on different workers get an artifact's answer only once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import etree

from diagnostics.saml.artifact import _headers, artifact_resolve_envelope
from diagnostics.saml.authn import build_authn_request
from diagnostics.settings import Settings, load_settings
from tests.conftest import LiveServer
from tests.pg import fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
WORKERS = 4
LOGINS = 16
RACERS = 4


@pytest.fixture
def cluster(
    live_server: Callable[..., LiveServer], write_config: Callable[..., Any], pg_url: str
) -> tuple[LiveServer, Settings]:
    """The app on 4 workers against a fresh PostgreSQL database, and the settings a client needs."""
    database = fresh_database(pg_url)
    server = live_server({"database_url": database}, workers=WORKERS, env={"INLOGHULP_WORKER_HEADER": "1"})
    settings = load_settings(write_config({"database_url": database})).model_copy(
        update={"public_base_url": server.url}
    )
    return server, settings


async def _sso(client: httpx.AsyncClient, settings: Settings, scenario: str) -> tuple[str, str]:
    """Send a signed AuthnRequest in the simulator's test mode; returns (artifact, worker that issued it)."""
    request = build_authn_request(
        settings, destination=f"{settings.public_base_url}/simulator/sso", relay_state="/diagnose/multi"
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
    envelope = artifact_resolve_envelope(settings, artifact=artifact, ars_url=ars_url)
    response = await client.post(
        ars_url, content=envelope, headers={**_headers(settings.simulator.soap_content_type), "Connection": "close"}
    )
    assert response.status_code == 200, response.text[:500]
    root = etree.fromstring(response.content)
    inner = root.find(f".//{{{SAMLP}}}ArtifactResponse/{{{SAMLP}}}Response")
    assert inner is not None
    found = inner.find(f"{{{SAML}}}Assertion") is not None or inner.find(f"{{{SAML}}}EncryptedAssertion") is not None
    return found, response.headers["x-worker"]


def test_artifact_issued_on_one_worker_resolved_once_on_another(cluster: tuple[LiveServer, Settings]) -> None:
    server, settings = cluster

    async def run() -> tuple[list[tuple[str, str]], list[list[tuple[bool, str]]]]:
        async with httpx.AsyncClient(timeout=30) as client:
            issued = await asyncio.gather(*(_sso(client, settings, "success-loa3") for _ in range(LOGINS)))
            races = await asyncio.gather(
                *(
                    asyncio.gather(*(_resolve(client, settings, artifact) for _ in range(RACERS)))
                    for artifact, _ in issued
                )
            )
            return list(issued), [list(race) for race in races]

    issued, races = asyncio.run(run())
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
