"""`inloghulp serve` serves the built help site at / beside the service routes (what `make run` starts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.helpers.config import ROOT

PAGES = {
    "/": "Inloggen in het Bronhouderportaal",
    "/eherkenning/": "Inloggen met eHerkenning",
    "/inloggen-lukt-niet/": "Inloggen lukt niet",
    "/toegankelijkheid/": "Toegankelijkheid",
}


def test_server_serves_the_help_site(live_server: Callable[..., Any]) -> None:
    if not (ROOT / "site" / "index.html").is_file():
        pytest.fail("the site is not built: `make build` (part of `make test` and `make run`) builds it")
    server = live_server()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for path, heading in PAGES.items():
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("text/html")
            document = BeautifulSoup(response.text, "html.parser")
            assert document.html is not None and document.html.get("lang") == "nl", path
            h1 = document.select_one("article h1")
            assert h1 is not None and h1.get_text(" ", strip=True).startswith(heading), path
        assert client.get("/healthz").status_code == 200
        assert client.get("/bestaat-niet/").status_code == 404
