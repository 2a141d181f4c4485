"""The week's report: each day's row and the week's (offered, service level, ASA, abandonment, agent-hours,
work carried in and out), the work each close left, and the scenario; one self-contained HTML page.

Every figure is read from the week table (`sim.analysis.week`); labels and units come from the KPI
registry (`sim.analysis.kpis`), so nothing is recomputed here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.analysis import kpis
from sim.analysis.week import FIGURES
from sim.model.durations import format_clock, format_duration
from sim.model.scenario import Scenario
from sim.output.report_format import Cell, esc, number, table
from sim.output.report_readable import readable_scenario

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}tr.week td{font-weight:bold;
background:#fafafa}.miss{color:#b00}.note{color:#666;font-size:.9em}pre{background:#f7f7f7;padding:1em;
overflow:auto}"""


def _cell(row: pd.Series, key: str, unit: str) -> str:
    """A figure with its 95% half-width when the table is a mean over replications."""
    text = number(row[key], unit)
    half = row.get(f"{key}_ci95")
    if half is not None and not (isinstance(half, float) and math.isnan(half)) and float(half) > 0:
        text += f" ± {number(half, unit).replace(',', '')}"
    return esc(text)


def week_section(week: pd.DataFrame, target: float) -> str:
    """The week table in HTML: a row per day, then the week's (its service level over all its calls);
    a service level under the target is marked."""
    headers = [
        "day",
        "type",
        *(esc(kpis.kpi(key).console_label) if kpis.known(key) else key for key in FIGURES),
    ]
    rows: list[Sequence[Cell]] = []
    for _, row in week.iterrows():
        cells: list[Cell] = [esc(row["day"]), esc(row["type"])]
        for key in FIGURES:
            unit = kpis.kpi(key).unit if kpis.known(key) else ""
            text = _cell(row, key, unit)
            missed = key == "service_level" and float(row[key]) < target
            cells.append((text, "miss") if missed else text)
        rows.append(cells)
    html = table(headers, rows)
    last = html.rfind("<tr>")  # the week's row, set apart
    return html[:last] + '<tr class="week">' + html[last + 4 :]


def carried_section(carried: pd.DataFrame) -> str:
    """The work each close left (first replication): how many callbacks and redials per day."""
    if carried.empty:
        return "<p>Nothing was left at any close.</p>"
    counts = carried.groupby(["day", "kind"], sort=False).size().unstack(fill_value=0)
    rows: list[Sequence[Cell]] = [
        [esc(day), *(esc(int(counts.loc[day].get(kind, 0))) for kind in ("callback", "redial"))]
        for day in counts.index
    ]
    return table(["left at the close of", "callbacks not dialled", "redials due after it"], rows)


def week_page(scenario: Scenario, week: pd.DataFrame, carried: pd.DataFrame, seed: int, reps: int) -> str:
    """The whole week report as one HTML page."""
    assert scenario.week is not None
    end = scenario.start + scenario.duration
    replications = f", {reps} replications (means ± 95% half-widths)" if reps > 1 else ""
    carry = (
        "Callbacks not dialled at a close, and redials due after it, come back the next morning "
        "(<code>week.carry_over: true</code>)."
        if scenario.week.carry_over
        else "Nothing is carried from one day to the next (<code>week.carry_over: false</code>)."
    )
    description = f"<p>{esc(scenario.description)}</p>" if scenario.description else ""
    body = f"""
<h1>{esc(scenario.name)}: simulated week report</h1>
{description}
<p>{len(scenario.week.days)} days, each {format_clock(scenario.start)}-{format_clock(end)},
{format_duration(scenario.interval)} intervals, seed {seed}{replications}. {carry}</p>
<section id="week"><h2>Week</h2>
<p>One row per day and one for the week. The week's service level, ASA and abandonment are over all the
week's calls (a busy day weighs more); agent-hours add up. A carried callback is a call of the day it is
dialled on; its dial-out counts the night it waited.</p>
{week_section(week, scenario.service_level.target)}</section>
<section id="carried"><h2>Work left at each close</h2>
<p class="note">First replication; <code>carry_over.csv</code> lists each item.</p>{carried_section(carried)}</section>
<section id="scenario"><h2>Scenario</h2><pre>{esc(readable_scenario(scenario))}</pre></section>
"""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(scenario.name)}: callsim week report'
        f"</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>\n"
    )


WEEK_TABLE = "week.csv"
"""The file that marks a week's results folder (`sim.output.week_folder`)."""


def rebuild_week_report(folder: Path) -> Path:
    """Rebuild a week folder's `report.html` from its files alone (`callsim report` on a week's folder);
    written beside and renamed into place, so an interrupted rebuild leaves the old page."""
    from sim.model.loading import load_scenario

    scenario = load_scenario(folder / "scenario.yaml")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    week = pd.read_csv(folder / WEEK_TABLE)
    week["type"] = week["type"].fillna("")
    carried = pd.read_csv(folder / "carry_over.csv")
    page = week_page(scenario, week, carried, int(meta.get("seed", scenario.seed)), int(meta.get("reps", 1)))
    partial = folder / ".report.html.partial"
    partial.write_text(page, encoding="utf-8")
    partial.replace(folder / "report.html")
    return folder / "report.html"
