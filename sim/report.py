"""The run report a manager opens: one self-contained `report.html` (pictures embedded as base64) with the
headline KPIs against the target, the intervals that missed it, per-department tables, the plots, the
model's assumptions, the KPI definitions (quoted from `sim/metrics.py`), the scenario and the run facts.

`write_report(folder)` rebuilds `plots/` and `report.html` from the files of a saved results folder alone.
"""

from __future__ import annotations

import base64
import html
import inspect
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import metrics
from sim.durations import format_clock, format_duration
from sim.plots import WrittenPlot, interval_rows, write_plots
from sim.saved import SavedRun, load_run
from sim.scenario import Scenario

REPORT = "report.html"
PLOTS = "plots"
ERROR = "report_error.txt"
"""Left by a run whose report failed (the traceback); removed when the report is rebuilt."""

# (summary key, label, unit): unit "n" calls, "%" share, "s" seconds, "h" hours, "x" plain ratio.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("offered", "offered calls", "n"),
    ("answered", "answered", "n"),
    ("abandoned", "abandoned", "n"),
    ("blocked", "blocked (busy signal)", "n"),
    ("service_level", "service level", "%"),
    ("answered_within_rings", "answered within rings", "%"),
    ("asa", "average speed of answer", "s"),
    ("mean_wait", "mean wait (calls reaching a queue)", "s"),
    ("p90_wait", "90th-percentile wait", "s"),
    ("p_wait", "share of callers who waited", "%"),
    ("abandon_rate", "abandonment rate", "%"),
    ("block_rate", "blocking rate", "%"),
    ("occupancy", "agent occupancy", "%"),
    ("aht", "average handle time", "s"),
    ("first_contact_routing", "first-contact routing", "%"),
    ("first_contact_resolution", "first-contact resolution", "%"),
    ("transfers_per_call", "transfers per answered call", "x"),
    ("mean_agents_touched", "agents met per answered call", "x"),
    ("misroute_cost_hours", "agent time on misrouted segments", "h"),
    ("agent_hours", "agent time logged in", "h"),
)

# (summary key, name of its defining function in sim/metrics.py): the docstring is the definition.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("offered", "offered"),
    ("service_level", "service_level"),
    ("answered_within_rings", "answered_within_rings"),
    ("asa", "asa"),
    ("mean_wait", "mean_wait"),
    ("p90_wait", "p90_wait"),
    ("p_wait", "p_wait"),
    ("abandon_rate", "abandon_rate"),
    ("block_rate", "block_rate"),
    ("occupancy", "occupancy"),
    ("aht", "aht"),
    ("first_contact_routing", "first_contact_routing"),
    ("first_contact_resolution", "first_contact_resolution"),
    ("transfers_per_call", "transfers_per_call"),
    ("mean_agents_touched", "mean_agents_touched"),
    ("agents_touched", "agents_touched_distribution"),
    ("misroute_cost_hours", "misroute_cost_hours"),
    ("transfer_matrix", "transfer_matrix"),
    ("common_chains", "common_chains"),
    ("hold_rate", "hold_rate"),
    ("mean_hold_time", "mean_hold_time"),
    ("p90_hold_time", "p90_hold_time"),
    ("hold_overrun_rate", "hold_overrun_rate"),
    ("callback_promise_kept", "callback_promise_kept"),
    ("mean_time_to_callback", "mean_time_to_callback"),
    ("callback_answer_rate", "callback_answer_rate"),
    ("attempts_per_caller", "attempts_per_caller"),
    ("experience", "experience_summary"),
    ("by_department.service_level", "visit_service_level"),
    ("by_department.asa", "visit_asa"),
    ("ci95", "half_width"),
)

SECTIONS = (
    ("headline", "Headline"),
    ("plots", "Pictures"),
    ("kpis", "KPIs against targets"),
    ("intervals", "Intervals against the target"),
    ("departments", "Departments"),
    ("assumptions", "Model assumptions"),
    ("definitions", "KPI definitions"),
    ("scenario", "Scenario"),
    ("run", "Run facts"),
)


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
    """The value, and ` ± half-width` when the summary is a mean over replications."""
    text = number(summary.get(key), unit)
    half = (ci or {}).get(key)
    if isinstance(half, int | float) and not math.isnan(float(half)) and float(half) > 0 and text != "-":
        text += f" ± {number(half, unit).replace(',', '')}"
    return text


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


