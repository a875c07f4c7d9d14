"""Facility metadata pushed by the ETL, read-only for VISA (spec/domain.md §1.2).

``instrument`` and ``proposal`` ids are supplied by the ETL; ``experiment.id`` is the ETL's string.
The pure link tables (``instrument_scientist``, ``experiment_user``) are Core tables used as
relationship ``secondary``; ``instance_experiment`` lives in ``instances.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Column, ForeignKey, PrimaryKeyConstraint, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visa_platform.db.base import Base
from visa_platform.db.types import BigIntPK, UTCDateTime

if TYPE_CHECKING:
    from visa_platform.db.models.users import User


instrument_scientist = Table(
    "instrument_scientist",
    Base.metadata,
    Column("instrument_id", BigInteger, ForeignKey("instrument.id"), nullable=False),
    Column("user_id", String(250), ForeignKey("users.id"), nullable=False),
    PrimaryKeyConstraint("instrument_id", "user_id", name="instrument_responsible_pkey"),
)
"""Users responsible for an instrument (the INSTRUMENT_SCIENTIST support rule, §4.2)."""

experiment_user = Table(
    "experiment_user",
    Base.metadata,
    Column("experiment_id", String(32), ForeignKey("experiment.id"), primary_key=True),
    Column("user_id", String(250), ForeignKey("users.id"), primary_key=True, index=True),
)
"""The experimental team of an experiment."""


class Instrument(Base):
    """A facility instrument; ids are supplied by the ETL."""

    __tablename__ = "instrument"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(250))

    scientists: Mapped[list[User]] = relationship(secondary=instrument_scientist, lazy="raise")


class Proposal(Base):
    """A beamtime proposal; ids are supplied by the ETL."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    identifier: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(2000))
    public_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(String(5000))
    url: Mapped[str | None] = mapped_column(String(2000))
    doi: Mapped[str | None] = mapped_column(String(2000))


class Experiment(Base):
    """An experiment (a proposal on an instrument); invisible while a date is null."""

    __tablename__ = "experiment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instrument.id"))
    proposal_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("proposal.id"), index=True)
    start_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str | None] = mapped_column(String(2000))
    url: Mapped[str | None] = mapped_column(String(2000))
    doi: Mapped[str | None] = mapped_column(String(2000))

    instrument: Mapped[Instrument] = relationship(lazy="raise")
    proposal: Mapped[Proposal] = relationship(lazy="raise")
    users: Mapped[list[User]] = relationship(secondary=experiment_user, lazy="raise")
