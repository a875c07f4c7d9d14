"""Desktop test helpers: an instance whose desktop service is a fake, and a headless Chromium.

* :func:`add_desktop_instance` writes what a relay test needs: the people, an ACTIVE instance at
  127.0.0.1 with its members, and the port of the image protocol (``GUACD``, ``WEBX`` ...) set to
  the fake's, so that the relay connects to the fake.
* :func:`chromium_context` launches Debian's Chromium (``/usr/bin/chromium``) through Playwright
  with the flags a headless test machine needs, the page's CSP bypassed (``wait_for_function``
  needs ``eval``; the CSP itself is tested with plain HTTP).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import Instance, InstanceMember, Protocol, User
from visa_platform.db.types import utcnow
from visa_platform.domain.enums import InstanceMemberRole, InstanceState

CHROMIUM = shutil.which("chromium") or "chromium"
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


async def add_desktop_instance(
    session: AsyncSession,
    *,
    protocol: str,
    port: int,
    people: Mapping[str, tuple[str, str]],
    members: Mapping[str, InstanceMemberRole],
    uid: str,
    name: str = "my desktop",
    screen: tuple[int, int] = (1280, 1024),
    keyboard_layout: str = "en-gb-qwerty",
    vdi_protocol: bool = False,
) -> Instance:
    """People (id -> first and last name), an ACTIVE instance at 127.0.0.1 with ``members``
    (user id -> role), and the ``protocol`` row's port set to ``port``; committed.

    ``vdi_protocol`` also makes ``protocol`` the instance's VDI protocol (what the portal reads
    to pick its viewer).
    """
    now = utcnow()
    session.add_all(
        User(id=user_id, first_name=first, last_name=last, activated_at=now, instance_quota=2)
        for user_id, (first, last) in people.items()
    )
    await session.execute(update(Protocol).where(Protocol.name == protocol).values(port=port))
    protocol_id = None
    if vdi_protocol:
        protocol_id = await session.scalar(select(Protocol.id).where(Protocol.name == protocol))
        assert protocol_id is not None, f"no {protocol} protocol row"
    instance = Instance(
        uid=uid,
        name=name,
        username="ada",
        ip_address="127.0.0.1",
        state=InstanceState.ACTIVE,
        screen_width=screen[0],
        screen_height=screen[1],
        keyboard_layout=keyboard_layout,
        termination_date=now + timedelta(days=10),
        vdi_protocol_id=protocol_id,
    )
    session.add(instance)
    await session.flush()
    session.add_all(
        InstanceMember(instance_id=instance.id, user_id=user_id, role=role)
        for user_id, role in members.items()
    )
    await session.commit()
    return instance


async def chromium_context(
    playwright: Any, profile: Path, *, viewport: tuple[int, int] = (1280, 900)
) -> Any:
    """A persistent Chromium context (Playwright's ``BrowserContext``); close it when done."""
    return await playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=list(CHROMIUM_FLAGS),
        viewport={"width": viewport[0], "height": viewport[1]},
        bypass_csp=True,
    )


__all__ = ["CHROMIUM", "CHROMIUM_FLAGS", "add_desktop_instance", "chromium_context"]