Cell = str | tuple[str, str]
"""A table cell: escaped HTML, or (escaped HTML, CSS class)."""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], css: str = "") -> str:
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


# --- sections -----------------------------------------------------------------------------------------------


def target_met(summary: Mapping[str, Any], target: float) -> bool:
    """Whether the day's service level reached the target."""
    level = summary.get("service_level")
    return isinstance(level, int | float) and not math.isnan(float(level)) and float(level) >= target


def headline_section(run: SavedRun) -> str:
    """Cards for the few numbers that matter, and how many intervals missed the target."""
    summary = run.summary
    ci = summary.get("ci95") if isinstance(summary.get("ci95"), Mapping) else None
    target = run.scenario.service_level.target
    threshold = run.scenario.service_level.threshold
    met = target_met(summary, target)
    cards = [
        (
            "service level",
            with_ci(summary, "service_level", "%", ci),
            f"target {100 * target:.0f}% within {threshold:g} s",
            "met" if met else "miss",
        ),
        ("average speed of answer", with_ci(summary, "asa", "s", ci), "answered calls", ""),
        ("abandonment", with_ci(summary, "abandon_rate", "%", ci), "of offered calls", ""),
        ("occupancy", with_ci(summary, "occupancy", "%", ci), "busy / logged in", ""),
        (
            "offered calls",
            with_ci(summary, "offered", "n", ci),
            f"{number(summary.get('answered'))} answered",
            "",
        ),
        ("agent time", with_ci(summary, "agent_hours", "h", ci), "logged in", ""),
    ]
    card_html = "".join(
        f'<div class="card {klass}"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
        f'<div class="note">{_e(note)}</div></div>'
        for label, value, note, klass in cards
    )
    reps = run.reps
    note = (
        f"<p>Means over {reps} independent replications, with 95% confidence half-widths (Student t).</p>"
        if reps > 1
        else "<p>One simulated day (replication 0).</p>"
    )
    return f'<div class="cards">{card_html}</div>{note}{missed_line(run)}'


def kpis_section(run: SavedRun) -> str:
    """Every headline KPI, with the target where the scenario sets one."""
    summary = run.summary
    ci = summary.get("ci95") if isinstance(summary.get("ci95"), Mapping) else None
    target = run.scenario.service_level.target
    threshold = run.scenario.service_level.threshold
    met = target_met(summary, target)
    rows: list[list[Cell]] = []
    for key, label, unit in HEADLINE:
        if key not in summary:
            continue
        if key == "service_level":
            rows.append(
                [
                    _e(label),
                    _e(with_ci(summary, key, unit, ci)),
                    _e(f"≥ {100 * target:.0f}% within {threshold:g} s"),
                    ("met", "met") if met else ("missed", "miss"),
                ]
            )
        else:
            rows.append([_e(label), _e(with_ci(summary, key, unit, ci)), "", ""])
    return _table(["KPI", "value", "target", "status"], rows, "kpis")


def missed_line(run: SavedRun) -> str:
    """One sentence: how many intervals (all calls together) missed the service-level target."""
    target = run.scenario.service_level.target
    overall = interval_rows(run.intervals)
    missed = missed_cells(overall, target)
    counted = int((overall["offered"].astype(float) > 0).sum())
    if not len(missed):
        return f'<p class="ok">All calls together met the {100 * target:.0f}% target in every interval.</p>'
    starts = ", ".join(str(start) for start in missed["start"])
    return (
        f'<p class="alert">All calls together missed the {100 * target:.0f}% target in {len(missed)} of '
        f'{counted} intervals: {_e(starts)} (<a href="#intervals">details</a>).</p>'
    )


def missed_cells(intervals: pd.DataFrame, target: float) -> pd.DataFrame:
    """Interval rows (any department or `all`) with offered calls whose service level is below the target."""
    level = intervals["service_level"].astype(float)
    return intervals[(intervals["offered"].astype(float) > 0) & (level < target)]


