"""Baseline: the schema the hand-written steps 1 to 4 left behind (``legacy.SCHEMA_V4``).

Revision ID: 0004
Revises:
Create Date: 2026-12-06

A new database gets exactly the tables ``create_all`` made before Alembic (same types, indexes and
constraint names); a database made by the hand-written steps is stamped with this revision instead
(``legacy.adopt``). The frozen schema lives in ``legacy`` because both need it.
"""

from __future__ import annotations

from alembic import op

from diagnostics.migrations.legacy import SCHEMA_V4

revision = "0004"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    SCHEMA_V4.create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    SCHEMA_V4.drop_all(op.get_bind(), checkfirst=False)
