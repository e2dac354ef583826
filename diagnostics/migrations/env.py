"""Alembic's environment: run the revisions on the connection that ``diagnostics.db.create_schema`` holds.

That connection is already inside the schema lock's transaction (PostgreSQL advisory lock, SQLite
``BEGIN IMMEDIATE``), so Alembic joins it instead of opening its own, and concurrent worker starts
migrate one after the other. There is no URL and no offline (``--sql``) mode: nothing runs a
migration outside that lock.
"""

from __future__ import annotations

from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from diagnostics.models import Base, UtcDateTime


def _render_item(type_: str, obj: object, _autogen_context: AutogenContext) -> str | Literal[False]:
    """A revision must not import the live models (they change; it may not): write what the column stores."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through diagnostics.db.create_schema or `python -m diagnostics.migrations`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot alter or drop most columns in place: autogenerate writes batch blocks, which copy
    # the table on SQLite and become plain ALTER TABLE statements on PostgreSQL.
    render_as_batch=True,
    compare_type=True,
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()
