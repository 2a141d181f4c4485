"""What the terminal shows: short rich tables that degrade to plain text when piped."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from sim.loading import ScenarioError


def _number(value: Any, kind: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "%":
        return f"{100 * value:.1f}%"
    if kind == "s":
        return f"{value:.1f}s"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return f"{int(value):,}"


def _with_ci(summary: Mapping[str, Any], key: str, kind: str, ci: Mapping[str, Any] | None) -> str:
    text = _number(summary.get(key), kind)
    if ci and isinstance(ci.get(key), float) and not math.isnan(ci[key]):
        text += f" ± {_number(ci[key], kind)}"
    return text


def summary_table(summary: Mapping[str, Any], title: str) -> Table:
    """The headline KPIs (with 95% half-widths when replicated)."""
    ci = summary.get("ci95")
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    target = summary.get("service_level_target")
    rows = [
        ("offered calls", "offered", ""),
        ("answered", "answered", ""),
        ("abandoned", "abandoned", ""),
        ("blocked (busy signal)", "blocked", ""),
        (f"service level (target {_number(target, '%')})", "service_level", "%"),
        ("answered within rings", "answered_within_rings", "%"),
        ("ASA (answered calls)", "asa", "s"),
        ("mean wait (all reached)", "mean_wait", "s"),
        ("90th percentile wait", "p90_wait", "s"),
        ("abandonment rate", "abandon_rate", "%"),
        ("occupancy", "occupancy", "%"),
        ("AHT", "aht", "s"),
        ("first-contact routing", "first_contact_routing", "%"),
    ]
    for label, key, kind in rows:
        table.add_row(label, _with_ci(summary, key, kind, ci))
    return table


def department_table(summary: Mapping[str, Any]) -> Table:
    """Per department: visits, answered, abandoned, service level, ASA, occupancy."""
    table = Table(title="by department", header_style="bold")
    for column in ("department", "visits", "answered", "abandoned", "service level", "ASA", "occupancy"):
        table.add_column(column, justify="left" if column == "department" else "right")
    for name, row in summary.get("by_department", {}).items():
        table.add_row(
            name,
            _number(row.get("visits")),
            _number(row.get("answered")),
            _number(row.get("abandoned")),
            _number(row.get("service_level"), "%"),
            _number(row.get("asa"), "s"),
            _number(row.get("occupancy"), "%"),
        )
    return table


def missed_intervals(intervals: pd.DataFrame, target: float) -> list[str]:
    """`09:30 billing 72.0%` for each interval and department below the service-level target."""
    missed = intervals[(intervals["service_level"] < target) & (intervals["offered"] > 0)]
    return [
        f"{start} {department} {100 * float(level):.1f}%"
        for start, department, level in zip(
            missed["start"], missed["department"], missed["service_level"], strict=True
        )
    ]


def print_run(console: Console, summary: Mapping[str, Any], intervals: pd.DataFrame, title: str) -> None:
    """Summary, departments, and the intervals that missed the target."""
    console.print(summary_table(summary, title))
    if len(summary.get("by_department", {})) > 1:
        console.print(department_table(summary))
    target = float(summary.get("service_level_target", 0.8))
    several = len(summary.get("by_department", {})) > 1
    rows = (
        intervals[intervals["department"] != "all"]
        if several
        else intervals[intervals["department"] == "all"]
    )
    missed = missed_intervals(rows, target)
    if missed:
        console.print(
            f"[yellow]{len(missed)} interval(s) missed the {100 * target:.0f}% target:[/] "
            + ", ".join(missed)
        )
    else:
        console.print(f"[green]every interval met the {100 * target:.0f}% service-level target[/]")


def say(console: Console, label: str, message: object, style: str = "red") -> None:
    """`label: message` on one line, the label coloured; the message printed as it is (a file name or a
    user's value may hold '[/]', which Rich would take for markup)."""
    console.print(f"[{style}]{label}:[/] {escape(str(message))}", highlight=False, soft_wrap=True)


def print_problems(console: Console, error: ScenarioError) -> None:
    """A refused scenario: one line per fault, with its YAML path."""
    source = f" {escape(error.source)}" if error.source else ""  # a file name may hold '[/]'
    console.print(
        f"[red]error:[/] scenario{source} refused ({len(error.problems)} problem(s)):", highlight=False
    )
    for problem in error.problems:
        console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)


@contextmanager
def progress(
    console: Console, total: int, description: str, enabled: bool = True, delay: float = 1.0
) -> Iterator[Callable[..., None]]:
    """A progress bar on `console` that appears only if the work is still going after `delay` seconds and
    only on a terminal (never when piped); yields `step(description=None, advance=1)`."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(description, total=total)
    lock = threading.Lock()
    state = {"started": False, "done": False}

    def show() -> None:
        with lock:
            if not state["done"]:
                bar.start()
                state["started"] = True

    timer = threading.Timer(delay, show) if enabled and console.is_terminal else None
    if timer is not None:
        timer.daemon = True
        timer.start()

    def step(description: str | None = None, advance: int = 1) -> None:
        if description:
            bar.update(task, advance=advance, description=description)
        else:
            bar.update(task, advance=advance)

    try:
        yield step
    finally:
        if timer is not None:
            timer.cancel()
        with lock:
            state["done"] = True
            if state["started"]:
                bar.stop()


def comparison_table(frame: pd.DataFrame, labels: tuple[str, str], tested: bool) -> Table:
    """KPIs of runs A and B side by side: values, B - A, and (with replications) p-value and verdict."""
    table = Table(title=f"A: {labels[0]}   B: {labels[1]}", header_style="bold")
    for column in ("KPI", "A", "B", "B - A"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    if tested:
        table.add_column("p", justify="right")
        table.add_column("verdict")
    colours = {"B better": "green", "A better": "red", "differs": "yellow"}
    short = {"no significant difference": "n.s.", "not tested": "-"}

    def value(number: Any, unit: str) -> str:
        if unit == "n":
            number = float(number)
            return (
                "-" if math.isnan(number) else f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"
            )
        if unit == "h":
            return f"{float(number):.1f}h"
        return _number(number, {"%": "%", "s": "s"}.get(unit, ""))

    for row in frame.to_dict(orient="records"):
        unit = str(row["unit"])
        change = float(row["difference"])
        difference = value(change, unit)
        if difference != "-" and change > 0:
            difference = "+" + difference
        if unit == "%" and difference != "-":
            difference = difference.replace("%", " pts")
        cells = [str(row["label"]), value(row["a"], unit), value(row["b"], unit), difference]
        if tested:
            p = float(row["p_value"])
            verdict = short.get(str(row["verdict"]), str(row["verdict"]))
            colour = colours.get(verdict)
            cells += ["-" if math.isnan(p) else f"{p:.3f}", f"[{colour}]{verdict}[/]" if colour else verdict]
        table.add_row(*cells)
    return table
