"""Instances and everything hanging off them (spec/domain.md §1.4, and §1.2 for
``instance_experiment``).

LEGACY, deliberately unmapped: ``instance_session_member.last_seen_at``.
``instance.booking_token_id`` has no foreign key on purpose (VISA has none; the token points back
at the instance through ``booking_token.instance_id``). Attribute names equal column names, except
``Instance.vdi_protocol_id`` (column ``vdi_protocol``), so that the relationship keeps the name.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visa_platform.db.base import Base, Timestampable
from visa_platform.db.types import BigIntPK, UTCDateTime, enum_column_type
from visa_platform.domain.enums import (
    InstanceActivityType,
    InstanceCommandState,
    InstanceCommandType,
    InstanceExtensionRequestState,
    InstanceMemberRole,
    InstanceState,
)

if TYPE_CHECKING:
    from visa_platform.db.models.cloud import DevicePool, Plan, Protocol
    from visa_platform.db.models.facility import Experiment
    from visa_platform.db.models.users import User


instance_experiment = Table(
    "instance_experiment",
    Base.metadata,
    Column("experiment_id", String(32), ForeignKey("experiment.id"), primary_key=True),
    Column("instance_id", BigInteger, ForeignKey("instance.id"), primary_key=True, index=True),
)
"""The experiments (data) an instance was created for."""


class Instance(Timestampable, Base):
    """A compute instance (soft-deleted with ``deleted_at``)."""

    __tablename__ = "instance"
    __table_args__ = (
        # migration 20220314: uid is unique among non-deleted instances
        Index(
            "uk_instance_uid",
            "uid",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    uid: Mapped[str] = mapped_column(String(16))
    compute_id: Mapped[str | None] = mapped_column(String(250))
    name: Mapped[str] = mapped_column(String(250))
    comments: Mapped[str | None] = mapped_column(String(2500))
    plan_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("plan.id"))
    username: Mapped[str | None] = mapped_column(String(100))
    ip_address: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[InstanceState] = mapped_column(
        enum_column_type(InstanceState, name="instance_state"), default=InstanceState.UNKNOWN
    )
    screen_width: Mapped[int] = mapped_column(Integer)
    screen_height: Mapped[int] = mapped_column(Integer)
    keyboard_layout: Mapped[str] = mapped_column(
        String(100), default="en-gb-qwerty", server_default="en-gb-qwerty"
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_interaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    termination_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delete_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    security_groups: Mapped[str | None] = mapped_column(Text)
    expiration_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unrestricted_member_access: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_protocols: Mapped[str | None] = mapped_column(Text)
    state_hash: Mapped[int | None] = mapped_column(Integer)
    vdi_protocol_id: Mapped[int | None] = mapped_column(
        "vdi_protocol", BigInteger, ForeignKey("protocol.id")
    )
    public_access_token: Mapped[str | None] = mapped_column(String(250))
    public_access_role: Mapped[InstanceMemberRole | None] = mapped_column(
        enum_column_type(InstanceMemberRole, name="instance_public_access_role", length=255)
    )
    lifetime_minutes: Mapped[int | None] = mapped_column(BigInteger)
    booking_token_id: Mapped[int | None] = mapped_column(BigInteger)

    plan: Mapped[Plan | None] = relationship(lazy="raise")
    vdi_protocol: Mapped[Protocol | None] = relationship(lazy="raise")
    members: Mapped[list[InstanceMember]] = relationship(
        back_populates="instance",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="InstanceMember.id",
    )
    experiments: Mapped[list[Experiment]] = relationship(
        secondary=instance_experiment, lazy="raise", order_by="Experiment.id"
    )
    attributes: Mapped[list[InstanceAttribute]] = relationship(
        back_populates="instance",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="InstanceAttribute.id",
    )


class InstanceMember(Timestampable, Base):
    """A user's role on an instance; exactly one OWNER per instance."""

    __tablename__ = "instance_member"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"), index=True)
    role: Mapped[InstanceMemberRole] = mapped_column(
        enum_column_type(InstanceMemberRole, name="instance_member_role", length=255)
    )

    instance: Mapped[Instance] = relationship(back_populates="members", lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class InstanceAttribute(Timestampable, Base):
    """An account parameter copied at creation and sent to cloud-init."""

    __tablename__ = "instance_attribute"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))

    instance: Mapped[Instance] = relationship(back_populates="attributes", lazy="raise")


class InstanceCommand(Timestampable, Base):
    """A user-requested action on an instance (system commands are never persisted)."""

    __tablename__ = "instance_command"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(250), ForeignKey("users.id"))
    action_type: Mapped[InstanceCommandType] = mapped_column(
        enum_column_type(InstanceCommandType, name="instance_command_action_type")
    )
    state: Mapped[InstanceCommandState] = mapped_column(
        enum_column_type(InstanceCommandState, name="instance_command_state")
    )
    message: Mapped[str | None] = mapped_column(String(255))

    instance: Mapped[Instance] = relationship(lazy="raise")
    user: Mapped[User | None] = relationship(lazy="raise")


