"""Agents in pictures: per department or agent group, and for all agents, the agents scheduled and logged in
against the agents busy, interval by interval, with each panel's occupancy as the run's KPIs give it.

Drawn from plain `StaffingInputs` (arrays and words) that `plots_agents_data.staffing_inputs` computes from
the run's tables: this module imports neither pandas nor the scenario model, so that the report drawer
(`sim.output.drawer`) draws without them."""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.output.plots_style import Margins, clock_axis, new_figure, put_title, stairs


class StaffingPanel(TypedDict):
    """One panel of the staffing picture: all agents, a department or an agent group."""

    title: str
    """`billing: occupancy 78.0%`: the panel's name and its occupancy as the run's KPIs give it (for all
    agents, the utilisation too where paid time is apart)."""
    starts: list[str]
    """Each interval's clock start (`09:00`)."""
    busy: np.ndarray
    """Agents busy per interval (occupancy x logged in; 0 where the occupancy is undefined)."""
    logged_in: np.ndarray
    """Agents logged in per interval."""
    scheduled: np.ndarray
    """Agents scheduled per interval (available after shrinkage and absence, where the roster is apart)."""
    rostered: np.ndarray | None
    """Agents on the roster per interval; None where the table has no roster figure (no line drawn)."""
    same: bool
    """Whether logged in equals scheduled in every interval (the legend says so)."""


class StaffingInputs(TypedDict):
    """What the staffing picture draws (`plots_agents_data.staffing_inputs`)."""

    panels: list[StaffingPanel]
    """All agents first, then each department or agent group when there are several."""
    rostered: bool
    """Whether the interval table has a roster apart from the agents available (the picture's title)."""
    subtitle: str
    """Which run (`run_subtitle`)."""


def staffing_figure(inputs: StaffingInputs) -> Figure:
    """Per department or agent group (and all agents): agents scheduled and logged in against agents busy,
    per interval; each panel titled with its occupancy (the run's KPIs, not recomputed)."""
    panels = inputs["panels"]
    columns = len(panels) if len(panels) <= 2 else 2 if len(panels) == 4 else 3
    rows = math.ceil(len(panels) / columns)
    fig = new_figure((10.0, 1.0 + 3.0 * rows), Margins(top=0.9, across=0.5, down=0.8), (rows, columns))
    axes = fig.subplots(rows, columns, squeeze=False)
    for index, panel in enumerate(panels):
        ax = axes[index // columns][index % columns]
        count = len(panel["starts"])
        edges = np.arange(count + 1)  # interval i spans [i, i + 1): its figure holds from its start
        stairs(ax, panel["busy"], edges, fill=True, color="#f4a259", alpha=0.75, label="busy")
        # Logged in is often exactly scheduled: a wide pale line under the thin dashes keeps both in sight.
        stairs(
            ax,
            panel["logged_in"],
            edges,
            color="#5b9bd5",
            linewidth=4.5,
            alpha=0.6,
            zorder=2.1,
            label="logged in (= scheduled in every interval)" if panel["same"] else "logged in",
        )
        rostered = panel["rostered"]
        if rostered is not None:
            stairs(
                ax,
                rostered,
                edges,
                color="#888888",
                linewidth=1.2,
                linestyle=":",
                zorder=2.2,
                label="rostered",
            )
        stairs(
            ax,
            panel["scheduled"],
            edges,
            color="#222222",
            linewidth=1.4,
            linestyle="--",
            zorder=2.3,
            label="available (after shrinkage, absence)" if rostered is not None else "scheduled",
        )
        ax.set_title(panel["title"], fontsize=10)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        clock_axis(ax, panel["starts"], label="interval start", most=12 // columns)
        ax.set_xlim(0, count)
        if index % columns == 0:
            ax.set_ylabel("agents")
        if index == 0:
            ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    for index in range(len(panels), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    title = (
        "Agents rostered, available, logged in and busy"
        if inputs["rostered"]
        else "Agents scheduled, logged in and busy"
    )
    put_title(fig, f"{title}, per interval", subtitle=inputs["subtitle"])
    return fig
