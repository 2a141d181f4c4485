"""Met or missed: the one place that decides every service-goal verdict, for the day and for each interval.

Scopes: `all` (all calls) and, when the centre has more than one department, each department. A department
is held to the all-calls goals, with its own `goals.departments.NAME` replacing them goal by goal; with a
single department, its rows repeat all calls', so its own goals apply to the `all` scope instead. Without a
`goals` block the one goal is `service_level.target`, for every scope (what the console and the report have
always judged).

A verdict is `met`, `missed` or `no calls`:
- `no calls`: the scope had no offered calls (in the interval, or in the day);
- a goal's figure unknown although calls were offered (nobody answered, so no ASA; no agent, so no occupancy)
  is `missed`;
- else `service_level >= goal`, `abandon_rate <= goal`, `asa <= goal`, `low <= occupancy <= high` (a 1e-12
  tolerance for rounding).

Replicated runs judge the mean over replications (of the day, and of each interval in the mean interval
table). The day's verdict also says what share of replications met the goal and whether the goal lies within
the mean's 95% confidence interval (`within_ci`: more replications could turn the verdict), so a "met" that
is only within the CI never passes silently.

An interval cell is an (interval, scope) pair; it *missed* when any of its goals missed. Every view counts
missed cells with `missed_cells`, so the console, the report's headline and its intervals section, and
summary.json agree on one run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.model.goals import GOAL_NAMES, GoalSet
from sim.model.scenario import Scenario

MET, MISSED, NO_CALLS = "met", "missed", "no calls"
TOLERANCE = 1e-12
LABELS = {
    "service_level": "service level",
    "abandon_rate": "abandon rate",
    "asa": "ASA",
    "occupancy": "occupancy",
    "email_within_due": "within due",
}
"""How a goal is named in sentences and tables."""


def all_calls_goals(scenario: Scenario) -> GoalSet:
    """The goals of all calls: the `goals` block, with `service_level.target` where it sets no service level."""
    base = GoalSet(service_level=scenario.service_level.target)
    given = scenario.goals
    if given is None:
        return base
    return GoalSet(**{name: getattr(given, name) for name in GOAL_NAMES}).over(base)


def service_level_goal(scenario: Scenario) -> float:
    """The all-calls service-level goal (`goals.service_level`, else `service_level.target`)."""
    level = all_calls_goals(scenario).service_level
    return scenario.service_level.target if level is None else float(level)


def scope_goals(scenario: Scenario) -> dict[str, GoalSet]:
    """The goals of each scope judged: `all`, and each department when there are several. An email
    department keeps only the service-level goal (judged on its share handled within due, `EMAIL_FIGURE`)
    and the occupancy band it inherits, plus any goal set in its own `goals.departments.NAME`: an ASA or
    abandonment goal for calls means nothing for work due in hours."""
    base = all_calls_goals(scenario)
    own = scenario.goals.departments if scenario.goals is not None else {}
    if len(scenario.departments) == 1:
        (only,) = scenario.departments
        return {"all": own[only].over(base) if only in own else base}
    scopes = {"all": base}
    for name, department in scenario.departments.items():
        inherited = base
        if department.channel == "email":
            inherited = GoalSet(service_level=base.service_level, occupancy=base.occupancy)
        scopes[name] = own[name].over(inherited) if name in own else inherited
    return scopes


EMAIL_FIGURE = "email_within_due"
"""What an email department's service-level goal is judged on: the share of its emails handled within
their due time (`sim.analysis.email`), in the day's summary and in the interval table."""


def _email_scopes(scenario: Scenario | Mapping[str, GoalSet]) -> set[str]:
    """The scopes that are email departments (none when only goals are given)."""
    if not isinstance(scenario, Scenario) or len(scenario.departments) == 1:
        return set()
    return {name for name, department in scenario.departments.items() if department.channel == "email"}


def judge(values: np.ndarray, offered: np.ndarray, goal: str, bound: Any) -> np.ndarray:
    """Verdicts (`met`, `missed`, `no calls`) of a goal on arrays of its figure and the offered calls."""
    values = np.asarray(values, dtype=float)
    offered = np.asarray(offered, dtype=float)
    known = ~np.isnan(values)
    if goal == "occupancy":
        low, high = bound
        good = (values >= low - TOLERANCE) & (values <= high + TOLERANCE)
    elif goal == "service_level":
        good = values >= bound - TOLERANCE
    else:
        good = values <= bound + TOLERANCE
    met = known & good
    calls = offered > 0
    return np.where(~calls, NO_CALLS, np.where(met, MET, MISSED))


