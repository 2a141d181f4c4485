"""Who is logged in when: staffing as a step function, and the roster process that applies it.

Shifts are clock times that repeat every day: a shift ending before it starts runs past midnight, a shift
after midnight belongs to a day that crosses it, and last night's shift may still be on at the start.

An agent rostered off while idle logs out at once; one in a call finishes it (and its wrap-up) first.
After the day closes the last level stays in force, so the calls still queued are drained.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from sim.engine import agent as agents
from sim.engine.centre import BUSY, IDLE, OFF, Agent, Centre, Pool, new_agent
from sim.engine.clock import at_instant
from sim.model.scenario import Scenario, _Staffing

DAY = 24 * 3600.0


def staffing_levels(staffing: _Staffing, scenario: Scenario) -> list[tuple[float, int]]:
    """`(at, count)` changes over the day, in seconds after the start; the first is at 0."""
    if staffing.count is not None:
        return [(0.0, staffing.count)]
    if staffing.per_interval is not None:
        levels = [(index * scenario.interval, count) for index, count in enumerate(staffing.per_interval)]
        return _merge(levels)
    spans = []
    days = math.ceil(scenario.duration / DAY) + 1
    for shift in staffing.shifts or ():
        begin = (shift.start - scenario.start) % DAY
        length = (shift.end - shift.start) % DAY or DAY
        for day in range(-1, days):  # the roster repeats daily: yesterday's night shift may still be on
            spans.append((begin + day * DAY, begin + day * DAY + length, shift.count))
    inside = {max(0.0, t) for begin, end, _ in spans for t in (begin, end) if t < scenario.duration}
    points = sorted({0.0} | inside)
    return _merge([(t, sum(count for begin, end, count in spans if begin <= t < end)) for t in points])


def _merge(levels: list[tuple[float, int]]) -> list[tuple[float, int]]:
    merged: list[tuple[float, int]] = []
    for at, count in levels:
        if not merged or merged[-1][1] != count:
            merged.append((at, count))
    return merged


def count_at(levels: list[tuple[float, int]], at: float) -> int:
    """The staffing level in force at time `at`."""
    current = 0
    for change_at, count in levels:
        if change_at > at:
            break
        current = count
    return current


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
    """Log agents in or out until `count` are on duty (not counting those already leaving)."""
    on_duty = [agent for agent in pool.agents if agent.state != OFF and not agent.leaving]
    if len(on_duty) < count:
        missing = count - len(on_duty)
        for agent in pool.agents:
            if missing and agent.leaving:
                agent.leaving = False
                missing -= 1
        for agent in pool.agents:
            if missing and agent.state == OFF:
                start_shift(centre, agent)
                missing -= 1
        for _ in range(missing):
            start_shift(centre, new_agent(centre, pool))
    elif len(on_duty) > count:
        surplus = len(on_duty) - count
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


def start_shift(centre: Centre, agent: Agent) -> None:
    """The agent logs in (and takes a waiting call at once, if there is one)."""
    agents.log_in(centre, agent)
