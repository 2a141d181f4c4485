"""Pictures of a run, drawn from a results folder's tables: service level against the target, call volumes,
the wait distribution, queues, staffing against work, transfers, agents met per caller, and (with
replications) how the means settle. Each figure stands alone: title, units, legend, clock-time axis.

Every plot is a data function (tested against summary.json) and a drawing function returning a matplotlib
`Figure`; `write_plots` saves them all as PNG in the run's `plots/` folder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from sim.analysis.metrics import agents_touched_distribution, half_width, offered_calls, service_level
from sim.analysis.tables import integrate_levels_by
from sim.model.durations import format_clock
from sim.model.scenario import Scenario
from sim.output.saved import SavedRun

DPI = 100
WIDE = (10.0, 4.8)
ALL_COLOUR = "#222222"
TARGET_COLOUR = "#c0392b"
OUTCOME_COLOURS = {"offered": "#9aa5b1", "answered": "#2e8b57", "abandoned": "#d9534f", "blocked": "#5b3a29"}
TOUCHED = ("1", "2", "3", "4", "5+")


def department_colours(departments: Sequence[str]) -> dict[str, str]:
    """One stable colour per department (scenario order), `all` in near-black."""
    palette = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
        "#d62728",
    ]
    colours = {name: palette[i % len(palette)] for i, name in enumerate(departments)}
    colours["all"] = ALL_COLOUR
    return colours


def _figure(size: tuple[float, float] = WIDE) -> Figure:
    return Figure(figsize=size, dpi=DPI, layout="constrained")


def _clock_axis(
    ax: Any, starts: Sequence[str], label: str = "interval start (clock)", most: int = 12
) -> None:
    """Interval positions 0..n-1 labelled with their clock start, at most about `most` labels."""
    step = max(1, math.ceil(len(starts) / most))
    positions = list(range(0, len(starts), step))
    ax.set_xticks(positions)
    ax.set_xticklabels([starts[i] for i in positions], rotation=0)
    ax.set_xlabel(label)
    if len(starts):
        ax.set_xlim(-0.6, len(starts) - 0.4)


def _seconds_clock_axis(ax: Any, scenario: Scenario, end: float) -> None:
    """An x axis in seconds after the start, labelled with the scenario's clock."""
    hour = 3600.0
    step = hour * max(1, math.ceil(end / hour / 12))
    first = math.ceil(scenario.start / step) * step - scenario.start
    ax.set_xticks(np.arange(first, end + 1e-9, step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_clock(scenario.start + x)))
    ax.set_xlim(0, end)
    ax.set_xlabel("clock time")


def _subtitle(run: SavedRun, first_only: bool = False) -> str:
    """`name (seed 3, mean of 8 replications)`, or `replication 0 of 8` for pictures drawn from replication
    0's tables."""
    reps = ""
    if run.reps > 1:
        reps = f", replication 0 of {run.reps}" if first_only else f", mean of {run.reps} replications"
    return f"{run.scenario.name} (seed {run.meta.get('seed', '?')}{reps})"


def _title(fig: Figure, title: str, subtitle: str) -> None:
    fig.suptitle(f"{title}\n{subtitle}", fontsize=12)


# --- service level and volumes by interval ------------------------------------------------------------------


def interval_rows(intervals: pd.DataFrame, department: str = "all") -> pd.DataFrame:
    """The interval table's rows for one department (or `all`), in interval order."""
    rows = intervals[intervals["department"].astype(str) == department]
    return rows.sort_values("interval").reset_index(drop=True)


