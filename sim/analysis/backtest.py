"""How well a scenario predicts what a call log says happened: the log's calls turned into a calls-table-like
frame, the backtest KPIs per day (or replication), interval and call type computed by the very functions of
`sim/analysis/metrics.py`, and actual days set against the spread of simulated days.

A logged day is one day, so each is compared with the band of a single simulated day (the k-th smallest and
k-th largest of R replications, k = max(1, floor(0.025 (R + 1))): a new day of the same model falls inside
with probability (R + 1 - 2k) / (R + 1), 90.5% with 20 replications, 95% with 39), never with the
confidence interval of the simulated mean. Error summaries per KPI and call type: mean absolute error, bias
(actual - simulated mean) with its standard error, coverage of the bands against the coverage expected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.grouping import Groups, codes
from sim.analysis.metrics import abandon_rate, asa, counted, offered, offered_calls, service_level
from sim.analysis.tables import calls_table
from sim.engine.day import RunResult
from sim.model.scenario import Scenario

KPIS = ("offered", "service_level", "abandon_rate", "asa")
"""The KPIs a backtest compares, each as `sim/analysis/metrics.py` defines it."""
ALL = "all"
"""The call-type label of the figures over every call."""
DAY = 86400.0
COLUMNS = ("arrived_at", "answered_at", "outcome", "wait_time", "time_to_answer", "reason")
"""The calls-table columns the backtest KPIs read."""


# --- the two sides as calls tables -------------------------------------------------------------------------


def simulated_calls(result: RunResult) -> pd.DataFrame:
    """A simulated day's counted calls offered to agents, as the backtest compares them. A log knows when a
    call joined the queue and when an agent picked up, so the wait of an answered call is measured from the
    first queue entry to the first answer (`time_to_answer`) on both sides. Without rings or callbacks that
    is the simulator's own wait and ASA; with rings it includes the ring, and for a caller who took a
    callback it runs to the call back (the simulator's own ASA stops at the ring's start, or at the
    callback request, which a log does not record)."""
    calls = offered_calls(counted(result, calls_table(result)))
    frame = calls[list(COLUMNS)]
    answered = frame["answered_at"].notna().to_numpy()
    waits = np.where(answered, frame["time_to_answer"].to_numpy(), frame["wait_time"].to_numpy())
    return frame.assign(wait_time=waits)


@dataclass(frozen=True)
class LoggedCalls:
    """A log's calls on the scenario's clock: `calls` (the `COLUMNS` plus `day`, the index into `dates`)
    holds the calls offered to agents that arrived within the scenario's counted day; the counts say what
    was left out and why."""

    calls: pd.DataFrame
    dates: tuple[date | None, ...]
    outside_day: int
    """Calls that arrived before the scenario's start or after its close (per the log's dates)."""
    in_warmup: int
    """Calls that arrived in the scenario's warm-up (the simulator does not count them either)."""
    self_served: int
    """Calls resolved in the phone menu (not offered to agents, on either side)."""
    queue_entry_missing: int
    """Answered calls whose queue entry was not recorded: their wait runs from the arrival."""
    unknown_types: dict[str, int]
    """Call types the scenario does not have, with their calls (counted under `all` only)."""


