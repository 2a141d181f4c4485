"""How well a week went: each day's KPIs and the week's, from the days' calls in one vectorised pass.

The days' counted calls are stacked into one table with a `day` column; every figure is the KPI function
of `sim.analysis.metrics` (the registry's definitions) over that table, grouped by day (`by=`) for the
day rows and ungrouped for the week row, so the week's service level is the share of the week's calls
answered in time (not a mean of the days' figures). Agent-hours are each day's logged-in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.confidence import half_width
from sim.analysis.grouping import Groups, count_where, equals
from sim.analysis.metrics import abandon_rate, asa, counted, mean_wait, offered_calls, service_level
from sim.analysis.tables import agent_levels, calls_table
from sim.analysis.thresholds import call_thresholds
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event

_CARRY_OUT, _CARRY_IN = CODE[Event.CARRY_OUT], CODE[Event.CARRY_IN]
WEEK = "week"
"""The `day` label of the week's row in the week table."""
FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "service_level",
    "asa",
    "mean_wait",
    "abandon_rate",
    "agent_hours",
    "carried_in",
    "carried_out",
)
"""The columns of the week table after `day` and `type`: KPI keys of the registry (`sim.analysis.kpis`)."""


def week_calls(days: Sequence[RunResult]) -> pd.DataFrame:
    """The counted calls offered to agents on every day, stacked, with the day's index in `day`."""
    frames = []
    for result in days:
        calls = offered_calls(counted(result, calls_table(result)))
        frames.append(calls.assign(day=np.full(len(calls), result.day, dtype=np.int64)))
    return pd.concat(frames, ignore_index=True)


def carried_counts(result: RunResult) -> tuple[int, int]:
    """Work this day brought in from the day before, and work it left for the next (from its events)."""
    code = result.columns.code
    return int(np.count_nonzero(code == _CARRY_IN)), int(np.count_nonzero(code == _CARRY_OUT))


def agent_hours(result: RunResult) -> float:
    """Agent time logged in from the warm-up to the close (hours), as the day's `agent_hours`."""
    window = np.array([result.scenario.warmup, result.scenario.duration])
    _, logged_in, _ = agent_levels(result, window)
    return float(logged_in[:, 0].sum()) / 3600.0


def week_table(days: Sequence[RunResult], names: Sequence[str], types: Sequence[str]) -> pd.DataFrame:
    """One row per day and a last row for the week: offered, answered, abandoned, service level, ASA, mean
    wait, abandonment, agent-hours and the work carried in and out."""
    calls = week_calls(days)
    # each call judged at its first department's threshold (stacked days: the column back to a category)
    threshold = call_thresholds(
        days[0].scenario, calls.assign(first_department=calls["first_department"].astype("category"))
    )
    size = len(days)
    by = Groups(calls["day"].to_numpy(), size)
    answered = equals(calls, "outcome", "answered")
    abandoned = equals(calls, "outcome", "abandoned")
    carried = np.array([carried_counts(result) for result in days], dtype=np.int64).reshape(size, 2)
    hours = np.array([agent_hours(result) for result in days])
    per_day: dict[str, Any] = {
        "offered": count_where(np.ones(len(calls), dtype=bool), by),
        "answered": count_where(answered, by),
        "abandoned": count_where(abandoned, by),
        "service_level": service_level(calls, threshold, by),
        "asa": asa(calls, by),
        "mean_wait": mean_wait(calls, by),
        "abandon_rate": abandon_rate(calls, by),
        "agent_hours": hours,
        "carried_in": carried[:, 0],
        "carried_out": carried[:, 1],
    }
    week: dict[str, Any] = {
        "offered": len(calls),
        "answered": int(np.count_nonzero(answered)),
        "abandoned": int(np.count_nonzero(abandoned)),
        "service_level": service_level(calls, threshold),
        "asa": asa(calls),
        "mean_wait": mean_wait(calls),
        "abandon_rate": abandon_rate(calls),
        "agent_hours": float(hours.sum()),
        "carried_in": int(carried[:, 0].sum()),
        "carried_out": int(carried[:, 1].sum()),
    }
    table = pd.DataFrame({"day": list(names), "type": list(types), **per_day})
    last = pd.DataFrame({"day": [WEEK], "type": [""], **{key: [value] for key, value in week.items()}})
    return pd.concat([table, last], ignore_index=True)


def carried_table(days: Sequence[RunResult], names: Sequence[str]) -> pd.DataFrame:
    """Every piece of work left at a close: the day it was left, the call, caller, reason, department, kind
    (callback or redial) and when it was asked for and fell due (that day's clock, seconds)."""
    rows = []
    for result, name in zip(days, names, strict=True):
        departments = list(result.scenario.departments)
        for work in result.carried_out:
            rows.append(
                {
                    "day": name,
                    "call_id": work.call_id,
                    "caller_id": work.caller_id,
                    "reason": result.reason_names[work.reason],
                    "department": departments[work.department],
                    "kind": work.kind,
                    "requested_at": work.requested_at,
                    "due_at": work.due_at,
                }
            )
    columns = ["day", "call_id", "caller_id", "reason", "department", "kind", "requested_at", "due_at"]
    return pd.DataFrame(rows, columns=columns)


def mean_week_table(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Over replications of the week: each figure's mean per row (day, then week) and its 95% half-width
    (a Student-t interval) in `<figure>_ci95`; one table is returned as it is."""
    if len(tables) == 1:
        return tables[0]
    stacked = np.stack([table[list(FIGURES)].to_numpy(dtype=float) for table in tables])
    out = tables[0][["day", "type"]].copy()
    for index, key in enumerate(FIGURES):
        values = stacked[:, :, index]
        out[key] = np.nanmean(values, axis=0)
        out[f"{key}_ci95"] = [half_width([v for v in column if v == v]) for column in values.T]
    return out
