"""The week on the console: a row per day and the week's row, labels and units from the KPI registry."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table

from sim.analysis import kpis

if TYPE_CHECKING:
    import pandas as pd

FIGURES = (
    "offered",
    "service_level",
    "asa",
    "abandon_rate",
    "agent_hours",
    "carried_in",
    "carried_out",
)
"""The week table's columns the console shows (all are in `week.csv`)."""


def _text(value: float, unit: str, half: float | None) -> str:
    if value != value:
        return "-"
    if unit == "%":
        text = f"{100 * value:.1f}%"
    elif unit in ("s", "h"):
        text = f"{value:.1f}"
    else:
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if half is not None and not math.isnan(half) and half > 0:
        text += f" ± {100 * half:.1f}" if unit == "%" else f" ± {half:.1f}"
    return text


def week_console_table(week: pd.DataFrame, title: str, target: float) -> Table:
    """The week table as a rich table; service levels under the target in red, the week's row in bold."""
    table = Table(title=title)
    table.add_column("day")
    table.add_column("type")
    for key in FIGURES:
        entry = kpis.kpi(key)
        unit = f" ({entry.unit})" if entry.unit in ("s", "h") else ""
        table.add_column(f"{entry.console_label}{unit}", justify="right")
    for index, values in enumerate(week.to_dict(orient="records")):
        cells = []
        for key in FIGURES:
            half = values.get(f"{key}_ci95")
            text = _text(float(values[key]), kpis.kpi(key).unit, None if half is None else float(half))
            if key == "service_level" and float(values[key]) < target:
                text = f"[red]{text}[/]"
            cells.append(text)
        last = index == len(week) - 1
        table.add_row(str(values["day"]), str(values["type"]), *cells, style="bold" if last else None)
    return table
