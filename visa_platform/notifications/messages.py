"""The emails of spec/domain.md §6.1 as :class:`Notification` values: subject, template, who.

Each builder takes plain values (so that services and jobs need no template knowledge) and
returns ``None`` when nobody should receive the message (e.g. the owner has no address). The
template variables keep the names of VISA's templates (``rootURL`` and ``adminEmailAddress`` are
added by the channel).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from visa_platform.notifications.model import Notification

PREFIX = "[VISA]"
STAFF_ROLE = "STAFF"


class Kind(StrEnum):
    """Which email a notification is; ``Notification.kind`` holds one of these."""

    INSTANCE_EXPIRING = "instance_expiring"
    INSTANCE_LIFETIME = "instance_lifetime"
    INSTANCE_DELETED = "instance_deleted"
    INSTANCE_MEMBER_ADDED = "instance_member_added"
    INSTANCE_CREATED = "instance_created"
    EXTENSION_REQUEST = "instance_extension_request"
    EXTENSION_HANDLED = "instance_extension_handled"
    BOOKING_REQUEST_ADMIN = "booking_request_admin"
    BOOKING_REQUEST_OWNER = "booking_request_owner"
    BOOKING_REQUEST_VALIDATED = "booking_request_validated"
    BOOKING_TOKEN_ASSIGNED = "booking_token_assigned"


@dataclass(frozen=True)
class Person:
    """A recipient or a person named in a message. ``staff``: holds the STAFF role."""

    full_name: str
    email: str | None = None
    staff: bool = False

    @classmethod
    def of(cls, user: Any, role_names: Iterable[str] = ()) -> Person:
        """From a ``users`` row (or anything with first_name, last_name, email) and its roles."""
        names = (getattr(user, "first_name", None), getattr(user, "last_name", None))
        return cls(
            " ".join(n for n in names if n),
            getattr(user, "email", None) or None,
            STAFF_ROLE in set(role_names),
        )


@dataclass(frozen=True)
class InstanceInfo:
    """What the instance emails show about an instance."""

    id: int
    uid: str
    name: str


@dataclass(frozen=True)
class Limits:
    """Lifetime and inactivity limits in hours (settings), staff and user values."""

    user_lifetime_hours: int = 336
    staff_lifetime_hours: int = 1440
    user_inactivity_hours: int = 96
    staff_inactivity_hours: int = 192

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            settings.instance_user_max_lifetime_duration_hours,
            settings.instance_staff_max_lifetime_duration_hours,
            settings.instance_user_max_inactivity_duration_hours,
            settings.instance_staff_max_inactivity_duration_hours,
        )

    def days_for(self, person: Person) -> dict[str, int]:
        """The day values of the common template variables (hours // 24, as VISA)."""
        lifetime = self.staff_lifetime_hours if person.staff else self.user_lifetime_hours
        inactivity = self.staff_inactivity_hours if person.staff else self.user_inactivity_hours
        return {
            "maxLifetimeDurationDays": lifetime // 24,
            "maxInactivityDurationDays": inactivity // 24,
        }


def _instance(instance: InstanceInfo) -> dict[str, Any]:
    return {"id": instance.id, "uid": instance.uid, "name": instance.name}


def _to_user(
    kind: Kind,
    subject: str,
    template: str,
    user: Person,
    context: dict[str, Any],
    *,
    cc_admins: bool = False,
) -> Notification | None:
    if not user.email:
        return None
    return Notification(
        kind=kind,
        subject=subject,
        template=template,
        context={"user": {"fullName": user.full_name, "email": user.email}, **context},
        recipients=(user.email,),
        cc_admins=cc_admins,
    )


def instance_expiring(
    owner: Person, instance: InstanceInfo, expiration_date: datetime, limits: Limits
) -> Notification | None:
    """#1: the inactivity expiration was created (24 h before deletion)."""
    return _to_user(
        Kind.INSTANCE_EXPIRING,
        f"{PREFIX} Your instance will soon expire due to inactivity",
        "instance-expiring",
        owner,
        {"instance": _instance(instance), "expirationDate": expiration_date}
        | limits.days_for(owner),
    )


def instance_lifetime(
    owner: Person, instance: InstanceInfo, termination_date: datetime, limits: Limits
) -> Notification | None:
    """#2: the lifetime expiration was created (48 h before termination)."""
    return _to_user(
        Kind.INSTANCE_LIFETIME,
        f"{PREFIX} Your instance will soon be deleted due to reaching its maximum lifetime",
        "instance-lifetime",
        owner,
        {"instance": _instance(instance), "terminationDate": termination_date}
        | limits.days_for(owner),
    )


def deletion_reason(termination_date: datetime | None, expiration_date: datetime) -> str:
    """``lifetime`` when the termination date is not after the expiration, else ``inactivity``."""
    if termination_date is not None and termination_date <= expiration_date:
        return "lifetime"
    return "inactivity"


def instance_deleted(
    owner: Person, instance: InstanceInfo, reason: str, limits: Limits
) -> Notification | None:
    """#3: the expiration was executed; ``reason`` from :func:`deletion_reason`."""
    return _to_user(
        Kind.INSTANCE_DELETED,
        f"{PREFIX} Your instance has been deleted",
        "instance-deleted",
        owner,
        {"instance": _instance(instance), "reason": reason} | limits.days_for(owner),
    )


def instance_member_added(
    member: Person, instance: InstanceInfo, role: str, owner: Person, limits: Limits
) -> Notification | None:
    """#4: an owner or admin added ``member`` (not for OWNER, not on token consumption)."""
    return _to_user(
        Kind.INSTANCE_MEMBER_ADDED,
        f"{PREFIX} You have been added as a member to an instance",
        "instance-member-added",
        member,
        {"instance": _instance(instance), "role": role, "owner": {"fullName": owner.full_name}}
        | limits.days_for(member),
    )


def instance_created(owner: Person, instance: InstanceInfo, flavour: str) -> Notification:
    """#5: the CREATE action succeeded; plain text to the DEV address (when the site set one)."""
    return Notification(
        kind=Kind.INSTANCE_CREATED,
        subject=f"{PREFIX} A new instance has been created",
        template="instance-created",
        context={
            "owner": {"fullName": owner.full_name},
            "instance": _instance(instance),
            "flavour": flavour,
        },
        to_developers=True,
        plain_text=True,
    )


@dataclass(frozen=True)
class ExtensionRequestInfo:
    """What the admin sees in an extension-request email (#6)."""

    instance: InstanceInfo
    owner: Person
    employer: str | None
    created_at: datetime
    termination_date: datetime | None
    flavour: str | None
    image: str | None
    image_version: str | None
    comments: str | None


def extension_requested(
    request: ExtensionRequestInfo, *, auto_accepted: bool = False
) -> Notification:
    """#6: an owner asked for more lifetime; to the ADMIN address (when the site set one)."""
    subject = f"{PREFIX} An instance extension request has been made"
    if auto_accepted:
        subject += " (automatically accepted)"
    return Notification(
        kind=Kind.EXTENSION_REQUEST,
        subject=subject,
        template="instance-extension-request",
        context={
            "instance": _instance(request.instance),
            "owner": {"fullName": request.owner.full_name, "email": request.owner.email},
            "employer": request.employer,
            "createdAt": request.created_at,
            "terminationDate": request.termination_date,
            "flavour": request.flavour,
            "image": request.image,
            "imageVersion": request.image_version,
            "comments": request.comments,
            "autoAccepted": auto_accepted,
        },
        to_admins=True,
    )


def extension_handled(
    owner: Person,
    instance: InstanceInfo,
    *,
    accepted: bool,
    termination_date: datetime | None,
    handler_comments: str | None,
    limits: Limits,
) -> Notification | None:
    """#7: the request was accepted or refused (auto-accept included); to the owner, CC admin."""
    subject = (
        f"{PREFIX} Your instance has been granted an extended lifetime"
        if accepted
        else f"{PREFIX} Your instance has been refused an extended lifetime"
    )
    return _to_user(
        Kind.EXTENSION_HANDLED,
        subject,
        "instance-extension",
        owner,
        {
            "instance": _instance(instance),
            "accepted": accepted,
            "terminationDate": termination_date,
            "handlerComments": handler_comments,
        }
        | limits.days_for(owner),
        cc_admins=True,
    )


@dataclass(frozen=True)
class BookingInfo:
    """What the booking emails show about a reservation request."""

    id: int
    uid: str | None
    title: str | None
    organiser: Person
    start_date: datetime | None
    end_date: datetime | None
    comments: str | None = None


def _booking(booking: BookingInfo) -> dict[str, Any]:
    return {
        "id": booking.id,
        "uid": booking.uid,
        "title": booking.title,
        "organiser": {"fullName": booking.organiser.full_name, "email": booking.organiser.email},
        "startDate": booking.start_date,
        "endDate": booking.end_date,
        "comments": booking.comments,
    }


def booking_request_admin(booking: BookingInfo, *, updated: bool) -> Notification:
    """#8: a booking request was created or updated; to the ADMIN address."""
    verb = "updated" if updated else "created"
    return Notification(
        kind=Kind.BOOKING_REQUEST_ADMIN,
        subject=f"{PREFIX} A resource reservation request has been {verb}",
        template="booking-request-created-admin",
        context={"booking": _booking(booking), "updated": updated},
        to_admins=True,
    )


def booking_request_owner(booking: BookingInfo, *, updated: bool) -> Notification | None:
    """#9: a booking request was created or updated; to its organiser."""
    verb = "updated" if updated else "registered"
    return _to_user(
        Kind.BOOKING_REQUEST_OWNER,
        f"{PREFIX} Your request to reserve VISA resources has been {verb}",
        "booking-request-created-owner",
        booking.organiser,
        {"booking": _booking(booking), "updated": updated},
    )


def booking_request_validated(booking: BookingInfo, *, accepted: bool) -> Notification | None:
    """#10: the booking was accepted or refused (auto-accept included); organiser, CC admin.

    The refused subject keeps VISA's missing space after ``[VISA]``.
    """
    subject = (
        f"{PREFIX} Your request to reserve resources has been accepted"
        if accepted
        else f"{PREFIX}Your request to reserve resources has been refused"
    )
    return _to_user(
        Kind.BOOKING_REQUEST_VALIDATED,
        subject,
        "booking-request-validated",
        booking.organiser,
        {"booking": _booking(booking), "accepted": accepted},
        cc_admins=True,
    )


def booking_token_assigned(user: Person, booking: BookingInfo, tokens: int) -> Notification | None:
    """#11: booking tokens of a request were assigned to ``user`` (once per request)."""
    return _to_user(
        Kind.BOOKING_TOKEN_ASSIGNED,
        f"{PREFIX} You have been assigned resources to create VISA instances",
        "booking-request-token",
        user,
        {"booking": _booking(booking), "tokens": tokens},
    )