def logged_calls(
    log_calls: pd.DataFrame, dates: Sequence[date | None], scenario: Scenario, recorded: frozenset[str]
) -> LoggedCalls:
    """A call log's rows (`CallLog.calls`: instants in seconds after each day's midnight) as a calls table
    on the scenario's clock (seconds after `scenario.start`). A day that runs past midnight keeps the calls
    logged on the next date before its close. Waits run from the queue entry (`queued_at`; the arrival
    where it is empty or not recorded) to the answer; calls resolved in the menu, arriving outside the
    scenario's day or in its warm-up are left out and counted."""
    start, duration = scenario.start, scenario.duration
    day = log_calls["day"].to_numpy(dtype=np.int64)
    offset = np.full(len(day), start)  # each row's t = 0, in seconds after its own day's midnight
    if start + duration > DAY and len(
        day
    ):  # the day runs past midnight: early calls belong to the day before
        previous = _previous_days(dates)
        early = (log_calls["arrived_at"].to_numpy(dtype=float) - start < 0) & (
            log_calls["arrived_at"].to_numpy(dtype=float) - start + DAY < duration
        )
        day = np.where(early, previous[day], day)
        offset = np.where(early, start - DAY, start)

    def clock(name: str) -> np.ndarray:
        return log_calls[name].to_numpy(dtype=float) - offset

    arrived = clock("arrived_at")
    outcome = log_calls["outcome"].astype(str).to_numpy()
    inside = (day >= 0) & (arrived >= 0) & (arrived < duration)
    warm = inside & (arrived < scenario.warmup)
    menu = outcome == "self_service"
    keep = inside & ~warm & ~menu
    answered = clock("answered_at")
    queued = clock("queued_at") if "queued_at" in recorded else np.full(len(day), np.nan)
    missing = np.isnan(queued)
    queued = np.where(missing, arrived, queued)
    time_to_answer = answered - queued
    ended = clock("ended_at")
    never_queued = (outcome == "blocked") | (outcome == "message")
    waits = np.where(~np.isnan(answered), time_to_answer, np.where(never_queued, np.nan, ended - queued))
    types = log_calls["call_type"] if "call_type" in recorded else pd.Series(pd.NA, index=log_calls.index)
    types = types.astype(object).where(types.notna(), None)
    known = set(scenario.reason_mix())
    chosen = types[keep]
    strange = chosen[chosen.notna() & ~chosen.isin(list(known))]
    frame = pd.DataFrame(
        {
            "day": day[keep],
            "arrived_at": arrived[keep],
            "answered_at": answered[keep],
            "outcome": outcome[keep],
            "wait_time": waits[keep],
            "time_to_answer": time_to_answer[keep],
            "reason": chosen.to_numpy(dtype=object),
        }
    )
    return LoggedCalls(
        calls=frame,
        dates=tuple(dates),
        outside_day=int((~inside).sum()),
        in_warmup=int(warm.sum()),
        self_served=int((inside & ~warm & menu).sum()),
        queue_entry_missing=int((keep & missing & ~np.isnan(answered)).sum()),
        unknown_types={str(k): int(v) for k, v in strange.value_counts().items()},
    )


def _previous_days(dates: Sequence[date | None]) -> np.ndarray:
    """Per day index, the index of the calendar day before it in the log, or -1 (the index -1, a row
    already outside, maps to -1 too: the array has one more slot at its end)."""
    where = {on: index for index, on in enumerate(dates) if on is not None}
    previous = [where.get(on - timedelta(days=1), -1) if on is not None else -1 for on in dates]
    return np.array([*previous, -1], dtype=np.int64)


# --- KPIs per day, interval and call type ------------------------------------------------------------------


def interval_kpis(
    calls: pd.DataFrame, scenario: Scenario, call_types: Sequence[str], days: int = 1
) -> pd.DataFrame:
    """Per day (`calls["day"]`, or one day without the column), interval (by arrival, the scenario's
    `interval`) and call type (`all` first, then `call_types`): the `KPIS`, from one grouped pass each.
    Rows run day-major, then interval, then call type; a call type the list lacks counts under `all` only."""
    edges = np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)
    count = len(edges) - 1
    span = 1 + len(call_types)
    interval = np.clip(
        np.searchsorted(edges, calls["arrived_at"].to_numpy(dtype=float), side="right") - 1, 0, count - 1
    )
    day = calls["day"].to_numpy(dtype=np.int64) if "day" in calls else np.zeros(len(calls), dtype=np.int64)
    cell = day * count + interval
    reason = calls["reason"]
    if not isinstance(reason.dtype, pd.CategoricalDtype):
        reason = reason.astype("category")
    kind = codes(reason, list(call_types))
    size = days * count * span
    every = Groups(cell * span, size)
    by_type = Groups(np.where(kind >= 0, cell * span + 1 + kind, -1), size)
    threshold = scenario.service_level.threshold
    slot = np.tile(np.arange(span), days * count)
    figures = {  # `all` from the pass over every call, each type's from the pass by type
        name: np.where(slot == 0, _kpi(name, calls, threshold, every), _kpi(name, calls, threshold, by_type))
        for name in KPIS
    }
    labels = np.array([ALL, *call_types], dtype=object)
    return pd.DataFrame(
        {
            "day": np.repeat(np.arange(days), count * span),
            "interval": np.tile(np.repeat(np.arange(count), span), days),
            "call_type": np.tile(labels, days * count),
            **figures,
        }
    )