def service_level_figure(
    intervals: pd.DataFrame, departments: Sequence[str], target: float, threshold: float, subtitle: str
) -> Figure:
    """Service level per interval (all calls and each department) against the target line; with
    replications, a shaded 95% confidence band around each line; intervals below target marked."""
    fig = _figure()
    ax = fig.add_subplot()
    colours = department_colours(departments)
    overall = interval_rows(intervals)
    x = np.arange(len(overall))
    banded = "service_level_ci95" in intervals.columns
    for name in [*departments, "all"] if len(departments) > 1 else ["all"]:
        rows = interval_rows(intervals, name)
        if rows.empty:
            continue
        level = rows["service_level"].to_numpy(dtype=float)
        wide = name == "all"
        ax.plot(
            x[: len(level)],
            level,
            color=colours[name],
            linewidth=2.4 if wide else 1.3,
            marker="o" if wide else None,
            markersize=4,
            label="all calls" if wide else name,
            zorder=3 if wide else 2,
        )
        if banded and wide:
            half = rows["service_level_ci95"].to_numpy(dtype=float)
            ax.fill_between(
                x[: len(level)],
                np.clip(level - half, 0, 1),
                np.clip(level + half, 0, 1),
                color=colours[name],
                alpha=0.2,
                linewidth=0,
                label="95% confidence band (all calls)",
            )
    missed = overall["service_level"].to_numpy(dtype=float) < target
    if missed.any():
        ax.scatter(
            x[missed],
            overall["service_level"].to_numpy(dtype=float)[missed],
            s=70,
            facecolors="none",
            edgecolors=TARGET_COLOUR,
            linewidths=1.6,
            zorder=4,
            label="all calls below target",
        )
    ax.axhline(
        target, color=TARGET_COLOUR, linestyle="--", linewidth=1.5, label=f"target {100 * target:.0f}%"
    )
    ax.set_ylim(0, 1.04)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(f"answered within {threshold:g} s (% of offered)")
    _clock_axis(ax, list(overall["start"].astype(str)))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8, ncol=2, framealpha=0.9)
    _title(fig, "Service level by interval", subtitle)
    return fig


def _bars(ax: Any, centres: np.ndarray, heights: np.ndarray, width: float, colour: str, label: str) -> None:
    """Bars from 0 to `heights` drawn as one collection: the same picture as `ax.bar`, without an artist per
    bar (a year of hourly intervals is 26,000 bars)."""
    heights = np.nan_to_num(heights)
    left, right = centres - width / 2, centres + width / 2
    corners = np.stack(
        (
            np.column_stack((left, np.zeros_like(heights))),
            np.column_stack((left, heights)),
            np.column_stack((right, heights)),
            np.column_stack((right, np.zeros_like(heights))),
        ),
        axis=1,
    )
    bars = PolyCollection(cast(Any, corners), facecolors=colour, edgecolors="none", label=label)
    ax.add_collection(bars, autolim=False)  # the limits at once, not from every bar's path
    if len(heights):
        ax.update_datalim(
            [(float(left.min()), min(0.0, float(heights.min()))), (float(right.max()), float(heights.max()))]
        )


def volume_figure(intervals: pd.DataFrame, subtitle: str) -> Figure:
    """Calls offered, answered and abandoned (and blocked, if any) per interval, all departments."""
    rows = interval_rows(intervals)
    fig = _figure()
    ax = fig.add_subplot()
    kinds = ["offered", "answered", "abandoned"] + (["blocked"] if rows["blocked"].sum() > 0 else [])
    width = 0.8 / len(kinds)
    x = np.arange(len(rows))
    for i, kind in enumerate(kinds):
        _bars(
            ax,
            x - 0.4 + width * (i + 0.5),
            rows[kind].to_numpy(dtype=float),
            width,
            OUTCOME_COLOURS[kind],
            kind,
        )
    ax.autoscale_view()
    ax.set_ylim(bottom=0)
    _clock_axis(ax, list(rows["start"].astype(str)))
    ax.set_ylabel("calls per interval")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    _title(fig, "Offered, answered and abandoned calls by interval", subtitle)
    return fig


# --- waits ---------------------------------------------------------------------------------------------------


