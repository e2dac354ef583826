"""The shared request dependencies: one broker registry per app, whoever asks for it."""

from __future__ import annotations

import httpx

from diagnostics.settings import Settings
from tests.helpers.brokers import client_for, simulator_handler

ROUTES_THAT_READ_BROKER_METADATA = (
    "/readyz",
    "/api/v1/certificates",
    "/api/v1/status",
    "/metrics",
    "/beheer/certificaten",
)


def test_every_route_that_reads_broker_metadata_shares_the_apps_registry(settings: Settings) -> None:
    fetched: list[str] = []
    serve = simulator_handler(settings)

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.append(request.url.path)
        return serve(request)

    with client_for(settings, handler) as client:
        answers = {path: client.get(path) for path in ROUTES_THAT_READ_BROKER_METADATA}

    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(answers, 200)
    # Fetched once, through the app's registry and its cache; a second registry would have gone elsewhere.
    assert fetched == ["/simulator/metadata"]
    rows = answers["/api/v1/certificates"].json()["certificates"]
    assert [(row["owner"], row["status"]) for row in rows if row["owner"] != "sp"] == [("simulator", "ok")], rows
