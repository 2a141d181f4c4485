"""Scenarios derived from a scenario: the same day cut short (common random numbers keep its callers)."""

from __future__ import annotations

from typing import Any

from sim.model.scenario import Scenario


def truncated(scenario: Scenario, intervals: int) -> Scenario:
    """The day cut after `intervals` intervals (arrivals stop there; the calls in the system drain).

    Every stream is drawn in arrival order, so the shorter day's callers are the first callers of the full
    day (common random numbers): its figures for the early intervals are the full day's, save for calls
    still waiting when the cut comes."""
    if intervals >= scenario.interval_count:
        return scenario
    end = intervals * scenario.interval
    arrivals = scenario.arrivals
    changes: dict[str, Any] = {}
    if arrivals.per_interval is not None:
        changes["per_interval"] = arrivals.per_interval[:intervals]
    if arrivals.per_interval_by_reason is not None:
        changes["per_interval_by_reason"] = {
            name: counts[:intervals] for name, counts in arrivals.per_interval_by_reason.items()
        }
    if arrivals.trace_times is not None:
        kept = sum(1 for t in arrivals.trace_times if t < end)
        changes["trace_times"] = arrivals.trace_times[:kept]
        for field in ("trace_reasons", "trace_handle_times", "trace_patience"):
            if getattr(arrivals, field) is not None:
                changes[field] = getattr(arrivals, field)[:kept]

    def cut(owner: Any) -> Any:
        agents = owner.agents
        if agents is None or agents.per_interval is None:
            return owner
        return owner.model_copy(
            update={"agents": agents.model_copy(update={"per_interval": agents.per_interval[:intervals]})}
        )

    return scenario.model_copy(
        update={
            "duration": end,
            "arrivals": arrivals.model_copy(update=changes),
            "departments": {name: cut(d) for name, d in scenario.departments.items()},
            "agent_groups": {name: cut(g) for name, g in scenario.agent_groups.items()},
        }
    )
