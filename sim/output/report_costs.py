"""The report's words for costs (`sim.model.costs`, figures in `sim.analysis.costs`): the prices the scenario
sets, in the model-assumptions list."""

from __future__ import annotations

from sim.model.durations import format_duration
from sim.model.scenario import Scenario


def cost_assumptions(scenario: Scenario) -> list[str]:
    """One sentence on the prices (none when the scenario sets no `costs:`)."""
    costs = scenario.costs
    if costs is None:
        return []
    unit = f" {costs.currency}" if costs.currency else ""
    own = ", ".join(f"{name} {pool.wage_per_hour:g}" for name, pool in costs.by_pool.items())
    wages = f"wage {costs.wage_per_hour:g}{unit} per paid hour" + (f" ({own})" if own else "")
    overtime = (
        f"; an agent's rostered hours past {format_duration(costs.overtime.after)} of its day (a shift, or a "
        f"named agent's schedule rows) cost {costs.overtime.factor:g}x the wage"
        if costs.overtime is not None
        else ""
    )
    return [
        f"Costs (money in{unit or ' one unit'}): {wages}, paid = logged in + on a break + rostered but "
        f"unavailable, over the counted day{overtime}; {costs.line_per_minute:g} per minute a caller holds a "
        f"line (arrival to leaving, or to a callback request), {costs.abandoned_call:g} per abandoned call, "
        f"{costs.waiting_minute:g} per minute a live caller waits in a queue. Departments' costs leave the "
        "lines out (a call may visit several)."
    ]
