"""Who of the rostered agents is there to take calls: absence, shrinkage and breaks, turned into what the
roster applies (`sim.engine.roster`, `sim.engine.breaks`). Plain Python and numpy, so the engine and the
reference model read the same levels.

In the order they apply, per pool (a department's own agents, or an agent group):

- **Absence** (`absence: {probability: p}`): for each replication (a simulated day), every rostered agent is
  missing for the whole day with probability p, independently, drawn from the pool's own stream
  `absence.<pool>`. A shift's `count` (or an unnamed schedule row's) is thinned binomially (a named agent of
  an agent-schedule CSV is missing from all of its rows, counted once); a constant count is a head count
  thinned the same way; `per_interval` counts are heads stacked 1..max, head k on duty in the
  intervals whose count is at least k, each head missing with probability p. On a run of several days the
  same agents are missing on each of them.
- **Shrinkage** (`shrinkage: s`, or `{per_interval: [...]}`, on a department, an agent group, or for the
  whole scenario): of the agents present, floor(present x (1 - s) + 1e-9) are available, so that rostering
  `ceil(required / (1 - s))` (the planner's rule) gives at least `required`. Applied at every change of
  the level and at every interval start when s varies per interval.
- **Breaks** (`breaks: [{at, length}]` on a shift): at `at`, floor(c x (1 - s) + 1e-9) of the shift's
  present count c go on break (s the pool's shrinkage then): the engine takes idle agents first, and an agent
  busy then goes when its call and wrap-up are done, each for the whole `length` from when it goes. A break
  already under way at the run's start, or due after its close, is not taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.model.scenario import AgentGroup, Department, Scenario, Shrinkage, _Staffing
from sim.model.staffing import DAY, count_at, staffing_levels

if TYPE_CHECKING:  # numpy only where absence is drawn: `callsim validate` reads this module without it
    import numpy as np

    from sim.model.streams import Streams

_ROUNDING = 1e-9
"""Shares like 1 - 0.3 are not exact in binary: 10 x 0.7 must count as 7 agents, not 6."""

Levels = list[tuple[float, int]]


@dataclass(frozen=True)
class BreakPlan:
    """`count` agents of a pool go on break at `at` (seconds after the start) for `length` seconds."""

    at: float
    count: int
    length: float


@dataclass(frozen=True)
class PoolAvailability:
    """One pool's day: the rostered levels, the levels the roster applies after absence and shrinkage
    (breaks are taken by the engine on top), its breaks, and the agents missing for the day."""

    rostered: Levels
    available: Levels
    breaks: tuple[BreakPlan, ...]
    absent: int


def uses_availability(scenario: Scenario) -> bool:
    """Whether the scenario sets any shrinkage, break or absence (without them, staffing is as rostered)."""
    pools: list[Department | AgentGroup] = [*scenario.departments.values(), *scenario.agent_groups.values()]
    return (
        scenario.shrinkage is not None
        or scenario.absence is not None
        or any(pool.shrinkage is not None for pool in pools)
        or any(shift.breaks for pool in pools if pool.agents is not None for shift in pool.agents.shifts or ())
    )


def pool_staffing(scenario: Scenario, name: str) -> tuple[_Staffing, Shrinkage | None]:
    """A pool's staffing and its shrinkage (its own, else the scenario's)."""
    pool: Department | AgentGroup = (
        scenario.departments[name] if name in scenario.departments else scenario.agent_groups[name]
    )
    assert pool.agents is not None
    shrinkage = pool.shrinkage if pool.shrinkage is not None else scenario.shrinkage
    return pool.agents, shrinkage


def pool_availability(scenario: Scenario, name: str, streams: Streams | None) -> PoolAvailability:
    """The pool's levels and breaks for one replication (`streams` draws the absence; None: nobody absent)."""
    staffing, shrinkage = pool_staffing(scenario, name)
    rostered = staffing_levels(staffing, scenario)
    present, absent = staffing, 0
    if scenario.absence is not None and scenario.absence.probability > 0 and streams is not None:
        present, absent = thinned(staffing, scenario.absence.probability, streams.generator(f"absence.{name}"))
    present_levels = rostered if present is staffing else staffing_levels(present, scenario)
    available = shrunk(present_levels, shrinkage, scenario)
    return PoolAvailability(rostered, available, break_plans(present, shrinkage, scenario), absent)


