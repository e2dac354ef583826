"""Outages people can see: the operator's notices, and an index for the automatic one's count.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

``broker_notices`` holds ``inloghulp notice add`` (diagnostics.notices). The index on ``diag_sessions``
covers diagnostics.outage's query: broker-side failures per broker since a moment.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broker_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("broker_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("broker_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broker_notices_until"), ["until"], unique=False)

    with op.batch_alter_table("diag_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_diag_sessions_finished_broker", ["finished_at", "broker_id", "diagnosis_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("diag_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_diag_sessions_finished_broker")

    with op.batch_alter_table("broker_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broker_notices_until"))

    op.drop_table("broker_notices")
