"""Structured JSON logs; every line written during a diagnostics session carries its reference code.

A round trip binds its reference with ``bind_reference`` (a contextvar, so concurrent requests in one
worker never mix codes). Messages are formatted before they are written; callers pass only masked
values (``diagnostics.privacy``) and never a raw assertion.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from diagnostics.privacy import mask_text

reference_var: ContextVar[str | None] = ContextVar("inloghulp_reference", default=None)

# Loggers whose own handlers uvicorn installs; they are re-pointed at the JSON handler.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# HTTP client libraries log every request line at INFO; only their problems are worth a line.
_QUIET_LOGGERS = ("httpx", "httpx2", "httpcore")


def bind_reference(reference: str | None) -> Token[str | None]:
    """Tag every following log line in this context with ``reference``; returns a token for ``reset``."""
    return reference_var.set(reference)


def reset_reference(token: Token[str | None]) -> None:
    reference_var.reset(token)


@contextmanager
def reference_bound(reference: str | None) -> Iterator[None]:
    token = bind_reference(reference)
    try:
        yield
    finally:
        reset_reference(token)


def current_reference() -> str | None:
    return reference_var.get()


class ReferenceFilter(logging.Filter):
    """Puts the bound reference on the record, so that any formatter (also the test capture) can use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "reference"):
            record.reference = reference_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, reference, pid (and the exception type)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # The same masker as the verdicts: whatever a caller formatted into the line, no identifier leaves.
            "message": mask_text(record.getMessage()),
            "reference": getattr(record, "reference", None) or reference_var.get(),
            "pid": record.process or os.getpid(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            # The type and message only: a traceback can carry request data.
            entry["error"] = mask_text(f"{record.exc_info[0].__name__}: {record.exc_info[1]}")
        return json.dumps(entry, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the moment (test runners swap it per test)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str | int = "INFO") -> None:
    """Send the root logger and uvicorn's loggers as JSON lines to stderr (idempotent)."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ReferenceFilter())
    handler.set_name("inloghulp-json")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "inloghulp-json":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