def intervals_section(run: SavedRun) -> str:
    """Per interval: volumes and the service level of all calls and each department; misses highlighted."""
    scenario = run.scenario
    target = scenario.service_level.target
    intervals = run.intervals
    departments = run.departments if len(run.departments) > 1 else []
    overall = interval_rows(intervals)
    by_department = {name: interval_rows(intervals, name) for name in departments}
    banded = "service_level_ci95" in intervals.columns
    records = {
        name: frame.to_dict(orient="records") for name, frame in {"all": overall, **by_department}.items()
    }
    rows: list[list[Cell]] = []
    for i, row in enumerate(records["all"]):
        cells: list[Cell] = [_e(row["start"])]
        cells += [_e(number(row[k])) for k in ("offered", "answered", "abandoned")]
        cells.append(_e(number(row["asa"], "s")))
        for name, frame in records.items():
            if i >= len(frame):
                cells.append("-")
                continue
            current = frame[i]
            level = float(current["service_level"])
            text = number(level, "%")
            if banded and name == "all" and not math.isnan(float(current["service_level_ci95"])):
                text += f" ± {100 * float(current['service_level_ci95']):.1f}"
            below = float(current["offered"]) > 0 and not math.isnan(level) and level < target
            cells.append((_e(text), "miss" if below else "met" if not math.isnan(level) else ""))
        rows.append(cells)
    headers = ["interval", "offered", "answered", "abandoned", "ASA", "SL all calls"]
    headers += [f"SL {_e(name)}" for name in departments]
    missed = missed_cells(intervals if departments else overall, target)
    total = int((intervals["offered"].astype(float) > 0).sum()) if departments else len(overall)
    if len(missed):
        listing = ", ".join(
            f"{start} {name}" for start, name in zip(missed["start"], missed["department"], strict=True)
        )
        lead = (
            f'<p class="alert">{len(missed)} of {total} interval cells missed the {100 * target:.0f}% '
            f"service-level target: {_e(listing)}.</p>"
        )
    else:
        lead = f'<p class="ok">Every interval met the {100 * target:.0f}% service-level target.</p>'
    clock = (
        f"Clock times are interval starts ({format_duration(scenario.interval)} intervals); calls count in "
    )
    clock += "the interval they arrived in; waits in seconds."
    return lead + f"<p>{_e(clock)}</p>" + _table(headers, rows, "intervals")


def departments_section(run: SavedRun) -> str:
    """Per department (over its queue visits) and, when there are agent groups, per group."""
    summary = run.summary
    ci = summary.get("ci95") if isinstance(summary.get("ci95"), Mapping) else {}
    columns = (
        ("visits", "visits", "n"),
        ("answered", "answered", "n"),
        ("abandoned", "abandoned", "n"),
        ("blocked", "blocked", "n"),
        ("service_level", "service level", "%"),
        ("asa", "ASA", "s"),
        ("mean_wait", "mean wait", "s"),
        ("abandon_rate", "abandonment", "%"),
        ("occupancy", "occupancy", "%"),
        ("transfers_in", "transfers in", "n"),
        ("transfers_out", "transfers out", "n"),
        ("answered_by_own_agents", "answered by own agents", "%"),
    )
    target = run.scenario.service_level.target
    rows: list[list[Cell]] = []
    for name, values in (summary.get("by_department") or {}).items():
        department_ci = (ci or {}).get("by_department", {}).get(name, {})
        cells: list[Cell] = [_e(name)]
        for key, _, unit in columns:
            text = _e(with_ci(values, key, unit, department_ci if unit != "n" else None))
            if key == "service_level" and isinstance(values.get(key), int | float):
                cells.append((text, "miss" if float(values[key]) < target else "met"))
            else:
                cells.append(text)
        rows.append(cells)
    out = '<div class="scroll">' + _table(
        ["department", *[label for _, label, _ in columns]], rows, "departments"
    )
    out += "</div>"
    groups = summary.get("by_group") or {}
    if groups:
        group_rows: list[list[Cell]] = [
            [
                _e(name),
                _e(number(values.get("occupancy"), "%")),
                _e(", ".join(f"{d}: {number(n)}" for d, n in (values.get("handled") or {}).items()) or "-"),
            ]
            for name, values in groups.items()
        ]
        out += "<h3>Agent groups</h3>" + _table(
            ["group", "occupancy", "calls handled by department"], group_rows
        )
    return out


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def plots_section(plots: Sequence[WrittenPlot]) -> str:
    """Each picture, embedded, with its caption (or the note that replaces it when it shows nothing)."""
    parts = []
    for plot in plots:
        spec = plot.spec
        anchor = f"plot-{spec.name}"
        if plot.note:
            parts.append(
                f'<figure id="{anchor}"><h3>{_e(spec.title)}</h3><p class="note">{_e(plot.note)}</p></figure>'
            )
            continue
        parts.append(
            f'<figure id="{anchor}"><h3>{_e(spec.title)}</h3>'
            f'<img src="{_image(plot.path)}" alt="{_e(spec.title)}">'
            f"<figcaption>{_e(spec.caption)}</figcaption></figure>"
        )
    return "".join(parts)


