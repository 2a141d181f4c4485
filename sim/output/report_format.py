"""How the report writes a value and a table in HTML: KPI numbers (with confidence half-widths), escaping,
table cells and the service-level check every section shares."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.output.console import lookup


def number(value: Any, unit: str = "") -> str:
    """A KPI for people: `76.8%`, `13.4 s`, `323.1 h`, `1,234`; `-` when there is none."""
    if value is None or isinstance(value, str | Mapping | list):
        return "-" if not isinstance(value, str) else value
    value = float(value)
    if math.isnan(value):
        return "-"
    if unit == "%":
        return f"{100 * value:.1f}%"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "h":
        return f"{value:.1f} h"
    if unit == "x":
        return f"{value:.2f}"
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def with_ci(summary: Mapping[str, Any], key: str, unit: str, ci: Mapping[str, Any] | None) -> str:
    """The value, and ` ± half-width` (in the value's unit: `87.5% ± 17.6%`) when the summary is a mean
    over replications; `key` may be dotted (`experience.mean`)."""
    text = number(lookup(summary, key), unit)
    half = lookup(ci, key)
    if isinstance(half, int | float) and not math.isnan(float(half)) and float(half) > 0 and text != "-":
        text += f" ± {number(half, unit).replace(',', '')}"
    return text


def esc(text: Any) -> str:
    """Text made safe inside HTML, quotes included."""
    return html.escape(str(text), quote=True)


Cell = str | tuple[str, str]
"""A table cell: escaped HTML, or (escaped HTML, CSS class)."""


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], css: str = "") -> str:
    """An HTML table from already-escaped cells; a cell may be `(html, class)`."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, tuple):
                content, klass = cell
                cells.append(f'<td class="{klass}">{content}</td>')
            else:
                cells.append(f"<td>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def target_met(summary: Mapping[str, Any], target: float) -> bool:
    """Whether the day's service level reached the target."""
    level = summary.get("service_level")
    return isinstance(level, int | float) and not math.isnan(float(level)) and float(level) >= target


def summary_ci(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The 95% half-widths of a summary over replications; None for a single run."""
    ci = summary.get("ci95")
    return ci if isinstance(ci, Mapping) else None
