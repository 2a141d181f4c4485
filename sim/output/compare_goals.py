"""Two runs against their service goals, side by side: for each scope (all calls, each department) and goal,
A's and B's value and whether it met the goal, each judged by its own scenario's goals (`sim.analysis.goals`,
the same judgment as each run's report and console), so that `compare` says not only which run is better
but which meets what was promised."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from rich.markup import escape
from rich.table import Table

from sim.analysis.goals import LABELS, format_value, summary_verdicts
from sim.output.saved import SavedRun

COLUMNS = ["scope", "goal", "a_goal", "a_value", "a_verdict", "b_goal", "b_value", "b_verdict"]


def _verdicts(run: SavedRun) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(scope, goal) -> the run's verdict entry (goal text, value, verdict) on its mean day."""
    found = summary_verdicts(run.summary, run.scenario)
    return {(scope, goal): entry for scope, entries in found.items() for goal, entry in entries.items()}


def goal_comparison(a: SavedRun, b: SavedRun) -> pd.DataFrame:
    """One row per scope and goal either run has: each run's goal (its own bound, which a change may have
    moved), value and verdict (`met`, `missed` or `no calls`; blank where that run has no such goal)."""
    left, right = _verdicts(a), _verdicts(b)
    rows = []
    for key in [*left, *(k for k in right if k not in left)]:
        scope, goal = key
        row: dict[str, Any] = {"scope": scope, "goal": goal}
        for side, found in (("a", left.get(key)), ("b", right.get(key))):
            row[f"{side}_goal"] = found["goal"] if found else ""
            row[f"{side}_value"] = float(found["value"]) if found else float("nan")
            row[f"{side}_verdict"] = str(found["verdict"]) if found else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def goal_table(frame: pd.DataFrame, labels: tuple[str, str]) -> Table:
    """The goals table as the console shows it: `billing  service level >= 80%  A 78.8% missed  B 81.2% met`."""
    table = Table(title="goals: A and B each against its scenario's goals", header_style="bold")
    for column in ("scope", "goal", "A", "B"):
        table.add_column(column, justify="left" if column in ("scope", "goal") else "right")
    styles = {"met": "green", "missed": "red"}

    def cell(goal: str, value: float, verdict: str) -> str:
        if not verdict:
            return "-"
        style = styles.get(verdict)
        shown = f"[{style}]{verdict}[/]" if style else verdict
        return f"{format_value(goal, value)} {shown}"

    for row in frame.to_dict(orient="records"):
        goal = str(row["goal"])
        bound = row["a_goal"] if row["a_goal"] == row["b_goal"] else f"A {row['a_goal']}, B {row['b_goal']}"
        table.add_row(
            str(row["scope"]),
            f"{LABELS[goal]} {bound}",
            cell(goal, float(row["a_value"]), str(row["a_verdict"])),
            cell(goal, float(row["b_value"]), str(row["b_verdict"])),
        )
    table.caption = f"A: {escape(labels[0])}; B: {escape(labels[1])}"  # a label may hold brackets
    return table
