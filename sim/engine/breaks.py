"""Breaks and lunches (`breaks:` on a shift, planned by `sim.model.availability.break_plans`): at a break's
time, its count of the pool's agents go off, idle agents first (at once, the last logged in first) and then
busy ones (each when its call and wrap-up are done); each takes the whole length from the moment it goes and
comes back on its own (`sim.engine.away`, `agent.back_from_break`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine import agent as agents
from sim.engine import chat
from sim.engine.away import go_on_break
from sim.engine.centre import BUSY, IDLE, OFF, Centre, Pool
from sim.engine.clock import at_instant
from sim.model.availability import BreakPlan


def breaks(centre: Centre, pool: Pool, plans: tuple[BreakPlan, ...]) -> Generator[simpy.Event, Any, None]:
    """Send the pool's agents on their breaks at the planned times."""
    env = centre.env
    for plan in plans:
        if plan.at > env.now:
            yield at_instant(env, plan.at)
        start_breaks(centre, pool, plan.count, plan.length)


def start_breaks(centre: Centre, pool: Pool, count: int, length: float) -> None:
    """`count` agents on duty (not leaving, owing no break) go on a break of `length`: idle ones at once,
    the last logged in first, then busy ones when free; fewer if fewer are on duty."""
    candidates = [a for a in reversed(pool.agents) if a.state != OFF and not a.leaving and not a.break_time]
    for agent in candidates:
        if count and agent.state == IDLE:
            pool.idle.remove(agent)
            agent.break_time = length
            go_on_break(
                centre, agent, chat.back_from_break if agent.desk is not None else agents.back_from_break
            )
            count -= 1
    for agent in candidates:
        if count and agent.state == BUSY:
            agent.break_time = length
            count -= 1
            if agent.desk is not None:  # a chat agent with a free slot takes no further chat
                chat.stop_taking(agent)
