"""The open-test banner reads the database only where it can show: never on the latest test's own page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from diagnostics import ownership
from tests.routes.test_open_test import start


def test_no_banner_read_on_the_latest_tests_own_page(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = start(client)
    reads: list[list[str]] = []
    real = ownership.open_test

    def counted(settings: Any, store: Any, refs: list[str], now: Any = None) -> Any:
        reads.append(refs)
        return real(settings, store, refs, now)

    monkeypatch.setattr(ownership, "open_test", counted)
    # The page a browser sees after every round trip asks its question itself: no banner, so no read.
    assert client.get(f"/diagnose/{reference}").status_code == 200
    assert reads == []
    # Any other page may show the banner: it reads.
    assert client.get("/diagnose").status_code == 200
    assert reads == [[reference]]
