"""Pictures of a centre answering several channels (issue 19.5): each channel's service and volume by
interval, and the email backlog through the day. Drawn from the interval table's `kind: channel` rows and
email columns (`sim.analysis.channel_intervals`), never recomputed here.

- `channel_figure`: two panels sharing the clock. Above, a line per channel for what it is judged by: the
  service level of voice and chat (a chat's first response within the threshold) and, for email, the
  share handled within due, against the target. Below, the contacts each channel was offered per interval.
- `backlog_figure`: the emails waiting at each interval's end (a line per email department, or the email
  channel's when there are several) over the emails handled per interval (bars).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.analysis.channel_kpis import headline_channel
from sim.analysis.channels import department_channels
from sim.model.scenario import Scenario
from sim.output.plots_service_data import interval_rows
from sim.output.plots_style import (
    OUTCOME_COLOURS,
    TARGET_COLOUR,
    bars,
    clock_axis,
    department_colours,
    new_figure,
    put_title,
)

CHANNEL_COLOURS = {"voice": "#1f4e79", "chat": "#e08e0b", "email": "#6a3d9a"}
"""One colour per channel, the same in every picture."""


def channel_names(intervals: pd.DataFrame) -> list[str]:
    """The channels of the interval table's `kind: channel` rows, in their order (none: one channel)."""
    if "kind" not in intervals.columns:
        return []
    rows = intervals[intervals["kind"].astype(str) == "channel"]
    return list(dict.fromkeys(rows["department"].astype(str)))


def email_lines(intervals: pd.DataFrame) -> list[tuple[str, str]]:
    """`(name, kind)` of the rows whose email backlog the backlog picture draws: each email department's,
    and the email channel's too when there are several departments of email."""
    if "email_backlog" not in intervals.columns:
        return []
    rows = intervals[intervals["email_backlog"].notna()]
    kinds = rows["kind"].astype(str) if "kind" in rows.columns else pd.Series("department", index=rows.index)
    departments = list(dict.fromkeys(rows.loc[kinds == "department", "department"].astype(str)))
    lines = [(name, "department") for name in departments]
    if len(departments) > 1 and (kinds == "channel").any():
        lines.append(("email", "channel"))
    return lines


def headline_calls(calls: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """A calls table's rows the headline counts: all of them in a centre of one channel, its voice
    calls (first department of channel voice; none: voice) in a centre of several (its chats in a
    centre of chats and emails, `headline_channel`)."""
    wanted = headline_channel(scenario)
    if wanted is None or "first_department" not in calls.columns:
        return calls
    channel = dict(zip(scenario.departments, department_channels(scenario), strict=True))
    first = calls["first_department"].astype(object).map(channel).fillna("voice")
    return calls[(first == wanted).to_numpy()]


def channel_figure(
    intervals: pd.DataFrame, target: float, threshold: float, subtitle: str, within: dict[str, str] | None = None
) -> Figure:
    """Per channel and interval: above, what the channel is judged by (voice and chat: service level;
    email: share handled within due) against the target; below, the contacts offered. `within`: per
    channel, the words for its threshold where departments have their own (`60 s`), else `threshold`."""
    fig = new_figure(size=(10.0, 6.4), grid=(2, 1))
    top, bottom = fig.subplots(2, 1, sharex=True)
    channels = channel_names(intervals)
    starts: list[str] = []
    for name in channels:
        rows = interval_rows(intervals, name, kind="channel")
        starts = starts or list(rows["start"].astype(str))
        x = np.arange(len(rows))
        colour = CHANNEL_COLOURS.get(name, "#444444")
        if name == "email":
            judged, label = rows["email_within_due"].to_numpy(dtype=float), "email: handled within due"
        else:
            judged = rows["service_level"].to_numpy(dtype=float)
            words = (within or {}).get(name, f"{threshold:g} s")
            label = f"{name}: {'first response' if name == 'chat' else 'answered'} within {words}"
        top.plot(x, judged, color=colour, linewidth=2.0, marker="o", markersize=4, label=label)
        bottom.plot(
            x, rows["offered"].to_numpy(dtype=float), color=colour, linewidth=2.0, marker="o", markersize=4,
            label=name,
        )
    top.axhline(target, color=TARGET_COLOUR, linestyle="--", linewidth=1.5, label=f"target {100 * target:.0f}%")
    top.set_ylim(0, 1.04)
    top.yaxis.set_major_formatter(PercentFormatter(1.0))
    top.set_ylabel("service level (email: within due)")
    top.grid(alpha=0.3)
    top.legend(loc="lower left", fontsize=8, ncol=2, framealpha=0.9)
    bottom.set_ylabel("contacts offered per interval")
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.grid(alpha=0.3)
    bottom.legend(loc="upper right", fontsize=8, framealpha=0.9)
    clock_axis(bottom, starts)
    put_title(fig, "Each channel by interval: service and contacts offered", subtitle)
    return fig


def backlog_figure(intervals: pd.DataFrame, subtitle: str, at_open: float | None = None) -> Figure:
    """The emails waiting at each interval's end (a line per email department, and the channel's when
    there are several) over the emails handled in each interval (bars, every email department's); the
    first point is `at_open`, every email department's backlog at the open (the summary's), when given."""
    fig = new_figure()
    ax = fig.add_subplot()
    lines = email_lines(intervals)
    colours = department_colours([name for name, _ in lines])
    handled: np.ndarray | None = None
    starts: Sequence[str] = []
    for name, kind in lines:
        rows = interval_rows(intervals, name, kind=kind)
        starts = starts or list(rows["start"].astype(str))
        x = np.arange(len(rows))
        if kind == "department":
            taken = rows["emails_handled"].to_numpy(dtype=float)
            handled = taken if handled is None else handled + taken
        at = x + 0.5  # at the interval's end (an interval is drawn centred on its position)
        waiting = rows["email_backlog"].to_numpy(dtype=float)
        if at_open is not None and (kind == "channel" or len(lines) == 1):
            at, waiting = np.r_[-0.5, at], np.r_[float(at_open), waiting]
        ax.plot(
            at,
            waiting,
            color=CHANNEL_COLOURS["email"] if kind == "channel" else colours[name],
            linewidth=2.4 if kind == "channel" or len(lines) == 1 else 1.4,
            marker="o",
            markersize=4,
            label=f"{'all email' if kind == 'channel' else name}: waiting at the interval's end",
        )
    if handled is not None:
        label = "emails handled in the interval"
        bars(ax, np.arange(len(handled), dtype=float), handled, 0.8, OUTCOME_COLOURS["answered"], label)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("emails")
    clock_axis(ax, list(starts))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    put_title(fig, "Email backlog through the day", subtitle)
    return fig
