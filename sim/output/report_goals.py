"""The report's service goals: the day's verdict per scope and goal, and the interval cells that missed a
goal, counted and named as the console and summary.json count and name them (`sim.analysis.goals`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.analysis.goals import (
    LABELS,
    cell_names,
    format_value,
    interval_verdicts,
    judged_cells,
    missed_cells,
    summary_verdicts,
)
from sim.output.report_format import Cell, esc, number, table
from sim.output.saved import SavedRun


def run_verdicts(run: SavedRun) -> pd.DataFrame:
    """The run's interval verdicts (per interval, scope and goal), worked out once per run (read-only)."""
    found = run.derived.get("verdicts")
    if found is None:
        found = run.derived["verdicts"] = interval_verdicts(run.intervals, run.scenario)
    return found


def run_missed(run: SavedRun) -> pd.DataFrame:
    """The run's interval cells that missed a goal (`interval`, `start`, `scope`, `what`), once per run
    (read-only)."""
    found = run.derived.get("missed")
    if found is None:
        found = run.derived["missed"] = missed_cells(run_verdicts(run))
    return found


def goal_words(run: SavedRun) -> str:
    """`the 80% service-level target` (no `goals` block: the one goal) or `a goal`."""
    if run.scenario.goals is None:
        return f"the {100 * run.scenario.service_level.target:.0f}% service-level target"
    return "a goal"


def missed_sentence(run: SavedRun, named: int, listing: Any) -> str:
    """`9 of 80 interval cells missed a goal: ...` as a paragraph; `listing(names)` shortens the names."""
    verdicts = run_verdicts(run)
    cells = run_missed(run)
    judged = judged_cells(verdicts)
    goal = goal_words(run)
    if not len(cells):
        met = "its goals" if goal == "a goal" else goal
        return f'<p class="ok">Every one of {judged} interval cells met {esc(met)}.</p>'
    close = verdicts[(verdicts["verdict"] == "met") & verdicts["within_ci"]]
    caution = (
        f" {len(close)} goal verdicts of met intervals lie within the 95% CI of the mean: more replications "
        "could turn them."
        if len(close)
        else ""
    )
    return (
        f'<p class="alert">{len(cells)} of {judged} interval cells (an interval of all calls or of a department) '
        f"missed {esc(goal)}: {esc(listing(cell_names(cells)))} "
        f'(<a href="#intervals">details</a>).{esc(caution)}</p>'
    )


def day_goals_table(run: SavedRun) -> str:
    """With a `goals` block: each scope's goals for the day, met or missed; with replications the share of
    them meeting each goal, and a warning where the goal lies within the mean's 95% CI."""
    if run.scenario.goals is None:
        return ""
    summary = run.summary
    day: Mapping[str, Mapping[str, Mapping[str, Any]]] = (summary.get("goals") or {}).get(
        "day"
    ) or summary_verdicts(summary, run.scenario)
    replicated = run.reps > 1
    rows: list[list[Cell]] = []
    for scope, goals in day.items():
        for goal, entry in goals.items():
            verdict = str(entry["verdict"])
            state = {"met": "met", "missed": "miss"}.get(verdict, "")
            text = esc(verdict) + (" (goal within the 95% CI)" if entry.get("within_ci") else "")
            row: list[Cell] = [
                esc(scope),
                esc(LABELS[str(entry.get("figure", goal))]),
                esc(str(entry["goal"])),
                esc(format_value(goal, float(entry["value"]))),
                (text, state),
            ]
            if replicated:
                row.append(esc(number(entry.get("replications_met"), "%")))
            rows.append(row)
    headers = ["scope", "goal", "target", "value", "verdict", *(["replications met"] if replicated else [])]
    basis = (
        f"Verdicts of the mean over {run.reps} replications; 'replications met' is the share of simulated "
        "days that met the goal on their own."
        if replicated
        else "Verdicts of the simulated day."
    )
    return f'<h3 id="goals">Service goals</h3><p>{esc(basis)}</p>' + table(headers, rows, "kpis")
