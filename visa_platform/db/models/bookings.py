"""Bookings: configuration, requests, tokens ("vouchers") and their history
(spec/domain.md §1.6, VISA 3.8.0, optional feature).

Every date column is ``UTCDateTime``; booking start and end dates are local midnights converted
to UTC by the services.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visa_platform.db.base import Base, Timestampable
from visa_platform.db.types import BigIntPK, UTCDateTime, enum_column_type
from visa_platform.domain.enums import BookingRequestState

if TYPE_CHECKING:
    from visa_platform.db.models.cloud import CloudProviderConfiguration, Flavour
    from visa_platform.db.models.instances import Instance
    from visa_platform.db.models.users import Role, User


booking_configuration_flavour = Table(
    "booking_configuration_flavour",
    Base.metadata,
    Column(
        "booking_configuration_id",
        BigInteger,
        ForeignKey("booking_configuration.id"),
        primary_key=True,
    ),
    Column("flavour_id", BigInteger, ForeignKey("flavour.id"), primary_key=True),
)
"""Bookable flavours of a configuration; none means every flavour of its cloud."""


class BookingConfiguration(Timestampable, Base):
    """Booking settings of one cloud."""

    __tablename__ = "booking_configuration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    max_instances_per_reservation: Mapped[int | None] = mapped_column(BigInteger)
    max_days_reservation: Mapped[int | None] = mapped_column(BigInteger)
    cloud_provider_configuration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("cloud_provider_configuration.id")
    )

    cloud_provider_configuration: Mapped[CloudProviderConfiguration | None] = relationship(
        lazy="raise"
    )
    flavours: Mapped[list[Flavour]] = relationship(
        secondary=booking_configuration_flavour, lazy="raise", order_by="Flavour.id"
    )
    role_configurations: Mapped[list[BookingRoleConfiguration]] = relationship(
        back_populates="booking_configuration", cascade="all, delete-orphan", lazy="raise"
    )
    flavour_role_configurations: Mapped[list[BookingFlavourRoleConfiguration]] = relationship(
        back_populates="booking_configuration", cascade="all, delete-orphan", lazy="raise"
    )


class BookingRoleConfiguration(Base):
    """A role or group entitled to book (none listed = everybody)."""

    __tablename__ = "booking_role_configuration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    booking_configuration_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("booking_configuration.id")
    )
    role_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("role.id"))
    auto_accept: Mapped[bool] = mapped_column(Boolean)

    booking_configuration: Mapped[BookingConfiguration] = relationship(
        back_populates="role_configurations", lazy="raise"
    )
    role: Mapped[Role | None] = relationship(lazy="raise")


class BookingFlavourRoleConfiguration(Base):
    """Per-flavour (and per-role; NULL = all users) booking limits."""

    __tablename__ = "booking_flavour_role_configuration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    booking_configuration_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("booking_configuration.id")
    )
    flavour_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("flavour.id"))
    role_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("role.id"))
    max_instances_per_reservation: Mapped[int | None] = mapped_column(BigInteger)
    max_days_reservation: Mapped[int | None] = mapped_column(BigInteger)

    booking_configuration: Mapped[BookingConfiguration] = relationship(
        back_populates="flavour_role_configurations", lazy="raise"
    )
    flavour: Mapped[Flavour | None] = relationship(lazy="raise")
    role: Mapped[Role | None] = relationship(lazy="raise")


class BookingRequest(Timestampable, Base):
    """A user's reservation of flavours for a date range (soft-deleted with ``deleted_at``)."""

    __tablename__ = "booking_request"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(250))
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime] = mapped_column(UTCDateTime)
    owner_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"))
    state: Mapped[BookingRequestState] = mapped_column(
        enum_column_type(BookingRequestState, name="booking_request_state")
    )
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship(lazy="raise")
    flavours: Mapped[list[BookingRequestFlavour]] = relationship(
        back_populates="booking_request",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="BookingRequestFlavour.id",
    )
    history: Mapped[list[BookingRequestHistory]] = relationship(
        back_populates="booking_request",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="BookingRequestHistory.id",
    )


class BookingRequestFlavour(Base):
    """How many instances of a flavour a booking request asks for."""

    __tablename__ = "booking_request_flavour"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    booking_request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("booking_request.id"))
    flavour_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("flavour.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)

    booking_request: Mapped[BookingRequest] = relationship(back_populates="flavours", lazy="raise")
    flavour: Mapped[Flavour] = relationship(lazy="raise")


class BookingRequestHistory(Timestampable, Base):
    """A state change of a booking request, with the actor's comments."""

    __tablename__ = "booking_request_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    booking_request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("booking_request.id"))
    state: Mapped[BookingRequestState] = mapped_column(
        enum_column_type(BookingRequestState, name="booking_request_history_state")
    )
    comments: Mapped[str | None] = mapped_column(String(2500))
    actor_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"))

    booking_request: Mapped[BookingRequest] = relationship(back_populates="history", lazy="raise")
    actor: Mapped[User] = relationship(lazy="raise")


class BookingToken(Timestampable, Base):
    """A voucher for one booked unit, assignable to a user and usable by one instance at a time."""

    __tablename__ = "booking_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16))
    booking_request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("booking_request.id"))
    flavour_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("flavour.id"))
    instance_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("instance.id"))
    owner_id: Mapped[str | None] = mapped_column(String(250), ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking_request: Mapped[BookingRequest] = relationship(lazy="raise")
    flavour: Mapped[Flavour] = relationship(lazy="raise")
    instance: Mapped[Instance | None] = relationship(lazy="raise")
    owner: Mapped[User | None] = relationship(lazy="raise")


class BookingTokenHistory(Timestampable, Base):
    """An instance created from a booking token."""

    __tablename__ = "booking_token_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    booking_token_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("booking_token.id"))
    owner_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"))
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"))
