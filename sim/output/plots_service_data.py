"""The pictures' data side, shared: the rows, days and calls the pictures of a run are drawn from, read
from its tables with pandas. The drawing modules (`plots_*.py` without `_data`) import neither pandas nor
the scenario model: they draw from plain inputs (numbers, arrays, words) that the data modules compute,
so that the report drawer (`sim.output.drawer`) draws without importing pandas. Here too: the inputs of
the service pictures (`plots_service.py`: service level, volumes, calls answered within t, queues), each
`<picture>_inputs` taking the arguments its figure function took before the split."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.grouping import codes
from sim.analysis.metrics import offered_calls, service_level
from sim.analysis.tables import integrate_levels_by
from sim.analysis.thresholds import call_thresholds
from sim.model.goals import department_thresholds, has_own_thresholds
from sim.model.scenario import Scenario
from sim.output.plots_limits import MAX_VOLUME_INTERVALS

if TYPE_CHECKING:
    from sim.output.plots_service import QueueInputs, ServiceLevelInputs, VolumeInputs, WaitInputs

DAY = 86400.0


def interval_rows(intervals: pd.DataFrame, department: str = "all", kind: str | None = None) -> pd.DataFrame:
    """The interval table's rows for one department, agent group or `all`, in interval order, never a
    channel's of the same name (`kind: channel`, an email department's `email`) unless `kind` asks for it
    (an old table has no `kind`)."""
    rows = intervals[intervals["department"].astype(str) == department]
    if "kind" in rows.columns:
        kinds = rows["kind"].astype(str)
        rows = rows[kinds == kind] if kind is not None else rows[kinds != "channel"]
    return rows.sort_values("interval").reset_index(drop=True)


def interval_days(numbers: np.ndarray, scenario: Scenario) -> np.ndarray:
    """The day of the run (0 for the first) each interval number starts in, by the scenario's clock."""
    starts = scenario.start + np.asarray(numbers, dtype=float) * scenario.interval
    return (np.floor(starts / DAY) - math.floor(scenario.start / DAY)).astype(np.int64)


