"""Response shapes for the OpenAPI description (spec/api.md Appendix A).

These models only *document* what the DTO builders (``dto``, ``instance_dto``, ``catalogue_dto``)
write: handlers keep returning plain dicts, so the wire format (key order, VISA's dates, enums by
name) stays the JSON provider's. Every key is always present, so every field is required and
nullable ones say so. ``tests/api/test_schemathesis_fuzz.py`` checks real responses against them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.alias_generators import to_camel

from visa_platform.domain.enums import (
    InstanceCommandState,
    InstanceCommandType,
    InstanceMemberRole,
    InstanceState,
)

T = TypeVar("T")


class Shape(BaseModel):
    """camelCase keys on the wire; snake_case here."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# -- envelopes ------------------------------------------------------------------------------


class Envelope(BaseModel, Generic[T]):
    """VISA's MetaResponse: ``{"data": ...}``."""

    data: T


class PageMetadata(Shape):
    count: int
    page: int
    limit: int


class Paged(BaseModel, Generic[T]):
    """A paginated listing: ``data``, ``_metadata`` and (experiments) ``errors``."""

    data: list[T]
    metadata: PageMetadata = Field(alias="_metadata")


class PagedWithErrors(Paged[T], Generic[T]):
    errors: list[str]


class ErrorBody(BaseModel):
    """A 4xx/5xx: ``{"data": null, "errors": [message]}``."""

    data: None
    errors: list[str]


class Violation(BaseModel):
    field: str
    message: str


class ViolationReport(BaseModel):
    """A 400 for a request that fails validation (Quarkus' constraint violation report)."""

    title: Literal["Constraint Violation"]
    status: Literal[400]
    violations: list[Violation]


class Jpeg(RootModel[bytes]):
    """A JPEG image (``image/jpeg``)."""


class NotificationId(RootModel[int]):
    """A bare JSON number: the id of a system notification."""


class ThumbnailUpload(BaseModel):
    """``multipart/form-data`` with the JPEG in the part ``file``."""

    file: bytes


# -- users, account ------------------------------------------------------------------------


class Affiliation(Shape):
    id: int
    name: str | None
    town: str | None
    country_code: str | None


class ActiveRole(Shape):
    name: str
    expires_at: datetime | None


class UserDto(Shape):
    id: str
    full_name: str
    first_name: str | None
    last_name: str | None
    email: str | None
    affiliation: Affiliation | None
    active_user_roles: list[ActiveRole]
    groups: list[str]


class QuotaDto(Shape):
    max_instances: int
    total_instances: int
    available_instances: int


class TokenDto(Shape):
    token: str


# -- configuration, notifications, health ---------------------------------------------------


class LoginConfiguration(Shape):
    issuer: str | None
    client_id: str | None
    scope: str | None
    show_debug_information: bool
    session_checks_enabled: bool


class AnalyticsConfiguration(Shape):
    enabled: bool
    url: str | None
    site_id: int | None


class ClipboardHost(Shape):
    host: str
    https: bool


class KeyboardLayout(Shape):
    layout: str
    name: str
    selected: bool


class DesktopConfiguration(Shape):
    allowed_clipboard_url_hosts: list[ClipboardHost]
    keyboard_layouts: list[KeyboardLayout]


class ExperimentsConfiguration(Shape):
    open_data_included: bool


class InstanceConfiguration(Shape):
    public_access_token_enabled: bool


class ClientConfiguration(Shape):
    version: str
    contact_email: str | None
    login: LoginConfiguration
    analytics: AnalyticsConfiguration
    desktop: DesktopConfiguration
    experiments: ExperimentsConfiguration
    instance: InstanceConfiguration
    metadata: dict[str, str | None]


class SystemNotificationDto(Shape):
    id: int
    uid: str
    message: str | None
    level: str | None
    type: str
    created_at: datetime | None
    activated_at: datetime | None


class AdminCounterDto(Shape):
    tag: str
    count: int


