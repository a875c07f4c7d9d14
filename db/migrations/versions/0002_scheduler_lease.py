"""Scheduler lease: the row that lets one replica at a time run the scheduled jobs.

Written by hand; plain create/drop table, so it runs unchanged on PostgreSQL and SQLite.

Revision ID: 0002_scheduler_lease
Revises: 0001_baseline
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_scheduler_lease"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("scheduler_lease_pkey")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
