"""Response shapes of the REST API (spec/api.md Appendix A): every key, nulls included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from visa_platform.db.models import Employer, SystemNotification, User
from visa_platform.services.notifications import AdminCounter, notification_uid
from visa_platform.services.quotas import Quota
from visa_platform.services.users import RoleGrant


def affiliation_dto(employer: Employer | None) -> dict[str, Any] | None:
    if employer is None:
        return None
    return {
        "id": employer.id,
        "name": employer.name,
        "town": employer.town,
        "countryCode": employer.country_code,
    }


def user_dto(
    user: User,
    roles: Sequence[RoleGrant] = (),
    groups: Sequence[str] = (),
    affiliation: Employer | None = None,
) -> dict[str, Any]:
    """UserDto; roles and groups stay empty unless the endpoint fills them."""
    first, last = user.first_name, user.last_name
    return {
        "id": user.id,
        "fullName": f"{first or ''} {last or ''}".strip(),
        "firstName": first,
        "lastName": last,
        "email": user.email,
        "affiliation": affiliation_dto(affiliation),
        "activeUserRoles": [{"name": r.name, "expiresAt": r.expires_at} for r in roles],
        "groups": list(groups),
    }


def quota_dto(quota: Quota) -> dict[str, int]:
    return {
        "maxInstances": quota.max_instances,
        "totalInstances": quota.total_instances,
        "availableInstances": quota.available_instances,
    }


def system_notification_dto(notification: SystemNotification) -> dict[str, Any]:
    kind = notification.type
    return {
        "id": notification.id,
        "uid": notification_uid(notification),
        "message": notification.message,
        "level": notification.level,
        "type": kind.name if kind is not None else "BANNER",
        "createdAt": notification.created_at,
        "activatedAt": notification.activated_at,
    }


def admin_counter_dto(counter: AdminCounter) -> dict[str, Any]:
    return {"tag": counter.tag, "count": counter.count}
