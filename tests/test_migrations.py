"""Alembic migrations on SQLite and a real PostgreSQL: the baseline is today's schema, a database made by
the hand-written steps is adopted with its rows, new revisions run once, also when workers start at once."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    event,
    insert,
    inspect,
    select,
    text,
)

from diagnostics import db, migrations
from diagnostics.migrations import legacy
from diagnostics.models import Base, UtcDateTime
from diagnostics.store import Store
from tests.helpers.racers import race
from tests.pg import fresh_database

LEGACY_DDL = Path(__file__).parent / "legacy_schema"
NOW = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A function that returns the URL of a new, empty database on the backend under test."""
    count = iter(range(100))

    def _new() -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / f'db{next(count)}.sqlite3'}"
        return fresh_database(request.getfixturevalue("pg_url"))

    yield _new


@pytest.fixture
def engines() -> Iterator[Any]:
    """Engines for the test's own look at a database; disposed after the test."""
    made: list[Engine] = []

    def _engine(url: str) -> Engine:
        engine = db.make_engine(url)
        made.append(engine)
        return engine

    yield _engine
    for engine in made:
        engine.dispose()


def _normalise(statement: str) -> str:
    return " ".join(statement.replace("(", " ( ").replace(")", " ) ").split()).rstrip(";").strip()


