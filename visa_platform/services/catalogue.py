"""Facility catalogue reads that carry no rule of their own: instruments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.db.models import Instrument


async def instruments(session: AsyncSession) -> list[Instrument]:
    """Every instrument, by name then id."""
    return list(await session.scalars(select(Instrument).order_by(Instrument.name, Instrument.id)))


async def instrument(session: AsyncSession, instrument_id: int) -> Instrument | None:
    """One instrument, or ``None``."""
    return await session.get(Instrument, instrument_id)