def _scope_rows(intervals: pd.DataFrame, scope: str) -> pd.DataFrame:
    """One scope's rows of the interval table (never an agent group's, which may share no name with it)."""
    rows = intervals[intervals["department"].astype(str) == scope]
    if "kind" in rows.columns:
        rows = rows[rows["kind"].astype(str) == ("all" if scope == "all" else "department")]
    return rows


def interval_verdicts(intervals: pd.DataFrame, scenario: Scenario | Mapping[str, GoalSet]) -> pd.DataFrame:
    """One row per (interval, scope, goal): `interval`, `start`, `scope`, `goal`, `value`, `bound` (text),
    `verdict`, `within_ci` (the goal lies within the value's 95% half-width, where the table has one:
    the service level of a replicated run) and `figure` (the column judged: the goal's own, or an email
    department's `email_within_due` for its service-level goal). Vectorised over intervals: one pass per scope and goal. The goals
    are the scenario's (`scope_goals`), or given per scope."""
    scopes = scope_goals(scenario) if isinstance(scenario, Scenario) else scenario
    emails = _email_scopes(scenario)
    parts = []
    for scope, goals in scopes.items():
        rows = _scope_rows(intervals, scope)
        offered = rows["offered"].to_numpy(dtype=float)
        for goal, bound in goals.items():
            column = EMAIL_FIGURE if scope in emails and goal == "service_level" else goal
            values = (
                rows[column].to_numpy(dtype=float) if column in rows.columns else np.full(len(rows), math.nan)
            )
            if column == EMAIL_FIGURE:  # an interval with no email settled has nothing to judge
                offered = np.where(np.isnan(values), 0.0, offered)
            width_column = f"{goal}_ci95"
            within = np.zeros(len(rows), dtype=bool)
            if width_column in rows.columns and goal != "occupancy":
                width = rows[width_column].to_numpy(dtype=float)
                within = ~np.isnan(width) & (np.abs(values - float(bound)) <= width)
            parts.append(
                pd.DataFrame(
                    {
                        "interval": rows["interval"].to_numpy(dtype=np.int64),
                        "start": rows["start"].astype(str).to_numpy(),
                        "scope": scope,
                        "goal": goal,
                        "value": values,
                        "bound": describe_bound(goal, bound),
                        "verdict": judge(values, offered, goal, bound),
                        "within_ci": within,
                        "figure": column,
                    }
                )
            )
    columns = ["interval", "start", "scope", "goal", "value", "bound", "verdict", "within_ci", "figure"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def missed_cells(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The interval cells (interval, scope) that missed any goal, in interval order, scope `all` first, with
    `start` and `what` (`service level 72.0%, ASA 41.0s`: each missed goal and its value)."""
    missed = verdicts[verdicts["verdict"] == MISSED]
    if missed.empty:
        return pd.DataFrame(columns=["interval", "start", "scope", "what"])
    figures = missed["figure"] if "figure" in missed.columns else missed["goal"]
    what = [
        f"{LABELS[figure]} {format_value(goal, value)}"
        for goal, figure, value in zip(
            missed["goal"], figures, missed["value"].to_numpy(dtype=float), strict=True
        )
    ]
    rank = {scope: index for index, scope in enumerate(pd.unique(verdicts["scope"]).tolist())}
    cells: dict[tuple[int, str], tuple[str, list[str]]] = {}  # one pass over the missed goals, in order
    for interval, scope, start, text in zip(
        missed["interval"].tolist(), missed["scope"].tolist(), missed["start"].tolist(), what, strict=True
    ):
        cell = cells.get((interval, scope))
        if cell is None:
            cells[(interval, scope)] = (start, [text])
        else:
            cell[1].append(text)
    ordered = sorted(cells, key=lambda key: (key[0], rank[key[1]]))  # stable: first seen first on ties
    return pd.DataFrame(
        {
            "interval": np.array([key[0] for key in ordered], dtype=np.int64),
            "scope": [key[1] for key in ordered],
            "start": [cells[key][0] for key in ordered],
            "what": [", ".join(cells[key][1]) for key in ordered],
        },
        columns=["interval", "scope", "start", "what"],
    )


def judged_cells(verdicts: pd.DataFrame) -> int:
    """Interval cells with calls offered (those a goal was judged on)."""
    judged = verdicts[verdicts["verdict"] != NO_CALLS]
    return len(judged.drop_duplicates(["interval", "scope"]))


def cell_names(cells: pd.DataFrame) -> list[str]:
    """`09:00 all (service level 72.0%)` for each missed cell."""
    return [
        f"{start} {scope} ({what})"
        for start, scope, what in zip(cells["start"], cells["scope"], cells["what"], strict=True)
    ]


def format_value(goal: str, value: float) -> str:
    """A goal's figure as the views print it."""
    if math.isnan(value):
        return "-"
    return f"{value:.1f}s" if goal == "asa" else f"{100 * value:.1f}%"


def describe_bound(goal: str, bound: Any) -> str:
    """`>= 80%`, `<= 5%`, `<= 30s`, `70%-90%`."""
    if goal == "occupancy":
        return f"{100 * bound[0]:.0f}%-{100 * bound[1]:.0f}%"
    if goal == "asa":
        return f"<= {bound:g}s"
    return f"{'>=' if goal == 'service_level' else '<='} {100 * bound:g}%"


def _figure(summary: Mapping[str, Any], scope: str, goal: str) -> tuple[float, float, float]:
    """A scope's (value, offered, 95% half-width) in a summary (NaN where absent); `goal` may name another
    figure than the goal's own (`EMAIL_FIGURE` for an email department's service level)."""
    ci = summary.get("ci95") if isinstance(summary.get("ci95"), Mapping) else {}
    if scope == "all":
        source, widths = summary, ci or {}
        offered = summary.get("offered")
    else:
        source = (summary.get("by_department") or {}).get(scope) or {}
        widths = ((ci or {}).get("by_department") or {}).get(scope) or {}
        offered = source.get("visits")

    def number(value: Any) -> float:
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan

    return number(source.get(goal)), number(offered), number(widths.get(goal))


def summary_verdicts(
    summary: Mapping[str, Any], scenario: Scenario, replications: Sequence[Mapping[str, Any]] = ()
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per scope and goal: `goal` (text), `value`, `verdict` (of the value: with replications, of their
    mean), and with two or more replications `half_width`, `within_ci` and `replications_met` (the share of
    replications whose own day met the goal)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    emails = _email_scopes(scenario)
    own = scenario.goals.departments if scenario.goals is not None else {}
    for scope, goals in scope_goals(scenario).items():
        entries: dict[str, dict[str, Any]] = {}
        for goal, bound in goals.items():
            figure = EMAIL_FIGURE if scope in emails and goal == "service_level" else goal
            value, offered, width = _figure(summary, scope, figure)
            text = describe_bound(goal, bound)
            threshold = own[scope].threshold if scope in own and goal == "service_level" else None
            if threshold is not None:  # judged at the department's own threshold: say which
                text += f" within {threshold:g}s"
            entry: dict[str, Any] = {
                "goal": text,
                "value": value,
                "verdict": str(judge(np.array([value]), np.array([offered]), goal, bound)[0]),
            }
            if figure != goal:  # an email department: its service-level goal judged on within due
                entry["figure"] = figure
            if len(replications) >= 2:
                days = [_figure(r, scope, figure) for r in replications]
                verdicts = judge(np.array([d[0] for d in days]), np.array([d[1] for d in days]), goal, bound)
                entry["replications_met"] = float(np.mean(verdicts != MISSED))
                entry["half_width"] = width
                if goal == "occupancy":
                    close = min(abs(value - bound[0]), abs(value - bound[1]))
                else:
                    close = abs(value - float(bound))
                entry["within_ci"] = bool(not math.isnan(width) and close <= width)
            entries[goal] = entry
        out[scope] = entries
    return out


def goals_section(
    summary: Mapping[str, Any],
    intervals: pd.DataFrame,
    scenario: Scenario,
    replications: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The `goals` section of summary.json: the basis of the verdicts, the day's verdicts per scope and
    goal, and the interval cells judged and missed (the count every view shows)."""
    verdicts = interval_verdicts(intervals, scenario)
    cells = missed_cells(verdicts)
    reps = len(replications)
    return {
        "basis": f"mean over {reps} replications" if reps >= 2 else "the run",
        "day": summary_verdicts(summary, scenario, replications),
        "interval_cells": judged_cells(verdicts),
        "missed_cells": len(cells),
        "missed_intervals": int(cells["interval"].nunique()) if len(cells) else 0,
        "missed": cell_names(cells),
    }
