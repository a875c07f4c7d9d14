"""Quoting for the SQL that adoption writes (identifiers and literals, PostgreSQL rules)."""

from __future__ import annotations

from collections.abc import Iterable

from visa_platform.db.adopt.target import DIALECT

_preparer = DIALECT.identifier_preparer


def ident(name: str) -> str:
    """An identifier, quoted where PostgreSQL needs it (``key`` stays, ``User`` is quoted)."""
    return str(_preparer.quote(name))


def idents(names: Iterable[str]) -> str:
    return ", ".join(ident(n) for n in names)


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def regclass(name: str) -> str:
    """A relation name as the text argument of ``nextval``/``setval`` (quoted if needed)."""
    return literal(ident(name))
