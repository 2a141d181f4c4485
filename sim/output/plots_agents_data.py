"""The staffing picture's data side: per department or agent group, and for all agents, the agents
scheduled, logged in and busy interval by interval (read from the interval table with pandas), and each
panel's title with its occupancy as the run's KPIs give it. The drawing side (`plots_agents.py`) draws
from the plain `StaffingInputs` this module computes, without importing pandas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.output import kpi_labels
from sim.output.plots_service_data import interval_rows
from sim.output.report_format import summary_ci, with_ci

if TYPE_CHECKING:
    from sim.output.plots_agents import StaffingInputs, StaffingPanel


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


def staffing_panel(intervals: pd.DataFrame, summary: Mapping[str, Any], name: str) -> StaffingPanel:
    """One panel of the staffing picture (`all`, a department or an agent group): its series as arrays, and
    its title with the occupancy (and, for all agents, the utilisation) from `summary`."""
    data = staffing_series(intervals, name)
    title = panel_title(summary, name)
    if name == "all" and "utilisation" in summary:  # shrinkage, breaks or absence: paid time apart
        title += f", utilisation {with_ci(summary, 'utilisation', '%', summary_ci(summary))}"
    logged_in = data["logged_in"].to_numpy(dtype=float)
    scheduled = data["scheduled"].to_numpy(dtype=float)
    rostered = data["rostered"].to_numpy(dtype=float) if "rostered" in data else None
    return {
        "title": title,
        "starts": data["start"].tolist(),
        "busy": data["busy"].to_numpy(dtype=float),
        "logged_in": logged_in,
        "scheduled": scheduled,
        # drawn only where the roster has a figure: a table of no roster column, or of none, has no line
        "rostered": rostered if rostered is not None and bool(np.isfinite(rostered).any()) else None,
        "same": bool(np.allclose(logged_in, scheduled, equal_nan=True)),
    }


def staffing_inputs(
    intervals: pd.DataFrame, departments: Sequence[str], summary: Mapping[str, Any], subtitle: str
) -> StaffingInputs:
    """What `plots_agents.staffing_figure` draws: a panel for all agents and, with more than one, one per
    department or agent group (in `departments`' order), each titled with its occupancy from `summary` (the
    run's KPIs, not recomputed); whether the table has a roster apart from the agents available."""
    names = ["all", *departments] if len(departments) > 1 else ["all"]
    return {
        "panels": [staffing_panel(intervals, summary, name) for name in names],
        "rostered": "agents_rostered" in intervals,
        "subtitle": subtitle,
    }