def _dist(value: Any) -> str:
    """`lognormal, mean 240 s, cv 0.80` from a distribution spec."""
    if value is None:
        return "none"
    try:
        mean, cv = float(value.mean_value()), float(value.cv_value())
    except (AttributeError, NotImplementedError):
        return str(value)
    kind = getattr(value, "dist", type(value).__name__.lower())
    return f"{kind}, mean {mean:g} s" + (f", cv {cv:.2f}" if cv and kind not in ("exponential",) else "")


def _staffing(staffing: Any, scenario: Scenario) -> str:
    if staffing is None:
        return "no own agents"
    if staffing.count is not None:
        return f"{staffing.count} agents all day"
    if staffing.per_interval is not None:
        counts = list(staffing.per_interval)
        return f"per interval, {min(counts)} to {max(counts)} agents"
    shifts = staffing.shifts or ()
    return "shifts " + ", ".join(f"{format_clock(s.start)}-{format_clock(s.end)} x{s.count}" for s in shifts)


def assumptions(scenario: Scenario, reps: int) -> list[str]:
    """The model's assumptions for this scenario, in plain sentences."""
    arrivals = scenario.arrivals
    if arrivals.trace_times is not None or arrivals.trace:
        arriving = f"Arrivals replay a recorded trace ({arrivals.trace or 'inline'})."
    elif arrivals.per_interval is not None:
        counts = list(arrivals.per_interval)
        arriving = (
            f"Arrivals are a Poisson process with a constant rate in each interval: {min(counts):g} to "
            f"{max(counts):g} calls per interval."
        )
    else:
        arriving = f"Arrivals are a Poisson process at {arrivals.per_hour or 0:g} calls an hour."
    if arrivals.reasons:
        arriving += " Reasons: " + ", ".join(f"{r} {100 * p:.0f}%" for r, p in arrivals.reasons.items()) + "."
    end = scenario.start + scenario.duration
    items = [
        f"The day runs {format_clock(scenario.start)}-{format_clock(end)} in {format_duration(scenario.interval)} "
        f"intervals; arrivals stop at closing and calls still in the system are served afterwards (at most "
        f"{format_duration(scenario.drain)} more).",
        arriving,
        f"Calls arriving in the first {format_duration(scenario.warmup)} are simulated but not counted."
        if scenario.warmup
        else "There is no warm-up: every call counts.",
        f"Patience (time a caller will wait for an answer): {_dist(scenario.patience)}."
        if scenario.patience is not None
        else "Callers have infinite patience: nobody abandons.",
        f"{scenario.lines} trunk lines; a caller who finds them all taken gets a busy signal (blocked)."
        if scenario.lines
        else "Unlimited trunk lines: nobody is blocked.",
        f"An agent lets a call ring {scenario.ring.rings} cycle(s) of {scenario.ring.cycle:g} s before answering; "
        "time to answer = queue wait + ring.",
        "One queue per department, first come first served within a priority level; an arriving call goes to "
        "the longest-idle eligible agent.",
        f"Service level: calls answered within {scenario.service_level.threshold:g} s of joining the queue / "
        f"offered calls; abandoned and blocked calls count as misses. Target {100 * scenario.service_level.target:.0f}%.",
        f"Transfers are {scenario.transfers.mode}"
        + (f", at most {scenario.max_transfers} per caller" if scenario.max_transfers is not None else "")
        + ".",
    ]
    if scenario.ivr is not None:
        items.append(
            f"An IVR menu ({_dist(scenario.ivr.menu_time)}) routes callers correctly with probability "
            f"{scenario.ivr.accuracy:.0%}."
        )
    for name, department in scenario.departments.items():
        items.append(
            f"{name}: {_staffing(department.agents, scenario)}; handle time {_dist(department.handle_time)}; "
            f"wrap-up {_dist(department.wrap_time)}."
        )
    for name, group in scenario.agent_groups.items():
        skills = ", ".join(f"{d} (preference {p})" for d, p in group.skills.items())
        items.append(f"Agent group {name}: {_staffing(group.agents, scenario)}, serving {skills}.")
    items.append(
        f"Results are means over {reps} independent replications (common random numbers by seed); the queue, "
        "wait and transfer pictures show replication 0."
        if reps > 1
        else "One replication: every number is one simulated day, subject to chance; run with --reps for "
        "confidence intervals."
    )
    return items