def counted_offered(calls: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The calls the KPIs count: arrived after the warm-up and offered to agents (not self-served)."""
    return offered_calls(calls[calls["arrived_at"] >= scenario.warmup])


def row_positions(column: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Each row's position in `names` (-1 for a value not there), for a categorical or plain column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return codes(column, names)
    return pd.Index(list(names)).get_indexer(pd.Index(column.astype(str)))


# --- service level and volumes by interval ------------------------------------------------------------------


def service_level_inputs(
    intervals: pd.DataFrame,
    departments: Sequence[str],
    target: float,
    threshold: float,
    subtitle: str,
    within: str | None = None,
) -> ServiceLevelInputs:
    """What `plots_service.service_level_figure` draws: service level per interval for all calls and each
    department with any (an email department has none), the all-calls line's 95% confidence half-widths
    when the table has them (replications), and the words for the all-calls line and the threshold.
    `within`: the words for the threshold where departments have their own, else `threshold`."""
    overall = interval_rows(intervals)
    kinds = intervals["kind"].astype(str) if "kind" in intervals.columns else pd.Series("", index=intervals.index)
    channels = intervals.loc[kinds == "channel", "department"].astype(str).tolist()
    # several channels: the `all` rows are the first channel's (voice, else chat)
    everyone = ("voice calls" if channels[0] == "voice" else "chats") if channels else "all calls"
    levels: dict[str, np.ndarray] = {}
    band = None
    for name in [*departments, "all"] if len(departments) > 1 else ["all"]:
        rows = interval_rows(intervals, name)
        level = rows["service_level"].to_numpy(dtype=float)
        if rows.empty or (name != "all" and np.isnan(level).all()):  # an email department has none
            continue
        levels[name] = level
        if name == "all" and "service_level_ci95" in intervals.columns:
            band = rows["service_level_ci95"].to_numpy(dtype=float)
    inputs: ServiceLevelInputs = {
        "departments": list(departments),
        "levels": levels,
        "band": band,
        "everyone": everyone,
        "starts": overall["start"].astype(str).tolist(),
        "target": float(target),
        "within": within or f"{threshold:g} s",
        "subtitle": subtitle,
    }
    return inputs


def volume_inputs(intervals: pd.DataFrame, subtitle: str, scenario: Scenario | None = None) -> VolumeInputs:
    """What `plots_service.volume_figure` draws: calls offered, answered and abandoned (and blocked, if any)
    per interval, all departments; given the `scenario`, summed by day when the run has more than
    `MAX_VOLUME_INTERVALS` intervals (three bars an interval would be thinner than a pixel)."""
    rows = interval_rows(intervals)
    kinds = ["offered", "answered", "abandoned"] + (["blocked"] if rows["blocked"].sum() > 0 else [])
    per = "interval"
    starts = rows["start"].astype(str).tolist()
    values = {kind: rows[kind].to_numpy(dtype=float) for kind in kinds}
    if scenario is not None and len(rows) > MAX_VOLUME_INTERVALS:
        per = "day"
        day = interval_days(rows["interval"].to_numpy(), scenario)
        values = {kind: np.bincount(day, np.nan_to_num(column)) for kind, column in values.items()}
        starts = [f"day {index + 1}" for index in range(int(day.max()) + 1)]
    inputs: VolumeInputs = {
        "kinds": kinds,
        "values": values,
        "starts": starts,
        "per": per,
        "intervals": len(rows),
        "interval": float(scenario.interval) if scenario is not None else 0.0,
        "subtitle": subtitle,
    }
    return inputs


# --- waits ---------------------------------------------------------------------------------------------------


def answered_within(calls: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """For each time t in `grid`: calls answered within t of joining the queue / offered, the service level's
    definition (`metrics.service_level`) with t for its threshold, every t from one sort. A curve, not a KPI:
    the figure marks the KPI itself, computed by `metrics.service_level`, and the tests check the curve meets
    it at the threshold."""
    if not len(calls):
        return np.full(len(grid), np.nan)
    answered = calls["outcome"] == "answered"
    times = np.sort(calls.loc[answered, "time_to_answer"].to_numpy(dtype=float))
    return np.searchsorted(times, grid + 1e-9, side="right") / len(calls)


def visit_answered_within(visits: pd.DataFrame, blocked: int, grid: np.ndarray) -> np.ndarray:
    """For each time t in `grid`: a department's visits answered within t of joining its queue / (its visits
    + the callers blocked on their way to it), callbacks left out: the department's service level
    (`metrics.visit_service_level`) with t for its threshold."""
    live = visits[~visits["callback"].astype(bool)] if "callback" in visits else visits
    reached = len(live) + blocked
    if not reached:
        return np.full(len(grid), np.nan)
    times = np.sort(live.loc[live["answered"].astype(bool), "time_to_answer"].to_numpy(dtype=float))
    return np.searchsorted(times, grid + 1e-9, side="right") / reached


def department_curves(
    calls: pd.DataFrame, visits: pd.DataFrame, scenario: Scenario, grid: np.ndarray
) -> dict[str, np.ndarray]:
    """Per department, `visit_answered_within` over the visits of the counted calls (arrived after the
    warm-up), with the callers blocked on their way to it: the curves whose value at the threshold is the
    department's service level in the report's department table."""
    offered = counted_offered(calls, scenario)
    mine = visits[visits["call_id"].isin(offered["call_id"])] if len(visits) else visits
    curves = {}
    for name in scenario.departments:
        blocked = 0
        if "first_department" in offered:
            blocked = int(
                ((offered["outcome"] == "blocked") & (offered["first_department"].astype(str) == name)).sum()
            )
        rows = mine[mine["department"].astype(str) == name] if len(mine) else mine
        curves[name] = visit_answered_within(rows, blocked, grid)
    return curves


def wait_inputs(
    calls: pd.DataFrame,
    visits: pd.DataFrame,
    scenario: Scenario,
    subtitle: str,
    reps: int = 1,
    mean_level: float | None = None,
) -> WaitInputs:
    """What `plots_service.wait_figure` draws: the share of offered calls answered within t of joining the
    queue, for all calls (with the service level, the KPI, at the threshold) and, in a centre of several
    departments, for each department with visits (with the threshold its curve is read at: its own where
    departments have their own). The grid of t reaches past the 99th percentile of the answered calls'
    times, and holds the thresholds themselves so that each curve is read exactly there. With `reps`
    replications the curves are replication 0's (`calls`, `visits`) and `mean_level` the mean of all."""
    threshold = float(scenario.service_level.threshold)
    own = department_thresholds(scenario) if has_own_thresholds(scenario) else {}  # read each curve there
    offered = counted_offered(calls, scenario)
    answered = offered.loc[offered["outcome"] == "answered", "time_to_answer"].to_numpy(dtype=float)
    longest = float(np.quantile(answered, 0.99)) if len(answered) else 0.0
    top = max(3 * threshold, longest, 60.0)
    grid = np.unique(np.r_[np.linspace(0.0, top, 400), threshold, *own.values()])
    departments = list(scenario.departments)
    curves: dict[str, np.ndarray] = {}
    if len(departments) > 1 and len(visits):
        curves = {
            name: curve
            for name, curve in department_curves(calls, visits, scenario, grid).items()
            if not np.isnan(curve).all()
        }
    level = service_level(offered, call_thresholds(scenario, offered))
    inputs: WaitInputs = {
        "departments": departments,
        "grid": grid,
        "top": top,
        "threshold": threshold,
        "target": float(scenario.service_level.target),
        "department_curves": curves,
        "department_thresholds": {name: float(own.get(name, threshold)) for name in curves},
        "curve": answered_within(offered, grid),
        "level": float(level),
        "reps": reps,
        "mean_level": mean_level,
        "subtitle": subtitle,
    }
    return inputs


