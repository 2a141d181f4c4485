"""How callers were served, in pictures: service level against the target and call volumes by interval, the
calls answered within t (the service level for every t), and the queues over the day. Each picture is a
drawing function here, returning a matplotlib `Figure` from one plain dict of inputs (a `TypedDict` below),
and a data function in `plots_service_data.py` that computes those inputs from the run's tables with pandas
(tested against summary.json and the tables). This module imports neither pandas nor the scenario model, so
that the report drawer (`sim.output.drawer`) draws without importing them.
"""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.model.durations import format_duration
from sim.output import kpi_labels
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

__all__ = [
    "QueueInputs",
    "ServiceLevelInputs",
    "VolumeInputs",
    "WaitInputs",
    "queue_figure",
    "service_level_figure",
    "volume_figure",
    "wait_figure",
]

# --- service level and volumes by interval ------------------------------------------------------------------


class ServiceLevelInputs(TypedDict):
    """What the service-level picture draws (`plots_service_data.service_level_inputs`)."""

    departments: list[str]
    """The scenario's departments, in order: each one's colour."""
    levels: dict[str, np.ndarray]
    """Service level per interval of each line drawn, by department (`all`: all calls, drawn wide), in
    drawing order; departments without any (an email department) left out."""
    band: np.ndarray | None
    """The all-calls line's 95% confidence half-width per interval (with replications), else None."""
    everyone: str
    """What the all-calls line is called: `all calls`, or the first channel's contacts (`voice calls`)."""
    starts: list[str]
    """Each interval's clock start, for the x axis."""
    target: float
    within: str
    """The threshold in words, for the axis label: `20 s`, or each department's own."""
    subtitle: str


def service_level_figure(inputs: ServiceLevelInputs) -> Figure:
    """Service level per interval (all calls and each department) against the target line; with
    replications, a shaded 95% confidence band around the all-calls line; intervals below target marked."""
    fig = new_figure()
    ax = fig.add_subplot()
    colours = department_colours(inputs["departments"])
    everyone = inputs["everyone"]
    target = inputs["target"]
    x = np.arange(len(inputs["starts"]))
    for name, level in inputs["levels"].items():
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
        half = inputs["band"]
        if half is not None and wide:
            ax.fill_between(
                x[: len(level)],
                np.clip(level - half, 0, 1),
                np.clip(level + half, 0, 1),
                color=colours[name],
                alpha=0.2,
                linewidth=0,
                label=f"95% confidence band ({everyone})",
            )
    overall = inputs["levels"].get("all", np.zeros(0))  # drawn whenever the table has `all` rows
    missed = overall < target
    if missed.any():
        ax.scatter(
            x[missed],
            overall[missed],
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
    ax.set_ylabel(f"{kpi_labels.axis_label('service_level')}, answered within {inputs['within']}")
    clock_axis(ax, inputs["starts"])
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8, ncol=2, framealpha=0.9)
    put_title(fig, f"{kpi_labels.heading('service_level')} by interval", inputs["subtitle"])
    return fig


class VolumeInputs(TypedDict):
    """What the volume picture draws (`plots_service_data.volume_inputs`)."""

    kinds: list[str]
    """The counts drawn, in order: offered, answered, abandoned (and blocked, if any)."""
    values: dict[str, np.ndarray]
    """Each count per interval, or per day when summed by day."""
    starts: list[str]
    """Each bar group's label: the interval's clock start, or `day 1`, `day 2`, ..."""
    per: str
    """`interval`, or `day` when the run's intervals are summed by day."""
    intervals: int
    """How many intervals the run has (named in the title when summed by day)."""
    interval: float
    """The interval's length in seconds (0 without the scenario)."""
    subtitle: str


def volume_figure(inputs: VolumeInputs) -> Figure:
    """Calls offered, answered and abandoned (and blocked, if any) per interval, all departments, named as
    the KPI registry names these counts; summed by day when the run has more than `MAX_VOLUME_INTERVALS`
    intervals (and the picture says so)."""
    kinds = inputs["kinds"]
    values = inputs["values"]
    starts = inputs["starts"]
    per = inputs["per"]
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
        title += f" ({inputs['intervals']:,} {format_duration(inputs['interval'])} intervals summed)"
    put_title(fig, title, inputs["subtitle"])
    return fig


# --- waits ---------------------------------------------------------------------------------------------------


class WaitInputs(TypedDict):
    """What the picture of calls answered within t draws (`plots_service_data.wait_inputs`)."""

    departments: list[str]
    """The scenario's departments, in order: each one's colour."""
    grid: np.ndarray
    """The times t (seconds) every curve is given at, the thresholds among them."""
    top: float
    """The x axis's end (seconds)."""
    threshold: float
    target: float
    department_curves: dict[str, np.ndarray]
    """Each department's share of its visits answered within t, over `grid`; only with several departments,
    and only those with visits."""
    department_thresholds: dict[str, float]
    """The threshold each department's curve is read at (its own, else the centre's)."""
    curve: np.ndarray
    """All calls: the share of offered calls answered within t, over `grid`."""
    level: float
    """The service level, the KPI (NaN without offered calls)."""
    reps: int
    mean_level: float | None
    """The mean service level of all `reps` replications (the report's headline), when reps > 1."""
    subtitle: str


