"""Who is on duty when, as the scenario says: a department's or group's staffing (a constant, counts per
interval, or daily shifts) as a step function of `(at, count)` changes. Plain Python, so `callsim validate`'s
stability check reads it without the engine (and SimPy); the roster (`sim.engine.roster`) applies it.

Shifts are clock times that repeat every day: a shift ending before it starts runs past midnight, a shift
after midnight belongs to a day that crosses it, and last night's shift may still be on at the start.
"""

from __future__ import annotations

import math

from sim.model.agent_schedules import level_at_each
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
    periods = staffing.shifts or (staffing.file.periods if staffing.file is not None else ())
    for shift in periods:
        begin = (shift.start - scenario.start) % DAY
        length = (shift.end - shift.start) % DAY or DAY
        for day in range(-1, days):  # the roster repeats daily: yesterday's night shift may still be on
            spans.append((begin + day * DAY, begin + day * DAY + length, shift.count))
    inside = {max(0.0, t) for begin, end, _ in spans for t in (begin, end) if t < scenario.duration}
    points = sorted({0.0} | inside)
    return _merge(list(zip(points, level_at_each(spans, points), strict=True)))


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