def definitions() -> list[tuple[str, str, str]]:
    """(summary key, defining function, its docstring) for every KPI, quoted from `sim/metrics.py`."""
    found = []
    for key, function_name in DEFINITIONS:
        function = getattr(metrics, function_name, None)
        doc = inspect.getdoc(function) if function is not None else None
        if doc:
            found.append((key, f"metrics.{function_name}", " ".join(doc.split())))
    return found


def run_section(run: SavedRun) -> str:
    """Seed, replications, versions, git revision, wall time and command."""
    meta = run.meta
    versions = ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items())
    rows: list[list[Cell]] = [
        ["created", _e(meta.get("created_at", "-"))],
        ["seed", _e(meta.get("seed", "-"))],
        ["replications", _e(meta.get("reps", 1))],
        ["calls simulated", _e(number(meta.get("calls_simulated")))],
        ["wall time", _e(number(meta.get("wall_time"), "s"))],
        ["git revision", _e(meta.get("git_revision", "-"))],
        ["versions", _e(versions or "-")],
        ["command", f"<code>{_e(' '.join(str(a) for a in meta.get('command') or []))}</code>"],
    ]
    return _table(["", ""], rows, "facts")


STYLE = """
:root { --ink: #1d2731; --muted: #5b6770; --miss: #fde2e1; --miss-ink: #a4161a; --met: #e3f4e8;
  --line: #d9dee3; --accent: #20639b; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  margin: 0; background: #f5f7f9; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
header h1 { margin: 0 0 4px; font-size: 28px; }
header p { margin: 2px 0; color: var(--muted); }
nav { margin: 14px 0 8px; padding: 8px 0; border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); }
.plotnav a { margin-right: 12px; color: var(--accent); text-decoration: none; font-size: 14px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; font-size: 14px; }
h2 { margin-top: 34px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 14px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 600; }
.card .note { color: var(--muted); font-size: 13px; }
.card.met { background: var(--met); border-color: #8fd19e; }
.card.miss { background: var(--miss); border-color: #f1a7a9; }
table { border-collapse: collapse; margin: 10px 0 18px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; }
td { white-space: nowrap; }
.scroll { overflow-x: auto; }
th { background: #eef2f5; }
th:first-child, td:first-child { text-align: left; }
td.miss { background: var(--miss); color: var(--miss-ink); font-weight: 600; }
td.met { color: #1e6b34; }
table.intervals td, table.intervals th { padding: 3px 8px; }
p.alert { background: var(--miss); color: var(--miss-ink); padding: 8px 12px; border-radius: 6px; }
p.ok { background: var(--met); padding: 8px 12px; border-radius: 6px; }
figure { margin: 22px 0; }
figure img { max-width: 100%; border: 1px solid var(--line); }
figcaption, p.note { color: var(--muted); font-size: 14px; }
dl dt { font-weight: 600; margin-top: 8px; font-family: ui-monospace, Menlo, Consolas, monospace; }
dl dd { margin-left: 18px; }
pre { background: #f3f5f7; padding: 12px; overflow-x: auto; font-size: 12.5px; border-radius: 6px; }
code { font-size: 12.5px; }
@media print { body { background: #fff; } nav { display: none; } figure { break-inside: avoid; } }
"""

