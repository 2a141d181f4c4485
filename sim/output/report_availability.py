"""The report's words for availability (`sim.model.availability`): shrinkage, breaks and absence as the
scenario sets them, in the model-assumptions list."""

from __future__ import annotations

from sim.model.availability import pool_staffing, uses_availability
from sim.model.durations import format_clock, format_duration
from sim.model.scenario import Scenario, Shrinkage


def _shrinkage_text(shrinkage: Shrinkage) -> str:
    if isinstance(shrinkage, float | int):
        return f"{100 * shrinkage:.0f}%"
    shares = shrinkage.per_interval
    return f"{100 * min(shares):.0f}% to {100 * max(shares):.0f}% by interval"


def availability_assumptions(scenario: Scenario) -> list[str]:
    """Sentences on shrinkage, breaks and absence (none when the scenario sets none of them)."""
    if not uses_availability(scenario):
        return []
    items = []
    pools = [*scenario.departments, *scenario.agent_groups]
    staffed = [name for name in pools if _has_agents(scenario, name)]
    shrinkage = {name: pool_staffing(scenario, name)[1] for name in staffed}
    shrunk = {name: value for name, value in shrinkage.items() if value is not None}
    if shrunk:
        items.append(
            "Shrinkage: of the agents rostered (and present), floor(agents x (1 - shrinkage)) are available "
            "to take calls, so rostering ceil(required / (1 - shrinkage)) leaves the required number: "
            + ", ".join(f"{name} {_shrinkage_text(value)}" for name, value in shrunk.items())
            + ". Occupancy is over the available agents' logged-in time, utilisation over the paid time."
        )
    for name in staffed:
        staffing = pool_staffing(scenario, name)[0]
        breaks = [
            f"{format_clock(rest.at)} for {format_duration(rest.length)} (shift {format_clock(shift.start)}-"
            f"{format_clock(shift.end)})"
            for shift in staffing.shifts or ()
            for rest in shift.breaks or ()
        ]
        if breaks:
            items.append(
                f"Breaks of {name}: {'; '.join(breaks)}. At a break's time the shift's (available) agents go: "
                "idle ones at once, busy ones when their call and wrap-up are done, each away for the whole "
                "length from when it goes; an agent on break is not logged in."
            )
    if scenario.absence is not None:
        items.append(
            f"Absence: each rostered agent is missing for the whole simulated day with probability "
            f"{100 * scenario.absence.probability:.1f}% (independently, drawn per day and pool)."
        )
    return items


def _has_agents(scenario: Scenario, name: str) -> bool:
    pool = scenario.departments.get(name) or scenario.agent_groups.get(name)
    return pool is not None and pool.agents is not None