class InstanceExpiration(Timestampable, Base):
    """A scheduled deletion (inactivity or lifetime); at most one per instance."""

    __tablename__ = "instance_expiration"
    __table_args__ = (UniqueConstraint("instance_id", name="uk_instance_expiration_instance_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"))
    expiration_date: Mapped[datetime] = mapped_column(UTCDateTime)

    instance: Mapped[Instance] = relationship(lazy="raise")


class InstanceExtensionRequest(Timestampable, Base):
    """An owner's request to push back the termination date (§3.5)."""

    __tablename__ = "instance_extension_request"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"), index=True)
    comments: Mapped[str | None] = mapped_column(String(4000))
    state: Mapped[InstanceExtensionRequestState] = mapped_column(
        enum_column_type(InstanceExtensionRequestState, name="instance_extension_request_state")
    )
    original_termination_date: Mapped[datetime] = mapped_column(UTCDateTime)
    extension_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handler_id: Mapped[str | None] = mapped_column(String(250), ForeignKey("users.id"))
    handled_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handler_comments: Mapped[str | None] = mapped_column(String(4000))

    instance: Mapped[Instance] = relationship(lazy="raise")
    handler: Mapped[User | None] = relationship(lazy="raise")


class InstanceThumbnail(Timestampable, Base):
    """The latest desktop screenshot of an instance (base64 JPEG)."""

    __tablename__ = "instance_thumbnail"
    __table_args__ = (UniqueConstraint("instance_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"))
    data: Mapped[str] = mapped_column(Text)


class InstanceAuthenticationToken(Timestampable, Base):
    """One-time ticket (15 s) to open a remote-desktop websocket."""

    __tablename__ = "instance_authentication_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token: Mapped[str] = mapped_column(String(250), index=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"))
    user_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"))
    public_access_token: Mapped[str | None] = mapped_column(String(250))

    instance: Mapped[Instance] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class ClientAuthenticationToken(Timestampable, Base):
    """One-time ticket (15 s) to open the events-gateway websocket."""

    __tablename__ = "client_authentication_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(250))
    token: Mapped[str] = mapped_column(String(250), index=True)
    user_id: Mapped[str] = mapped_column(String(255), ForeignKey("users.id"))

    user: Mapped[User] = relationship(lazy="raise")


class PersonalAccessToken(Timestampable, Base):
    """A single-use invitation link granting a member role on an instance."""

    __tablename__ = "personal_access_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token: Mapped[str] = mapped_column(String(250), index=True)
    name: Mapped[str] = mapped_column(String(250))
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"))
    role: Mapped[InstanceMemberRole | None] = mapped_column(
        enum_column_type(InstanceMemberRole, name="personal_access_token_role", length=255)
    )
    user_id: Mapped[str | None] = mapped_column(String(250), ForeignKey("users.id"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    instance: Mapped[Instance] = relationship(lazy="raise")
    user: Mapped[User | None] = relationship(lazy="raise")


class InstanceSession(Timestampable, Base):
    """A remote-desktop session (guacd connection or WebX session) of an instance."""

    __tablename__ = "instance_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"), index=True)
    connection_id: Mapped[str] = mapped_column(String(150))
    protocol: Mapped[str | None] = mapped_column(String(150))
    current: Mapped[bool] = mapped_column(Boolean)

    instance: Mapped[Instance] = relationship(lazy="raise")
    members: Mapped[list[InstanceSessionMember]] = relationship(
        back_populates="instance_session",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="InstanceSessionMember.id",
    )


class InstanceSessionMember(Timestampable, Base):
    """A browser client connected to a session; ``session_id`` is the client id."""

    __tablename__ = "instance_session_member"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("instance_session.id"), index=True
    )
    session_id: Mapped[str] = mapped_column(String(150))
    user_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"))
    role: Mapped[InstanceMemberRole] = mapped_column(
        enum_column_type(InstanceMemberRole, name="instance_session_member_role", length=150)
    )
    active: Mapped[bool] = mapped_column(Boolean)
    last_interaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    instance_session: Mapped[InstanceSession] = relationship(back_populates="members", lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class InstanceJupyterSession(Timestampable, Base):
    """A Jupyter kernel session, reported by visa-jupyter-proxy."""

    __tablename__ = "instance_jupyter_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"))
    kernel_id: Mapped[str] = mapped_column(String(150))
    session_id: Mapped[str] = mapped_column(String(150))
    active: Mapped[bool] = mapped_column(Boolean)

    instance: Mapped[Instance] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class InstanceActivity(Timestampable, Base):
    """Desktop input seen from a user on an instance (at most one row per ~15 s per client)."""

    __tablename__ = "instance_activity"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(250), ForeignKey("users.id"))
    instance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("instance.id"), index=True)
    activity_type: Mapped[InstanceActivityType] = mapped_column(
        enum_column_type(InstanceActivityType, name="instance_activity_activity_type")
    )


class InstanceDeviceAllocation(Base):
    """Devices an instance holds from a pool (copied from ``flavour_device`` at build)."""

    __tablename__ = "instance_device_allocation"

    instance_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("instance.id"), primary_key=True
    )
    device_pool_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("device_pool.id"), primary_key=True
    )
    unit_count: Mapped[int] = mapped_column(Integer)

    device_pool: Mapped[DevicePool] = relationship(lazy="raise")
