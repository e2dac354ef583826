"""Outages people can see, in Chromium: an operator notice and the automatic one, on the chooser and in the
help-site widget, with axe (WCAG 2.2 AA tags) finding nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from diagnostics import certs, notices
from diagnostics.catalogue import load_catalogue
from diagnostics.settings import load_settings
from diagnostics.store import Store
from diagnostics.verdict import Verdict
from tests.browser.pages import axe_report
from tests.helpers.config import config_file
from tests.helpers.live_server import LiveServer

pytestmark = pytest.mark.browser

THRESHOLD = 3
OPERATOR_TEXT = "Inloggen via de Simulator lukt nu niet. De makelaar werkt eraan."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site_dir: Path) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("browser-notices")
    key_file, cert_file = directory / "sp-key.pem", directory / "sp-cert.pem"
    certs.write(certs.generate("Test SP", serial_number="00000009999999999000"), key_file, cert_file)
    brokers = [
        {"id": "simulator", "name": "Simulator", "embedded": True},
        {"id": "tweede", "name": "Tweede makelaar", "embedded": True},
    ]
    config = config_file(
        directory,
        key_file,
        cert_file,
        {"site_dir": str(built_site_dir), "brokers": brokers, "notices": {"outage_threshold": THRESHOLD}},
    )
    settings = load_settings(config)
    store = Store(settings.database_url)
    try:
        # The operator says the simulator is down; the other broker's round trips keep failing on its side.
        notices.add(
            store.engine,
            settings,
            broker_id="simulator",
            text=OPERATOR_TEXT,
            until=datetime.now(UTC) + timedelta(hours=2),
        )
        for _ in range(THRESHOLD):
            session = store.create_session(broker_id="tweede", supplier_id=None, request_id=None)
            failed = Verdict(verdict="failed", diagnosis=load_catalogue().diagnosis("broker-unreachable"), checks=[])
            store.finish_session(session.reference, failed)
    finally:
        store.close()
    live = LiveServer(config)
    try:
        yield live
    finally:
        live.stop()


def test_both_kinds_of_notice_on_the_chooser_pass_axe(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/diagnose")
    operator = page.locator('[data-notice="operator"]')
    automatic = page.locator('[data-notice="automatic"]')
    expect(operator.get_by_role("heading", name="Storing bij Simulator")).to_be_visible()
    expect(operator).to_contain_text(OPERATOR_TEXT)
    expect(operator).to_contain_text("Wij verwachten dat dit voorbij is op")
    expect(automatic.get_by_role("heading", name="Mogelijk een storing bij Tweede makelaar")).to_be_visible()
    expect(automatic).to_contain_text("Dat ligt waarschijnlijk niet aan u.")
    # Above the choice, where a user reads before choosing.
    assert page.evaluate(
        "() => document.querySelector('[data-notice]').compareDocumentPosition("
        "document.querySelector('form.chooser')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert axe_report(page) is None, axe_report(page)


def test_the_help_site_widget_shows_them_too(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/eherkenning/")
    widget = page.locator("[data-inloghulp-roundtrip]")
    expect(widget.locator('[data-notice="operator"]')).to_contain_text("Storing bij Simulator")
    expect(widget.locator('[data-notice="automatic"]')).to_contain_text("Mogelijk een storing bij Tweede makelaar")
    assert axe_report(page) is None, axe_report(page)
