"""What the day cost, from the run's tables and the scenario's `costs:` prices (`sim.model.costs`).

Every figure is in the scenario's one money unit; `summary.json` has them under `costs` (and per department
and agent group) only when the scenario sets `costs:`.

- **wages**: each pool's paid hours over the counted day (warm-up to close) x its wage per hour. Paid =
  logged in + on a break + rostered but unavailable (shrinkage, absence): the summary's `paid_hours`
  (`sim.analysis.availability`); without availability settings, paid is logged-in time, so an agent
  finishing a call after its shift's end is paid until it logs out.
- **overtime**: the premium on top of the wages, (factor - 1) x wage x overtime hours. Overtime hours are
  the roster's: of each rostered agent's day, the hours past `overtime.after`. A shift row (or an unnamed
  row of an agent-schedule CSV) is `count` agents each working that one span a day; the rows of one named
  agent of a CSV are that person's day, taken in time order from the scenario's start clock. The part of
  each agent's span after its first `after` hours, repeated every day and cut to the counted day, is
  overtime, counted for every rostered agent (absent ones too, as paid hours count them). A constant count
  or per-interval counts name seats, not people's days: they have no overtime. The engine's agent ids are
  not used: agents are anonymous there, and when two shifts overlap the roster may send home either
  shift's agents first (an 08:00 agent can stay until 20:00 in its id), so ids would invent overtime.
- **lines**: minutes callers hold a trunk line x `line_per_minute`: from arrival until they leave (answered
  and done, hung up, resolved in the menu, dropped, a message left; a call still in the system at the end
  of the run until then), or until they ask for a callback; a callback dial-out holds a line from its first
  dial to the end of the call when it is answered (not for callbacks that failed). Blocked calls and chats
  (`channel: chat`) hold none.
  Counted calls only (arriving after the warm-up).
- **abandonment**: abandoned calls (hung up waiting or while it rang: the `abandoned` KPI) x
  `abandoned_call`.
- **waiting**: minutes live callers waited in queues (every visit, transfers included; a callback request
  waiting in a queue is not a caller waiting) x `waiting_minute`. Visits still waiting at the end add
  nothing.
- **total** = wages + overtime + lines + abandonment + waiting; **per offered call** and **per answered
  call**: the total over offered and answered calls.

Per department: its own agents' wages and overtime, and the waiting and abandonment of its visits; `cost`
their sum (lines are not split, a call may visit several departments; agent groups' pay is under
`by_group`). Per agent group: its wages and overtime.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis.agent_time import agent_levels
from sim.analysis.availability import break_seconds, unavailable_seconds
from sim.analysis.columns import Columns
from sim.analysis.grouping import codes_of, equals
from sim.analysis.metrics import counted, counted_rows, offered_calls
from sim.analysis.tables import calls_columns, visits_columns
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event
from sim.model.agent_schedules import AgentPeriod
from sim.model.availability import pool_staffing
from sim.model.chat import chat_departments
from sim.model.costs import DAY, Costs
from sim.model.scenario import Scenario, Shift

_REQUEST, _DIAL = CODE[Event.CALLBACK_REQUEST], CODE[Event.CALLBACK_DIAL]
_MINUTE, _HOUR = 60.0, 3600.0


def paid_seconds(result: RunResult) -> dict[str, float]:
    """Per pool: paid agent-seconds over the counted day (logged in + on break + rostered but unavailable)."""
    scenario = result.scenario
    window = np.array([scenario.warmup, scenario.duration])
    pools, logged, _ = agent_levels(result, window)
    on_break = break_seconds(result, window)
    away = unavailable_seconds(result, window)
    paid = dict.fromkeys(staffed_pools(scenario), 0.0)  # a pool nobody logged into is paid its unavailable time
    for index, name in enumerate(pools):
        paid[name] = float(logged[index, 0]) + float(on_break.get(name, [0.0])[0])
    for name, seconds in away.items():
        paid[name] = paid.get(name, 0.0) + float(seconds[0])
    return paid


def staffed_pools(scenario: Scenario) -> list[str]:
    """The departments with agents of their own, then the agent groups."""
    own = [name for name, department in scenario.departments.items() if department.agents is not None]
    return [*own, *scenario.agent_groups]


def overtime_seconds(scenario: Scenario, pool: str, after: float) -> float:
    """The pool's rostered agent-seconds past `after` of each agent's day, over the counted day (see the
    module's docstring)."""
    staffing, _ = pool_staffing(scenario, pool)
    rows: Sequence[Shift | AgentPeriod] = staffing.shifts or (
        staffing.file.periods if staffing.file is not None else ()
    )
    days: dict[Any, list[tuple[float, float, int]]] = {}  # one agent's day (or a block of `count` alike)
    for index, row in enumerate(rows):
        name = getattr(row, "agent", "") or index
        begin = (row.start - scenario.start) % DAY
        days.setdefault(name, []).append((begin, (row.end - row.start) % DAY or DAY, row.count))
    spans = [span for day in days.values() for span in _past(sorted(day), after)]
    total = 0.0
    for day in range(-1, math.ceil(scenario.duration / DAY) + 1):  # the roster repeats daily
        for start, end, count in spans:
            inside = min(end + day * DAY, scenario.duration) - max(start + day * DAY, scenario.warmup)
            total += count * max(inside, 0.0)
    return total


def _past(day: list[tuple[float, float, int]], after: float) -> Iterable[tuple[float, float, int]]:
    """The spans of one agent's day (begin, length, count; in time order) past its first `after` seconds."""
    worked = 0.0
    for begin, length, count in day:
        straight = min(max(after - worked, 0.0), length)
        if straight < length:
            yield begin + straight, begin + length, count
        worked += length


def cost_summary(result: RunResult, costs: Costs) -> dict[str, Any]:
    """The `costs` figures of one run, and per department and agent group (`by_pool`)."""
    scenario = result.scenario
    paid = paid_seconds(result)
    wages = {name: seconds / _HOUR * costs.wage_of(name) for name, seconds in paid.items()}
    overtime_hours = dict.fromkeys(paid, 0.0)
    premium = dict.fromkeys(paid, 0.0)
    if costs.overtime is not None:
        for name in staffed_pools(scenario):
            overtime_hours[name] = overtime_seconds(scenario, name, costs.overtime.after) / _HOUR
            premium[name] = overtime_hours[name] * costs.wage_of(name) * (costs.overtime.factor - 1.0)

    arrivals = counted(result, calls_columns(result))
    calls = offered_calls(arrivals)
    line_seconds = _line_seconds(result, arrivals)
    abandoned = int(np.count_nonzero(equals(calls, "outcome", "abandoned")))
    departments = list(scenario.departments)
    visits = counted_rows(visits_columns(result), calls["call_id"])
    department = codes_of(visits, "department", departments)
    live = ~visits["callback"] & (department >= 0)
    waited = np.where(np.isnan(visits["wait_time"]), 0.0, visits["wait_time"])
    wait_by = np.bincount(department[live], weights=waited[live], minlength=len(departments))
    abandoned_by = np.bincount(department[live & visits["abandoned"]], minlength=len(departments))

    figures = {
        "wages": sum(wages.values()),
        "overtime": sum(premium.values()),
        "lines": line_seconds / _MINUTE * costs.line_per_minute,
        "abandonment": abandoned * costs.abandoned_call,
        "waiting": float(wait_by.sum()) / _MINUTE * costs.waiting_minute,
    }
    total = sum(figures.values())
    offered, answered = len(calls), int(np.count_nonzero(equals(calls, "outcome", "answered")))
    out: dict[str, Any] = {
        "total": total,
        **figures,
        "per_offered_call": total / offered if offered else math.nan,
        "per_answered_call": total / answered if answered else math.nan,
        "overtime_hours": sum(overtime_hours.values()),
        "line_hours": line_seconds / _HOUR,
    }
    by_pool: dict[str, dict[str, float]] = {}
    for name in (*departments, *scenario.agent_groups):
        pay = {"wages": wages.get(name, 0.0), "overtime": premium.get(name, 0.0)}
        if name in scenario.departments:
            index = departments.index(name)
            pay["waiting_cost"] = float(wait_by[index]) / _MINUTE * costs.waiting_minute
            pay["abandonment_cost"] = int(abandoned_by[index]) * costs.abandoned_call
        pay["cost"] = sum(pay.values())
        by_pool[name] = pay
    out["by_pool"] = by_pool
    return out


def _line_seconds(result: RunResult, arrivals: Columns) -> float:
    """Seconds counted callers held a trunk line (see the module's docstring)."""
    c = result.columns
    size = int(max(c.call.max(initial=0), 0)) + 1
    request_at = np.full(size, np.inf)
    np.minimum.at(request_at, c.call[c.code == _REQUEST], c.t[c.code == _REQUEST])
    dial_at = np.full(size, np.inf)
    np.minimum.at(dial_at, c.call[c.code == _DIAL], c.t[c.code == _DIAL])
    ids = arrivals["call_id"]
    blocked = equals(arrivals, "outcome", "blocked")
    answered = equals(arrivals, "outcome", "answered")
    ended = np.where(np.isnan(arrivals["ended_at"]), result.ended_at, arrivals["ended_at"])
    own = np.minimum(ended, request_at[ids]) - arrivals["arrived_at"]
    dialled = np.where(answered & np.isfinite(dial_at[ids]), ended - dial_at[ids], 0.0)
    chats = chat_departments(result.scenario)
    if chats:  # a chat holds no line
        departments = list(result.scenario.departments)
        first = codes_of(arrivals, "first_department", departments)
        blocked = blocked | np.isin(first, [i for i, name in enumerate(departments) if name in chats])
    return float(np.where(blocked, 0.0, own + dialled).sum())


def add_costs(figures: dict[str, Any], result: RunResult) -> None:
    """Add the cost figures to a run's summary (when the scenario sets `costs:`): `costs`, and each
    department's and agent group's under `by_department.NAME` and `by_group.NAME`."""
    costs = result.scenario.costs
    if costs is None:
        return
    found = cost_summary(result, costs)
    by_pool = found.pop("by_pool")
    figures["costs"] = found
    for part in ("by_department", "by_group"):
        for name, values in (figures.get(part) or {}).items():
            if name in by_pool:
                values.update(by_pool[name])


def plan_wages(hours: Mapping[str, float], costs: Costs) -> dict[str, float]:
    """The wage bill of a staffing plan's agent-hours (per department, and `total`): each department's hours
    x its wage. A plan of heads per interval has no overtime (no shifts: `overtime_seconds`)."""
    wages = {name: value * costs.wage_of(name) for name, value in hours.items() if name != "total"}
    wages["total"] = sum(wages.values())
    return wages
