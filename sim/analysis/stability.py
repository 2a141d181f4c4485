"""Will the queues drain? With callers who never hang up, an interval whose offered load reaches its agents
grows a queue that only the close can stop; this finds such intervals before the run, with their load.

The load is the Erlang estimate the staffing search uses: arrivals per interval times each department's
visits per call (explicit transfer networks included) times its ring, handle and wrap time. Departments
that agent groups help are judged together with the whole centre, whose load is compared with every agent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.model.durations import format_clock

if TYPE_CHECKING:
    import numpy as np
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
    # Imported here, past the common case: numpy and the offered load are needed by no `callsim validate`
    # of a scenario with patience (and neither brings in the engine or SimPy).
    import numpy as np

    from sim.analysis.levels import scheduled_agents
    from sim.analysis.load import arrival_rates, department_shares
    from sim.model.availability import planned_levels

    edges = np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)
    rates = arrival_rates(scenario)
    try:
        shares = department_shares(scenario)
    except np.linalg.LinAlgError:  # a transfer network nobody leaves: every visit is followed by another
        shares = dict.fromkeys(scenario.departments, math.inf)
    helped = {skill for group in scenario.agent_groups.values() for skill in group.skills}
    found: list[Overload] = []
    total_load = np.zeros(len(rates))
    total_agents = np.zeros(len(rates))
    for name, department in scenario.departments.items():
        service = scenario.ring_time + department.handle_time.mean_value() + department.wrap_time.mean_value()
        share = shares[name]
        load = np.where(rates > 0, math.inf, 0.0) if math.isinf(share) else rates * share * service
        total_load += load
        if department.agents is None:
            continue
        agents = scheduled_agents(planned_levels(scenario, name), edges)  # less shrinkage and breaks
        total_agents += agents
        if name not in helped:
            found.extend(_over(name, edges, load, agents))
    for group_name in scenario.agent_groups:
        total_agents += scheduled_agents(planned_levels(scenario, group_name), edges)
    if helped:
        found.extend(_over("the centre", edges, total_load, total_agents))
    return found


def _over(where: str, edges: np.ndarray, load: np.ndarray, agents: np.ndarray) -> list[Overload]:
    return [
        Overload(where, float(edges[i]), float(edges[i + 1]), float(load[i]), float(agents[i]))
        for i in range(len(load))
        if load[i] > 0 and load[i] >= agents[i]
    ]
