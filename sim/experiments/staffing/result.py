"""What a staffing search hands back: the `StaffingPlan` (the plan, the Erlang answers, DataFrames of every
cell's figures and of every count judged), the plan table, and the confirmation run with another seed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.load import queue_models
from sim.experiments.executors import Executor, run_all
from sim.experiments.staffing.confidence import MET, MISSED, VERDICTS, WITHIN_CI
from sim.experiments.staffing.email_outcome import outcome_of_rows
from sim.experiments.staffing.figures import Pooled, confirmation_kpis, day_figures, pool
from sim.experiments.staffing.plans import Plan, agent_hours
from sim.experiments.staffing.targets import Targets
from sim.model.durations import format_clock
from sim.model.rates import interval_widths
from sim.model.scenario import Scenario


@dataclass(frozen=True)
class StaffingPlan:
    """A staffing search's answer: the plan, the Erlang answers, and the search's and confirmation's figures.

    `table`: per interval and department, calls per hour, Erlang C, Erlang A, the plan (`simulated`), the
    search's figures and the confirmation's. `steps`: every count judged (stage, interval, department, agents,
    replications, figures, verdict). `erlang`: per interval and department, the plan against Erlang A and C.
    `hours`: agent-hours per department and in total for the plan, Erlang A and Erlang C."""

    scenario: Scenario
    targets: Targets
    seed: int
    reps: int
    confirm_seed: int
    confirm_reps: int
    plan: Plan
    erlang_a: Plan
    erlang_c: Plan
    table: pd.DataFrame
    steps: pd.DataFrame
    confirmation: dict[str, Any]
    unreachable: list[tuple[int, str]]
    simulated_days: float
    wall_time: float
    only: str | None = None

    @property
    def widths(self) -> np.ndarray:
        """Each interval's length in seconds."""
        return interval_widths(self.scenario)

    def hours(self) -> dict[str, dict[str, float]]:
        """Agent-hours of the simulated plan and of the Erlang A and Erlang C answers."""
        return {
            "simulated": agent_hours(self.plan, self.widths),
            "erlang_a": agent_hours(self.erlang_a, self.widths),
            "erlang_c": agent_hours(self.erlang_c, self.widths),
        }

    @property
    def agent_hours(self) -> pd.DataFrame:
        """Agent-hours: one row per department and `total`, columns `simulated`, `erlang_a`, `erlang_c`."""
        return pd.DataFrame(self.hours())

    @property
    def erlang(self) -> pd.DataFrame:
        """Per interval and department: the plan against the Erlang A and Erlang C answers."""
        frame = self.table[
            ["interval", "start", "department", "calls_per_hour", "erlang_c", "erlang_a", "simulated"]
        ]
        return frame.assign(
            minus_erlang_a=frame["simulated"] - frame["erlang_a"],
            minus_erlang_c=frame["simulated"] - frame["erlang_c"],
        )


def plan_table(
    scenario: Scenario,
    plan: Mapping[str, Sequence[int]],
    erlang_a: Mapping[str, Sequence[int]],
    erlang_c: Mapping[str, Sequence[int]],
    figures: Pooled,
    targets: Targets,
) -> pd.DataFrame:
    """Per interval and planned department: calls per hour, the Erlang answers, the plan, the search's figures."""
    models = queue_models(scenario)
    rows = []
    for index in range(scenario.interval_count):
        for name in plan:
            here = figures.cell(index, name)
            rows.append(
                {
                    "interval": index,
                    "start": format_clock(scenario.start + index * scenario.interval),
                    "department": name,
                    "calls_per_hour": float(models[name].rates[index] * 3600.0),
                    "erlang_c": int(erlang_c[name][index]),
                    "erlang_a": int(erlang_a[name][index]),
                    "simulated": int(plan[name][index]),
                    "search_offered": float(here["offered"]),
                    "search_service_level": float(here["service_level"]),
                    "search_service_level_ci95": float(here["service_level_ci95"]),
                    "search_abandon_rate": float(here["abandon_rate"]),
                    "search_abandon_rate_ci95": float(here["abandon_rate_ci95"]),
                    "search_asa": float(here["asa"]),
                    "search_met": targets.of(name).met(here),
                    "search_met_share": float(here.get("met_share", math.nan)),
                }
            )
    return pd.DataFrame(rows)


