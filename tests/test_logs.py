"""JSON log lines with the reference code bound per context (never mixed between concurrent requests)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bench.load import round_trip
from diagnostics.logs import JsonFormatter, ReferenceFilter, configure_logging, current_reference, reference_bound
from diagnostics.settings import load_settings
from diagnostics.simulator import entities
from tests.helpers.live_server import LiveServer


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ReferenceFilter())
    logger = logging.getLogger(f"test.logs.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_is_json_with_the_bound_reference() -> None:
    logger, stream = _capture()
    logger.info("before")
    with reference_bound("BHP-7K3Q-9D2F"):
        logger.info("artifact received for %s", "simulator")
        assert current_reference() == "BHP-7K3Q-9D2F"
    logger.info("after")
    lines = _lines(stream)
    assert [line["reference"] for line in lines] == [None, "BHP-7K3Q-9D2F", None]
    assert lines[1]["message"] == "artifact received for simulator"
    assert lines[1]["level"] == "INFO" and isinstance(lines[1]["pid"], int)


def test_exceptions_are_one_line_without_traceback() -> None:
    logger, stream = _capture()
    try:
        raise ValueError("kapot")
    except ValueError:
        logger.exception("resolve failed")
    (line,) = _lines(stream)
    assert line["error"] == "ValueError: kapot"
    assert "Traceback" not in stream.getvalue()


@pytest.mark.anyio
async def test_concurrent_sessions_keep_their_own_reference() -> None:
    logger, stream = _capture()

    async def session(reference: str) -> None:
        with reference_bound(reference):
            for step in range(5):
                logger.info("step %d", step)
                await asyncio.sleep(0)

    await asyncio.gather(session("BHP-AAAA-AAAA"), session("BHP-BBBB-BBBB"))
    lines = _lines(stream)
    assert len(lines) == 10
    for line in lines:
        assert line["reference"] in {"BHP-AAAA-AAAA", "BHP-BBBB-BBBB"}
    assert sum(line["reference"] == "BHP-AAAA-AAAA" for line in lines) == 5


def test_configure_logging_is_idempotent() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging()
        configure_logging()
        ours = [handler for handler in root.handlers if handler.get_name() == "inloghulp-json"]
        assert len(ours) == 1
        assert logging.getLogger("uvicorn.access").handlers == []
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)


# ── a real server: every line of a round trip carries its reference, no identifier leaks ──


@pytest.mark.slow
@pytest.mark.anyio
async def test_round_trip_log_lines_carry_reference_and_no_identifiers(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = live_server({"rate_limits": {"roundtrip_start": 1000}})

    async with httpx.AsyncClient(timeout=60) as client:
        trips = [await round_trip(client, server.url, scenario=name) for name in ("success-loa3", "loa-too-low")]
    output = server.stop()
    assert [trip.error for trip in trips] == [None, None]
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    for trip in trips:
        assert trip.reference is not None
        mine = [record for record in records if record["reference"] == trip.reference]
        messages = " | ".join(str(record["message"]) for record in mine)
        # The start, the broker, the ACS and the result page, plus the session's own events.
        for expected in (
            "POST /diagnose/start 303",
            "GET /simulator/sso 303",
            "GET /saml/acs 303",
            f"GET /diagnose/{trip.reference} 200",
            "diagnostics session started",
            "diagnostics session finished",
        ):
            assert expected in messages, (expected, messages)
    # No request line of a session is left without its code.
    for record in records:
        message = str(record["message"])
        if record["logger"] == "diagnostics.request" and ("/diagnose/" in message or "/saml/acs" in message):
            assert record["reference"], record
    # Privacy: none of the simulator's identifiers, names or raw SAML appears in any line.
    kvk = entities.DEFAULT_KVK
    settings = load_settings(tmp_path / "inloghulp.toml")  # the file live_server wrote
    secrets = [
        kvk,
        entities.pseudonym(entities.DEFAULT_PERSON, kvk, settings.sp.entity_id),
        entities.PERSONS[0].name,
        "Assertion",
        "SAMLart",
        trips[0].artifact or "(no artifact)",
    ]
    for secret in secrets:
        assert secret not in output, f"{secret!r} found in the log"


def test_reference_is_found_in_path_relay_state_and_redirect() -> None:
    from diagnostics.request_log import _reference_in_location, reference_for

    assert reference_for("/diagnose/BHP-7K3Q-9D2F", b"") == "BHP-7K3Q-9D2F"
    assert reference_for("/api/v1/diagnose/bhp-7k3q-9d2f", b"") == "BHP-7K3Q-9D2F"
    assert reference_for("/saml/acs", b"SAMLart=AAQ&RelayState=%2Fdiagnose%2FBHP-7K3Q-9D2F") == "BHP-7K3Q-9D2F"
    assert reference_for("/saml/acs", b"SAMLart=AAQ") is None
    assert reference_for("/diagnose/BHP-0000-0000", b"") is None  # not a valid code
    location = b"http://h/simulator/sso?SAMLRequest=x%2Fy&RelayState=%2Fdiagnose%2FBHP-7K3Q-9D2F&SigAlg=z"
    assert _reference_in_location({"headers": [(b"location", location)]}) == "BHP-7K3Q-9D2F"