class NotificationsDto(Shape):
    system_notifications: list[SystemNotificationDto]
    admin_notifications: list[AdminCounterDto] | None


class Status(Shape):
    status: Literal["OK", "NOT_OK"]
    message: str | None


class HealthDto(Shape):
    global_state: Status
    database_state: Status
    version: str


class AcmHealthDto(Shape):
    global_state: Status
    cloud_state: Status
    database_state: Status


class BookingConfigurationDto(Shape):
    enabled: bool
    configurations: list[dict[str, Any]]


# -- catalogue ------------------------------------------------------------------------------


class InstrumentDto(Shape):
    id: int
    name: str


class ProposalDto(Shape):
    id: int
    identifier: str
    title: str | None
    url: str | None
    doi: str | None


class ExperimentDto(Shape):
    id: str
    instrument: InstrumentDto
    proposal: ProposalDto
    title: str | None
    url: str | None
    doi: str | None
    start_date: date | None
    end_date: date | None


class ImageProtocolDto(Shape):
    id: int
    name: str
    port: int | None


class ImageDto(Shape):
    id: int
    name: str
    version: str | None
    description: str | None
    icon: str | None
    protocols: list[ImageProtocolDto]
    default_vdi_protocol: ImageProtocolDto | None
    secondary_vdi_protocol: ImageProtocolDto | None


class DevicePoolDto(Shape):
    id: int
    name: str
    description: str | None


class FlavourDeviceDto(Shape):
    device_pool: DevicePoolDto
    unit_count: int


class FlavourDto(Shape):
    id: int
    name: str
    memory: int
    cpu: float
    devices: list[FlavourDeviceDto]
    available: bool
    available_at: datetime | None
    lifetime_minutes: int | None


class PlanDto(Shape):
    id: int
    image: ImageDto
    flavour: FlavourDto
    preset: bool


# -- instances ------------------------------------------------------------------------------


class MemberDto(Shape):
    id: int
    user: UserDto
    role: InstanceMemberRole


class MembershipDto(Shape):
    """The caller's member row, or ``id: null`` for a role that is not a member row."""

    id: int | None
    user: UserDto
    role: InstanceMemberRole


class InstanceDto(Shape):
    id: int
    uid: str
    compute_id: str | None
    ip_address: str | None
    name: str
    comments: str | None
    plan: PlanDto | None
    state: InstanceState
    screen_width: int
    screen_height: int
    members: list[MemberDto]
    experiments: list[ExperimentDto]
    membership: MembershipDto | None
    last_seen_at: datetime | None
    created_at: datetime | None
    last_interaction_at: datetime | None
    termination_date: datetime | None
    expiration_date: datetime | None
    delete_requested: bool
    can_connect_while_owner_away: bool
    keyboard_layout: str | None
    unrestricted_access: bool
    active_protocols: list[str]
    vdi_protocol: ImageProtocolDto | None
    public_access_token: str | None
    public_access_role: InstanceMemberRole | None
    lifetime_minutes: int | None


class InstanceStateDto(Shape):
    state: InstanceState
    termination_date: datetime | None
    expiration_date: datetime | None
    delete_requested: bool
    active_protocols: list[str]


class InstanceCommandDto(Shape):
    id: int
    action_type: InstanceCommandType
    state: InstanceCommandState
    message: str | None
    created_at: datetime | None


class InvitationDto(Shape):
    """PersonalAccessTokenDto."""

    id: int
    instance_id: int
    instance_uid: str
    token: str
    name: str
    role: InstanceMemberRole
    created_at: datetime | None


class ExtensionDto(Shape):
    id: int
    comments: str | None
    created_at: datetime | None


class InstanceSessionDto(Shape):
    id: int
    connection_id: str | None
    instance_id: int
    current: bool | None
    protocol: str


class SessionMemberDto(Shape):
    id: int
    created_at: datetime | None
    instance_session: InstanceSessionDto
    session_id: str | None
    user: UserDto
    role: InstanceMemberRole | str | None
    active: bool
