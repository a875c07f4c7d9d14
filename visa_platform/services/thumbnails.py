"""Instance thumbnails: small JPEG screenshots the portal uploads (spec/api.md §3.4)."""

from __future__ import annotations

import base64
import functools
from importlib import resources

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import Instance, InstanceThumbnail
from visa_platform.domain.errors import BadRequest

MAX_BYTES = 512 * 1024
JPEG_START = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"


@functools.cache
def placeholder() -> bytes:
    """The image shown when there is no thumbnail (or the caller may not see it)."""
    return (
        resources.files("visa_platform.api.rest")
        .joinpath("static/thumbnail-placeholder.jpg")
        .read_bytes()
    )


def check_jpeg(data: bytes) -> None:
    if not data:
        raise BadRequest("the thumbnail is empty")
    if len(data) > MAX_BYTES:
        raise BadRequest(f"the thumbnail is larger than {MAX_BYTES // 1024} KiB")
    if not data.startswith(JPEG_START) or JPEG_END not in data[-16:]:
        raise BadRequest("the thumbnail must be a JPEG image")


async def store(session: AsyncSession, instance: Instance, data: bytes) -> None:
    """Create or replace the instance's thumbnail."""
    check_jpeg(data)
    encoded = base64.b64encode(data).decode("ascii")
    existing = await session.scalar(
        select(InstanceThumbnail).where(InstanceThumbnail.instance_id == instance.id)
    )
    if existing is None:
        session.add(InstanceThumbnail(instance_id=instance.id, data=encoded))
    else:
        existing.data = encoded
    await session.flush()


async def load(session: AsyncSession, instance: Instance) -> bytes | None:
    encoded = await session.scalar(
        select(InstanceThumbnail.data).where(InstanceThumbnail.instance_id == instance.id)
    )
    return None if encoded is None else base64.b64decode(encoded)