def _kpi(name: str, calls: pd.DataFrame, threshold: float, by: Groups) -> np.ndarray:
    """One backtest KPI per group, by the analysis layer's definition."""
    if name == "offered":
        return np.asarray(offered(calls, by=by), dtype=float)
    if name == "service_level":
        return np.asarray(service_level(calls, threshold, by=by))
    if name == "abandon_rate":
        return np.asarray(abandon_rate(calls, by=by))
    return np.asarray(asa(calls, by=by))


# --- actual against simulated ------------------------------------------------------------------------------


def band_rank(replications: np.ndarray) -> np.ndarray:
    """k per cell: the band of a single day is the k-th smallest and k-th largest of n simulated values,
    k = max(1, floor(0.025 (n + 1))) (the 2.5% and 97.5% quantiles as order statistics)."""
    return np.maximum(1, np.floor(0.025 * (replications + 1))).astype(np.int64)


def day_bands(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of `values` (replications x cells, NaN where a replication has no figure): the mean, the
    band of a single day (low, high) and the probability (R + 1 - 2k) / (R + 1) that a new day of the same
    model falls inside it (NaN without two replications)."""
    present = (~np.isnan(values)).sum(axis=0)
    ordered = np.sort(values, axis=0)  # NaN last
    rank = band_rank(present)
    cells = np.arange(values.shape[1])
    usable = present >= 2
    low = np.full(values.shape[1], math.nan)
    high = np.full(values.shape[1], math.nan)
    low[usable] = ordered[rank[usable] - 1, cells[usable]]
    high[usable] = ordered[present[usable] - rank[usable], cells[usable]]
    expected = np.where(usable, (present + 1 - 2 * rank) / np.maximum(present + 1, 1), math.nan)
    with np.errstate(all="ignore"):
        mean = np.where(present > 0, np.nansum(values, axis=0) / np.maximum(present, 1), math.nan)
    return mean, low, high, expected


@dataclass(frozen=True)
class Comparison:
    """`table`: one row per KPI x call type x interval x logged day (and a `mean` row over the days);
    `errors`: one row per KPI x call type."""

    table: pd.DataFrame
    errors: pd.DataFrame


def compare(
    actual: pd.DataFrame,
    simulated: pd.DataFrame,
    dates: Sequence[str],
    starts: Sequence[str],
) -> Comparison:
    """Actual days (`interval_kpis` rows with `day`) against replications (the same rows with `day` the
    replication), per KPI, call type and interval. `dates` labels the days, `starts` the intervals."""
    days, reps = len(dates), int(simulated["day"].max()) + 1 if len(simulated) else 0
    cells = len(actual) // max(days, 1)
    types = actual["call_type"].to_numpy()[:cells]
    interval = actual["interval"].to_numpy()[:cells]
    tables, errors = [], []
    for name in KPIS:
        truth = actual[name].to_numpy(dtype=float).reshape(days, cells)
        runs = simulated[name].to_numpy(dtype=float).reshape(reps, cells)
        mean, low, high, expected = day_bands(runs)
        inside = (truth >= low - 1e-9) & (truth <= high + 1e-9)
        comparable = ~np.isnan(truth) & ~np.isnan(low)
        tables.append(
            pd.DataFrame(
                {
                    "kpi": name,
                    "call_type": np.tile(types, days),
                    "interval": np.tile(interval, days),
                    "start": np.tile(np.asarray(starts, dtype=object)[interval], days),
                    "date": np.repeat(np.asarray(dates, dtype=object), cells),
                    "actual": truth.reshape(-1),
                    "simulated_mean": np.tile(mean, days),
                    "band_low": np.tile(low, days),
                    "band_high": np.tile(high, days),
                    "inside": _flags(inside.reshape(-1), comparable.reshape(-1)),
                    "expected_coverage": np.tile(expected, days),
                }
            )
        )
        seen = (~np.isnan(truth)).sum(axis=0)
        mean_actual = np.where(seen > 0, np.nansum(truth, axis=0) / np.maximum(seen, 1), math.nan)
        tables.append(_mean_rows(name, types, interval, starts, mean_actual, runs, mean, days))
        for label in dict.fromkeys(types):
            mine = types == label
            errors.append(
                _errors(
                    name,
                    str(label),
                    truth[:, mine],
                    runs[:, mine],
                    mean[mine],
                    inside[:, mine],
                    comparable[:, mine],
                    expected[mine],
                )
            )
    return Comparison(pd.concat(tables, ignore_index=True), pd.DataFrame(errors))


def _flags(inside: np.ndarray, comparable: np.ndarray) -> pd.arrays.BooleanArray:
    """Whether each actual fell inside its band, missing (NA) where either side has no figure."""
    flags = pd.array(np.asarray(inside, dtype=bool), dtype="boolean")
    flags[~np.asarray(comparable, dtype=bool)] = pd.NA
    return flags


def _mean_rows(
    name: str,
    types: np.ndarray,
    interval: np.ndarray,
    starts: Sequence[str],
    mean_actual: np.ndarray,
    runs: np.ndarray,
    mean: np.ndarray,
    days: int,
) -> pd.DataFrame:
    """The `mean` rows: the mean over logged days against the band of a mean of that many days (Student-t,
    from the replications' spread: mean +- t(R-1) sd sqrt(1/days + 1/R))."""
    present = (~np.isnan(runs)).sum(axis=0)
    with np.errstate(all="ignore"):
        spread = np.nanstd(runs, axis=0, ddof=1)
        width = (
            stats.t.ppf(0.975, np.maximum(present - 1, 1)) * spread * np.sqrt(1 / max(days, 1) + 1 / present)
        )
    width = np.where(present >= 2, width, np.nan)
    low, high = mean - width, mean + width
    comparable = ~np.isnan(mean_actual) & ~np.isnan(low)
    inside = (mean_actual >= low - 1e-9) & (mean_actual <= high + 1e-9)
    return pd.DataFrame(
        {
            "kpi": name,
            "call_type": types,
            "interval": interval,
            "start": np.asarray(starts, dtype=object)[interval],
            "date": "mean",
            "actual": mean_actual,
            "simulated_mean": mean,
            "band_low": low,
            "band_high": high,
            "inside": _flags(inside, comparable),
            "expected_coverage": np.where(comparable, 0.95, np.nan),
        }
    )


def _errors(
    name: str,
    label: str,
    truth: np.ndarray,
    runs: np.ndarray,
    mean: np.ndarray,
    inside: np.ndarray,
    comparable: np.ndarray,
    expected: np.ndarray,
) -> dict[str, object]:
    """One KPI and call type's error summary over its (day, interval) cells where both sides have a figure.

    Bias is the mean over days of each day's mean (actual - simulated mean). Its standard error adds the
    day-to-day spread of those daily biases (over the days; with one day, the spread of simulated days in its
    place) and the simulated mean's own error (the spread of the replications' daily deviations / R);
    `bias_flagged` says |bias| exceeds the Student-t 97.5% quantile (Welch's degrees of freedom) times it."""
    gap = np.where(comparable, truth - mean, np.nan)
    used = comparable.any(axis=0)
    with np.errstate(all="ignore"):
        daily = np.nanmean(gap, axis=1)
        deviation = np.nanmean(np.where(np.isnan(runs), np.nan, runs - mean)[:, used], axis=1)
    daily = daily[~np.isnan(daily)]
    deviation = deviation[~np.isnan(deviation)]
    cells = int(comparable.sum())
    days, reps = len(daily), len(deviation)
    bias = float(daily.mean()) if days else math.nan
    model_var = float(deviation.var(ddof=1)) if reps >= 2 else math.nan
    day_var = float(daily.var(ddof=1)) if days >= 2 else model_var
    day_df = days - 1 if days >= 2 else reps - 1
    part_days = day_var / days if days else math.nan
    part_runs = model_var / reps if reps >= 2 else math.nan
    se = math.sqrt(part_days + part_runs) if days and reps >= 2 else math.nan
    if se > 0:
        df = (part_days + part_runs) ** 2 / (part_days**2 / max(day_df, 1) + part_runs**2 / (reps - 1))
        flagged = abs(bias) > float(stats.t.ppf(0.975, df)) * se
    else:
        df, flagged = math.nan, bool(days and abs(bias) > 1e-12)
    return {
        "kpi": name,
        "call_type": label,
        "cells": cells,
        "days": days,
        "actual_mean": float(np.nanmean(np.where(comparable, truth, np.nan))) if cells else math.nan,
        "simulated_mean": float(np.nanmean(np.where(comparable, mean, np.nan))) if cells else math.nan,
        "mean_absolute_error": float(np.nanmean(np.abs(gap))) if cells else math.nan,
        "bias": bias,
        "bias_se": se,
        "bias_df": df,
        "bias_flagged": bool(flagged),
        "coverage": float(inside[comparable].mean()) if cells else math.nan,
        "expected_coverage": float(np.nanmean(np.where(comparable, expected, np.nan))) if cells else math.nan,
    }
