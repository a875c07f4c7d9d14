"""Cloud catalogue and capacity (spec/domain.md §1.3).

``cloud_provider_configuration_id IS NULL`` means the default cloud (internal id -1, no row).
LEGACY, deliberately unmapped: ``protocol.optional`` (removed in VISA 3.4.0).
Attribute names equal column names, except the protocol foreign keys of ``image``, whose
attributes end in ``_id`` (``default_vdi_protocol_id`` is column ``default_vdi_protocol``) so that
the relationships can keep the plain names.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visa_platform.db.base import Base, Timestampable
from visa_platform.db.types import BigIntPK, UTCDateTime, enum_column_type
from visa_platform.domain.enums import (
    DevicePoolType,
    FlavourLimitObjectType,
    ImageAutoAcceptExtensionRequest,
    SecurityGroupFilterObjectType,
)

_CLOUD_FK = "cloud_provider_configuration.id"


class CloudProviderConfiguration(Timestampable, Base):
    """An extra cloud provider stored in the database (soft-deleted with ``deleted_at``)."""

    __tablename__ = "cloud_provider_configuration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(100))
    server_name_prefix: Mapped[str] = mapped_column(String(100))
    visible: Mapped[bool] = mapped_column(Boolean)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parameters: Mapped[list[CloudProviderConfigurationParameter]] = relationship(
        back_populates="cloud_provider_configuration",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
    )


class CloudProviderConfigurationParameter(Timestampable, Base):
    """A key/value parameter of a cloud provider (endpoints, credentials ...)."""

    __tablename__ = "cloud_provider_configuration_parameter"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(256))
    value: Mapped[str] = mapped_column(String(8192))
    cloud_provider_configuration_id: Mapped[int] = mapped_column(
        BigInteger,
        # the conventional name would exceed PostgreSQL's 63-character limit
        ForeignKey(
            _CLOUD_FK,
            ondelete="CASCADE",
            name="fk_cloud_provider_configuration_parameter_configuration_id",
        ),
    )

    cloud_provider_configuration: Mapped[CloudProviderConfiguration] = relationship(
        back_populates="parameters", lazy="raise"
    )


class Protocol(Base):
    """A network service an image exposes (entity ``ImageProtocol`` in VISA)."""

    __tablename__ = "protocol"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    port: Mapped[int] = mapped_column(Integer)


image_protocol = Table(
    "image_protocol",
    Base.metadata,
    Column("image_id", BigInteger, ForeignKey("image.id"), primary_key=True),
    Column("protocol_id", BigInteger, ForeignKey("protocol.id"), primary_key=True),
)
"""The protocols an image exposes (port-checked to tell ACTIVE from PARTIALLY_ACTIVE)."""


class Image(Timestampable, Base):
    """A cloud image offered to users (soft-deleted with ``deleted``)."""

    __tablename__ = "image"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(250))
    version: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(2500))
    icon: Mapped[str] = mapped_column(String(100))
    compute_id: Mapped[str] = mapped_column(String(250))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    visible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    boot_command: Mapped[str | None] = mapped_column(Text)
    autologin: Mapped[str | None] = mapped_column(String(255))
    default_vdi_protocol_id: Mapped[int | None] = mapped_column(
        "default_vdi_protocol", BigInteger, ForeignKey("protocol.id")
    )
    secondary_vdi_protocol_id: Mapped[int | None] = mapped_column(
        "secondary_vdi_protocol", BigInteger, ForeignKey("protocol.id")
    )
    cloud_provider_configuration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey(_CLOUD_FK)
    )
    auto_accept_extension_request: Mapped[ImageAutoAcceptExtensionRequest | None] = mapped_column(
        enum_column_type(
            ImageAutoAcceptExtensionRequest, name="image_auto_accept_extension_request"
        )
    )

    protocols: Mapped[list[Protocol]] = relationship(
        secondary=image_protocol, lazy="raise", order_by=Protocol.id
    )
    default_vdi_protocol: Mapped[Protocol | None] = relationship(
        foreign_keys=[default_vdi_protocol_id], lazy="raise"
    )
    secondary_vdi_protocol: Mapped[Protocol | None] = relationship(
        foreign_keys=[secondary_vdi_protocol_id], lazy="raise"
    )
    cloud_provider_configuration: Mapped[CloudProviderConfiguration | None] = relationship(
        lazy="raise"
    )


class Flavour(Timestampable, Base):
    """A cloud flavour (vCPUs, memory in MB), soft-deleted with ``deleted``."""

    __tablename__ = "flavour"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(250))
    cpu: Mapped[float] = mapped_column(REAL)
    memory: Mapped[int] = mapped_column(Integer)
    compute_id: Mapped[str] = mapped_column(String(250))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cloud_provider_configuration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey(_CLOUD_FK)
    )

    cloud_provider_configuration: Mapped[CloudProviderConfiguration | None] = relationship(
        lazy="raise"
    )
    devices: Mapped[list[FlavourDevice]] = relationship(
        back_populates="flavour", cascade="all, delete-orphan", lazy="raise"
    )


class FlavourLimit(Base):
    """Restricts a flavour to an instrument's users or a role's/group's members (§4.6)."""

    __tablename__ = "flavour_limit"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    object_id: Mapped[int] = mapped_column(BigInteger)
    object_type: Mapped[FlavourLimitObjectType] = mapped_column(
        enum_column_type(FlavourLimitObjectType, name="flavour_limit_object_type", length=255)
    )
    flavour_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("flavour.id"))

    flavour: Mapped[Flavour] = relationship(lazy="raise")