def _frozen_statements(dialect: str) -> list[str]:
    """The statements of ``legacy_schema/v4.<dialect>.sql``, as written there."""
    sql = (LEGACY_DDL / f"v4.{dialect}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    return [part.strip() for part in body.split(";") if part.strip()]


def make_legacy_database(engine: Engine, *, version: int = 4) -> None:
    """What the hand-written code at its last release did on an empty database: create_all, one version row."""
    with engine.begin() as connection:
        for statement in _frozen_statements(engine.dialect.name):
            connection.exec_driver_sql(statement)
        connection.execute(
            text("INSERT INTO schema_version (version, description, applied_at) VALUES (:v, 'created', :at)"),
            {"v": version, "at": NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW},
        )


# One row in every table, with the awkward values: JSON, bytes, NULLs, aware times, a column named "user".
SAMPLE_ROWS: dict[str, dict[str, Any]] = {
    "diag_sessions": {
        "id": 7,
        "reference": "BHP-7K3Q-9D2F",
        "created_at": NOW,
        "broker_id": "simulator",
        "supplier_id": "urn:etoegang:HM:00000003244440010000:entities:3",
        "request_id": "_0a1b2c",
        "scenario": None,
        "state": "finished",
        "verdict": {"verdict": "failed", "diagnosis": {"id": "bad-signature"}, "checks": [{"id": "signature"}]},
        "diagnosis_id": "bad-signature",
        "no_response_answer": None,
        "finished_at": NOW + timedelta(seconds=40),
        "claimed_at": NOW + timedelta(seconds=30),
    },
    "seen_assertions": {"assertion_id": "_assertion-1", "expires_at": NOW + timedelta(days=60)},
    "sim_artifacts": {"handle": "AAQAA-handle", "payload": b"\x00<ArtifactResponse/>\xff", "expires_at": NOW},
    "broker_metadata": {
        "id": 3,
        "broker_id": "hm",
        "fetched_at": NOW,
        "xml_sha256": "ab" * 32,
        "entity_id": "urn:etoegang:HM:00000003244440010000:entities:3",
        "signing_certs": {"AB:CD": "2027-01-01T00:00:00+00:00"},
        "endpoints": {"sso": ["https://hm.example/sso"]},
        "valid_until": None,
        "signature_verified": True,
        "changes": [{"kind": "signing-key", "detail": "new key AB:CD"}],
        "error": None,
    },
    "servicedesk_user": {"id": 1, "name": "anne", "password_hash": "$argon2id$v=19$…", "created_at": NOW},
    "servicedesk_login_attempt": {"id": 5, "name": "anne", "at": NOW, "success": False},
    "servicedesk_audit": {"id": 2, "at": NOW, "user": "anne", "action": "lookup", "reference": "BHP-7K3Q-9D2F"},
    "page_feedback": {"id": 4, "at": NOW, "page": "/inloggen-lukt-niet/", "rating": 1},
    "servicedesk_session": {"nonce": "n" * 43, "user": "anne", "created_at": NOW, "ended_at": None},
    "rate_limit_hits": {"bucket": "login:abcd:1764494100", "count": 3, "expires_at": NOW},
}


def _v4_table(name: str) -> Table:
    """A table as the last hand-written release knew it: its columns only (later revisions may add some), with
    the models' types (``UtcDateTime`` converts the times as the old code did)."""
    model = Base.metadata.tables[name]
    return Table(
        name,
        MetaData(),
        *(
            Column(column.name, model.c[column.name].type, primary_key=column.primary_key)
            for column in legacy.SCHEMA_V4.tables[name].c
        ),
    )


def _put_sample_rows(engine: Engine) -> None:
    with engine.begin() as connection:
        for name, row in SAMPLE_ROWS.items():
            connection.execute(insert(_v4_table(name)), [row])


def _all_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {
            name: [dict(row._mapping) for row in connection.execute(select(_v4_table(name)))] for name in SAMPLE_ROWS
        }


def _diff(engine: Engine) -> list[Any]:
    """What autogenerate would write: the difference between the models and the database."""
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def _structure(engine: Engine) -> dict[str, Any]:
    """Everything the inspector reports about our tables: columns, keys, unique constraints, indexes."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: {
                "columns": [
                    (column["name"], str(column["type"]), column["nullable"], column.get("default"))
                    for column in inspector.get_columns(table)
                ],
                "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                "unique": sorted(
                    (str(unique["name"]), tuple(unique["column_names"]))
                    for unique in inspector.get_unique_constraints(table)
                ),
                "indexes": sorted(
                    (str(index["name"]), tuple(str(c) for c in index["column_names"]), index["unique"])
                    for index in inspector.get_indexes(table)
                ),
            }
            for table in sorted(inspector.get_table_names())
            if table != "alembic_version"
        }


def _created(engine: Engine, action: Any) -> list[str]:
    """The CREATE statements ``action`` sends to the database, normalised."""
    seen: list[str] = []

    def _record(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("CREATE") and "alembic_version" not in statement:
            seen.append(_normalise(statement))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    return sorted(seen)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return migrations.current_revision(connection)


# ── the revisions ──


def test_revisions_form_one_numbered_line() -> None:
    """Consecutive numbers from the baseline up, each revising the one before: what ``schema_version`` counts."""
    script = migrations.script_directory()
    assert len(script.get_heads()) == 1
    chain = list(reversed(list(script.walk_revisions())))
    assert chain[0].revision == migrations.BASELINE and chain[0].down_revision is None
    for number, (previous, revision) in enumerate(zip(chain, chain[1:], strict=False), start=5):
        assert re.fullmatch(r"\d{4}", revision.revision), revision.revision
        assert (int(revision.revision), revision.down_revision) == (number, previous.revision)
    assert db.latest_version() == int(chain[-1].revision) >= legacy.LAST_LEGACY_VERSION


def test_baseline_creates_what_the_last_hand_written_release_created(new_url: Any, engines: Any) -> None:
    """Revision 0004 sends the same CREATE statements as ``create_all`` did before Alembic (frozen in
    ``legacy_schema/``), less the ``schema_version`` table."""
    engine = engines(new_url())

    def _upgrade_to_baseline() -> None:
        with engine.begin() as connection:
            command.upgrade(migrations.alembic_config(connection), migrations.BASELINE)

    by_baseline = _created(engine, _upgrade_to_baseline)
    frozen = [
        _normalise(statement)
        for statement in _frozen_statements(engine.dialect.name)
        if "schema_version" not in statement
    ]
    assert by_baseline == sorted(frozen)


def test_upgraded_database_is_what_create_all_makes_of_the_models(new_url: Any, engines: Any) -> None:
    """All revisions together make the schema of ``diagnostics/models.py``: the same structure as the
    inspector sees it (columns, types, keys, unique constraints, indexes), and nothing left for autogenerate.
    (Not the same statements: a later revision may copy a table on SQLite, where create_all makes it once.)"""
    migrated, created = engines(new_url()), engines(new_url())
    db.create_schema(migrated)
    with created.begin() as connection:
        Base.metadata.create_all(connection)
    assert _structure(migrated) == _structure(created)
    assert _diff(migrated) == []


# ── a database made by the hand-written steps ──


def test_database_of_the_last_hand_written_release_is_adopted_with_its_rows(
    new_url: Any, engines: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = new_url()
    old = engines(url)
    make_legacy_database(old)
    _put_sample_rows(old)
    before = _all_rows(old)
    caplog.set_level(logging.INFO, logger="diagnostics.migrations.legacy")

    store = Store(url)
    try:
        assert store.schema_version == db.latest_version()
        assert _all_rows(store.engine) == before
        assert _diff(store.engine) == []
        with store.engine.connect() as connection:
            assert not inspect(connection).has_table("schema_version")
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert "hand-written schema version 4 adopted as Alembic revision 0004" in caplog.text
        # The store works on the adopted database, also on the columns the later steps added.
        session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_after-adoption")
        assert store.claim_session(session.reference) is True
        assert store.get_session("BHP-7K3Q-9D2F") is not None
    finally:
        store.close()


def test_database_of_an_older_hand_written_version_gets_the_missed_steps(
    new_url: Any, engines: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Version 2, without the columns of steps 3 and 4 and without a table a later release added: the old
    code would have run steps 3 and 4 and created the table; so does the adoption, then it is stamped."""
    url = new_url()
    old = engines(url)
    make_legacy_database(old, version=2)
    with old.begin() as connection:
        connection.execute(text("ALTER TABLE broker_metadata DROP COLUMN error"))
        connection.execute(text("ALTER TABLE diag_sessions DROP COLUMN claimed_at"))
        connection.execute(text("DROP TABLE servicedesk_session"))
    caplog.set_level(logging.INFO, logger="diagnostics.migrations.legacy")

    upgraded = Store(url)
    try:
        assert upgraded.schema_version == db.latest_version()
        with upgraded.engine.connect() as connection:
            metadata_columns = {column["name"] for column in inspect(connection).get_columns("broker_metadata")}
            session_columns = {column["name"] for column in inspect(connection).get_columns("diag_sessions")}
            assert inspect(connection).has_table("servicedesk_session")
            assert not inspect(connection).has_table("schema_version")
        assert "error" in metadata_columns and "claimed_at" in session_columns
        assert "hand-written schema version 2 adopted" in caplog.text
        # Step 4 wrote the SQL name TIMESTAMP WITH TIME ZONE, which SQLite keeps as declared and SQLAlchemy
        # reads back as NUMERIC. A DATETIME column has the same NUMERIC affinity in SQLite, so the values
        # are stored the same way. The adoption leaves such a database as it is, and this is the only difference.
        drift = [change for group in _diff(upgraded.engine) for change in group]
        if upgraded.engine.dialect.name == "sqlite":
            assert [(kind, table, column) for kind, _, table, column, *_ in drift] == [
                ("modify_type", "diag_sessions", "claimed_at")
            ]
        else:
            assert drift == []
        session = upgraded.create_session(broker_id="simulator", supplier_id=None, request_id="_after-migration")
        assert upgraded.claim_session(session.reference) is True
    finally:
        upgraded.close()


def test_unknown_hand_written_version_is_refused_and_left_alone(new_url: Any, engines: Any) -> None:
    url = new_url()
    old = engines(url)
    make_legacy_database(old, version=5)
    with pytest.raises(RuntimeError, match="schema_version says version 5"):
        db.create_schema(old)
    with old.connect() as connection:
        assert inspect(connection).has_table("schema_version")
        assert not inspect(connection).has_table("alembic_version")


def test_schema_version_written_by_an_older_release_after_adoption_is_dropped(new_url: Any, engines: Any) -> None:
    """An older release started again on an Alembic database writes a new schema_version (and nothing else);
    the next start of this release drops it and keeps its revision."""
    url = new_url()
    engine = engines(url)
    db.create_schema(engine)
    with engine.begin() as connection:
        legacy_table = Table(
            "schema_version", MetaData(), Column("id", Integer, primary_key=True), Column("version", Integer)
        )
        legacy_table.create(connection)
        connection.execute(insert(legacy_table), [{"version": 4}])
    assert db.create_schema(engine) == db.latest_version()
    with engine.connect() as connection:
        assert not inspect(connection).has_table("schema_version")
    assert _revision(engine) == migrations.head_revision()


def _start(url: str, barrier: Any, queue: Any) -> None:
    """One 'worker' starting at the same moment as the others."""
    barrier.wait(30)
    store = Store(url)
    queue.put(store.schema_version)
    store.close()


def test_concurrent_starts_adopt_a_hand_written_database_once(new_url: Any, engines: Any) -> None:
    url = new_url()
    old = engines(url)
    make_legacy_database(old)
    _put_sample_rows(old)
    before = _all_rows(old)
    old.dispose()
    collected = race(_start, (url,), 3)
    assert collected == [db.latest_version()] * 3
    after = engines(url)
    assert _all_rows(after) == before
    assert _diff(after) == []


# ── new revisions ──


STEP = """
from pathlib import Path

from alembic import op
import sqlalchemy as sa

revision = "{number}"
down_revision = "{previous}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("test_step", sa.Column("id", sa.Integer, primary_key=True))
    with Path({marker!r}).open("a") as marker:
        marker.write("applied\\n")


def downgrade() -> None:
    op.drop_table("test_step")
"""


def test_pending_revision_runs_once(new_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = new_url()
    store = Store(url)
    store.close()
    versions, marker = tmp_path / "versions", tmp_path / "applied.txt"
    versions.mkdir()
    number = f"{db.latest_version() + 1:04d}"
    (versions / f"{number}_test_step.py").write_text(
        STEP.format(number=number, previous=migrations.head_revision(), marker=str(marker)), encoding="utf-8"
    )
    monkeypatch.setattr(migrations, "VERSION_LOCATIONS", [*migrations.VERSION_LOCATIONS, versions])
    first, second = Store(url), Store(url)
    try:
        assert marker.read_text().splitlines() == ["applied"]
        assert first.schema_version == second.schema_version == db.latest_version() == int(number)
        with first.engine.connect() as connection:
            assert inspect(connection).has_table("test_step")
    finally:
        first.close()
        second.close()


def test_new_revision_follows_a_model_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engines: Any) -> None:
    """The documented way to add a table: declare it, write the revision with ``tools.new_migration``,
    and a database upgraded with it matches the models again."""
    from tools.new_migration import new_revision

    probe = Table(
        "lockout_probe",
        Base.metadata,
        Column("name", String(64), primary_key=True),
        Column("locked_until", UtcDateTime, nullable=True),
    )
    versions = tmp_path / "versions"
    versions.mkdir()
    try:
        monkeypatch.setattr(migrations, "VERSION_LOCATIONS", [*migrations.VERSION_LOCATIONS, versions])
        path = new_revision("servicedesk: lockout probe", directory=versions)
        source = path.read_text(encoding="utf-8")
        assert path.name == f"{db.latest_version():04d}_servicedesk_lockout_probe.py"
        assert 'op.create_table(\n        "lockout_probe"' in source
        assert "sa.DateTime(timezone=True)" in source and "diagnostics.models" not in source
        lint = subprocess.run(
            [Path(sys.executable).with_name("ruff"), "check", path], capture_output=True, text=True, check=False
        )
        assert lint.returncode == 0, lint.stdout
        engine = engines(f"sqlite:///{tmp_path / 'upgraded.sqlite3'}")
        assert db.create_schema(engine) == db.latest_version()
        assert _diff(engine) == []
    finally:
        Base.metadata.remove(probe)
