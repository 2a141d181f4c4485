"""Agents in pictures: per department or agent group, and for all agents, the agents scheduled and logged in
against the agents busy, interval by interval, with each panel's occupancy as the run's KPIs give it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.output import kpi_labels
from sim.output.plots_service_data import interval_rows
from sim.output.plots_style import Margins, clock_axis, new_figure, put_title, stairs
from sim.output.report_format import summary_ci, with_ci


def staffing_series(intervals: pd.DataFrame, department: str = "all") -> pd.DataFrame:
    """Per interval: clock start, agents scheduled, agents logged in, agents busy (occupancy x logged in)
    and occupancy."""
    rows = interval_rows(intervals, department)
    occupancy = rows["occupancy"].to_numpy(dtype=float)
    logged_in = rows["agents_logged_in"].to_numpy(dtype=float)
    series = pd.DataFrame(
        {
            "start": rows["start"].astype(str),
            "scheduled": rows["agents_scheduled"].to_numpy(dtype=float),
            "logged_in": logged_in,
            "busy": np.nan_to_num(occupancy * logged_in),
            "occupancy": occupancy,
        }
    )
    if "agents_rostered" in rows:  # shrinkage, breaks or absence: scheduled is what remained of the roster
        series["rostered"] = rows["agents_rostered"].to_numpy(dtype=float)
    return series


def occupancy_text(summary: Mapping[str, Any], name: str) -> str:
    """A panel's occupancy as the run's KPIs give it (summary.json, `± half-width` over replications): the
    centre's for `all`, else the department's or agent group's; `-` when the summary has none."""
    if name == "all":
        return with_ci(summary, "occupancy", "%", summary_ci(summary))
    ci = summary_ci(summary) or {}
    for part in ("by_department", "by_group"):
        values = (summary.get(part) or {}).get(name)
        if isinstance(values, Mapping):
            return with_ci(values, "occupancy", "%", (ci.get(part) or {}).get(name))
    return "-"


def panel_title(summary: Mapping[str, Any], name: str) -> str:
    """`agent occupancy 81.2%` for all agents, `billing: occupancy 78.0%` for a department or group: the KPI
    registry's labels, the summary's figures."""
    key = "occupancy" if name == "all" else f"by_department.{name}.occupancy"
    return f"{kpi_labels.name(key)} {occupancy_text(summary, name)}"


def staffing_figure(
    intervals: pd.DataFrame, departments: Sequence[str], summary: Mapping[str, Any], subtitle: str
) -> Figure:
    """Per department or agent group (and all agents): agents scheduled and logged in against agents busy,
    per interval; each panel titled with its occupancy from `summary` (the run's KPIs, not recomputed)."""
    names = ["all", *departments] if len(departments) > 1 else ["all"]
    columns = len(names) if len(names) <= 2 else 2 if len(names) == 4 else 3
    rows = math.ceil(len(names) / columns)
    fig = new_figure((10.0, 1.0 + 3.0 * rows), Margins(top=0.9, across=0.5, down=0.8), (rows, columns))
    axes = fig.subplots(rows, columns, squeeze=False)
    for index, name in enumerate(names):
        ax = axes[index // columns][index % columns]
        data = staffing_series(intervals, name)
        edges = np.arange(len(data) + 1)  # interval i spans [i, i + 1): its figure holds from its start
        stairs(ax, data["busy"], edges, fill=True, color="#f4a259", alpha=0.75, label="busy")
        # Logged in is often exactly scheduled: a wide pale line under the thin dashes keeps both in sight.
        same = bool(np.allclose(data["logged_in"], data["scheduled"], equal_nan=True))
        stairs(
            ax,
            data["logged_in"],
            edges,
            color="#5b9bd5",
            linewidth=4.5,
            alpha=0.6,
            zorder=2.1,
            label="logged in (= scheduled in every interval)" if same else "logged in",
        )
        rostered = "rostered" in data and bool(np.isfinite(data["rostered"]).any())
        if rostered:
            stairs(
                ax,
                data["rostered"],
                edges,
                color="#888888",
                linewidth=1.2,
                linestyle=":",
                zorder=2.2,
                label="rostered",
            )
        stairs(
            ax,
            data["scheduled"],
            edges,
            color="#222222",
            linewidth=1.4,
            linestyle="--",
            zorder=2.3,
            label="available (after shrinkage, absence)" if rostered else "scheduled",
        )
        title = panel_title(summary, name)
        if name == "all" and "utilisation" in summary:  # shrinkage, breaks or absence: paid time apart
            title += f", utilisation {with_ci(summary, 'utilisation', '%', summary_ci(summary))}"
        ax.set_title(title, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        clock_axis(ax, list(data["start"]), label="interval start", most=12 // columns)
        ax.set_xlim(0, len(data))
        if index % columns == 0:
            ax.set_ylabel("agents")
        if index == 0:
            ax.legend(loc="lower left", fontsize=7, framealpha=0.9)
    for index in range(len(names), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    rostered = "agents_rostered" in intervals
    title = "Agents rostered, available, logged in and busy" if rostered else "Agents scheduled, logged in and busy"
    put_title(fig, f"{title}, per interval", subtitle)
    return fig
