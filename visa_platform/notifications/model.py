"""The notification value and the contract of a notification channel (spec/domain.md §6.1)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Notification:
    """One message to deliver, independent of the channel that delivers it.

    ``recipients``, ``cc`` and ``bcc`` are user addresses. The site's own addresses are named by
    flags, because each channel knows them from its configuration: ``to_admins`` and
    ``cc_admins`` (the email channel's ADMIN address) and ``to_developers`` (its DEV address).
    ``template`` names the body template (``instance-expiring`` ...); ``context`` holds its
    variables. ``plain_text`` asks for a text body instead of HTML. ``id`` is unique per
    notification; channels use it so that a retried delivery is recognisable (Message-ID).
    """

    kind: str
    subject: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    to_admins: bool = False
    cc_admins: bool = False
    to_developers: bool = False
    plain_text: bool = False
    id: str = field(default_factory=_new_id)


class PermanentDeliveryError(Exception):
    """A delivery that no retry can fix (bad template, every recipient refused): not retried."""


@runtime_checkable
class NotificationChannel(Protocol):
    """What a ``visa_register_notification_channels`` factory builds.

    The factory is called with the :class:`~visa_platform.config.Settings` and returns a channel,
    or ``None`` when the channel is switched off by configuration. ``send`` delivers one
    notification or raises: :class:`PermanentDeliveryError` to give up, anything else to be
    retried later. ``send`` is never called twice at once for the same notification.
    """

    async def send(self, notification: Notification) -> None: ...

    async def aclose(self) -> None: ...
