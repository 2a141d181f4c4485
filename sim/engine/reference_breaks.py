"""The reference model's breaks (as `sim.engine.breaks`, in plain SimPy): at a break's time its count of the
pool's agents go, idle ones at once (the last logged in first) and busy ones when their call and wrap-up are
done; each is away for the whole length from when it goes, still counted towards the pool's level, and the
first to go home if the level drops meanwhile."""

from __future__ import annotations

from sim.engine.log import Event
from sim.engine.reference_centre import Agent, Centre, Pool, Story
from sim.model.availability import BreakPlan

GO_ON_BREAK = "break"
"""What an idle agent's `wake` brings when it is sent on a break (a call brings its visit, None: go home)."""


def breaks(centre: Centre, pool: Pool, plans: tuple[BreakPlan, ...]) -> Story:
    """Send the pool's agents on their breaks at the planned times."""
    env = centre.env
    for plan in plans:
        if plan.at > env.now:
            yield env.timeout(plan.at - env.now)
        start_breaks(pool, plan.count, plan.length)


def start_breaks(pool: Pool, count: int, length: float) -> None:
    """`count` agents on duty (not leaving, owing no break) owe a break of `length`: idle ones are woken to
    take it now, busy ones take it when free."""
    candidates = [a for a in reversed(pool.agents) if a.on_duty and not a.leaving and not a.break_time]
    for agent in candidates:
        if count and agent in pool.idle:
            pool.idle.remove(agent)
            agent.break_time = length
            assert agent.wake is not None
            agent.wake.succeed(GO_ON_BREAK)
            count -= 1
    for agent in candidates:
        if count and not agent.break_time:
            agent.break_time = length
            count -= 1


def take_break(centre: Centre, agent: Agent) -> Story:
    """The agent's owed break, whole; returns whether it came back (False: sent home meanwhile)."""
    length, agent.break_time = agent.break_time, 0.0
    agent.on_duty, agent.away = False, True
    shift = agent.shift
    centre.record(Event.BREAK, -1, agent.id, agent.pool.home, length)
    yield centre.env.timeout(length)
    if agent.shift != shift:
        return False
    agent.on_duty, agent.away = True, False
    centre.record(Event.BACK, -1, agent.id, agent.pool.home, 0.0)
    return True


def send_home(centre: Centre, agent: Agent) -> None:
    """An agent on break whose pool's level dropped: back and logged out at once (its break process ends)."""
    agent.away = False
    agent.shift += 1
    centre.record(Event.BACK, -1, agent.id, agent.pool.home, 0.0)
    centre.record(Event.LOGOUT, -1, agent.id, agent.pool.home, 0.0)
