"""SQLite start-up details of the database layer that the store tests only hit by chance."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from diagnostics.db import _switch_to_wal


def _writer_holding_the_lock(path: Path) -> sqlite3.Connection:
    """A second 'worker' in the middle of creating the schema: it holds SQLite's write lock."""
    writer = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    return writer


def test_plain_wal_switch_fails_at_once_while_another_worker_writes(tmp_path: Path) -> None:
    # Why _switch_to_wal exists: SQLite skips its busy handler here, whatever busy_timeout says.
    writer = _writer_holding_the_lock(tmp_path / "db.sqlite3")
    reader = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=30)
    reader.execute("PRAGMA busy_timeout=30000")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        reader.execute("PRAGMA journal_mode=WAL")
    writer.execute("COMMIT")
    reader.close()
    writer.close()


def test_wal_switch_waits_for_the_writer(tmp_path: Path) -> None:
    writer = _writer_holding_the_lock(tmp_path / "db.sqlite3")
    reader = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=30)
    threading.Timer(0.3, lambda: writer.execute("COMMIT")).start()
    _switch_to_wal(reader.cursor(), patience_seconds=10)
    assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reader.close()
    writer.close()


def test_wal_switch_gives_up_after_its_patience(tmp_path: Path) -> None:
    writer = _writer_holding_the_lock(tmp_path / "db.sqlite3")
    reader = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=30)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _switch_to_wal(reader.cursor(), patience_seconds=0.2)
    writer.execute("COMMIT")
    reader.close()
    writer.close()