# --- queues --------------------------------------------------------------------------------------------------


MAX_QUEUE_BINS = 2000
"""At most this many bins in the queue picture's fine series (a 33-hour run still gets one-minute bins)."""


def queue_series(
    visits: pd.DataFrame, departments: Sequence[str], end: float, ended_at: float, step: float = 60.0
) -> pd.DataFrame:
    """Mean callers waiting per department in each `step`-second bin of [0, end): a column `t` (bin start,
    seconds after the start) and one column per department. Callers still queued when the day ended count
    until then."""
    edges = np.arange(0.0, end + step, step)
    edges[-1] = min(edges[-1], max(end, step))
    widths = np.diff(edges)
    out = pd.DataFrame({"t": edges[:-1]})
    names = list(departments)
    if not len(visits):
        for name in names:
            out[name] = 0.0
        return out
    # One pass for every department: each visit's department position, then each department's own slice.
    department = row_positions(visits["department"], names)
    known = department >= 0
    queued = visits["queued_at"].to_numpy(dtype=float)[known]
    left = (visits["queued_at"] + visits["wait_time"]).fillna(ended_at).to_numpy(dtype=float)[known]
    area = integrate_levels_by(
        np.concatenate((department[known], department[known])),
        np.concatenate((queued, left)),
        np.concatenate((np.ones(len(queued)), -np.ones(len(queued)))),
        edges,
        len(names),
    )
    means = np.divide(area, widths, out=np.zeros_like(area), where=widths > 0)
    for index, name in enumerate(names):
        out[name] = means[index]
    return out


def queue_inputs(visits: pd.DataFrame, scenario: Scenario, ended_at: float, subtitle: str) -> QueueInputs:
    """What `plots_service.queue_figure` draws: callers waiting in each department's queue over the day, as
    one-minute means (coarser on runs of over MAX_QUEUE_BINS minutes: a year of minutes would not be seen,
    only drawn) and interval means, with each department's mean and busiest bin of the fine series."""
    departments = list(scenario.departments)
    step = max(60.0, scenario.duration / MAX_QUEUE_BINS)
    series = queue_series(visits, departments, scenario.duration, ended_at, step=step)
    means = queue_series(visits, departments, scenario.duration, ended_at, step=scenario.interval)
    inputs: QueueInputs = {
        "departments": departments,
        "times": series["t"].to_numpy(dtype=float),
        "waiting": {name: series[name].to_numpy(dtype=float) for name in departments},
        "interval_times": means["t"].to_numpy(dtype=float),
        "interval_waiting": {name: means[name].to_numpy(dtype=float) for name in departments},
        "mean_waiting": {name: float(series[name].mean()) for name in departments},
        "busiest": {name: float(series[name].max()) for name in departments},
        "start": float(scenario.start),
        "duration": float(scenario.duration),
        "subtitle": subtitle,
    }
    return inputs
