"""Who was in: agents present per department from the log's agent activity (`presence.infer_presence`),
written as agent-schedule CSVs (`agents: {file: ...}`, rows `agent,start,end` or `start,end,count`).

One day fitted: the day's reconstructed presence periods, agent by agent (method `presence`). Several days
averaged: each interval's mean agents present, rounded to whole agents, one row per interval: a log's days
had different people at different times, and their mean is what a planner staffs. Methods `busy` and
`distinct` give per-interval numbers only, written the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.fitting.days import FitError, Window
from sim.analysis.fitting.presence import SKILLS_JOIN
from sim.model.durations import format_clock

STAFFING_METHODS = ("presence", "busy", "distinct")


@dataclass(frozen=True)
class StaffingFit:
    """Per department: the schedule (a DataFrame written as `file`), the mean agents present per interval,
    how it was inferred and what it assumes."""

    method: str
    files: dict[str, str]
    schedules: dict[str, pd.DataFrame]
    per_interval: dict[str, np.ndarray]
    assumptions: list[str]
    notes: list[str] = field(default_factory=list)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Cross-trained groups found (agents answering for several departments): name -> their skills. Their
    schedules, files and agents per interval are keyed by the group's name like a department's."""

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "files": self.files,
            "mean_agents_per_interval": {
                name: [round(float(v), 3) for v in values] for name, values in self.per_interval.items()
            },
            "assumptions": self.assumptions,
            "notes": self.notes,
        }


def file_name(department: str) -> str:
    """A safe CSV name for a department's agent schedule."""
    return "agents-" + (re.sub(r"[^A-Za-z0-9_.-]+", "_", department).strip("._") or "department") + ".csv"


def fit_staffing(window: Window, departments: tuple[str, ...], method: str, gap: float) -> StaffingFit:
    """Agents present per department from the window's calls (with `department` filled in), by `method`."""
    from sim.analysis.fitting.presence import infer_presence

    if method not in STAFFING_METHODS:
        raise ValueError(f"unknown staffing method {method!r}; expected one of {', '.join(STAFFING_METHODS)}")
    calls = window.calls
    if not calls["agent"].notna().any():
        raise FitError(
            "the log does not name the agent who answered (column agent), so staffing cannot be inferred "
            "from it; map the ACD's agent column (--columns agent=...)"
        )
    inferred = infer_presence(calls, method, gap)
    duration = window.close_at - window.open_at
    means = inferred.per_interval(window.interval, window.open_at, duration)
    notes = list(getattr(inferred, "notes", []) or [])
    files: dict[str, str] = {}
    schedules: dict[str, pd.DataFrame] = {}
    per_interval: dict[str, np.ndarray] = {}
    periods = getattr(inferred, "periods", None)
    groups = {
        label: tuple(label.split(SKILLS_JOIN))
        for label in means
        if SKILLS_JOIN in label and set(label.split(SKILLS_JOIN)) <= set(departments)
    }
    for department in (*departments, *groups):
        mean = np.asarray(means.get(department, np.zeros(window.interval_count)), dtype=float)
        per_interval[department] = mean
        name = file_name(department)
        files[department] = name
        if method == "presence" and window.day_count == 1 and periods is not None and len(periods):
            own = periods[periods["department"].astype(str) == department]
            schedules[department] = _periods_frame(own)
        else:
            schedules[department] = _interval_frame(window, mean)
    if method == "presence" and window.day_count == 1:
        notes.append(
            "one day fitted: each department's schedule is that day's reconstructed presence periods"
        )
    else:
        notes.append(
            f"the schedule has one row per interval: the mean agents present over {window.day_count} day(s), "
            "rounded to whole agents"
        )
    for name, skills in groups.items():
        notes.append(f"{name}: agents who answered for {' and '.join(skills)} form a cross-trained group")
    for department, frame in schedules.items():
        if not len(frame):  # a department whose agents the log never shows: one row of none
            schedules[department] = pd.DataFrame(
                {
                    "start": [format_clock(window.open_at, True)],
                    "end": [format_clock(window.close_at, True)],
                    "count": [0],
                }
            )
            notes.append(f"{department}: no agent activity in the log; no agents")
    return StaffingFit(method, files, schedules, per_interval, list(inferred.assumptions), notes, groups)


def _periods_frame(periods: pd.DataFrame) -> pd.DataFrame:
    """One row per presence period: `agent,start,end` (clock times to the second; past midnight runs on)."""
    ordered = periods[periods["end"] > periods["start"]].sort_values(["start", "agent"], kind="stable")
    return pd.DataFrame(
        {
            "agent": ordered["agent"].astype(str).to_numpy(),
            "start": [format_clock(float(at), True) for at in ordered["start"]],
            "end": [format_clock(float(at), True) for at in ordered["end"]],
        }
    )


def _interval_frame(window: Window, mean: np.ndarray) -> pd.DataFrame:
    """One row per interval with its rounded mean agents: `start,end,count`."""
    starts = window.open_at + np.arange(window.interval_count) * window.interval
    ends = np.minimum(starts + window.interval, window.close_at)
    counts = np.rint(mean).astype(int)
    keep = counts > 0
    return pd.DataFrame(
        {
            "start": [format_clock(float(at), True) for at in starts[keep]],
            "end": [format_clock(float(at), True) for at in ends[keep]],
            "count": counts[keep],
        }
    )
