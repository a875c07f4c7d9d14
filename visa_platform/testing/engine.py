"""Driving the lifecycle engine from a test, the way the scheduler's jobs would.

The state-sync job runs every 5 s in a serving application; a test that wants an instance to reach
a state runs the passes itself, briefly, until a predicate on the row holds::

    from visa_platform.testing.engine import state_is, sync_until

    ctx = engine_context(runtime(app))
    instance = await sync_until(ctx, instance_id, state_is(InstanceState.ACTIVE))
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from visa_platform.db.models import Instance
from visa_platform.domain.enums import InstanceState
from visa_platform.services.instance_actions import EngineContext
from visa_platform.services.instance_states import sync_states

__all__ = ["state_is", "sync_until"]


async def sync_until(
    ctx: EngineContext,
    instance_id: int,
    done: Callable[[Instance], bool],
    *,
    within: float = 30.0,
    interval: float = 0.2,
) -> Instance:
    """Run state-sync passes until ``done(instance)`` holds; return that instance row.

    Each round runs one :func:`~visa_platform.services.instance_states.sync_states` pass, reads
    the instance row (id ``instance_id``) in a fresh session and tests it, then sleeps
    ``interval`` seconds; at most ``within / interval`` rounds. Raises :class:`AssertionError`
    naming the instance's last state when ``done`` never holds, or when the row is gone.
    """
    state: InstanceState | None = None
    for _ in range(max(1, round(within / interval))):
        await sync_states(ctx)
        async with ctx.sessions() as session:
            instance = await session.get(Instance, instance_id)
            assert instance is not None, f"instance {instance_id} is gone"
            if done(instance):
                return instance
            state = instance.state
        await asyncio.sleep(interval)
    raise AssertionError(f"instance {instance_id} stuck in {state} after {within}s")


def state_is(*states: InstanceState) -> Callable[[Instance], bool]:
    """The predicate "the instance is in one of ``states``", for :func:`sync_until`."""
    return lambda instance: instance.state in states