def wait_figure(inputs: WaitInputs) -> Figure:
    """One measure, drawn for all calls and each department: the share of offered calls answered within t of
    joining the queue (queue wait + ring), abandoned and blocked calls counting as not answered. At the
    service-level threshold each curve is the service level the report's tables give (all calls: the KPI,
    marked; each department: its table's figure, in the legend). The curves level off below 100% at the
    share answered at all; the gap is the callers who hung up or were blocked.

    Not a CDF of queue waits: a wait CDF counts a caller who hung up after 5 s as `within 20 s`, and read
    off at the threshold gives a figure above the service level. With several replications the curves are
    replication 0's, and the mark says so beside the mean of all (`mean_level`), the figure the report's
    headline shows."""
    grid = inputs["grid"]
    threshold = inputs["threshold"]
    target = inputs["target"]
    level = inputs["level"]
    reps = inputs["reps"]
    fig = new_figure()
    ax = fig.add_subplot()
    colours = department_colours(inputs["departments"])
    for name, curve in inputs["department_curves"].items():
        own = inputs["department_thresholds"][name]
        mark = int(np.searchsorted(grid, own))
        ax.plot(
            grid,
            curve,
            color=colours[name],
            linewidth=1.2,
            alpha=0.9,
            drawstyle="steps-post",
            label=f"{name}: {100 * curve[mark]:.1f}% within {own:g} s (its visits)",
        )
    shown = "-" if math.isnan(level) else f"{100 * level:.1f}%"
    ax.plot(
        grid,
        inputs["curve"],
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
            mean_level = inputs["mean_level"]
            mean = "-" if mean_level is None else f"{100 * mean_level:.1f}%"
            note = f"in replication 0\n(mean of {reps}: {mean}; target {100 * target:.0f}%)"
        ax.annotate(
            f"{kpi_labels.name('service_level')} {100 * level:.1f}%\n{note}",
            (threshold, level),
            xytext=(12, -28),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlim(0, inputs["top"])
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("t: time from joining the queue to answer, queue wait + ring (seconds)")
    ax.set_ylabel("answered within t (% of offered calls)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    put_title(
        fig,
        "Calls answered within t, as a share of offered calls (hung up or blocked: not answered)",
        inputs["subtitle"],
    )
    return fig


# --- queues --------------------------------------------------------------------------------------------------


class QueueInputs(TypedDict):
    """What the queue picture draws (`plots_service_data.queue_inputs`)."""

    departments: list[str]
    """The scenario's departments, in order: one panel each."""
    times: np.ndarray
    """The fine series' bin starts, seconds after the start (one-minute bins, coarser on long runs)."""
    waiting: dict[str, np.ndarray]
    """Each department's mean callers waiting in each fine bin."""
    interval_times: np.ndarray
    """Each interval's start, seconds after the start."""
    interval_waiting: dict[str, np.ndarray]
    """Each department's mean callers waiting in each interval."""
    mean_waiting: dict[str, float]
    """Each department's mean callers waiting over the fine bins."""
    busiest: dict[str, float]
    """Each department's most callers waiting in a fine bin, on average over it."""
    start: float
    """The day's start, clock seconds after midnight."""
    duration: float
    """The day's length in seconds."""
    subtitle: str


def queue_figure(inputs: QueueInputs) -> Figure:
    """Callers waiting in each department's queue over the day: one-minute averages (coarser on long runs)
    and interval means, one panel per department on a shared scale."""
    departments = inputs["departments"]
    duration = inputs["duration"]
    colours = department_colours(departments)
    fig = new_figure((10.0, 1.6 + 1.5 * len(departments)), Margins(down=0.12), (len(departments), 1))
    axes = fig.subplots(len(departments), 1, squeeze=False, sharex=True, sharey=True)
    for index, name in enumerate(departments):
        ax = axes[index][0]
        waiting = inputs["waiting"][name]
        means = inputs["interval_waiting"][name]
        ax.fill_between(
            inputs["times"],
            waiting,
            step="post",
            color=colours[name],
            alpha=0.35,
            linewidth=0,
            label="1-minute mean",
        )
        ax.step(
            np.r_[inputs["interval_times"], duration],
            np.r_[means, means[-1] if len(means) else 0.0],
            where="post",
            color=colours[name],
            linewidth=1.8,
            label="interval mean",
        )
        ax.set_ylabel("callers", fontsize=9)
        ax.text(
            0.005,
            0.92,
            f"{name}: mean {inputs['mean_waiting'][name]:.2f}, busiest minute {inputs['busiest'][name]:.1f}",
            transform=ax.transAxes,
            va="top",
            fontsize=9,
            fontweight="bold",
        )
        ax.grid(alpha=0.3)
        if index == 0:
            ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    highest = float(np.max([inputs["waiting"][name] for name in departments]))
    axes[0][0].set_ylim(bottom=0, top=max(1.0, highest * 1.25))
    seconds_clock_axis(axes[-1][0], inputs["start"], duration)
    put_title(fig, "Queue length over the day (callers waiting)", inputs["subtitle"])
    return fig