def shrinkage_at(shrinkage: Shrinkage | None, scenario: Scenario, at: float) -> float:
    """The share unavailable at `at` (seconds after the start)."""
    if shrinkage is None:
        return 0.0
    if isinstance(shrinkage, float | int):
        return float(shrinkage)
    shares = shrinkage.per_interval
    return shares[min(max(int(at // scenario.interval), 0), len(shares) - 1)]


def available_of(count: int, share: float) -> int:
    """Agents available of `count` present when `share` of them are unavailable (rounded down)."""
    return count if share <= 0 else math.floor(count * (1.0 - share) + _ROUNDING)


def shrunk(levels: Levels, shrinkage: Shrinkage | None, scenario: Scenario) -> Levels:
    """The step function of available agents: each level less its shrinkage."""
    if shrinkage is None:
        return levels
    points = {at for at, _ in levels}
    if not isinstance(shrinkage, float | int):
        points |= {index * scenario.interval for index in range(len(shrinkage.per_interval))}
    merged: Levels = []
    for at in sorted(point for point in points if point < scenario.duration or point == 0.0):
        count = available_of(count_at(levels, at), shrinkage_at(shrinkage, scenario, at))
        if not merged or merged[-1][1] != count:
            merged.append((at, count))
    return merged


def break_plans(staffing: _Staffing, shrinkage: Shrinkage | None, scenario: Scenario) -> tuple[BreakPlan, ...]:
    """Every break of every shift on every day of the run, in time order."""
    plans = []
    days = math.ceil(scenario.duration / DAY) + 1
    for shift in staffing.shifts or ():
        begin = (shift.start - scenario.start) % DAY
        for rest in shift.breaks or ():
            offset = (rest.at - shift.start) % DAY
            for day in range(-1, days):
                at = begin + day * DAY + offset
                if 0.0 <= at < scenario.duration:
                    count = available_of(shift.count, shrinkage_at(shrinkage, scenario, at))
                    if count > 0:
                        plans.append(BreakPlan(at, count, rest.length))
    return tuple(sorted(plans, key=lambda plan: plan.at))


def planned_available(availability: PoolAvailability) -> Levels:
    """The available level less the agents on break as planned (each break from its `at` for its length,
    as if nobody were busy then): the staffing picture's 'available' line."""
    changes = [(at, 0) for at, _ in availability.available]
    changes += [(plan.at, 0) for plan in availability.breaks]
    changes += [(plan.at + plan.length, 0) for plan in availability.breaks]
    points = sorted({at for at, _ in changes})
    merged: Levels = []
    for at in points:
        away = sum(plan.count for plan in availability.breaks if plan.at <= at < plan.at + plan.length)
        count = max(count_at(availability.available, at) - away, 0)
        if not merged or merged[-1][1] != count:
            merged.append((at, count))
    return merged


def planned_levels(scenario: Scenario, name: str) -> Levels:
    """A pool's agents available as planned: rostered, less shrinkage and the breaks at their times (no
    absence, which is random); the rostered levels when the scenario sets no availability."""
    if not uses_availability(scenario):
        return staffing_levels(pool_staffing(scenario, name)[0], scenario)
    return planned_available(pool_availability(scenario, name, None))


def thinned(staffing: _Staffing, probability: float, generator: np.random.Generator) -> tuple[_Staffing, int]:
    """The staffing with each rostered agent missing with `probability`, and how many are missing."""
    import numpy as np

    keep = 1.0 - probability
    if staffing.count is not None:
        present = int(generator.binomial(staffing.count, keep))
        return staffing.model_copy(update={"count": present}), staffing.count - present
    if staffing.per_interval is not None:
        heads = max(staffing.per_interval)
        here = np.concatenate(([0], np.cumsum(generator.random(heads) < keep)))
        counts = tuple(int(here[count]) for count in staffing.per_interval)
        return staffing.model_copy(update={"per_interval": counts}), heads - int(here[-1])
    if staffing.shifts is not None:
        shifts = [shift.model_copy(update={"count": int(generator.binomial(shift.count, keep))})
                  for shift in staffing.shifts]
        missing = sum(s.count for s in staffing.shifts) - sum(s.count for s in shifts)
        return staffing.model_copy(update={"shifts": tuple(shifts)}), missing
    assert staffing.file is not None
    named: dict[str, bool] = {}  # a named agent is absent from all of its rows, or from none
    periods, missing = [], 0
    for period in staffing.file.periods:
        if period.agent:
            if period.agent not in named:
                named[period.agent] = bool(generator.random() < keep)
                missing += not named[period.agent]
            count = period.count if named[period.agent] else 0
        else:
            count = int(generator.binomial(period.count, keep))
            missing += period.count - count
        periods.append(period.model_copy(update={"count": count}))
    schedule = staffing.file.model_copy(update={"periods": tuple(periods)})
    return staffing.model_copy(update={"file": schedule}), missing
