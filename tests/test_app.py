from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Route, compile_path

from diagnostics.app import create_app
from diagnostics.settings import Settings
from diagnostics.store import Store


def test_healthz_answers(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_is_served_without_cdn_pages(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        spec = client.get("/openapi.json")
        docs = client.get("/docs")
    assert spec.status_code == 200
    assert "/api/v1/service-info" in spec.json()["paths"]
    assert "cdn.jsdelivr.net" not in docs.text
    assert docs.status_code == 404


def test_sessions_past_the_retention_are_purged_at_start(settings: Settings) -> None:
    store = Store(settings.database_url)
    old = store.create_session(
        broker_id="simulator", supplier_id=None, request_id="_old", now=datetime.now(UTC) - timedelta(days=31)
    )
    recent = store.create_session(broker_id="simulator", supplier_id=None, request_id="_recent")
    with TestClient(create_app(settings), base_url=settings.public_base_url):
        pass
    assert store.get_session(old.reference) is None
    assert store.get_session(recent.reference) is not None


def _service_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route with a path, also those inside included routers (FastAPI keeps those as nodes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _service_routes(included.routes)
        elif isinstance(route, Route | APIRoute):
            yield route


def _answers(template: str, path: str) -> bool:
    """Whether the route ``template`` would answer ``path`` with its parameters filled in."""
    example = re.sub(r"\{[^}]+\}", "BHP-AAAA-AAAA", path)
    return compile_path(template)[0].match(example) is not None


def test_no_two_routes_answer_the_same_path_and_method(settings: Settings) -> None:
    """Routes are matched in the order diagnostics/app.py includes them (the round trip's first, for speed).
    That order must not decide which route answers a request."""
    routes = [
        (route.path, set(getattr(route, "methods", None) or ()))
        for route in _service_routes(create_app(settings).routes)
    ]
    assert len(routes) > 40  # the service's routes, the simulator's included
    clashes = [
        (path, other)
        for (path, methods), (other, other_methods) in itertools.combinations(routes, 2)
        if methods & other_methods and (_answers(path, other) or _answers(other, path))
    ]
    assert clashes == []
