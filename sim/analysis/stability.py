"""Will the queues drain? With callers who never hang up, an interval whose offered load reaches its agents
grows a queue that only the close can stop; this finds such intervals before the run, with their load.

The load is the Erlang estimate the staffing search uses: arrivals per interval times each department's
visits per call (explicit transfer networks included) times its ring, handle and wrap time. Departments
that agent groups help are judged together with the whole centre, whose load is compared with every agent.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from sim.model.chat import chat_desks
from sim.model.durations import format_clock
from sim.model.scenario import Scenario


@dataclass(frozen=True)
class Overload:
    """An interval in which callers arrive faster than the agents can serve them (load >= agents)."""

    where: str
    """A department's name, or `the centre` (every department and agent group together)."""
    start_at: float
    end_at: float
    load: float
    """Offered load in erlangs (agents needed to keep up, on average)."""
    agents: float
    """Agents scheduled (mean over the interval)."""

    def describe(self, scenario: Scenario) -> str:
        """`billing 10:00-10:30: load 12.4 erlangs on 10 agents (124%)`."""
        start = format_clock(scenario.start + self.start_at)
        end = format_clock(scenario.start + self.end_at)
        share = f"{self.load / self.agents:.0%}" if self.agents > 0 else "no agents"
        load = "unbounded" if math.isinf(self.load) else f"{self.load:.1f} erlangs"
        return f"{self.where} {start}-{end}: load {load} on {self.agents:g} agents ({share})"


def overloads(scenario: Scenario) -> list[Overload]:
    """Intervals whose offered load reaches capacity while callers have infinite patience (none otherwise:
    callers who give up keep every queue finite)."""
    if scenario.patience is not None:
        return []
    plain = _plain_overloads(scenario)
    return plain if plain is not None else _array_overloads(scenario)


def _array_overloads(scenario: Scenario) -> list[Overload]:
    """The check for any scenario without patience (traces, transfer networks, availability), with numpy."""
    # Imported here, past the common case: numpy and the offered load are needed by no `callsim validate`
    # of a scenario with patience (and neither brings in the engine or SimPy).
    import numpy as np

    from sim.analysis.levels import scheduled_agents
    from sim.analysis.load import arrival_rates, department_shares
    from sim.model.availability import planned_levels

    edges = np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)
    try:
        shares = department_shares(scenario)
    except np.linalg.LinAlgError:  # a transfer network nobody leaves: every visit is followed by another
        shares = dict.fromkeys(scenario.departments, math.inf)

    def agents_of(pool: str) -> list[float]:
        return scheduled_agents(planned_levels(scenario, pool), edges).tolist()  # less shrinkage and breaks

    return _judge(scenario, edges.tolist(), arrival_rates(scenario).tolist(), shares, agents_of)


def _plain_overloads(scenario: Scenario) -> list[Overload] | None:
    """The same check for the common scenario in plain Python, so that `callsim validate` need not import
    numpy (a tenth of a second): Poisson arrivals (no trace), no explicit transfer network, staffing as
    rostered (no shrinkage, breaks or absence). None for any other scenario (the numpy path judges it)."""
    from sim.model.availability import pool_staffing, uses_availability
    from sim.model.staffing import staffing_levels

    arrivals = scenario.arrivals
    if (
        arrivals.trace_times is not None
        or any(department.transfer is not None for department in scenario.departments.values())
        or uses_availability(scenario)
    ):
        return None
    count = scenario.interval_count
    edges = [min(index * scenario.interval, scenario.duration) for index in range(count + 1)]
    widths = [high - low for low, high in itertools.pairwise(edges)]
    if arrivals.per_interval is not None:
        rates = [calls / width for calls, width in zip(arrivals.per_interval, widths, strict=True)]
    elif arrivals.per_interval_by_reason is not None:
        totals = [math.fsum(column) for column in zip(*arrivals.per_interval_by_reason.values(), strict=True)]
        rates = [calls / width for calls, width in zip(totals, widths, strict=True)]
    else:
        rates = [(arrivals.per_hour or 0.0) / 3600.0] * count

    def agents_of(pool: str) -> list[float]:
        return _mean_levels(staffing_levels(pool_staffing(scenario, pool)[0], scenario), edges)

    return _judge(scenario, edges, rates, scenario.first_visits(), agents_of)


def _judge(
    scenario: Scenario,
    edges: list[float],
    rates: list[float],
    shares: dict[str, float],
    agents_of: Callable[[str], list[float]],
) -> list[Overload]:
    """The intervals whose load reaches the agents: per department not helped by agent groups, and for the
    whole centre when groups help. `rates`: calls per second per interval; `shares`: visits per call per
    department (infinite in a network nobody leaves); `agents_of(pool)`: its mean agents per interval."""
    helped = {skill for group in scenario.agent_groups.values() for skill in group.skills}
    desks = {name: desk.capacity() for name, desk in chat_desks(scenario).items()}
    if desks:  # a chat agent clears up to `capacity` chats' work at once (`sim.model.chat`)
        one_at_a_time = agents_of

        def agents_of(pool: str) -> list[float]:
            return [agents * desks.get(pool, 1.0) for agents in one_at_a_time(pool)]

    found: list[Overload] = []
    total_load = [0.0] * len(rates)
    total_agents = [0.0] * len(rates)
    for name, department in scenario.departments.items():
        service = scenario.ring_time + department.handle_time.mean_value() + department.wrap_time.mean_value()
        share = shares[name]
        if math.isinf(share):
            load = [math.inf if rate > 0 else 0.0 for rate in rates]
        else:
            load = [rate * share * service for rate in rates]
        total_load = [a + b for a, b in zip(total_load, load, strict=True)]
        if department.agents is None:
            continue
        agents = agents_of(name)
        total_agents = [a + b for a, b in zip(total_agents, agents, strict=True)]
        if name not in helped:
            found.extend(_over(name, edges, load, agents))
    for group_name in scenario.agent_groups:
        total_agents = [a + b for a, b in zip(total_agents, agents_of(group_name), strict=True)]
    if helped:
        found.extend(_over("the centre", edges, total_load, total_agents))
    return found


def _mean_levels(levels: list[tuple[float, int]], edges: list[float]) -> list[float]:
    """Mean agents in each interval `[edges[i], edges[i + 1])` of a staffing step function (`(at, count)`
    changes in time order, the first at 0): one sweep over both, so a year of shifts costs what it holds."""
    means = []
    step = 0  # the level in force at the start of the interval
    for low, high in itertools.pairwise(edges):
        while step + 1 < len(levels) and levels[step + 1][0] <= low:
            step += 1
        area, index = 0.0, step
        while index < len(levels) and levels[index][0] < high:
            until = levels[index + 1][0] if index + 1 < len(levels) else math.inf
            area += (min(high, until) - max(low, levels[index][0])) * levels[index][1]
            index += 1
        means.append(area / (high - low) if high > low else 0.0)
    return means


def _over(where: str, edges: list[float], load: list[float], agents: list[float]) -> list[Overload]:
    return [
        Overload(where, float(edges[i]), float(edges[i + 1]), float(load[i]), float(agents[i]))
        for i in range(len(load))
        if load[i] > 0 and load[i] >= agents[i]
    ]
