"""The report's words for times by call type and through the day: each reason's own patience, handle and
wrap time, a department's or agent group's times for a reason, and every mean that changes by interval."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.model.call_types import specs
from sim.model.scenario import Scenario


def _times(owner: Any, describe: Callable[[Any], str], fields: tuple[str, ...]) -> str:
    """`handle time ..., wrap-up ...` for the fields an entry gives."""
    words = {"patience": "patience", "handle_time": "handle time", "wrap_time": "wrap-up"}
    return ", ".join(
        f"{words[field]} {describe(getattr(owner, field))}"
        for field in fields
        if getattr(owner, field) is not None
    )


def call_type_assumptions(scenario: Scenario, describe: Callable[[Any], str]) -> list[str]:
    """Sentences for the scenario's per-reason and per-interval times (none when it has neither);
    `describe` words a distribution spec."""
    items = []
    both = ("handle_time", "wrap_time")
    for reason, kind in (scenario.call_types or {}).items():
        given = _times(kind, describe, ("patience", *both))
        if given:
            items.append(
                f"Callers about {reason}: {given} (patience instead of the scenario's; handle and wrap-up "
                "times wherever the reason is handled, unless a department or agent group says otherwise)."
            )
    for name, department in scenario.departments.items():
        for reason, times in (department.by_reason or {}).items():
            items.append(f"{name}, for {reason} callers: {_times(times, describe, both)}.")
    for name, group in scenario.agent_groups.items():
        for reason, times in (group.by_reason or {}).items():
            items.append(
                f"Agent group {name}, for {reason} callers: {_times(times, describe, both)} (drawn when one of "
                "its agents answers; the group's own time, its speed factor not applied)."
            )
    if items:
        items.append(
            "A call's handle and wrap-up time come from the most specific setting: agent group and reason, "
            "then department and reason, then reason, then department. Estimated waits for callback offers "
            "use each department's own mean handle and wrap-up time."
        )
    curves = []
    for path, spec in specs(scenario):
        factors = spec.interval_factors()
        if factors is not None:
            means = [spec.mean_value() * factor for factor in factors]
            curves.append(f"{'.'.join(path)} (mean {min(means):.0f} s to {max(means):.0f} s)")
    if curves:
        items.append(
            "Times through the day, drawn by the interval in which the call arrived (the drain after closing "
            f"uses the last interval's): {'; '.join(curves)}."
        )
    return items
