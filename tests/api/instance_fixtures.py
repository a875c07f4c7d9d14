"""A small facility for instance tests: images, flavours, plans, experiments and users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.config import load_settings
from visa_platform.db.models import (
    Experiment,
    Flavour,
    Image,
    Instrument,
    Plan,
    Proposal,
    Protocol,
    User,
)
from visa_platform.db.models.facility import experiment_user
from visa_platform.db.seed import seed_fixtures
from visa_platform.db.types import utcnow
from visa_platform.testing.databases import TestDatabase

LAYOUT = "en-gb-qwerty"


def instance_settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    return load_settings(
        database_url=test_database.url,
        database_schema=test_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
        client_config_desktop_keyboard_layouts=[
            {"layout": LAYOUT, "name": "English (UK)", "selected": True}
        ],
        scheduler_enabled=False,
    )


@dataclass
class Facility:
    plan: Plan
    hidden_plan: Plan
    experiment: Experiment
    other_experiment: Experiment


async def build_facility(session: AsyncSession) -> Facility:
    """Users 1001 (on experiment e-1) and 1002 (on e-2); one visible and one hidden plan."""
    await seed_fixtures(session)
    guacd = await session.scalar(select(Protocol).where(Protocol.name == "GUACD"))
    image = Image(
        name="Ubuntu",
        version="24.04",
        icon="ubuntu.png",
        compute_id="img-1",
        visible=True,
        deleted=False,
    )
    image.protocols = [guacd]
    hidden_image = Image(
        name="Secret", icon="x.png", compute_id="img-2", visible=False, deleted=False
    )
    flavour = Flavour(name="Small", cpu=2, memory=4096, compute_id="fl-1", deleted=False)
    plan = Plan(image=image, flavour=flavour, preset=True)
    hidden_plan = Plan(image=hidden_image, flavour=flavour, preset=False)
    instrument = Instrument(id=9, name="D22")
    proposal = Proposal(id=100, identifier="9-01-123", title="Proteins")
    now = utcnow()
    experiment = Experiment(
        id="e-1",
        instrument=instrument,
        proposal=proposal,
        start_date=now - timedelta(days=30),
        end_date=now - timedelta(days=25),
    )
    other = Experiment(
        id="e-2",
        instrument=instrument,
        proposal=proposal,
        start_date=now - timedelta(days=300),
        end_date=now - timedelta(days=299),
    )
    users = [
        User(id=uid, first_name=first, last_name=last, activated_at=now, instance_quota=2)
        for uid, first, last in [
            ("1001", "Ada", "Lovelace"),
            ("1002", "Alan", "Turing"),
            ("1003", "Grace", "Hopper"),
        ]
    ]
    session.add_all([plan, hidden_plan, experiment, other, *users])
    await session.flush()
    await session.execute(
        experiment_user.insert().values(
            [
                {"experiment_id": "e-1", "user_id": "1001"},
                {"experiment_id": "e-2", "user_id": "1002"},
            ]
        )
    )
    await session.commit()
    return Facility(plan, hidden_plan, experiment, other)


def creation(plan_id: int, experiment_ids: list[str], **changes: Any) -> dict[str, Any]:
    body = {
        "name": "my desktop",
        "comments": "for the D22 data",
        "planId": plan_id,
        "lifetimeMinutes": None,
        "screenWidth": 1280,
        "screenHeight": 1024,
        "acceptedTerms": True,
        "experiments": experiment_ids,
        "keyboardLayout": LAYOUT,
        "vdiProtocolId": None,
        "bookingTokenId": None,
    }
    body.update(changes)
    return body
