"""Users, roles and groups, employers (spec/domain.md §1.1).

LEGACY, deliberately unmapped: ``users.affiliation`` (varchar(255), only in VISA's schema.sql).
Fix over schema.sql: ``user_role`` gets the primary key (user_id, role_id) that the entity implies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visa_platform.db.base import Base
from visa_platform.db.types import BigIntPK, UTCDateTime


class Employer(Base):
    """An employer (affiliation) of users; ids are supplied by the ETL."""

    __tablename__ = "employer"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    country_code: Mapped[str | None] = mapped_column(String(10))


class User(Base):
    """A facility user (ETL-fed, or created at first login); the id is the facility's string id."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(250), primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(100))
    affiliation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("employer.id", name="fk_employer_id")
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instance_quota: Mapped[int] = mapped_column(Integer, default=2, server_default=text("2"))

    affiliation: Mapped[Employer | None] = relationship(lazy="raise")
    user_roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise"
    )
    roles: Mapped[list[Role]] = relationship(
        secondary="user_role", viewonly=True, lazy="raise", order_by="Role.name"
    )
    """Every linked role or group, expired or not (read-only; write through ``user_roles``)."""


class Role(Base):
    """A role (``group_created_at IS NULL``) or, since VISA 2.7, a group of users."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("name", name="uk_role_name"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(250))
    group_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    group_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserRole(Base):
    """Association of a user with a role or group, optionally expiring."""

    __tablename__ = "user_role"

    user_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"), primary_key=True)
    role_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("role.id"), primary_key=True, index=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="user_roles", lazy="raise")
    role: Mapped[Role] = relationship(lazy="raise")
