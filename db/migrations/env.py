"""alembic environment: always run by visa_platform.db.migrate on a connection it provides."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

from visa_platform.db.schema import metadata
from visa_platform.db.types import UTCDateTime

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Keep our TypeDecorators out of migration files (they render as plain SQLAlchemy types)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        # Our SQLite engine begins transactions itself, so DDL is transactional there too.
        transactional_ddl=True,
        compare_type=True,
        render_item=render_item,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `visa db upgrade`, not with the alembic command")
run_migrations(connection)
