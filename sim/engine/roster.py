"""Who is logged in when: the roster process that applies the staffing step function
(`sim.model.staffing`) to the agents.

An agent rostered off while idle logs out at once; one in a call finishes it (and its wrap-up) first.
After the day closes the last level stays in force, so the calls still queued are drained.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine import agent as agents
from sim.engine import chat
from sim.engine.away import on_break, send_home
from sim.engine.centre import BUSY, IDLE, OFF, Agent, Centre, Pool, new_agent
from sim.engine.clock import at_instant


def roster(centre: Centre, pool: Pool, levels: list[tuple[float, int]]) -> Generator[simpy.Event, Any, None]:
    """Apply a pool's staffing changes at their times during the day."""
    env = centre.env
    for at, count in levels:
        if at >= centre.scenario.duration:
            break
        if at > env.now:
            yield at_instant(env, at)
        set_level(centre, pool, count)


def set_level(centre: Centre, pool: Pool, count: int) -> None:
    """Log agents in or out until `count` are on duty (not counting those already leaving; counting those on
    a break, who are the first to go home when the level drops)."""
    on_duty = [agent for agent in pool.agents if agent.state != OFF and not agent.leaving]
    away = [agent for agent in pool.agents if on_break(agent)]
    if len(on_duty) + len(away) < count:
        missing = count - len(on_duty) - len(away)
        for agent in pool.agents:
            if missing and agent.leaving:
                agent.leaving = False
                missing -= 1
                if agent.desk is not None:  # a chat agent kept on takes chats into its free slots again
                    chat.resume(centre, agent)
        for agent in pool.agents:
            if missing and agent.state == OFF and not on_break(agent):
                start_shift(centre, agent)
                missing -= 1
        for _ in range(missing):
            start_shift(centre, new_agent(centre, pool))
    elif len(on_duty) + len(away) > count:
        surplus = len(on_duty) + len(away) - count
        for agent in reversed(away):
            if surplus:
                send_home(centre, agent)
                surplus -= 1
        for agent in reversed(on_duty):
            if not surplus:
                break
            if agent.state == IDLE:
                pool.idle.remove(agent)
                agents.log_out(centre, agent)
                surplus -= 1
        for agent in reversed(on_duty):
            if not surplus:
                break
            if agent.state == BUSY and not agent.leaving:
                agent.leaving = True
                surplus -= 1
                if agent.desk is not None:  # a chat agent with a free slot takes no further chat
                    chat.stop_taking(agent)


def start_shift(centre: Centre, agent: Agent) -> None:
    """The agent logs in (and takes a waiting call at once, if there is one; a chat agent, up to its slots)."""
    if agent.desk is not None:
        chat.log_in(centre, agent)
    else:
        agents.log_in(centre, agent)
