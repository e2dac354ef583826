"""JSON log lines with the reference code bound per context (never mixed between concurrent requests)."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from diagnostics.logs import JsonFormatter, ReferenceFilter, configure_logging, current_reference, reference_bound


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


def test_concurrent_sessions_keep_their_own_reference() -> None:
    logger, stream = _capture()

    async def session(reference: str) -> None:
        with reference_bound(reference):
            for step in range(5):
                logger.info("step %d", step)
                await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(session("BHP-AAAA-AAAA"), session("BHP-BBBB-BBBB"))

    asyncio.run(main())
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
