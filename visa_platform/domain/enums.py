"""Every enum of the VISA domain (spec/domain.md §1-§4).

Each member's value equals its name: VISA stores enums by *name* in ``varchar`` columns with a
CHECK constraint, and the JSON API emits the same names.
"""

from __future__ import annotations

import enum


class InstanceState(enum.StrEnum):
    """State of an instance (§2.1); the DB CHECK ``instance_state_check`` allows exactly these."""

    ACTIVE = "ACTIVE"
    PARTIALLY_ACTIVE = "PARTIALLY_ACTIVE"
    ACTIVE_MIGRATING = "ACTIVE_MIGRATING"
    BUILDING = "BUILDING"
    DELETED = "DELETED"
    DELETING = "DELETING"
    ERROR = "ERROR"
    STARTING = "STARTING"
    STOPPED = "STOPPED"
    STOPPING = "STOPPING"
    REBOOTING = "REBOOTING"
    MIGRATING = "MIGRATING"
    UNAVAILABLE = "UNAVAILABLE"
    UNKNOWN = "UNKNOWN"

    @property
    def is_active(self) -> bool:
        """True for the states VISA flags as "active" (§2.1): the desktop may be reachable."""
        return self in _ACTIVE_INSTANCE_STATES


_ACTIVE_INSTANCE_STATES = frozenset(
    {InstanceState.ACTIVE, InstanceState.PARTIALLY_ACTIVE, InstanceState.ACTIVE_MIGRATING}
)


class CloudInstanceState(enum.StrEnum):
    """State of a server as reported by a cloud (§2.2); maps 1:1 onto ``InstanceState`` names."""

    BUILDING = "BUILDING"
    STARTING = "STARTING"
    ACTIVE = "ACTIVE"
    ACTIVE_MIGRATING = "ACTIVE_MIGRATING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    REBOOTING = "REBOOTING"
    MIGRATING = "MIGRATING"
    UNAVAILABLE = "UNAVAILABLE"
    DELETED = "DELETED"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"


class InstanceMemberRole(enum.StrEnum):
    """Role of a member on an instance (§4.3); NONE is computed only, never stored by VISA."""

    OWNER = "OWNER"
    USER = "USER"
    GUEST = "GUEST"
    SUPPORT = "SUPPORT"
    NONE = "NONE"


class InstanceCommandType(enum.StrEnum):
    """Action carried by an ``instance_command`` (§1.4, §2.7)."""

    CREATE = "CREATE"
    START = "START"
    REBOOT = "REBOOT"
    SHUTDOWN = "SHUTDOWN"
    DELETE = "DELETE"
    STATE = "STATE"
    UPDATE_SECURITY_GROUPS = "UPDATE_SECURITY_GROUPS"


class InstanceCommandState(enum.StrEnum):
    """Execution state of an ``instance_command`` (§1.4, §2.7)."""

    PENDING = "PENDING"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    TERMINATED = "TERMINATED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class InstanceActivityType(enum.StrEnum):
    """Kind of desktop input recorded in ``instance_activity`` (§1.4)."""

    MOUSE = "MOUSE"
    KEYBOARD = "KEYBOARD"
    MOUSE_AND_KEYBOARD = "MOUSE_AND_KEYBOARD"


class InstanceExtensionRequestState(enum.StrEnum):
    """State of a lifetime extension request (§1.4, §3.5)."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"


class ImageAutoAcceptExtensionRequest(enum.StrEnum):
    """Who gets extension requests accepted automatically on an image (§1.3); null means NONE."""

    ALL = "ALL"
    STAFF = "STAFF"
    NONE = "NONE"


class SystemNotificationLevel(enum.StrEnum):
    """Severity of a system notification (§1.5)."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class SystemNotificationType(enum.StrEnum):
    """Display of a system notification (§1.5); null is treated as BANNER."""

    BANNER = "BANNER"
    MODAL = "MODAL"


class FlavourLimitObjectType(enum.StrEnum):
    """What a ``flavour_limit`` row points at (§1.3); ROLE covers groups too."""

    INSTRUMENT = "INSTRUMENT"
    ROLE = "ROLE"


class SecurityGroupFilterObjectType(enum.StrEnum):
    """What a ``security_group_filter`` row points at (§1.3, §5); ROLE covers groups too."""

    INSTRUMENT = "INSTRUMENT"
    ROLE = "ROLE"
    FLAVOUR = "FLAVOUR"


class DevicePoolType(enum.StrEnum):
    """Kind of device in a ``device_pool`` (§1.3)."""

    PCI_PASSTHROUGH = "PCI_PASSTHROUGH"
    VIRTUAL_GPU = "VIRTUAL_GPU"


class BookingRequestState(enum.StrEnum):
    """State of a booking request and of its history entries (§1.6)."""

    CREATED = "CREATED"
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    DELETED = "DELETED"


class RoleName(enum.StrEnum):
    """The authorisation roles seeded in the ``role`` table (§1.1, §4.2)."""

    ADMIN = "ADMIN"
    STAFF = "STAFF"
    IT_SUPPORT = "IT_SUPPORT"
    INSTRUMENT_SCIENTIST = "INSTRUMENT_SCIENTIST"
    INSTRUMENT_CONTROL = "INSTRUMENT_CONTROL"
    SCIENTIFIC_COMPUTING = "SCIENTIFIC_COMPUTING"
    GUEST = "GUEST"


class PseudoRoleName(enum.StrEnum):
    """Roles given to non-user credentials (§1.1, §4.1); never stored in the ``role`` table."""

    APPLICATION_CREDENTIAL = "APPLICATION_CREDENTIAL"
    INSTANCE_CREDENTIAL = "INSTANCE_CREDENTIAL"


class ProtocolName(enum.StrEnum):
    """Names of the protocols seeded in the ``protocol`` table (§1.3); admins may add others."""

    RDP = "RDP"
    GUACD = "GUACD"
    JUPYTER = "JUPYTER"
    WEBX = "WEBX"
    VISA_FS = "VISA_FS"
    VISA_PRINT = "VISA_PRINT"


__all__ = [
    "BookingRequestState",
    "CloudInstanceState",
    "DevicePoolType",
    "FlavourLimitObjectType",
    "ImageAutoAcceptExtensionRequest",
    "InstanceActivityType",
    "InstanceCommandState",
    "InstanceCommandType",
    "InstanceExtensionRequestState",
    "InstanceMemberRole",
    "InstanceState",
    "ProtocolName",
    "PseudoRoleName",
    "RoleName",
    "SecurityGroupFilterObjectType",
    "SystemNotificationLevel",
    "SystemNotificationType",
]
