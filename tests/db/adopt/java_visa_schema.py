"""A database as the Java VISA server leaves it, written from spec/domain.md §1 and §11.

``java_sql/dump_2022.sql`` is shaped like the Java repository's ``db/schema.sql`` (``pg_dump``
of the schema ``visa``): explicit sequences drawn with ``nextval('visa.x_seq'::regclass)``, some
owned and some not, ``timestamp without time zone`` everywhere, generic foreign key names
(``fk_users_id`` on many tables), no primary key on ``user_role`` or ``image_protocol``, no CHECK
constraints, the legacy ``users.affiliation``, and dbmate's ``schema_migrations`` with the three
2022 migrations applied.

``java_sql/upgrade_3_8.sql`` is what later releases add on top: the two later dbmate migrations,
and what Hibernate's ``update`` mode adds for newer entities (spec "NEW" tables and columns):
identity primary keys, ``timestamp(6)``, CHECK constraints named by PostgreSQL, Hibernate-style
names (``FK...``/``UK...``), a foreign key without the cascade our model has, a nullable column
that ours requires, and the legacy ``protocol.optional``.

The rows (``java_sql/rows_*.sql``) are realistic for a facility: users, roles with an expiring
GUEST, experiments, instances in several states (running, stopped, building, in error, deleted)
with members, sessions, commands waiting, expirations, and, for 3.8, a row in every newer table.
Timestamps are naive local time of ``SOURCE_TIMEZONE``. ``visa.`` is replaced by the test's
schema.
"""

from __future__ import annotations

import re
from pathlib import Path

SOURCE_TIMEZONE = "Europe/Paris"
"""The JVM's zone: every naive timestamp in the rows is local time there."""

SQL = Path(__file__).parent / "java_sql"
VERSIONS: dict[str, tuple[str, ...]] = {
    "2022": ("dump_2022.sql", "rows_2022.sql"),
    "3.8": ("dump_2022.sql", "rows_2022.sql", "upgrade_3_8.sql", "rows_3_8.sql"),
}


def script(version: str, schema: str) -> str:
    """The SQL that builds the Java database of ``version`` (``2022`` or ``3.8``) in ``schema``."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Java VISA fixture version {version!r}")
    sql = "\n".join((SQL / name).read_text() for name in VERSIONS[version])
    return re.sub(r"\bvisa\.", f"{schema}.", sql)