class FlavourRoleLifetime(Base):
    """Maximum instance lifetime on a flavour for a role (``role_id`` NULL = flavour default)."""

    __tablename__ = "flavour_role_lifetime"
    __table_args__ = (UniqueConstraint("flavour_id", "role_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    flavour_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("flavour.id"))
    role_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("role.id"))
    duration_minutes: Mapped[int] = mapped_column(BigInteger)


class DevicePool(Timestampable, Base):
    """A pool of PCI or vGPU devices on a cloud (soft-deleted with ``deleted_at``)."""

    __tablename__ = "device_pool"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    compute_identifier: Mapped[str] = mapped_column(String(250))
    name: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(String(1000))
    resource_class: Mapped[str | None] = mapped_column(String(250))
    device_type: Mapped[DevicePoolType | None] = mapped_column(
        enum_column_type(DevicePoolType, name="device_pool_device_type", length=255)
    )
    total_units: Mapped[int | None] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cloud_provider_configuration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey(_CLOUD_FK)
    )


class FlavourDevice(Base):
    """Devices a flavour allocates from a pool (synchronised from the cloud flavour)."""

    __tablename__ = "flavour_device"

    flavour_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("flavour.id"), primary_key=True)
    device_pool_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("device_pool.id"), primary_key=True
    )
    unit_count: Mapped[int] = mapped_column(Integer)

    flavour: Mapped[Flavour] = relationship(back_populates="devices", lazy="raise")
    device_pool: Mapped[DevicePool] = relationship(lazy="raise")


class Plan(Timestampable, Base):
    """An image + flavour pair users pick from (soft-deleted with ``deleted_at``)."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    image_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("image.id"))
    flavour_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("flavour.id"))
    preset: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    image: Mapped[Image | None] = relationship(lazy="raise")
    flavour: Mapped[Flavour | None] = relationship(lazy="raise")


class SecurityGroup(Base):
    """A cloud security group that filters may attach to instances (§5)."""

    __tablename__ = "security_group"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(250))
    cloud_provider_configuration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey(_CLOUD_FK)
    )

    filters: Mapped[list[SecurityGroupFilter]] = relationship(
        back_populates="security_group", cascade="all, delete-orphan", lazy="raise"
    )


class SecurityGroupFilter(Base):
    """Attaches a security group to instances of an instrument, a role/group or a flavour."""

    __tablename__ = "security_group_filter"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    object_id: Mapped[int] = mapped_column(BigInteger)
    object_type: Mapped[SecurityGroupFilterObjectType] = mapped_column(
        enum_column_type(
            SecurityGroupFilterObjectType, name="security_group_filter_object_type", length=255
        )
    )
    security_group_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("security_group.id"))

    security_group: Mapped[SecurityGroup] = relationship(back_populates="filters", lazy="raise")


class CloudResources(Timestampable, Base):
    """Quota totals and usage of one cloud, refreshed every minute."""

    __tablename__ = "cloud_resources"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    vcpu_total: Mapped[int] = mapped_column(BigInteger)
    vcpu_usage: Mapped[int] = mapped_column(BigInteger)
    memory_mb_total: Mapped[int] = mapped_column(BigInteger)
    memory_mb_usage: Mapped[int] = mapped_column(BigInteger)
    instances_total: Mapped[int] = mapped_column(BigInteger)
    instances_usage: Mapped[int] = mapped_column(BigInteger)
    cloud_provider_configuration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey(_CLOUD_FK)
    )


class Hypervisor(Timestampable, Base):
    """A compute host of a cloud; available when state is ``up`` and status ``enabled``."""

    __tablename__ = "hypervisor"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    compute_id: Mapped[str] = mapped_column(String(250))
    hostname: Mapped[str] = mapped_column(String(250))
    state: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255))
    cloud_provider_configuration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey(_CLOUD_FK)
    )

    resources: Mapped[list[HypervisorResource]] = relationship(
        back_populates="hypervisor", cascade="all, delete-orphan", lazy="raise"
    )
    allocations: Mapped[list[HypervisorAllocation]] = relationship(
        back_populates="hypervisor", cascade="all, delete-orphan", lazy="raise"
    )


class HypervisorResource(Base):
    """Total and used amount of a resource class (VCPU, MEMORY_MB, a PCI class) on a host."""

    __tablename__ = "hypervisor_resource"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    hypervisor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("hypervisor.id"))
    resource_class: Mapped[str] = mapped_column(String(250))
    total: Mapped[int] = mapped_column(BigInteger)
    usage: Mapped[int | None] = mapped_column(BigInteger)

    hypervisor: Mapped[Hypervisor] = relationship(back_populates="resources", lazy="raise")


class HypervisorAllocation(Base):
    """A server placed on a hypervisor."""

    __tablename__ = "hypervisor_allocation"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    hypervisor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("hypervisor.id"))
    server_compute_id: Mapped[str] = mapped_column(String(250))

    hypervisor: Mapped[Hypervisor] = relationship(back_populates="allocations", lazy="raise")
