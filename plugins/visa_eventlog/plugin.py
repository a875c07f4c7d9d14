"""Event log: one ``key=value`` line per event on the ``visa.events`` logger.

It is the simplest audit trail and the reference example of event hooks. Operators route the
``visa.events`` logger like any other (file, syslog); it never logs secrets (events carry none).
"""

from __future__ import annotations

import logging

from visa_platform.plugin import hookimpl
from visa_platform.plugin.types import InstanceEvent, SessionEvent, UserEvent

log = logging.getLogger("visa.events")


def _instance_fields(event: InstanceEvent) -> str:
    return (
        f"instance_id={event.instance_id} uid={event.uid} state={event.state} "
        f"owner={event.owner_id} actor={event.actor_id}"
    )


def _session_fields(event: SessionEvent) -> str:
    return (
        f"instance_id={event.instance_id} uid={event.instance_uid} user={event.user_id} "
        f"role={event.role} protocol={event.protocol} connection={event.connection_id} "
        f"client={event.client_id}"
    )


@hookimpl
def visa_instance_created(event: InstanceEvent) -> None:
    log.info("event=instance_created %s", _instance_fields(event))


@hookimpl
def visa_instance_state_changed(event: InstanceEvent, previous_state: str) -> None:
    log.info(
        "event=instance_state_changed %s previous_state=%s", _instance_fields(event), previous_state
    )


@hookimpl
def visa_instance_deleted(event: InstanceEvent) -> None:
    log.info("event=instance_deleted %s", _instance_fields(event))


@hookimpl
def visa_session_opened(event: SessionEvent) -> None:
    log.info("event=session_opened %s", _session_fields(event))


@hookimpl
def visa_session_closed(event: SessionEvent) -> None:
    log.info("event=session_closed %s reason=%s", _session_fields(event), event.reason)


@hookimpl
def visa_user_logged_in(event: UserEvent) -> None:
    log.info(
        "event=user_logged_in user=%s username=%s first_login=%s",
        event.user_id,
        event.username,
        event.first_login,
    )
