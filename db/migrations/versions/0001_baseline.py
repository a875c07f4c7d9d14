"""Baseline: every table of VISA 3.8 (spec/domain.md §1), with the schema gaps fixed.

Generated from the models against PostgreSQL and reviewed; runs on PostgreSQL and SQLite.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-28 06:31:02.932262
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_credential",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("application_id", sa.String(length=255), nullable=False),
        sa.Column("application_secret", sa.String(length=255), nullable=False),
        sa.Column("salt", sa.String(length=255), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("application_credential_pkey")),
    )
    op.create_table(
        "cloud_provider_configuration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("server_name_prefix", sa.String(length=100), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("cloud_provider_configuration_pkey")),
    )
    op.create_table(
        "configuration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("value", sa.String(length=8192), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("configuration_pkey")),
    )
    op.create_table(
        "employer",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("town", sa.String(length=100), nullable=True),
        sa.Column("country_code", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("employer_pkey")),
    )
    op.create_table(
        "instrument",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("instrument_pkey")),
    )
    op.create_table(
        "proposal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("identifier", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=2000), nullable=True),
        sa.Column("public_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.String(length=5000), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("doi", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("proposal_pkey")),
    )
    op.create_table(
        "protocol",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("protocol_pkey")),
    )
    op.create_table(
        "role",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=250), nullable=True),
        sa.Column("group_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("group_deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("role_pkey")),
        sa.UniqueConstraint("name", name="uk_role_name"),
    )
    op.create_table(
        "system_notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message", sa.String(length=4096), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "INFO",
                "WARN",
                "ERROR",
                name="system_notification_level",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum(
                "BANNER",
                "MODAL",
                name="system_notification_type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=True,
        ),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("system_notification_pkey")),
    )
    op.create_table(
        "booking_configuration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("max_instances_per_reservation", sa.BigInteger(), nullable=True),
        sa.Column("max_days_reservation", sa.BigInteger(), nullable=True),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name=op.f("fk_booking_configuration_cloud_provider_configuration_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_configuration_pkey")),
    )
    op.create_table(
        "cloud_provider_configuration_parameter",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("value", sa.String(length=8192), nullable=False),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name="fk_cloud_provider_configuration_parameter_configuration_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("cloud_provider_configuration_parameter_pkey")),
    )
    op.create_table(
        "cloud_resources",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vcpu_total", sa.BigInteger(), nullable=False),
        sa.Column("vcpu_usage", sa.BigInteger(), nullable=False),
        sa.Column("memory_mb_total", sa.BigInteger(), nullable=False),
        sa.Column("memory_mb_usage", sa.BigInteger(), nullable=False),
        sa.Column("instances_total", sa.BigInteger(), nullable=False),
        sa.Column("instances_usage", sa.BigInteger(), nullable=False),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name=op.f("fk_cloud_resources_cloud_provider_configuration_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("cloud_resources_pkey")),
    )
    op.create_table(
        "device_pool",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("compute_identifier", sa.String(length=250), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("resource_class", sa.String(length=250), nullable=True),
        sa.Column(
            "device_type",
            sa.Enum(
                "PCI_PASSTHROUGH",
                "VIRTUAL_GPU",
                name="device_pool_device_type",
                native_enum=False,
                create_constraint=True,
                length=255,
            ),
            nullable=True,
        ),
        sa.Column("total_units", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name=op.f("fk_device_pool_cloud_provider_configuration_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("device_pool_pkey")),
    )
    op.create_table(
        "experiment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("instrument_id", sa.BigInteger(), nullable=False),
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title", sa.String(length=2000), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("doi", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instrument.id"], name=op.f("fk_experiment_instrument_id")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_experiment_proposal_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("experiment_pkey")),
    )
    op.create_index(op.f("ix_experiment_proposal_id"), "experiment", ["proposal_id"], unique=False)
    op.create_table(
        "flavour",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("cpu", sa.REAL(), nullable=False),
        sa.Column("memory", sa.Integer(), nullable=False),
        sa.Column("compute_id", sa.String(length=250), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name=op.f("fk_flavour_cloud_provider_configuration_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("flavour_pkey")),
    )
    op.create_table(
        "hypervisor",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("compute_id", sa.String(length=250), nullable=False),
        sa.Column("hostname", sa.String(length=250), nullable=False),
        sa.Column("state", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name=op.f("fk_hypervisor_cloud_provider_configuration_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("hypervisor_pkey")),
    )
    op.create_table(
        "image",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("description", sa.String(length=2500), nullable=True),
        sa.Column("icon", sa.String(length=100), nullable=False),
        sa.Column("compute_id", sa.String(length=250), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("visible", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("boot_command", sa.Text(), nullable=True),
        sa.Column("autologin", sa.String(length=255), nullable=True),
        sa.Column("default_vdi_protocol", sa.BigInteger(), nullable=True),
        sa.Column("secondary_vdi_protocol", sa.BigInteger(), nullable=True),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "auto_accept_extension_request",
            sa.Enum(
                "ALL",
                "STAFF",
                "NONE",
                name="image_auto_accept_extension_request",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=True,
        ),
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
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name=op.f("fk_image_cloud_provider_configuration_id"),
        ),
        sa.ForeignKeyConstraint(
            ["default_vdi_protocol"], ["protocol.id"], name=op.f("fk_image_default_vdi_protocol")
        ),
        sa.ForeignKeyConstraint(
            ["secondary_vdi_protocol"],
            ["protocol.id"],
            name=op.f("fk_image_secondary_vdi_protocol"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("image_pkey")),
    )
    op.create_table(
        "security_group",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("cloud_provider_configuration_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cloud_provider_configuration_id"],
            ["cloud_provider_configuration.id"],
            name=op.f("fk_security_group_cloud_provider_configuration_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("security_group_pkey")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=250), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=True),
        sa.Column("affiliation_id", sa.BigInteger(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("instance_quota", sa.Integer(), server_default=sa.text("2"), nullable=False),
        sa.ForeignKeyConstraint(["affiliation_id"], ["employer.id"], name="fk_employer_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("users_pkey")),
    )
    op.create_table(
        "acknowledged_system_notification",
        sa.Column("system_notification_id", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_by_user_id", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_user_id"],
            ["users.id"],
            name=op.f("fk_acknowledged_system_notification_acknowledged_by_user_id"),
        ),
        sa.ForeignKeyConstraint(
            ["system_notification_id"],
            ["system_notification.id"],
            name=op.f("fk_acknowledged_system_notification_system_notification_id"),
        ),
        sa.PrimaryKeyConstraint(
            "system_notification_id",
            "acknowledged_by_user_id",
            name=op.f("acknowledged_system_notification_pkey"),
        ),
    )
    op.create_table(
        "booking_configuration_flavour",
        sa.Column("booking_configuration_id", sa.BigInteger(), nullable=False),
        sa.Column("flavour_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_configuration_id"],
            ["booking_configuration.id"],
            name=op.f("fk_booking_configuration_flavour_booking_configuration_id"),
        ),
        sa.ForeignKeyConstraint(
            ["flavour_id"], ["flavour.id"], name=op.f("fk_booking_configuration_flavour_flavour_id")
        ),
        sa.PrimaryKeyConstraint(
            "booking_configuration_id",
            "flavour_id",
            name=op.f("booking_configuration_flavour_pkey"),
        ),
    )
    op.create_table(
        "booking_flavour_role_configuration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booking_configuration_id", sa.BigInteger(), nullable=False),
        sa.Column("flavour_id", sa.BigInteger(), nullable=True),
        sa.Column("role_id", sa.BigInteger(), nullable=True),
        sa.Column("max_instances_per_reservation", sa.BigInteger(), nullable=True),
        sa.Column("max_days_reservation", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_configuration_id"],
            ["booking_configuration.id"],
            name=op.f("fk_booking_flavour_role_configuration_booking_configuration_id"),
        ),
        sa.ForeignKeyConstraint(
            ["flavour_id"],
            ["flavour.id"],
            name=op.f("fk_booking_flavour_role_configuration_flavour_id"),
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_booking_flavour_role_configuration_role_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_flavour_role_configuration_pkey")),
    )
    op.create_table(
        "booking_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uid", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.String(length=250), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "CREATED",
                "ACCEPTED",
                "REFUSED",
                "DELETED",
                name="booking_request_state",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_booking_request_owner_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_request_pkey")),
    )
    op.create_table(
        "booking_role_configuration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booking_configuration_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=True),
        sa.Column("auto_accept", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_configuration_id"],
            ["booking_configuration.id"],
            name=op.f("fk_booking_role_configuration_booking_configuration_id"),
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_booking_role_configuration_role_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_role_configuration_pkey")),
    )
    op.create_table(
        "client_authentication_token",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.String(length=250), nullable=False),
        sa.Column("token", sa.String(length=250), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_client_authentication_token_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("client_authentication_token_pkey")),
    )
    op.create_index(
        op.f("ix_client_authentication_token_token"),
        "client_authentication_token",
        ["token"],
        unique=False,
    )
    op.create_table(
        "experiment_user",
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiment.id"], name=op.f("fk_experiment_user_experiment_id")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_experiment_user_user_id")),
        sa.PrimaryKeyConstraint("experiment_id", "user_id", name=op.f("experiment_user_pkey")),
    )
    op.create_index(
        op.f("ix_experiment_user_user_id"), "experiment_user", ["user_id"], unique=False
    )
    op.create_table(
        "flavour_device",
        sa.Column("flavour_id", sa.BigInteger(), nullable=False),
        sa.Column("device_pool_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pool_id"], ["device_pool.id"], name=op.f("fk_flavour_device_device_pool_id")
        ),
        sa.ForeignKeyConstraint(
            ["flavour_id"], ["flavour.id"], name=op.f("fk_flavour_device_flavour_id")
        ),
        sa.PrimaryKeyConstraint("flavour_id", "device_pool_id", name=op.f("flavour_device_pkey")),
    )
    op.create_table(
        "flavour_limit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "object_type",
            sa.Enum(
                "INSTRUMENT",
                "ROLE",
                name="flavour_limit_object_type",
                native_enum=False,
                create_constraint=True,
                length=255,
            ),
            nullable=False,
        ),
        sa.Column("flavour_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flavour_id"], ["flavour.id"], name=op.f("fk_flavour_limit_flavour_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("flavour_limit_pkey")),
    )
    op.create_table(
        "flavour_role_lifetime",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("flavour_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=True),
        sa.Column("duration_minutes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flavour_id"], ["flavour.id"], name=op.f("fk_flavour_role_lifetime_flavour_id")
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["role.id"], name=op.f("fk_flavour_role_lifetime_role_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("flavour_role_lifetime_pkey")),
        sa.UniqueConstraint(
            "flavour_id", "role_id", name=op.f("uk_flavour_role_lifetime_flavour_id_role_id")
        ),
    )
    op.create_table(
        "hypervisor_allocation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hypervisor_id", sa.BigInteger(), nullable=False),
        sa.Column("server_compute_id", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["hypervisor_id"],
            ["hypervisor.id"],
            name=op.f("fk_hypervisor_allocation_hypervisor_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("hypervisor_allocation_pkey")),
    )
    op.create_table(
        "hypervisor_resource",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hypervisor_id", sa.BigInteger(), nullable=False),
        sa.Column("resource_class", sa.String(length=250), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("usage", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["hypervisor_id"], ["hypervisor.id"], name=op.f("fk_hypervisor_resource_hypervisor_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("hypervisor_resource_pkey")),
    )
    op.create_table(
        "image_protocol",
        sa.Column("image_id", sa.BigInteger(), nullable=False),
        sa.Column("protocol_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["image.id"], name=op.f("fk_image_protocol_image_id")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocol.id"], name=op.f("fk_image_protocol_protocol_id")
        ),
        sa.PrimaryKeyConstraint("image_id", "protocol_id", name=op.f("image_protocol_pkey")),
    )
    op.create_table(
        "instrument_scientist",
        sa.Column("instrument_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instrument.id"], name=op.f("fk_instrument_scientist_instrument_id")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_instrument_scientist_user_id")
        ),
        sa.PrimaryKeyConstraint("instrument_id", "user_id", name="instrument_responsible_pkey"),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("image_id", sa.BigInteger(), nullable=True),
        sa.Column("flavour_id", sa.BigInteger(), nullable=True),
        sa.Column("preset", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(["flavour_id"], ["flavour.id"], name=op.f("fk_plan_flavour_id")),
        sa.ForeignKeyConstraint(["image_id"], ["image.id"], name=op.f("fk_plan_image_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("plan_pkey")),
    )
    op.create_table(
        "security_group_filter",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "object_type",
            sa.Enum(
                "INSTRUMENT",
                "ROLE",
                "FLAVOUR",
                name="security_group_filter_object_type",
                native_enum=False,
                create_constraint=True,
                length=255,
            ),
            nullable=False,
        ),
        sa.Column("security_group_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["security_group_id"],
            ["security_group.id"],
            name=op.f("fk_security_group_filter_security_group_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("security_group_filter_pkey")),
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], name=op.f("fk_user_role_role_id")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_role_user_id")),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("user_role_pkey")),
    )
    op.create_index(op.f("ix_user_role_role_id"), "user_role", ["role_id"], unique=False)
    op.create_table(
        "booking_request_flavour",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booking_request_id", sa.BigInteger(), nullable=False),
        sa.Column("flavour_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_request_id"],
            ["booking_request.id"],
            name=op.f("fk_booking_request_flavour_booking_request_id"),
        ),
        sa.ForeignKeyConstraint(
            ["flavour_id"], ["flavour.id"], name=op.f("fk_booking_request_flavour_flavour_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_request_flavour_pkey")),
    )
    op.create_table(
        "booking_request_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booking_request_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "CREATED",
                "ACCEPTED",
                "REFUSED",
                "DELETED",
                name="booking_request_history_state",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("comments", sa.String(length=2500), nullable=True),
        sa.Column("actor_id", sa.String(length=250), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_booking_request_history_actor_id")
        ),
        sa.ForeignKeyConstraint(
            ["booking_request_id"],
            ["booking_request.id"],
            name=op.f("fk_booking_request_history_booking_request_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_request_history_pkey")),
    )
    op.create_table(
        "instance",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uid", sa.String(length=16), nullable=False),
        sa.Column("compute_id", sa.String(length=250), nullable=True),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("comments", sa.String(length=2500), nullable=True),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("ip_address", sa.String(length=255), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "ACTIVE",
                "PARTIALLY_ACTIVE",
                "ACTIVE_MIGRATING",
                "BUILDING",
                "DELETED",
                "DELETING",
                "ERROR",
                "STARTING",
                "STOPPED",
                "STOPPING",
                "REBOOTING",
                "MIGRATING",
                "UNAVAILABLE",
                "UNKNOWN",
                name="instance_state",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("screen_width", sa.Integer(), nullable=False),
        sa.Column("screen_height", sa.Integer(), nullable=False),
        sa.Column(
            "keyboard_layout", sa.String(length=100), server_default="en-gb-qwerty", nullable=False
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("termination_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "delete_requested", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("security_groups", sa.Text(), nullable=True),
        sa.Column("expiration_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unrestricted_member_access", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_protocols", sa.Text(), nullable=True),
        sa.Column("state_hash", sa.Integer(), nullable=True),
        sa.Column("vdi_protocol", sa.BigInteger(), nullable=True),
        sa.Column("public_access_token", sa.String(length=250), nullable=True),
        sa.Column(
            "public_access_role",
            sa.Enum(
                "OWNER",
                "USER",
                "GUEST",
                "SUPPORT",
                "NONE",
                name="instance_public_access_role",
                native_enum=False,
                create_constraint=True,
                length=255,
            ),
            nullable=True,
        ),
        sa.Column("lifetime_minutes", sa.BigInteger(), nullable=True),
        sa.Column("booking_token_id", sa.BigInteger(), nullable=True),
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
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_instance_plan_id")),
        sa.ForeignKeyConstraint(
            ["vdi_protocol"], ["protocol.id"], name=op.f("fk_instance_vdi_protocol")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_pkey")),
    )
    op.create_index(
        "uk_instance_uid",
        "instance",
        ["uid"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "booking_token",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uid", sa.String(length=16), nullable=False),
        sa.Column("booking_request_id", sa.BigInteger(), nullable=False),
        sa.Column("flavour_id", sa.BigInteger(), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=True),
        sa.Column("owner_id", sa.String(length=250), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["booking_request_id"],
            ["booking_request.id"],
            name=op.f("fk_booking_token_booking_request_id"),
        ),
        sa.ForeignKeyConstraint(
            ["flavour_id"], ["flavour.id"], name=op.f("fk_booking_token_flavour_id")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_booking_token_instance_id")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_booking_token_owner_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_token_pkey")),
    )
    op.create_table(
        "instance_activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "activity_type",
            sa.Enum(
                "MOUSE",
                "KEYBOARD",
                "MOUSE_AND_KEYBOARD",
                name="instance_activity_activity_type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_activity_instance_id")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_instance_activity_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_activity_pkey")),
    )
    op.create_index(
        op.f("ix_instance_activity_instance_id"), "instance_activity", ["instance_id"], unique=False
    )
    op.create_table(
        "instance_attribute",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_attribute_instance_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_attribute_pkey")),
    )
    op.create_index(
        op.f("ix_instance_attribute_instance_id"),
        "instance_attribute",
        ["instance_id"],
        unique=False,
    )
    op.create_table(
        "instance_authentication_token",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token", sa.String(length=250), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.Column("public_access_token", sa.String(length=250), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instance.id"],
            name=op.f("fk_instance_authentication_token_instance_id"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_instance_authentication_token_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_authentication_token_pkey")),
    )
    op.create_index(
        op.f("ix_instance_authentication_token_token"),
        "instance_authentication_token",
        ["token"],
        unique=False,
    )
    op.create_table(
        "instance_command",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=True),
        sa.Column(
            "action_type",
            sa.Enum(
                "CREATE",
                "START",
                "REBOOT",
                "SHUTDOWN",
                "DELETE",
                "STATE",
                "UPDATE_SECURITY_GROUPS",
                name="instance_command_action_type",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "QUEUED",
                "RUNNING",
                "TERMINATED",
                "FAILED",
                "CANCELLED",
                name="instance_command_state",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("message", sa.String(length=255), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_command_instance_id")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_instance_command_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_command_pkey")),
    )
    op.create_index(
        op.f("ix_instance_command_instance_id"), "instance_command", ["instance_id"], unique=False
    )
    op.create_table(
        "instance_device_allocation",
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("device_pool_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pool_id"],
            ["device_pool.id"],
            name=op.f("fk_instance_device_allocation_device_pool_id"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_device_allocation_instance_id")
        ),
        sa.PrimaryKeyConstraint(
            "instance_id", "device_pool_id", name=op.f("instance_device_allocation_pkey")
        ),
    )
    op.create_table(
        "instance_experiment",
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiment.id"], name=op.f("fk_instance_experiment_experiment_id")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_experiment_instance_id")
        ),
        sa.PrimaryKeyConstraint(
            "experiment_id", "instance_id", name=op.f("instance_experiment_pkey")
        ),
    )
    op.create_index(
        op.f("ix_instance_experiment_instance_id"),
        "instance_experiment",
        ["instance_id"],
        unique=False,
    )
    op.create_table(
        "instance_expiration",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("expiration_date", sa.DateTime(timezone=True), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_expiration_instance_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_expiration_pkey")),
        sa.UniqueConstraint("instance_id", name="uk_instance_expiration_instance_id"),
    )
    op.create_table(
        "instance_extension_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.String(length=4000), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "ACCEPTED",
                "REFUSED",
                name="instance_extension_request_state",
                native_enum=False,
                create_constraint=True,
                length=50,
            ),
            nullable=False,
        ),
        sa.Column("original_termination_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extension_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handler_id", sa.String(length=250), nullable=True),
        sa.Column("handled_on", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handler_comments", sa.String(length=4000), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["handler_id"], ["users.id"], name=op.f("fk_instance_extension_request_handler_id")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_extension_request_instance_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_extension_request_pkey")),
    )
    op.create_index(
        op.f("ix_instance_extension_request_instance_id"),
        "instance_extension_request",
        ["instance_id"],
        unique=False,
    )
    op.create_table(
        "instance_jupyter_session",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.Column("kernel_id", sa.String(length=150), nullable=False),
        sa.Column("session_id", sa.String(length=150), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_jupyter_session_instance_id")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_instance_jupyter_session_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_jupyter_session_pkey")),
    )
    op.create_index(
        op.f("ix_instance_jupyter_session_instance_id"),
        "instance_jupyter_session",
        ["instance_id"],
        unique=False,
    )
    op.create_table(
        "instance_member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "OWNER",
                "USER",
                "GUEST",
                "SUPPORT",
                "NONE",
                name="instance_member_role",
                native_enum=False,
                create_constraint=True,
                length=255,
            ),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_member_instance_id")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_instance_member_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_member_pkey")),
    )
    op.create_index(
        op.f("ix_instance_member_instance_id"), "instance_member", ["instance_id"], unique=False
    )
    op.create_index(
        op.f("ix_instance_member_user_id"), "instance_member", ["user_id"], unique=False
    )
    op.create_table(
        "instance_session",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("connection_id", sa.String(length=150), nullable=False),
        sa.Column("protocol", sa.String(length=150), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_session_instance_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_session_pkey")),
    )
    op.create_index(
        op.f("ix_instance_session_instance_id"), "instance_session", ["instance_id"], unique=False
    )
    op.create_table(
        "instance_thumbnail",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_instance_thumbnail_instance_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_thumbnail_pkey")),
        sa.UniqueConstraint("instance_id", name=op.f("uk_instance_thumbnail_instance_id")),
    )
    op.create_table(
        "personal_access_token",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token", sa.String(length=250), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "OWNER",
                "USER",
                "GUEST",
                "SUPPORT",
                "NONE",
                name="personal_access_token_role",
                native_enum=False,
                create_constraint=True,
                length=255,
            ),
            nullable=True,
        ),
        sa.Column("user_id", sa.String(length=250), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_personal_access_token_instance_id")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_personal_access_token_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("personal_access_token_pkey")),
    )
    op.create_index(
        op.f("ix_personal_access_token_token"), "personal_access_token", ["token"], unique=False
    )
    op.create_table(
        "booking_token_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booking_token_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.String(length=250), nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["booking_token_id"],
            ["booking_token.id"],
            name=op.f("fk_booking_token_history_booking_token_id"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_booking_token_history_instance_id")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_booking_token_history_owner_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("booking_token_history_pkey")),
    )
    op.create_table(
        "instance_session_member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance_session_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.String(length=150), nullable=False),
        sa.Column("user_id", sa.String(length=250), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "OWNER",
                "USER",
                "GUEST",
                "SUPPORT",
                "NONE",
                name="instance_session_member_role",
                native_enum=False,
                create_constraint=True,
                length=150,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["instance_session_id"],
            ["instance_session.id"],
            name=op.f("fk_instance_session_member_instance_session_id"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_instance_session_member_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("instance_session_member_pkey")),
    )
    op.create_index(
        op.f("ix_instance_session_member_instance_session_id"),
        "instance_session_member",
        ["instance_session_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_instance_session_member_instance_session_id"), table_name="instance_session_member"
    )
    op.drop_table("instance_session_member")
    op.drop_table("booking_token_history")
    op.drop_index(op.f("ix_personal_access_token_token"), table_name="personal_access_token")
    op.drop_table("personal_access_token")
    op.drop_table("instance_thumbnail")
    op.drop_index(op.f("ix_instance_session_instance_id"), table_name="instance_session")
    op.drop_table("instance_session")
    op.drop_index(op.f("ix_instance_member_user_id"), table_name="instance_member")
    op.drop_index(op.f("ix_instance_member_instance_id"), table_name="instance_member")
    op.drop_table("instance_member")
    op.drop_index(
        op.f("ix_instance_jupyter_session_instance_id"), table_name="instance_jupyter_session"
    )
    op.drop_table("instance_jupyter_session")
    op.drop_index(
        op.f("ix_instance_extension_request_instance_id"), table_name="instance_extension_request"
    )
    op.drop_table("instance_extension_request")
    op.drop_table("instance_expiration")
    op.drop_index(op.f("ix_instance_experiment_instance_id"), table_name="instance_experiment")
    op.drop_table("instance_experiment")
    op.drop_table("instance_device_allocation")
    op.drop_index(op.f("ix_instance_command_instance_id"), table_name="instance_command")
    op.drop_table("instance_command")
    op.drop_index(
        op.f("ix_instance_authentication_token_token"), table_name="instance_authentication_token"
    )
    op.drop_table("instance_authentication_token")
    op.drop_index(op.f("ix_instance_attribute_instance_id"), table_name="instance_attribute")
    op.drop_table("instance_attribute")
    op.drop_index(op.f("ix_instance_activity_instance_id"), table_name="instance_activity")
    op.drop_table("instance_activity")
    op.drop_table("booking_token")
    op.drop_index(
        "uk_instance_uid",
        table_name="instance",
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("instance")
    op.drop_table("booking_request_history")
    op.drop_table("booking_request_flavour")
    op.drop_index(op.f("ix_user_role_role_id"), table_name="user_role")
    op.drop_table("user_role")
    op.drop_table("security_group_filter")
    op.drop_table("plan")
    op.drop_table("instrument_scientist")
    op.drop_table("image_protocol")
    op.drop_table("hypervisor_resource")
    op.drop_table("hypervisor_allocation")
    op.drop_table("flavour_role_lifetime")
    op.drop_table("flavour_limit")
    op.drop_table("flavour_device")
    op.drop_index(op.f("ix_experiment_user_user_id"), table_name="experiment_user")
    op.drop_table("experiment_user")
    op.drop_index(
        op.f("ix_client_authentication_token_token"), table_name="client_authentication_token"
    )
    op.drop_table("client_authentication_token")
    op.drop_table("booking_role_configuration")
    op.drop_table("booking_request")
    op.drop_table("booking_flavour_role_configuration")
    op.drop_table("booking_configuration_flavour")
    op.drop_table("acknowledged_system_notification")
    op.drop_table("users")
    op.drop_table("security_group")
    op.drop_table("image")
    op.drop_table("hypervisor")
    op.drop_table("flavour")
    op.drop_index(op.f("ix_experiment_proposal_id"), table_name="experiment")
    op.drop_table("experiment")
    op.drop_table("device_pool")
    op.drop_table("cloud_resources")
    op.drop_table("cloud_provider_configuration_parameter")
    op.drop_table("booking_configuration")
    op.drop_table("system_notification")
    op.drop_table("role")
    op.drop_table("protocol")
    op.drop_table("proposal")
    op.drop_table("instrument")
    op.drop_table("employer")
    op.drop_table("configuration")
    op.drop_table("cloud_provider_configuration")
    op.drop_table("application_credential")
