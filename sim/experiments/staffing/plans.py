"""A staffing plan (agents per interval, by department) as a scenario, as `--set` texts, as YAML, and in
agent-hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import yaml

from sim.model.scenario import Scenario

Plan = dict[str, list[int]]
"""Agents per interval, by department."""


def with_plan(scenario: Scenario, plan: Mapping[str, Sequence[int]]) -> Scenario:
    """The scenario with each planned department staffed `per_interval` by its plan (the others as they
    are): what `--set departments.X.agents={per_interval: [...]}` gives, without parsing YAML again."""
    departments = dict(scenario.departments)
    for name, counts in plan.items():
        department = departments[name]
        agents = department.agents
        assert agents is not None, f"{name} has no agents of its own to plan"
        staffed = agents.model_copy(
            update={
                "count": None,
                "shifts": None,
                "file": None,
                "per_interval": tuple(int(c) for c in counts),
            }
        )
        departments[name] = department.model_copy(update={"agents": staffed})
    return scenario.model_copy(update={"departments": departments})


def plan_overrides(plan: Mapping[str, Sequence[int]]) -> list[str]:
    """`--set` texts that put the plan into a scenario."""
    return [
        f"departments.{name}.agents={{per_interval: [{', '.join(str(int(c)) for c in counts)}]}}"
        for name, counts in plan.items()
    ]


def plan_yaml(plan: Mapping[str, Sequence[int]], header: str = "") -> str:
    """The plan as scenario YAML: `departments: {name: {agents: {per_interval: [...]}}}`."""
    body = {
        "departments": {
            n: {"agents": {"per_interval": [int(c) for c in counts]}} for n, counts in plan.items()
        }
    }
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=1000)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + text


def agent_hours(plan: Mapping[str, Sequence[int]], widths: np.ndarray) -> dict[str, float]:
    """Scheduled agent-hours of a plan, per department and in total."""
    hours = {
        name: float(np.dot(np.asarray(counts, dtype=float), widths) / 3600.0) for name, counts in plan.items()
    }
    hours["total"] = sum(hours.values())
    return hours
