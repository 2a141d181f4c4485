"""Pictures of a centre answering several channels (issue 19.5): each channel's service and volume by
interval, and the email backlog through the day. Drawn from the interval table's `kind: channel` rows and
email columns (`sim.analysis.channel_intervals`), never recomputed here.

- `channel_figure`: two panels sharing the clock. Above, a line per channel for what it is judged by: the
  service level of voice and chat (a chat's first response within the threshold) and, for email, the
  share handled within due, against the target. Below, the contacts each channel was offered per interval.
- `backlog_figure`: the emails waiting at each interval's end (a line per email department, or the email
  channel's when there are several) over the emails handled per interval (bars).

Both draw from plain inputs (arrays and words) that `plots_channels_data` computes from the interval table:
this module imports neither pandas nor the scenario model, so that the report drawer (`sim.output.drawer`)
draws without them.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

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


class ChannelLine(TypedDict):
    """One channel's lines in the channel picture."""

    name: str
    """The channel: `voice`, `chat` or `email` (its colour)."""
    judged: np.ndarray
    """Per interval, what the channel is judged by: service level (voice, chat), handled within due (email)."""
    label: str
    """The judged line's legend: `chat: first response within 60 s`."""
    offered: np.ndarray
    """Per interval, the contacts the channel was offered."""


class ChannelInputs(TypedDict):
    """What the channel picture draws (`plots_channels_data.channel_inputs`)."""

    lines: list[ChannelLine]
    """One per channel, in the interval table's order."""
    starts: list[str]
    """Each interval's clock start (`09:00`)."""
    target: float
    """The service level target (a share)."""
    subtitle: str
    """Which run (`run_subtitle`)."""


class BacklogLine(TypedDict):
    """One line of the email backlog picture: an email department's, or the email channel's."""

    name: str
    """The department, or `email` for the channel."""
    kind: str
    """`department` or `channel`."""
    at: np.ndarray
    """Where each point is drawn: each interval's end (and -0.5 for the backlog at the open)."""
    waiting: np.ndarray
    """The emails waiting at each point."""


class BacklogInputs(TypedDict):
    """What the email backlog picture draws (`plots_channels_data.backlog_inputs`)."""

    lines: list[BacklogLine]
    """Each email department's, then the email channel's when there are several."""
    handled: np.ndarray | None
    """Per interval, the emails every email department handled (None: no email department)."""
    starts: list[str]
    """Each interval's clock start (`09:00`)."""
    subtitle: str
    """Which run (`run_subtitle`)."""


def channel_figure(inputs: ChannelInputs) -> Figure:
    """Per channel and interval: above, what the channel is judged by (voice and chat: service level;
    email: share handled within due) against the target; below, the contacts offered."""
    fig = new_figure(size=(10.0, 6.4), grid=(2, 1))
    top, bottom = fig.subplots(2, 1, sharex=True)
    for line in inputs["lines"]:
        x = np.arange(len(line["judged"]))
        colour = CHANNEL_COLOURS.get(line["name"], "#444444")
        top.plot(x, line["judged"], color=colour, linewidth=2.0, marker="o", markersize=4, label=line["label"])
        bottom.plot(
            x, line["offered"], color=colour, linewidth=2.0, marker="o", markersize=4, label=line["name"],
        )
    target = inputs["target"]
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
    clock_axis(bottom, inputs["starts"])
    put_title(fig, "Each channel by interval: service and contacts offered", inputs["subtitle"])
    return fig


def backlog_figure(inputs: BacklogInputs) -> Figure:
    """The emails waiting at each interval's end (a line per email department, and the channel's when
    there are several) over the emails handled in each interval (bars, every email department's); the
    first point is every email department's backlog at the open, when the run gave it."""
    fig = new_figure()
    ax = fig.add_subplot()
    lines = inputs["lines"]
    colours = department_colours([line["name"] for line in lines])
    for line in lines:
        name, kind = line["name"], line["kind"]
        ax.plot(
            line["at"],
            line["waiting"],
            color=CHANNEL_COLOURS["email"] if kind == "channel" else colours[name],
            linewidth=2.4 if kind == "channel" or len(lines) == 1 else 1.4,
            marker="o",
            markersize=4,
            label=f"{'all email' if kind == 'channel' else name}: waiting at the interval's end",
        )
    handled = inputs["handled"]
    if handled is not None:
        label = "emails handled in the interval"
        bars(ax, np.arange(len(handled), dtype=float), handled, 0.8, OUTCOME_COLOURS["answered"], label)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("emails")
    clock_axis(ax, inputs["starts"])
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    put_title(fig, "Email backlog through the day", inputs["subtitle"])
    return fig
