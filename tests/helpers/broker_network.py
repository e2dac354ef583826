"""Fake broker servers for tests of the registry and the pages that use it (in process, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from diagnostics import certs
from diagnostics.settings import Settings, load_settings
from tests.helpers.broker_documents import ad_list_xml, metadata_xml

AsyncHandler = Callable[[httpx.Request], Awaitable[httpx.Response]]
NAMES = ("hm-a", "hm-b")


def pinned_brokers(write_config: Callable[..., Path], tmp_path: Path, pair: certs.KeyPair) -> Settings:
    """Two URL brokers (hm-a, hm-b) whose metadata is pinned to ``pair`` and who publish an AD list."""
    pin = tmp_path / "pin.pem"
    pin.write_bytes(pair.cert_pem)
    brokers: list[dict[str, Any]] = [
        {
            "id": name,
            "name": name.upper(),
            "metadata_url": f"https://{name}.example/md",
            "ad_list_url": f"https://{name}.example/listAD.xml",
            "metadata_signing_cert_file": str(pin),
        }
        for name in NAMES
    ]
    return load_settings(write_config({"brokers": brokers}))


def answering_only_together(pair: certs.KeyPair) -> tuple[AsyncHandler, list[str]]:
    """Both brokers' servers; each answer waits until the other broker asked for the same document.

    Asked one broker after the other, the first request gives up (503): a page that asks in turn fails.
    Returns the handler and the ``host/path`` of every request, in order of arrival.
    """
    documents = {
        "/md": metadata_xml(pair),
        "/listAD.xml": ad_list_xml(pair, [("urn:etoegang:AD:1:entities:1", "Alfa")]),
    }
    arrived: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        arrived.append(f"{request.url.host}{path}")
        for _ in range(50):
            if sum(1 for seen in arrived if seen.endswith(path)) >= len(NAMES):
                return httpx.Response(200, content=documents[path])
            await asyncio.sleep(0.02)
        return httpx.Response(503)

    return handler, arrived
