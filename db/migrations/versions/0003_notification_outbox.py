"""Notification outbox: notifications waiting for delivery survive a restart.

Written by hand; plain create/drop table, so it runs unchanged on PostgreSQL and SQLite.

Revision ID: 0003_notification_outbox
Revises: 0002_scheduler_lease
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_notification_outbox"
down_revision: str | Sequence[str] | None = "0002_scheduler_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("notification_outbox_pkey")),
        sa.UniqueConstraint("notification_id", "channel", name="uk_notification_outbox_delivery"),
    )
    op.create_index(
        op.f("ix_notification_outbox_state"), "notification_outbox", ["state"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_outbox_state"), table_name="notification_outbox")
    op.drop_table("notification_outbox")