# On load: every image decoded and every in-page link pointing at an element that exists. The verdict goes
# into <body data-check="..."> so a headless browser (and a person, in the page's footer) can read it.
CHECK = """
window.addEventListener('load', function () {
  var problems = [];
  Array.prototype.forEach.call(document.images, function (img) {
    if (!img.complete || img.naturalWidth === 0) { problems.push('image not loaded: ' + img.alt); }
  });
  Array.prototype.forEach.call(document.querySelectorAll('a[href]'), function (a) {
    var href = a.getAttribute('href');
    if (href.charAt(0) !== '#') { problems.push('external link: ' + href); }
    else if (!document.getElementById(href.slice(1))) { problems.push('broken link: ' + href); }
  });
  var verdict = problems.length ? 'fail: ' + problems.join('; ') : 'ok';
  document.body.setAttribute('data-check', verdict);
  var images = document.images.length;
  document.getElementById('check').textContent = 'Page check: ' + verdict + ' (' + images + ' images).';
});
"""


def render(run: SavedRun, plots: Sequence[WrittenPlot]) -> str:
    """The whole report as one HTML string (images embedded)."""
    scenario = run.scenario
    end = scenario.start + scenario.duration
    reps = f", {run.reps} replications" if run.reps > 1 else ""
    nav = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title in SECTIONS)
    plot_nav = " ".join(f'<a href="#plot-{p.spec.name}">{_e(p.spec.title)}</a>' for p in plots)
    definition_items = "".join(
        f"<dt>{_e(key)}</dt><dd>{_e(doc)} <span class='note'>({_e(source)})</span></dd>"
        for key, source, doc in definitions()
    )
    assumption_items = "".join(f"<li>{_e(item)}</li>" for item in assumptions(scenario, run.reps))
    description = f"<p>{_e(scenario.description)}</p>" if scenario.description else ""
    body = f"""
<header id="top">
<h1>{_e(scenario.name)}: simulated day report</h1>
{description}
<p>{format_clock(scenario.start)}-{format_clock(end)}, {format_duration(scenario.interval)} intervals, seed {_e(run.meta.get("seed", "?"))}{reps}.
Waits in seconds, agent time in hours, clock times as in the scenario.</p>
</header>
<nav>{nav}</nav>
<section id="headline"><h2>Headline</h2>{headline_section(run)}</section>
<section id="plots"><h2>Pictures</h2><p class="plotnav">{plot_nav}</p>{plots_section(plots)}</section>
<section id="kpis"><h2>KPIs against targets</h2>{kpis_section(run)}</section>
<section id="intervals"><h2>Intervals against the target</h2>{intervals_section(run)}</section>
<section id="departments"><h2>Departments</h2>{departments_section(run)}</section>
<section id="assumptions"><h2>Model assumptions</h2><ul>{assumption_items}</ul></section>
<section id="definitions"><h2>KPI definitions</h2>
<p>Quoted from the docstrings of the functions that compute them (<code>sim/metrics.py</code>).</p>
<dl>{definition_items}</dl></section>
<section id="scenario"><h2>Scenario</h2>
<p>As run, every default filled in, all times in seconds (<code>scenario.yaml</code> in the results folder).</p>
<pre>{_e(run.scenario_text)}</pre></section>
<section id="run"><h2>Run facts</h2>{run_section(run)}</section>
<footer><p class="note" id="check">Page check: not run (scripts disabled).</p><p><a href="#top">Back to top</a></p></footer>
"""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{_e(scenario.name)}: callsim report</title><style>{STYLE}</style></head>"
        f'<body data-check="pending"><main>{body}</main><script>{CHECK}</script></body></html>\n'
    )


@dataclass(frozen=True)
class Report:
    """What `write_report` wrote: the HTML file and the pictures."""

    html: Path
    plots: list[WrittenPlot]


def write_report(folder: Path | str) -> Report:
    """Rebuild `plots/` and `report.html` in a saved results folder from its files alone; each is replaced
    whole (written beside, then renamed), so an interrupted rebuild leaves the previous report intact."""
    folder = Path(folder)
    run = load_run(folder)
    staging = Path(tempfile.mkdtemp(prefix=".plots.", suffix=".partial", dir=folder))
    try:
        written = write_plots(run, staging)
        document = render(run, written)
        target = folder / PLOTS
        trash = folder / f".plots.old-{os.getpid()}"
        if target.exists():
            target.rename(trash)
        staging.rename(target)
        shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    plots = [WrittenPlot(p.spec, folder / PLOTS / p.path.name, p.note) for p in written]
    partial = folder / f".{REPORT}.partial"
    partial.write_text(document, encoding="utf-8")
    partial.replace(folder / REPORT)
    (folder / ERROR).unlink(missing_ok=True)
    return Report(folder / REPORT, plots)
