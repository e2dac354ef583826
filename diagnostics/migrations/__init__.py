"""Schema migrations by Alembic, kept in the package and run by every worker when it starts.

How they run: ``diagnostics.db.create_schema`` takes the schema lock (a PostgreSQL advisory lock,
SQLite ``BEGIN IMMEDIATE``), adopts a database that the hand-written steps made (``legacy``), and runs
``upgrade head`` on that locked connection (``env.py``). There is no ``alembic.ini``: ``alembic_config``
builds the configuration in code, so an installed package migrates without files outside it.

Revision ids are consecutive numbers: ``0004`` is the baseline, the schema the hand-written steps 1 to 4
left behind, and the next revision is ``0005``. That number is the ``schema_version`` that
``Store.migrate`` returns and ``GET /api/v1/status`` shows.

Adding a table or a column:

1. Declare it in ``diagnostics/models.py``.
2. ``.venv/bin/python -m tools.new_migration "servicedesk_login_attempt: locked_until"`` writes
   ``versions/0005_<slug>.py`` (the next number), generated from the difference between the models and a
   scratch database at the current head, and formatted with ruff (``--empty`` for a data-only revision).
3. Read it and add what autogenerate cannot know: a rename (it sees a drop and an add), data to carry
   over, a ``server_default`` for a new NOT NULL column on a table that has rows. Keep the
   ``op.batch_alter_table`` blocks: SQLite cannot alter most columns in place.
4. ``.venv/bin/pytest -q tests/test_migrations.py`` (SQLite and PostgreSQL): an upgraded database must
   match the models exactly, and the revisions must form one numbered line.

Never edit or remove a revision that has shipped: write the next one. Two branches that both add
``0005`` fail the one-line test; renumber the later one before merging.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

HERE = Path(__file__).resolve().parent
# Where the revisions live; a test may add a directory with a revision of its own.
VERSION_LOCATIONS: list[Path] = [HERE / "versions"]
BASELINE = "0004"


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, built in code; ``connection`` is the one ``env.py`` migrates."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(path) for path in VERSION_LOCATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def version_number(revision: str) -> int:
    """The ``schema_version`` of a revision id: ``"0005"`` is 5."""
    return int(revision)


def current_revision(connection: Connection) -> str | None:
    """The revision in ``alembic_version``, or None for a database Alembic has not touched."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = script_directory().get_current_head()
    if head is None:
        raise RuntimeError("no migration revisions found")
    return head
