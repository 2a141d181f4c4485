"""How many agents, interval by interval: the staffing search (`search`), its targets, its Erlang starting
points and its measurements. Values in, a `StaffingPlan` of DataFrames out; nothing printed or written
(`sim.output.staffing_folder` writes the folder, `sim.cli.staff` prints).

Modules: `targets` (floors and ceilings), `start` (Erlang A and C), `figures` (what one simulated day says
per interval and department, pooled over replications), `plans` (a plan as scenario, `--set`, YAML,
agent-hours), `searcher` (the search itself), `confidence` (met by the mean, at a stated confidence or on a
share of days; the verdicts met / within CI / missed), `groups` with `group_pools` (cross-trained groups,
and which pools they decide), `email_outcome` (what a plan leaves the email departments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sim.experiments.executors import Executor
from sim.experiments.staffing.figures import department_figures
from sim.experiments.staffing.plans import agent_hours, plan_overrides, plan_yaml, with_plan
from sim.experiments.staffing.result import StaffingPlan
from sim.experiments.staffing.searcher import MAX_ROUNDS, REFINE, Evaluator, search
from sim.experiments.staffing.start import erlang_answers, erlang_plans, staff_erlang_a
from sim.experiments.staffing.targets import (
    CEILINGS,
    FIGURES,
    FLOORS,
    StaffingError,
    Targets,
    parse_targets,
)
from sim.model.loading import load_scenario

__all__ = [
    "CEILINGS",
    "FIGURES",
    "FLOORS",
    "MAX_ROUNDS",
    "REFINE",
    "Evaluator",
    "StaffingError",
    "StaffingPlan",
    "Targets",
    "agent_hours",
    "department_figures",
    "erlang_answers",
    "erlang_plans",
    "parse_targets",
    "plan_overrides",
    "plan_yaml",
    "search",
    "search_staffing",
    "staff_erlang_a",
    "with_plan",
]


def search_staffing(
    source: Path | str,
    targets: Targets | None = None,
    seed: int | None = None,
    reps: int = 10,
    confirm_reps: int | None = None,
    executor: Executor | None = None,
    overrides: Sequence[str] = (),
    on_interval: Callable[[int, int], None] | None = None,
    confidence: float | None = None,
    days_met: float | None = None,
) -> StaffingPlan:
    """`search` for a scenario file with `--set` overrides (the older entry point, kept for its callers)."""
    scenario = load_scenario(source, overrides)
    return search(
        scenario,
        targets,
        None,
        reps=reps,
        confirm_reps=confirm_reps,
        seed=seed,
        executor=executor,
        progress=on_interval,
        confidence=confidence,
        days_met=days_met,
    )