def counted_offered(calls: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The calls the KPIs count: arrived after the warm-up and offered to agents (not self-served)."""
    return offered_calls(calls[calls["arrived_at"] >= scenario.warmup])


def wait_ecdf(waits: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of waits: sorted values and the share at or below each."""
    values = np.sort(np.asarray(waits, dtype=float)[~np.isnan(np.asarray(waits, dtype=float))])
    if not len(values):
        return np.zeros(0), np.zeros(0)
    return values, np.arange(1, len(values) + 1) / len(values)


def answered_within(calls: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """For each time t in `grid`: calls answered within t of joining the queue / offered (at the service-level
    threshold this is the service level)."""
    if not len(calls):
        return np.full(len(grid), np.nan)
    answered = calls["outcome"] == "answered"
    times = np.sort(calls.loc[answered, "time_to_answer"].to_numpy(dtype=float))
    return np.searchsorted(times, grid + 1e-9, side="right") / len(calls)


def wait_figure(calls: pd.DataFrame, visits: pd.DataFrame, scenario: Scenario, subtitle: str) -> Figure:
    """The wait distribution: CDF of queue waits (all calls, each department) and the share of offered calls
    answered within t, with the service-level threshold marked."""
    threshold = scenario.service_level.threshold
    offered = counted_offered(calls, scenario)
    reached = offered[offered["outcome"] != "blocked"]
    x_all, y_all = wait_ecdf(reached["wait_time"])
    top = max(3 * threshold, float(np.quantile(x_all, 0.99)) if len(x_all) else 0.0, 60.0)
    fig = _figure()
    ax = fig.add_subplot()
    departments = list(scenario.departments)
    colours = department_colours(departments)
    if len(departments) > 1 and len(visits):
        counted = visits[visits["queued_at"] >= scenario.warmup]
        for name in departments:
            x, y = wait_ecdf(counted.loc[counted["department"] == name, "wait_time"])
            if len(x):
                ax.step(
                    np.r_[0.0, x, top],
                    np.r_[0.0, y, 1.0],
                    where="post",
                    color=colours[name],
                    linewidth=1.0,
                    alpha=0.8,
                    label=f"{name}: queue wait (visits)",
                )
    if len(x_all):
        ax.step(
            np.r_[0.0, x_all, top],
            np.r_[0.0, y_all, 1.0],
            where="post",
            color=ALL_COLOUR,
            linewidth=2.2,
            label="all calls: queue wait (until taken or hung up)",
        )
    grid = np.linspace(0.0, top, 400)
    ax.plot(
        grid,
        answered_within(offered, grid),
        color="#2e8b57",
        linewidth=2.0,
        linestyle="-.",
        label="answered within t (share of offered calls)",
    )
    level = service_level(offered, threshold)
    ax.axvline(
        threshold, color=TARGET_COLOUR, linestyle="--", linewidth=1.5, label=f"threshold {threshold:g} s"
    )
    ax.axhline(scenario.service_level.target, color=TARGET_COLOUR, linestyle=":", linewidth=1.0)
    if not math.isnan(level):
        ax.plot([threshold], [level], "o", color="#2e8b57", markersize=7, zorder=5)
        ax.annotate(
            f"service level {100 * level:.1f}%\n(target {100 * scenario.service_level.target:.0f}%)",
            (threshold, level),
            xytext=(12, -28),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlim(0, top)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("wait t (seconds)")
    ax.set_ylabel("share of calls")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    _title(fig, "Wait-time distribution (CDF)", subtitle)
    return fig


# --- queues and staffing ------------------------------------------------------------------------------------


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
    department = _positions(visits["department"], names)
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


def _positions(column: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Each row's position in `names` (-1 for a value not there), for a categorical or plain column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        position = {name: i for i, name in enumerate(names)}
        lookup = np.array([position.get(str(c), -1) for c in column.cat.categories] + [-1], dtype=np.int64)
        return lookup[column.cat.codes.to_numpy()]
    return pd.Index(list(names)).get_indexer(pd.Index(column.astype(str)))


def queue_figure(visits: pd.DataFrame, scenario: Scenario, ended_at: float, subtitle: str) -> Figure:
    """Callers waiting in each department's queue over the day: one-minute averages (coarser on runs of over
    MAX_QUEUE_BINS minutes) and interval means, one panel per department on a shared scale."""
    departments = list(scenario.departments)
    step = max(60.0, scenario.duration / MAX_QUEUE_BINS)  # a year of minutes would not be seen, only drawn
    series = queue_series(visits, departments, scenario.duration, ended_at, step=step)
    means = queue_series(visits, departments, scenario.duration, ended_at, step=scenario.interval)
    colours = department_colours(departments)
    fig = _figure((10.0, 1.6 + 1.5 * len(departments)))
    axes = fig.subplots(len(departments), 1, squeeze=False, sharex=True, sharey=True)
    for index, name in enumerate(departments):
        ax = axes[index][0]
        ax.fill_between(
            series["t"],
            series[name],
            step="post",
            color=colours[name],
            alpha=0.35,
            linewidth=0,
            label="1-minute mean",
        )
        ax.step(
            np.r_[means["t"], scenario.duration],
            np.r_[means[name], means[name].iloc[-1] if len(means) else 0.0],
            where="post",
            color=colours[name],
            linewidth=1.8,
            label="interval mean",
        )
        ax.set_ylabel("callers", fontsize=9)
        ax.text(
            0.005,
            0.92,
            f"{name}: mean {series[name].mean():.2f}, busiest minute {series[name].max():.1f}",
            transform=ax.transAxes,
            va="top",
            fontsize=9,
            fontweight="bold",
        )
        ax.grid(alpha=0.3)
        if index == 0:
            ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    axes[0][0].set_ylim(bottom=0, top=max(1.0, float(series[departments].to_numpy().max()) * 1.25))
    _seconds_clock_axis(axes[-1][0], scenario, scenario.duration)
    _title(fig, "Queue length over the day (callers waiting)", subtitle)
    return fig


def staffing_series(intervals: pd.DataFrame, department: str = "all") -> pd.DataFrame:
    """Per interval: clock start, agents scheduled, agents logged in, agents busy (occupancy x logged in)
    and occupancy."""
    rows = interval_rows(intervals, department)
    occupancy = rows["occupancy"].to_numpy(dtype=float)
    logged_in = rows["agents_logged_in"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "start": rows["start"].astype(str),
            "scheduled": rows["agents_scheduled"].to_numpy(dtype=float),
            "logged_in": logged_in,
            "busy": np.nan_to_num(occupancy * logged_in),
            "occupancy": occupancy,
        }
    )


def _stairs(ax: Any, values: pd.Series | np.ndarray, edges: np.ndarray, **style: Any) -> None:
    """`ax.stairs`, the same picture, without its limit update that walks every step as a Bezier curve
    (seconds for a year of hourly intervals): drawn from one step, given all of them, limits set at once."""
    heights = np.asarray(values, dtype=float)
    if len(heights) < 2:
        ax.stairs(heights, edges, **style)
        return
    patch = ax.stairs(heights[:1], edges[:2], **style)
    patch.set_data(heights, edges)
    finite = heights[np.isfinite(heights)]
    if len(finite):
        ax.update_datalim([(edges[0], min(0.0, float(finite.min()))), (edges[-1], float(finite.max()))])
    ax.autoscale_view()


def staffing_figure(intervals: pd.DataFrame, departments: Sequence[str], subtitle: str) -> Figure:
    """Per department or agent group (and all agents): agents scheduled and logged in against agents busy,
    per interval."""
    names = ["all", *departments] if len(departments) > 1 else ["all"]
    columns = len(names) if len(names) <= 2 else 2 if len(names) == 4 else 3
    rows = math.ceil(len(names) / columns)
    fig = _figure((10.0, 1.0 + 3.0 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    for index, name in enumerate(names):
        ax = axes[index // columns][index % columns]
        data = staffing_series(intervals, name)
        edges = np.arange(len(data) + 1)  # interval i spans [i, i + 1): its figure holds from its start
        _stairs(ax, data["busy"], edges, fill=True, color="#f4a259", alpha=0.75, label="busy")
        _stairs(ax, data["logged_in"], edges, color="#20639b", linewidth=1.2, label="logged in")
        _stairs(
            ax, data["scheduled"], edges, color="#222222", linewidth=1.4, linestyle="--", label="scheduled"
        )
        busy = float(data["busy"].sum())
        logged = float(data["logged_in"].sum())
        share = f"{100 * busy / logged:.0f}%" if logged > 0 else "-"
        ax.set_title(f"{'all agents' if name == 'all' else name}: occupancy {share}", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        _clock_axis(ax, list(data["start"]), label="interval start", most=12 // columns)
        ax.set_xlim(0, len(data))
        if index % columns == 0:
            ax.set_ylabel("agents")
        if index == 0:
            ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    for index in range(len(names), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    _title(fig, "Agents scheduled, logged in and busy, per interval", subtitle)
    return fig


# --- transfers and agents met -------------------------------------------------------------------------------


def transfer_counts(
    events: pd.DataFrame, departments: Sequence[str], counted: pd.Series | None = None
) -> pd.DataFrame:
    """Transfers counted by (from, to): rows are the transferring department, columns the target (the
    event's `detail` is the target's index in the scenario's department order); with `counted` (call
    ids), only transfers of those calls, as in the summary (callers of the warm-up are left out)."""
    names = list(departments)
    size = len(names)
    counts = np.zeros((size, size), dtype=np.int64)
    if len(events):
        rows = events[(events["event"].astype(str) == "transfer").to_numpy()]
        if counted is not None:
            rows = rows[rows["call_id"].isin(counted).to_numpy()]
        source = _positions(rows["department"], names)
        target = rows["detail"].to_numpy().astype(np.int64)
        known = (source >= 0) & (target >= 0) & (target < size)
        counts = np.bincount(source[known] * size + target[known], minlength=size * size).reshape(size, size)
    return pd.DataFrame(counts, index=pd.Index(names, name="from"), columns=pd.Index(names, name="to"))


def transfer_figure(matrix: pd.DataFrame, subtitle: str) -> Figure:
    """A heat map of transfers from department (rows) to department (columns), or a plain notice when there
    were none."""
    total = int(matrix.to_numpy().sum())
    size = max(4.0, 1.1 * len(matrix) + 3.0)
    fig = _figure((size + 1.5, size))
    ax = fig.add_subplot()
    if total == 0:
        ax.axis("off")
        ax.text(0.5, 0.5, "no transfers in this run", ha="center", va="center", fontsize=16, color="#555555")
        _title(fig, "Transfers between departments", subtitle)
        return fig
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Blues", vmin=0)
    top = values.max()
    for (i, j), count in np.ndenumerate(values):
        ax.text(
            j,
            i,
            f"{int(count)}",
            ha="center",
            va="center",
            fontsize=9,
            color="white" if count > 0.6 * top else "#222222",
        )
    ax.set_xticks(range(len(matrix.columns)))
    ax.set_xticklabels(list(matrix.columns), rotation=30, ha="right")
    ax.set_yticks(range(len(matrix.index)))
    ax.set_yticklabels(list(matrix.index))
    ax.set_xlabel("to department")
    ax.set_ylabel("from department")
    fig.colorbar(image, ax=ax, shrink=0.8, label="transfers (calls)")
    _title(fig, f"Transfers between departments ({total:,} in all)", subtitle)
    return fig


def touched_shares(summary: Mapping[str, Any], calls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of answered calls that met 1, 2, 3, 4, 5+ agents (summary.json's `agents_touched`, computed from
    the calls if the summary lacks it), with 95% half-widths when replicated."""
    shares = summary.get("agents_touched")
    if not isinstance(shares, Mapping) and calls is not None:
        shares = agents_touched_distribution(calls)
    shares = shares or {}
    ci = (summary.get("ci95") or {}).get("agents_touched") or {}
    return pd.DataFrame(
        {
            "agents": list(TOUCHED),
            "share": [float(shares.get(k) or 0.0) for k in TOUCHED],
            "ci95": [float(ci.get(k) or 0.0) for k in TOUCHED],
        }
    )


def touched_figure(shares: pd.DataFrame, mean: float | None, subtitle: str) -> Figure:
    """Bars: share of answered callers who met 1, 2, 3, 4, 5+ agents (error bars: 95% CI with replications)."""
    fig = _figure((8.0, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(shares))
    errors = shares["ci95"].to_numpy(dtype=float)
    ax.bar(
        x,
        shares["share"],
        color="#3caea3",
        yerr=errors if errors.any() else None,
        capsize=4,
        label="share of answered calls" + (" (95% CI)" if errors.any() else ""),
    )
    for i, share in enumerate(shares["share"]):
        ax.text(i, share + 0.015, f"{100 * share:.1f}%", ha="center", fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels(list(shares["agents"]))
    ax.set_xlabel("agents who answered the caller")
    ax.set_ylabel("share of answered calls")
    ax.set_ylim(0, 1.1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    extra = f" (mean {mean:.2f})" if mean is not None and not math.isnan(mean) else ""
    _title(fig, f"Agents met per answered caller{extra}", subtitle)
    return fig


# --- replications -------------------------------------------------------------------------------------------

REPLICATED = (
    ("service_level", "service level", "%"),
    ("asa", "average speed of answer", "s"),
    ("abandon_rate", "abandonment", "%"),
    ("occupancy", "occupancy", "%"),
)


def running_means(replications: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per replication: its value of `key`, the mean of replications so far, and that mean's 95% band."""
    values = replications[key].to_numpy(dtype=float)
    means, lows, highs = [], [], []
    for k in range(1, len(values) + 1):
        seen = values[:k]
        mean = float(np.nanmean(seen)) if np.isfinite(seen).any() else math.nan
        half = half_width(list(seen))
        means.append(mean)
        lows.append(mean - half)
        highs.append(mean + half)
    return pd.DataFrame(
        {
            "replication": replications["replication"],
            "value": values,
            "mean": means,
            "low": lows,
            "high": highs,
        }
    )


def replications_figure(replications: pd.DataFrame, subtitle: str) -> Figure:
    """Each replication's KPI and the running mean with its 95% confidence band, for the headline KPIs."""
    fig = _figure((10.0, 6.5))
    axes = fig.subplots(2, 2, squeeze=False)
    for index, (key, label, unit) in enumerate(REPLICATED):
        ax = axes[index // 2][index % 2]
        if key not in replications.columns:
            ax.set_visible(False)
            continue
        data = running_means(replications, key)
        n = np.arange(1, len(data) + 1)
        ax.scatter(n, data["value"], s=14, color="#9aa5b1", label="one replication", zorder=3)
        ax.plot(n, data["mean"], color="#20639b", linewidth=1.8, label="mean so far")
        low, high = data["low"].to_numpy(dtype=float), data["high"].to_numpy(dtype=float)
        if unit == "%":
            low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
        else:
            low = np.clip(low, 0, None)
        ax.fill_between(n, low, high, color="#20639b", alpha=0.18, linewidth=0, label="95% CI")
        if unit == "%":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(
            "seconds" if unit == "s" else "share of calls" if key != "occupancy" else "busy / logged in"
        )
        ax.set_xlabel("replications")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if index == 0:
            ax.legend(fontsize=7, loc="best")
    _title(fig, "Replications: KPIs and their 95% confidence bands", subtitle)
    return fig


# --- all plots of a run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlotSpec:
    """One picture of the report: its file name, heading and what it shows."""

    name: str
    file: str
    title: str
    caption: str


SPECS = {
    spec.name: spec
    for spec in (
        PlotSpec(
            "service_level",
            "service_level.png",
            "Service level by interval",
            "Share of offered calls answered within the threshold, per interval, against the target "
            "(circled: intervals where all calls together missed it).",
        ),
        PlotSpec(
            "volumes",
            "volumes.png",
            "Calls by interval",
            "Calls offered, answered and abandoned per interval (by arrival interval).",
        ),
        PlotSpec(
            "wait_cdf",
            "wait_cdf.png",
            "Wait-time distribution",
            "Cumulative distribution of queue waits; the dash-dot curve is the share of offered calls answered "
            "within t, which equals the service level at the threshold.",
        ),
        PlotSpec(
            "queue",
            "queue.png",
            "Queue length over the day",
            "Callers waiting in each department's queue, one-minute averages (replication 0).",
        ),
        PlotSpec(
            "staffing",
            "staffing.png",
            "Agents scheduled and busy",
            "Agents scheduled and logged in against agents busy (ringing, talking, wrapping up) per interval.",
        ),
        PlotSpec(
            "transfers",
            "transfers.png",
            "Transfer flow",
            "Transfers from department (rows) to department (columns), replication 0.",
        ),
        PlotSpec(
            "agents_touched",
            "agents_touched.png",
            "Agents met per caller",
            "How many agents answered each answered caller.",
        ),
        PlotSpec(
            "replications",
            "replications.png",
            "Replications",
            "Each replication's value and the running mean with its 95% confidence band.",
        ),
    )
}


@dataclass(frozen=True)
class WrittenPlot:
    """A saved picture: its spec, the PNG's path, and a note when the picture has nothing to show."""

    spec: PlotSpec
    path: Path
    note: str = ""


def figure_builders(run: SavedRun) -> dict[str, tuple[Callable[[], Figure], str]]:
    """How to draw every figure of a run, by plot name, with a note for the report when it has nothing to
    show: drawn one at a time, a long run's figures need not all be in memory together."""
    scenario = run.scenario
    subtitle = _subtitle(run)
    first = _subtitle(run, first_only=True)
    departments = run.departments
    target = scenario.service_level.target
    matrix = transfer_counts(
        run.transfer_events, departments, counted_offered(run.calls, scenario)["call_id"]
    )
    builders: dict[str, Callable[[], Figure]] = {
        "service_level": lambda: service_level_figure(
            run.intervals, departments, target, scenario.service_level.threshold, subtitle
        ),
        "volumes": lambda: volume_figure(run.intervals, subtitle),
        "wait_cdf": lambda: wait_figure(run.calls, run.visits, scenario, first),
        "queue": lambda: queue_figure(run.visits, scenario, run.ended_at, first),
        "staffing": lambda: staffing_figure(
            run.intervals, [*departments, *(run.scenario.agent_groups or {})], subtitle
        ),
        "transfers": lambda: transfer_figure(matrix, first),
        "agents_touched": lambda: touched_figure(
            touched_shares(run.summary, run.calls), run.summary.get("mean_agents_touched"), subtitle
        ),
    }
    if run.replications is not None and len(run.replications) > 1:
        builders["replications"] = lambda: replications_figure(run.replications, subtitle)  # type: ignore[arg-type]
    notes = {"transfers": "No transfers in this run." if int(matrix.to_numpy().sum()) == 0 else ""}
    return {name: (build, notes.get(name, "")) for name, build in builders.items()}


def write_plots(run: SavedRun, folder: Path) -> list[WrittenPlot]:
    """Draw every figure of the run and save it as PNG in `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (build, note) in figure_builders(run).items():
        spec = SPECS[name]
        path = folder / spec.file
        build().savefig(path, dpi=DPI)
        written.append(WrittenPlot(spec, path, note))
    return written
