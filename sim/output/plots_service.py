"""How callers were served, in pictures: service level against the target and call volumes by interval, the
calls answered within t (the service level for every t), and the queues over the day. Each is a data
function (tested against summary.json and the tables) and a drawing function returning a matplotlib `Figure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.analysis.metrics import service_level
from sim.analysis.tables import integrate_levels_by
from sim.analysis.thresholds import call_thresholds
from sim.model.durations import format_duration
from sim.model.goals import department_thresholds, has_own_thresholds
from sim.model.scenario import Scenario
from sim.output import kpi_labels
from sim.output.plots_service_data import counted_offered, interval_days, interval_rows, row_positions
from sim.output.plots_style import (
    ALL_COLOUR,
    OUTCOME_COLOURS,
    TARGET_COLOUR,
    Margins,
    bars,
    clock_axis,
    department_colours,
    listing,
    new_figure,
    put_title,
    seconds_clock_axis,
)

# --- service level and volumes by interval ------------------------------------------------------------------




def service_level_figure(
    intervals: pd.DataFrame,
    departments: Sequence[str],
    target: float,
    threshold: float,
    subtitle: str,
    within: str | None = None,
) -> Figure:
    """Service level per interval (all calls and each department) against the target line; with
    replications, a shaded 95% confidence band around each line; intervals below target marked. `within`:
    the words for the threshold where departments have their own, else `threshold`."""
    fig = new_figure()
    ax = fig.add_subplot()
    colours = department_colours(departments)
    overall = interval_rows(intervals)
    x = np.arange(len(overall))
    banded = "service_level_ci95" in intervals.columns
    kinds = intervals["kind"].astype(str) if "kind" in intervals.columns else pd.Series("", index=intervals.index)
    channels = intervals.loc[kinds == "channel", "department"].astype(str).tolist()
    # several channels: the `all` rows are the first channel's (voice, else chat)
    everyone = ("voice calls" if channels[0] == "voice" else "chats") if channels else "all calls"
    for name in [*departments, "all"] if len(departments) > 1 else ["all"]:
        rows = interval_rows(intervals, name)
        level = rows["service_level"].to_numpy(dtype=float)
        if rows.empty or (name != "all" and np.isnan(level).all()):  # an email department has none
            continue
        wide = name == "all"
        ax.plot(
            x[: len(level)],
            level,
            color=colours[name],
            linewidth=2.4 if wide else 1.3,
            marker="o" if wide else None,
            markersize=4,
            label=everyone if wide else name,
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
                label=f"95% confidence band ({everyone})",
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
            label=f"{everyone} below target",
        )
    ax.axhline(
        target, color=TARGET_COLOUR, linestyle="--", linewidth=1.5, label=f"target {100 * target:.0f}%"
    )
    ax.set_ylim(0, 1.04)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(f"{kpi_labels.axis_label('service_level')}, answered within {within or f'{threshold:g} s'}")
    clock_axis(ax, list(overall["start"].astype(str)))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8, ncol=2, framealpha=0.9)
    put_title(fig, f"{kpi_labels.heading('service_level')} by interval", subtitle)
    return fig


MAX_VOLUME_INTERVALS = 1000
"""Past this many intervals the volume picture sums them by day: three bars an interval would be thinner
than a pixel (a year in hours is 26,280 bars in 900 pixels), and drawing them costs more than the picture."""
DAY = 86400.0




def volume_figure(intervals: pd.DataFrame, subtitle: str, scenario: Scenario | None = None) -> Figure:
    """Calls offered, answered and abandoned (and blocked, if any) per interval, all departments, named as
    the KPI registry names these counts; given the `scenario`, summed by day when the run has more than
    `MAX_VOLUME_INTERVALS` intervals (and the picture says so)."""
    rows = interval_rows(intervals)
    kinds = ["offered", "answered", "abandoned"] + (["blocked"] if rows["blocked"].sum() > 0 else [])
    per = "interval"
    starts = list(rows["start"].astype(str))
    values = {kind: rows[kind].to_numpy(dtype=float) for kind in kinds}
    if scenario is not None and len(rows) > MAX_VOLUME_INTERVALS:
        per = "day"
        day = interval_days(rows["interval"].to_numpy(), scenario)
        values = {kind: np.bincount(day, np.nan_to_num(column)) for kind, column in values.items()}
        starts = [f"day {index + 1}" for index in range(int(day.max()) + 1)]
    fig = new_figure()
    ax = fig.add_subplot()
    width = 0.8 / len(kinds)
    x = np.arange(len(starts))
    for i, kind in enumerate(kinds):
        bars(
            ax, x - 0.4 + width * (i + 0.5), values[kind], width, OUTCOME_COLOURS[kind], kpi_labels.name(kind)
        )
    ax.autoscale_view()
    highest = max((float(np.nanmax(column)) for column in values.values() if len(column)), default=0.0)
    ax.set_ylim(0, 1.2 * highest if highest > 0 else None)  # room for the legend above the bars
    clock_axis(ax, starts, label="interval start (clock)" if per == "interval" else "day of the run")
    ax.set_ylabel(f"calls per {per}")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    title = f"Calls by {per}: {listing([kpi_labels.name(kind) for kind in kinds])}"
    if per == "day":
        title += (
            f" ({len(rows):,} {format_duration(scenario.interval if scenario else 0.0)} intervals summed)"
        )
    put_title(fig, title, subtitle)
    return fig


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


def wait_figure(
    calls: pd.DataFrame,
    visits: pd.DataFrame,
    scenario: Scenario,
    subtitle: str,
    reps: int = 1,
    mean_level: float | None = None,
) -> Figure:
    """One measure, drawn for all calls and each department: the share of offered calls answered within t of
    joining the queue (queue wait + ring), abandoned and blocked calls counting as not answered. At the
    service-level threshold each curve is the service level the report's tables give (all calls: the KPI,
    marked; each department: its table's figure, in the legend). The curves level off below 100% at the
    share answered at all; the gap is the callers who hung up or were blocked.

    Not a CDF of queue waits: a wait CDF counts a caller who hung up after 5 s as `within 20 s`, and read
    off at the threshold gives a figure above the service level. With `reps` replications the curves are
    replication 0's (`calls`, `visits`), and the mark says so beside the mean of all (`mean_level`), the
    figure the report's headline shows."""
    threshold = scenario.service_level.threshold
    target = scenario.service_level.target
    own = department_thresholds(scenario) if has_own_thresholds(scenario) else {}  # read each curve there
    offered = counted_offered(calls, scenario)
    answered = offered.loc[offered["outcome"] == "answered", "time_to_answer"].to_numpy(dtype=float)
    longest = float(np.quantile(answered, 0.99)) if len(answered) else 0.0
    top = max(3 * threshold, longest, 60.0)
    grid = np.unique(np.r_[np.linspace(0.0, top, 400), threshold, *own.values()])
    fig = new_figure()
    ax = fig.add_subplot()
    departments = list(scenario.departments)
    colours = department_colours(departments)
    at = int(np.searchsorted(grid, threshold))
    if len(departments) > 1 and len(visits):
        for name, curve in department_curves(calls, visits, scenario, grid).items():
            if np.isnan(curve).all():
                continue
            mark = int(np.searchsorted(grid, own[name])) if name in own else at
            ax.plot(
                grid,
                curve,
                color=colours[name],
                linewidth=1.2,
                alpha=0.9,
                drawstyle="steps-post",
                label=f"{name}: {100 * curve[mark]:.1f}% within {own.get(name, threshold):g} s (its visits)",
            )
    level = service_level(offered, call_thresholds(scenario, offered) if own else threshold)
    curve = answered_within(offered, grid)
    shown = "-" if math.isnan(level) else f"{100 * level:.1f}%"
    ax.plot(
        grid,
        curve,
        color=ALL_COLOUR,
        linewidth=2.4,
        drawstyle="steps-post",
        label=f"all calls: {shown} within {threshold:g} s",
    )
    ax.axvline(
        threshold, color=TARGET_COLOUR, linestyle="--", linewidth=1.5, label=f"threshold {threshold:g} s"
    )
    ax.axhline(target, color=TARGET_COLOUR, linestyle=":", linewidth=1.0, label=f"target {100 * target:.0f}%")
    if not math.isnan(level):
        ax.plot([threshold], [level], "o", color=ALL_COLOUR, markersize=7, zorder=5)
        note = f"(target {100 * target:.0f}%)"
        if reps > 1:
            mean = "-" if mean_level is None else f"{100 * mean_level:.1f}%"
            note = f"in replication 0\n(mean of {reps}: {mean}; target {100 * target:.0f}%)"
        ax.annotate(
            f"{kpi_labels.name('service_level')} {100 * level:.1f}%\n{note}",
            (threshold, level),
            xytext=(12, -28),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlim(0, top)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("t: time from joining the queue to answer, queue wait + ring (seconds)")
    ax.set_ylabel("answered within t (% of offered calls)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    put_title(
        fig,
        "Calls answered within t, as a share of offered calls (hung up or blocked: not answered)",
        subtitle,
    )
    return fig


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


def queue_figure(visits: pd.DataFrame, scenario: Scenario, ended_at: float, subtitle: str) -> Figure:
    """Callers waiting in each department's queue over the day: one-minute averages (coarser on runs of over
    MAX_QUEUE_BINS minutes) and interval means, one panel per department on a shared scale."""
    departments = list(scenario.departments)
    step = max(60.0, scenario.duration / MAX_QUEUE_BINS)  # a year of minutes would not be seen, only drawn
    series = queue_series(visits, departments, scenario.duration, ended_at, step=step)
    means = queue_series(visits, departments, scenario.duration, ended_at, step=scenario.interval)
    colours = department_colours(departments)
    fig = new_figure((10.0, 1.6 + 1.5 * len(departments)), Margins(down=0.12), (len(departments), 1))
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
    seconds_clock_axis(axes[-1][0], scenario.start, scenario.duration)
    put_title(fig, "Queue length over the day (callers waiting)", subtitle)
    return fig
