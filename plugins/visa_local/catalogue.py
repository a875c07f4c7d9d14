"""The catalogue of a fresh install whose default cloud is ``local``.

On the embedded defaults the database starts empty: without an image, a flavour and a plan
nobody can create an instance. When the default cloud is a :class:`LocalBackend` and the
database has no image at all, its configured images and flavours become VISA images, flavours
and preset plans (every image with every flavour), with the ``VNC`` protocol as the images'
desktop protocol. A database that has any image is never touched.
"""

from __future__ import annotations

import logging

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from visa_local.backend import LocalBackend
from visa_platform.db.models import Flavour, Image, Plan, Protocol

log = logging.getLogger("visa_local")

VNC_PROTOCOL, VNC_PORT = "VNC", 5900


async def vnc_protocol(session: AsyncSession) -> Protocol:
    """The ``VNC`` protocol row (port 5900), added when missing."""
    protocol = await session.scalar(select(Protocol).where(Protocol.name == VNC_PROTOCOL))
    if protocol is None:
        protocol = Protocol(name=VNC_PROTOCOL, port=VNC_PORT)
        session.add(protocol)
        await session.flush()
    return protocol


async def seed_catalogue(
    sessions: async_sessionmaker[AsyncSession], backend: LocalBackend
) -> list[Plan]:
    """Seed images, flavours and plans on an empty catalogue; the plans created (or none)."""
    async with sessions() as session:
        if await session.scalar(select(exists().where(Image.id.is_not(None)))):
            return []
        protocol = await vnc_protocol(session)
        images = [
            Image(
                name=image.name,
                icon="desktop.png",
                compute_id=image.id,
                visible=True,
                description=f"Runs `{image.command}` on a virtual display of the server's host",
                default_vdi_protocol=protocol,
                protocols=[protocol],
            )
            for image in backend.settings.images
        ]
        flavours = [
            Flavour(name=f.name, cpu=f.cpus, memory=f.ram, compute_id=f.id)
            for f in backend.settings.flavours
        ]
        plans = [Plan(image=i, flavour=f, preset=True) for i in images for f in flavours]
        session.add_all([*images, *flavours, *plans])
        await session.commit()
    log.info(
        "event=catalogue_seeded images=%d flavours=%d plans=%d",
        len(images),
        len(flavours),
        len(plans),
    )
    return plans