def confirm(
    executor: Executor, scenario: Scenario, seed: int, reps: int, targets: Targets, names: Sequence[str]
) -> dict[str, Any]:
    """The plan run with another seed: per interval and department figures with 95% CIs, the share of
    replications that met every target (`confirm_met_share`) and each (`confirm_met_share_KEY`), the
    verdict by the targets' criterion (`confirm_verdict`: met, within CI or missed; blank for a row without
    calls, such as the warm-up) and the day. The counts of the three verdicts over the rows with calls
    (`intervals_met`, `intervals_within_ci`, `intervals_missed`) add up to `intervals`: a row within its CI
    of a target is never counted as met. With email departments, `emails`: the plan's email outcome
    (`sim.experiments.staffing.email_outcome.EmailOutcome.record`)."""
    results = run_all(executor, confirmation_kpis, [(scenario, seed, r) for r in range(reps)])
    pooled = pool([tables for tables, _ in results], list(scenario.departments), targets)
    frame = pooled.frame()
    figures = frame[frame.index.get_level_values("department").isin(list(names))]
    cells = [pooled.cell(int(i), str(n)) for i, n in figures.index]
    judges = [targets.of(str(n)) for _, n in figures.index]  # each department by its own goals
    measured = (figures["offered"] > 0).to_numpy()  # not the warm-up, nor a row without calls
    verdicts = [
        judge.verdict(cell) if here else ""
        for judge, cell, here in zip(judges, cells, measured, strict=True)
    ]
    table = pd.DataFrame(
        {
            "confirm_offered": figures["offered"],
            "confirm_service_level": figures["service_level"],
            "confirm_service_level_ci95": figures["service_level_ci95"],
            "confirm_abandon_rate": figures["abandon_rate"],
            "confirm_abandon_rate_ci95": figures["abandon_rate_ci95"],
            "confirm_asa": figures["asa"],
            "confirm_met": [judge.met(cell) for judge, cell in zip(judges, cells, strict=True)],
            "confirm_within_ci": [verdict == WITHIN_CI for verdict in verdicts],
            "confirm_met_share": figures["met_share"].where(measured),
            **{
                f"confirm_met_share_{key}": figures[f"met_share_{key}"].where(measured)
                for key in pooled.goal_shares
            },
            "confirm_verdict": verdicts,
        }
    )
    day, day_ci = day_figures([row for _, row in results])
    counted = {verdict: sum(v == verdict for v in verdicts) for verdict in VERDICTS}
    emails = outcome_of_rows(seed, [row for _, row in results])  # email departments ride along
    return {
        "table": table,
        "seed": seed,
        "reps": reps,
        "criterion": criterion_text(targets),
        "intervals_met": counted[MET],
        "intervals_within_ci": counted[WITHIN_CI],
        "intervals_missed": counted[MISSED],
        "intervals": int(measured.sum()),
        "day": day,
        "day_ci95": day_ci,
        **({"emails": emails.record()} if emails is not None else {}),
    }


def criterion_text(targets: Targets) -> str:
    """How a row is judged met: by the mean, at a confidence, on a share of days (for headlines)."""
    parts = []
    if targets.confidence is not None:
        parts.append(f"by the one-sided {100 * targets.confidence:g}% bound of each mean")
    if targets.days_met is not None:
        parts.append(f"on at least {100 * targets.days_met:g}% of the days")
    return " and ".join(parts) or "by the mean over replications"


def verdict_counts(confirmation: Mapping[str, Any]) -> str:
    """`24 met, 6 within their 95% CI (not met), 2 missed, of 32 interval rows`: the one sentence the
    console, `staffing.yaml` and the README print."""
    return (
        f"{confirmation['intervals_met']} met, {confirmation['intervals_within_ci']} within their 95% CI "
        f"(not met), {confirmation['intervals_missed']} missed, of {confirmation['intervals']} interval rows"
    )
