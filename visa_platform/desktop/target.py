"""Where a protocol connects for an instance: :class:`DesktopTarget` from the database rows."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.config import Settings
from visa_platform.db.models import Instance, Protocol
from visa_platform.desktop.protocol import DesktopConnectError, DesktopProtocol, DesktopTarget
from visa_platform.desktop.signature import (
    AUTOLOGIN_VISA_PAM,
    SignatureError,
    load_private_key,
    pam_signature,
)

log = logging.getLogger("visa_platform.desktop")


async def desktop_target(
    session: AsyncSession,
    instance: Instance,
    protocol: DesktopProtocol,
    settings: Settings,
    now: datetime,
    connection_id: str | None = None,
    credentials: Mapping[str, str] | None = None,
    client_options: Mapping[str, str] | None = None,
) -> DesktopTarget:
    """The target of ``instance`` (plan and image loaded); no address is a connect error.

    ``credentials`` (from the instance's compute backend) go to the protocol in ``extra``, the
    route's ``client_options`` in ``client_options``.
    """
    if not instance.ip_address:
        raise DesktopConnectError(f"instance {instance.id} has no address yet")
    port = await session.scalar(
        select(Protocol.port).where(Protocol.name == protocol.port_protocol).limit(1)
    )
    image = instance.plan.image if instance.plan is not None else None
    password = None
    if image is not None and image.autologin == AUTOLOGIN_VISA_PAM and instance.username:
        key_path = settings.vdi_signature_private_key_path
        if key_path is None:
            log.error("event=pam_signature outcome=no_key instance=%s", instance.id)
        else:
            try:
                password = pam_signature(load_private_key(key_path), instance.username, now)
            except SignatureError as exc:
                log.error("event=pam_signature outcome=failed error=%r", str(exc))
    secondary = image.secondary_vdi_protocol if image is not None else None
    return DesktopTarget(
        instance_id=instance.id,
        host=instance.ip_address,
        port=int(port) if port else protocol.default_port,
        username=instance.username,
        password=password,
        screen_width=instance.screen_width,
        screen_height=instance.screen_height,
        keyboard_layout=instance.keyboard_layout,
        secondary_protocol=secondary.name if secondary is not None else None,
        connection_id=connection_id,
        extra=dict(credentials or {}),
        client_options=dict(client_options or {}),
    )


__all__ = ["desktop_target"]
