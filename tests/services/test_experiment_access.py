"""services.experiments.accessible_experiments: what a user may attach to an instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from visa_platform.db.models import Experiment, Instrument, Proposal, User, experiment_user
from visa_platform.db.types import utcnow
from visa_platform.services.experiments import accessible_experiments

DAY = datetime(2025, 1, 1, tzinfo=UTC)


async def test_accessible_experiments(db_session: Any) -> None:
    past, future = utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
    db_session.add_all(
        [
            User(id="u1", last_name="One"),
            Instrument(id=1, name="IN5"),
            Proposal(id=1, identifier="mine"),
            Proposal(id=2, identifier="public", public_at=past),
            Proposal(id=3, identifier="soon", public_at=future),
        ]
    )
    await db_session.flush()
    db_session.add_all(
        [
            Experiment(id="team", instrument_id=1, proposal_id=1, start_date=DAY, end_date=DAY),
            Experiment(id="undated", instrument_id=1, proposal_id=1, start_date=DAY, end_date=None),
            Experiment(id="other", instrument_id=1, proposal_id=1, start_date=DAY, end_date=DAY),
            Experiment(id="open", instrument_id=1, proposal_id=2, start_date=DAY, end_date=DAY),
            Experiment(id="soon", instrument_id=1, proposal_id=3, start_date=DAY, end_date=DAY),
        ]
    )
    await db_session.flush()
    await db_session.execute(
        insert(experiment_user),
        [
            {"experiment_id": "team", "user_id": "u1"},
            {"experiment_id": "undated", "user_id": "u1"},
        ],
    )
    await db_session.commit()
    asked = ["team", "undated", "other", "open", "soon", "missing", "team"]
    found = await accessible_experiments(db_session, "u1", asked, include_open_data=False)
    assert [e.id for e in found] == ["team"]
    assert found[0].proposal.identifier == "mine" and found[0].instrument.name == "IN5"
    found = await accessible_experiments(db_session, "u1", asked, include_open_data=True)
    assert [e.id for e in found] == ["open", "team"]
    assert await accessible_experiments(db_session, "u1", [], include_open_data=True) == []
    assert await accessible_experiments(db_session, "nobody", asked, include_open_data=False) == []
