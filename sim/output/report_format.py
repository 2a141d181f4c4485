"""How the report writes a value and a table in HTML: KPI numbers (with confidence half-widths), escaping,
table cells and the service-level check every section shares."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

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
    if unit == "money":
        return f"{value:,.2f}"
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


_FORMATS = {"%": "{:.1f}%", "s": "{:.1f} s", "h": "{:.1f} h", "x": "{:.2f}", "money": "{:,.2f}"}
_SCALES = {"%": 100.0}


def numbers(values: Any, unit: str = "") -> list[str]:
    """`number` of every value of a column at once (the same text for each: `[number(v, unit) for v in
    values]`), a format per column rather than a chain of checks per cell: thousands of intervals."""
    data = np.asarray(values, dtype=float)
    missing = np.isnan(data)
    if unit in _FORMATS:
        shown = _SCALES.get(unit, 1.0) * data if unit in _SCALES else data
        text = [_FORMATS[unit].format(value) for value in shown.tolist()]
    else:
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(data) & (np.mod(data, 1.0) == 0.0)
        text = [
            f"{int(value):,}" if integer else f"{value:,.1f}"
            for value, integer in zip(data.tolist(), whole.tolist(), strict=True)
        ]
    for index in np.flatnonzero(missing).tolist():
        text[index] = "-"
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


def column(contents: Sequence[str], classes: Sequence[str] | None = None) -> list[str]:
    """A table column's cells as HTML from already-escaped contents, each with its CSS class (`""` for none,
    written `class=""` as `table` writes a `(html, "")` cell) or all without one."""
    if classes is None:
        return [f"<td>{content}</td>" for content in contents]
    return [f'<td class="{klass}">{content}</td>' for content, klass in zip(contents, classes, strict=True)]


def column_table(headers: Sequence[str], columns: Sequence[Sequence[str]], css: str = "") -> str:
    """The HTML `table` writes, built a column at a time: `columns` are lists of cells from `column`, all
    of one length (the rows)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in zip(*columns, strict=True))
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def target_met(summary: Mapping[str, Any], target: float) -> bool:
    """Whether the day's service level reached the target."""
    level = summary.get("service_level")
    return isinstance(level, int | float) and not math.isnan(float(level)) and float(level) >= target


def summary_ci(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The 95% half-widths of a summary over replications; None for a single run."""
    ci = summary.get("ci95")
    return ci if isinstance(ci, Mapping) else None
