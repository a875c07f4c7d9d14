"""What a database written by the Java VISA server looks like (spec/domain.md §1, §11).

The Java server's schema is a 2022 ``pg_dump`` plus dbmate migrations, plus whatever Hibernate's
``update`` mode added at run time for newer entities (tables and columns, never primary keys on
old tables, never drops). So the version of a database is read from *features*: dbmate versions,
and the tables and columns that each release introduced.
"""

from __future__ import annotations

from dataclasses import dataclass

DBMATE_VERSIONS: dict[str, str] = {
    "20220314151039": "instance.uid column",
    "20220324082055": "system_notification.activated_at column",
    "20220406071949": "GUEST role",
    "20240729154500": "client_authentication_token table",
    "20260203135600": "instance_state_check allows the MIGRATING states",
}
"""dbmate migrations of the Java server this version knows, with what each did."""

NEWEST_DBMATE_VERSION = max(DBMATE_VERSIONS)

DBMATE_TABLE = "schema_migrations"
"""dbmate's bookkeeping table. Kept by adoption (see docs/migrating-from-java.md)."""

LEGACY_COLUMNS: dict[tuple[str, str], str] = {
    ("users", "affiliation"): "replaced by users.affiliation_id; never read by VISA since 2.x",
    ("instance_session_member", "last_seen_at"): "unmapped since 2.x",
    ("protocol", "optional"): "removed from the entity in VISA 3.4.0",
}
"""Columns the Java schema still carries but neither server reads. Adoption keeps them (made
nullable, timestamps converted like every other) so that nothing is lost."""

VISA_MARKER_TABLES = ("users", "role", "instance", "instance_member", "image", "flavour", "plan")
"""Tables whose joint presence identifies a VISA database."""

CORE_TABLES = (
    "users",
    "employer",
    "role",
    "user_role",
    "instrument",
    "instrument_scientist",
    "proposal",
    "experiment",
    "experiment_user",
    "image",
    "protocol",
    "image_protocol",
    "flavour",
    "flavour_limit",
    "plan",
    "security_group",
    "security_group_filter",
    "instance",
    "instance_member",
    "instance_experiment",
    "instance_attribute",
    "instance_command",
    "instance_expiration",
    "instance_session",
    "instance_session_member",
    "instance_thumbnail",
    "instance_authentication_token",
    "instance_jupyter_session",
    "system_notification",
    "configuration",
)
"""The tables of the 2022 dump (spec §1.8, minus ``application_credential``, which Hibernate
added later): every VISA database has all of them."""


@dataclass(frozen=True)
class Feature:
    """A table, column or dbmate migration that first appeared in a VISA release."""

    release: tuple[int, int, int]
    table: str
    column: str | None = None
    dbmate: str | None = None

    @property
    def release_name(self) -> str:
        return ".".join(str(part) for part in self.release)

    @property
    def label(self) -> str:
        if self.dbmate is not None:
            return f"dbmate {self.dbmate} ({DBMATE_VERSIONS[self.dbmate]})"
        return f"{self.table}.{self.column}" if self.column else f"table {self.table}"


FEATURES: tuple[Feature, ...] = (
    Feature((2, 0, 0), "instance", dbmate="20220314151039"),
    Feature((2, 0, 0), "system_notification", dbmate="20220324082055"),
    Feature((2, 0, 0), "role", dbmate="20220406071949"),
    Feature((2, 3, 0), "instance_extension_request"),
    Feature((2, 4, 0), "cloud_provider_configuration"),
    Feature((2, 4, 0), "instance_activity"),
    Feature((2, 4, 0), "instance", "unrestricted_member_access"),
    Feature((2, 7, 0), "role", "group_created_at"),
    Feature((3, 0, 0), "client_authentication_token", dbmate="20240729154500"),
    Feature((3, 4, 0), "acknowledged_system_notification"),
    Feature((3, 4, 0), "instance", "vdi_protocol"),
    Feature((3, 4, 0), "system_notification", "type"),
    Feature((3, 5, 0), "personal_access_token"),
    Feature((3, 5, 0), "instance", "public_access_token"),
    Feature((3, 6, 0), "flavour_role_lifetime"),
    Feature((3, 6, 0), "device_pool"),
    Feature((3, 6, 0), "hypervisor"),
    Feature((3, 6, 0), "cloud_resources"),
    Feature((3, 6, 0), "instance", "lifetime_minutes"),
    Feature((3, 8, 0), "booking_request"),
    Feature((3, 8, 0), "instance", "booking_token_id"),
    Feature((3, 8, 0), "instance", dbmate="20260203135600"),
    Feature((3, 8, 2), "instance", "active_at"),
)
"""Release markers, oldest first (spec/domain.md §1: "NEW (x.y.z)" annotations)."""
