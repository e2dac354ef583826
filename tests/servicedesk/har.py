"""HAR files as a browser's developer tools save them, recorded from real round trips through the simulator.

The app runs in process. Its back channel (the ArtifactResolve to the simulator's ARS) goes back into the
same app, so the broker answers over SOAP exactly as it would over the network, and never through the
recorded browser: the HAR holds the artifact and the RelayState, as a real one does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.settings import Settings
from diagnostics.simulator import entities
from tests.helpers.brokers import simulator_handler

Entry = dict[str, Any]


def app_with_back_channel(settings: Settings) -> FastAPI:
    """The app, with its calls to the broker (metadata, AD list, ARS) answered by the same app's simulator."""
    documents = simulator_handler(settings)
    app: FastAPI | None = None

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/simulator/ars":
            return documents(request)
        assert app is not None
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.public_base_url) as ars:
            answer = await ars.post(request.url.path, content=request.content, headers=dict(request.headers))
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    app = create_app(settings, broker_transport=httpx.MockTransport(handler))
    return app


def _headers(headers: httpx.Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.multi_items() if name.lower() != "cookie"]


def _entry(response: httpx.Response) -> Entry:
    """One HAR 1.2 entry for a request and its answer (cookies left out, as in a sanitised export)."""
    request = response.request
    url = str(request.url)
    entry: Entry = {
        "startedDateTime": datetime.now(UTC).isoformat(),
        "time": 12,
        "request": {
            "method": request.method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": _headers(request.headers),
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query)],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(request.content),
        },
        "response": {
            "status": response.status_code,
            "statusText": response.reason_phrase,
            "httpVersion": "HTTP/1.1",
            "headers": _headers(response.headers),
            "cookies": [],
            "content": {
                "size": len(response.content),
                "mimeType": response.headers.get("content-type", ""),
                "text": response.text,
            },
            "redirectURL": response.headers.get("location", ""),
            "headersSize": -1,
            "bodySize": len(response.content),
        },
        "cache": {},
        "timings": {"send": 1, "wait": 10, "receive": 1},
    }
    if request.method == "POST":
        body = request.content.decode()
        entry["request"]["postData"] = {
            "mimeType": "application/x-www-form-urlencoded",
            "params": [{"name": k, "value": v} for k, v in parse_qsl(body)],
            "text": body,
        }
    return entry


def browse(client: TestClient, method: str, url: str, data: dict[str, str] | None = None) -> Iterator[Entry]:
    """Send one request and follow its redirects as a browser does, one HAR entry per hop."""
    response = client.request(method, url, data=data, follow_redirects=False)
    yield _entry(response)
    while response.is_redirect:
        target = urljoin(str(response.request.url), response.headers["location"])
        response = client.get(target, follow_redirects=False)
        yield _entry(response)


def run_test(client: TestClient, scenario: str) -> list[Entry]:
    """A whole inlogtest in ``scenario``, from the chooser to the result page, as HAR entries."""
    supplier = entities.SUPPLIERS[0].entity_id
    entries = list(browse(client, "GET", "/diagnose"))
    data = {"broker": "simulator", "supplier": supplier, "scenario": scenario}
    entries += browse(client, "POST", "/diagnose/start", data)
    return entries


def har(entries: list[Entry]) -> str:
    """The HAR file's text, as "Save all as HAR" writes it."""
    document = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [],
            "entries": entries,
        }
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def acs_url_in(entries: list[Entry]) -> str:
    """The URL of the browser's request to our ACS: the artifact and the RelayState, nothing else."""
    return next(e["request"]["url"] for e in entries if urlsplit(e["request"]["url"]).path == "/saml/acs")
