"""The run report a manager opens: one self-contained `report.html` (pictures embedded as base64) with the
headline KPIs against the target (and the holds, callbacks, redials and experience figures when the scenario
has them), the intervals that missed it, per-department and agent-group tables, the plots, the model's
assumptions, the KPI definitions (quoted from `sim/metrics.py`), the scenario and the run facts.

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
from sim.console import Features, features, lookup
from sim.durations import format_clock, format_duration
from sim.plots import WrittenPlot, interval_rows, write_plots
from sim.saved import SavedRun, load_run
from sim.scenario import Callbacks, Scenario

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

KpiRow = tuple[str, str, str]
"""(summary key, dotted for nested figures like `experience.mean`; label; unit as in HEADLINE)."""

HOLD_KPIS: tuple[KpiRow, ...] = (
    ("hold_rate", "answered calls put on hold", "%"),
    ("mean_hold_time", "mean time on one hold", "s"),
    ("p90_hold_time", "90th-percentile time on one hold", "s"),
    ("hold_overrun_rate", "holds that outran their promise", "%"),
    ("abandoned_on_hold", "callers who hung up on hold", "n"),
    ("agent_hours_on_hold", "agent time with a caller on hold", "h"),
    ("agent_hours_checking_back", "agent time checking back", "h"),
)
CALLBACK_KPIS: tuple[KpiRow, ...] = (
    ("service_level_live", "service level, live callers (callbacks left out)", "%"),
    ("callbacks_offered", "callbacks offered on joining a queue", "n"),
    ("callbacks_accepted", "callbacks accepted", "n"),
)
HOLD_CALLBACK_KPIS: tuple[KpiRow, ...] = (("callbacks_from_hold", "callbacks taken at a check-back", "n"),)
DIAL_KPIS: tuple[KpiRow, ...] = (
    ("callback_promise_kept", "callbacks first dialled within the window", "%"),
    ("mean_time_to_callback", "mean time from request to first dial-out", "s"),
    ("callback_answer_rate", "dial-outs answered", "%"),
    ("callbacks_failed", "callbacks given up after every retry", "n"),
    ("agent_hours_dialling", "agent time dialling out", "h"),
)
REDIAL_KPIS: tuple[KpiRow, ...] = (
    ("unique_callers", "callers (people)", "n"),
    ("attempts_per_caller", "calls per caller (redials included)", "x"),
)
EXPERIENCE_KPIS: tuple[KpiRow, ...] = (
    ("experience.mean", "experience score, mean (0 worst, 10 best)", "x"),
    ("experience.p10", "experience score, 10th percentile", "x"),
    ("experience.share_below_5", "calls scoring below 5", "%"),
)


def feature_kpis(found: Features) -> list[tuple[str, tuple[KpiRow, ...]]]:
    """(title, rows) of the KPI groups for the parts of the model this run has: holds, callbacks,
    redials, the experience score."""
    groups: list[tuple[str, tuple[KpiRow, ...]]] = []
    if found.holds:
        groups.append(("Holds", HOLD_KPIS))
    if found.callbacks or found.hold_callbacks:
        rows = (CALLBACK_KPIS if found.callbacks else ()) + (
            HOLD_CALLBACK_KPIS if found.hold_callbacks else ()
        )
        groups.append(("Callbacks", rows + DIAL_KPIS))
    if found.redials:
        groups.append(("Redials", REDIAL_KPIS))
    if found.experience:
        groups.append(("Caller experience (a model, not a survey result)", EXPERIENCE_KPIS))
    return groups


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
    ("service_level_live", "service_level_live"),
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
    """The value, and ` ± half-width` (in the value's unit: `87.5% ± 17.6%`) when the summary is a mean
    over replications; `key` may be dotted (`experience.mean`)."""
    text = number(lookup(summary, key), unit)
    half = lookup(ci, key)
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


def _ci(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    ci = summary.get("ci95")
    return ci if isinstance(ci, Mapping) else None


Card = tuple[str, str, str, str]
"""(label, value, note, CSS class)."""


def _cards(cards: Sequence[Card]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {klass}"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
            f'<div class="note">{_e(note)}</div></div>'
            for label, value, note, klass in cards
        )
        + "</div>"
    )


def feature_cards(run: SavedRun, found: Features) -> list[Card]:
    """Headline cards for holds, callbacks, redials and the experience score, when the run has them."""
    summary = run.summary
    ci = _ci(summary)
    scenario = run.scenario
    target = scenario.service_level.target
    cards: list[Card] = []
    if found.callbacks:
        live = summary.get("service_level_live")
        met = isinstance(live, int | float) and not math.isnan(float(live)) and float(live) >= target
        cards.append(
            (
                "service level, live callers",
                with_ci(summary, "service_level_live", "%", ci),
                f"callers who took a callback left out; target {100 * target:.0f}%",
                "met" if met else "miss",
            )
        )
        cards.append(
            (
                "callbacks accepted / offered",
                f"{number(summary.get('callbacks_accepted'))} / {number(summary.get('callbacks_offered'))}",
                f"{number(summary.get('callback_promise_kept'), '%')} first dialled within "
                f"{format_duration(scenario.callback.window if scenario.callback else 7200.0)}; "
                f"mean {number(summary.get('mean_time_to_callback'), 's')} to callback",
                "",
            )
        )
    elif found.hold_callbacks:
        cards.append(
            (
                "callbacks taken on hold",
                with_ci(summary, "callbacks_from_hold", "n", ci),
                f"{number(summary.get('callback_promise_kept'), '%')} first dialled within "
                f"{format_duration(7200.0)}",
                "",
            )
        )
    if found.holds:
        cards.append(
            (
                "calls put on hold",
                with_ci(summary, "hold_rate", "%", ci),
                f"mean hold {number(summary.get('mean_hold_time'), 's')}; "
                f"{number(summary.get('hold_overrun_rate'), '%')} outran the promise; "
                f"{number(summary.get('abandoned_on_hold'))} hung up on hold",
                "",
            )
        )
    if found.redials:
        cards.append(
            (
                "calls per caller",
                with_ci(summary, "attempts_per_caller", "x", ci),
                f"{number(summary.get('unique_callers'))} callers made {number(summary.get('offered'))} calls "
                "(redials included)",
                "",
            )
        )
    if found.experience:
        cards.append(
            (
                "experience score (model, 0-10)",
                with_ci(summary, "experience.mean", "x", ci),
                f"{number(lookup(summary, 'experience.share_below_5'), '%')} of calls below 5; "
                f"10th percentile {number(lookup(summary, 'experience.p10'), 'x')}",
                "",
            )
        )
    return cards


def headline_section(run: SavedRun) -> str:
    """Cards for the few numbers that matter (and for holds, callbacks, redials and the experience score
    when the scenario has them), and how many intervals missed the target."""
    summary = run.summary
    ci = _ci(summary)
    target = run.scenario.service_level.target
    threshold = run.scenario.service_level.threshold
    met = target_met(summary, target)
    cards: list[Card] = [
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
    found = features(run.scenario)
    extra = feature_cards(run, found)
    reps = run.reps
    note = (
        f"<p>Means over {reps} independent replications, with 95% confidence half-widths (Student t).</p>"
        if reps > 1
        else "<p>One simulated day (replication 0).</p>"
    )
    parts = [
        name
        for name, present in (
            ("holds", found.holds),
            ("callbacks", found.callbacks or found.hold_callbacks),
            ("redials", found.redials),
            ("the caller's experience (a model)", found.experience),
        )
        if present
    ]
    title = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
    more = f'<h3 id="headline-more">{_e(title[:1].upper() + title[1:])}</h3>{_cards(extra)}' if extra else ""
    return f"{_cards(cards)}{more}{note}{missed_line(run)}"


def _target_cells(met: bool | None, text: str) -> list[Cell]:
    status: Cell = "" if met is None else ("met", "met") if met else ("missed", "miss")
    return [_e(text), status]


def kpis_section(run: SavedRun) -> str:
    """Every headline KPI, with the target where the scenario sets one; then the holds, callbacks,
    redials and experience figures when the scenario has them."""
    summary = run.summary
    ci = _ci(summary)
    scenario = run.scenario
    target = scenario.service_level.target
    threshold = scenario.service_level.threshold
    level_target = f"≥ {100 * target:.0f}% within {threshold:g} s"
    rows: list[list[Cell]] = []
    for key, label, unit in HEADLINE:
        if key not in summary:
            continue
        met = target_met(summary, target) if key == "service_level" else None
        rows.append(
            [
                _e(label),
                _e(with_ci(summary, key, unit, ci)),
                *_target_cells(met, level_target if met is not None else ""),
            ]
        )
    out = _table(["KPI", "value", "target", "status"], rows, "kpis")
    promises = {d.hold.promise for d in scenario.departments.values() if d.hold is not None}
    window = scenario.callback.window if scenario.callback else 7200.0
    notes = {
        "hold_overrun_rate": f"promise {format_duration(next(iter(promises)))}" if len(promises) == 1 else "",
        "callback_promise_kept": f"window {format_duration(window)}",
    }
    for title, group in feature_kpis(features(scenario)):
        rows = []
        for key, label, unit in group:
            if lookup(summary, key) is None:
                continue
            if key == "service_level_live":
                live = summary.get(key)
                met = isinstance(live, int | float) and not math.isnan(float(live)) and float(live) >= target
                cells = _target_cells(met, level_target)
            else:
                cells = _target_cells(None, notes.get(key, ""))
            rows.append([_e(label), _e(with_ci(summary, key, unit, ci)), *cells])
        if rows:
            out += f"<h3>{_e(title)}</h3>" + _table(["KPI", "value", "target", "status"], rows, "kpis")
    return out


def kind_rows(intervals: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The interval table's rows of one kind: `all`, `department` or `group`. A table saved before the
    `kind` column existed has no group rows (its rows are `all` and departments)."""
    if "kind" in intervals.columns:
        return intervals[intervals["kind"].astype(str) == kind]
    if kind == "group":
        return intervals.iloc[0:0]
    overall = intervals["department"].astype(str) == "all"
    return intervals[overall if kind == "all" else ~overall]


def service_rows(intervals: pd.DataFrame) -> pd.DataFrame:
    """The rows that measure service (all calls and departments): never the agent groups."""
    return pd.concat([kind_rows(intervals, "all"), kind_rows(intervals, "department")])


def missed_line(run: SavedRun) -> str:
    """One sentence: how many intervals (all calls together) missed the service-level target."""
    target = run.scenario.service_level.target
    overall = interval_rows(kind_rows(run.intervals, "all"))
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
    """Interval rows (any department or `all`, never an agent group) with offered calls whose service
    level is below the target."""
    intervals = service_rows(intervals)
    level = intervals["service_level"].astype(float)
    return intervals[(intervals["offered"].astype(float) > 0) & (level < target)]


def intervals_section(run: SavedRun) -> str:
    """Per interval: volumes and the service level of all calls and each department (misses highlighted);
    holds, callbacks and the experience score when the scenario has them."""
    scenario = run.scenario
    target = scenario.service_level.target
    intervals = service_rows(run.intervals)
    departments = run.departments if len(run.departments) > 1 else []
    overall = interval_rows(kind_rows(intervals, "all"))
    department_rows = kind_rows(intervals, "department")
    by_department = {name: interval_rows(department_rows, name) for name in departments}
    banded = "service_level_ci95" in intervals.columns
    found = features(scenario)
    extra = [
        (key, label, unit)
        for key, label, unit, wanted in (
            ("hold_rate", "on hold", "%", found.holds),
            ("abandoned_on_hold", "hung up on hold", "n", found.holds),
            ("callbacks_accepted", "callbacks accepted", "n", found.callbacks),
            ("experience", "experience", "x", found.experience),
        )
        if wanted and key in overall.columns
    ]
    records = {
        name: frame.to_dict(orient="records") for name, frame in {"all": overall, **by_department}.items()
    }
    rows: list[list[Cell]] = []
    for i, row in enumerate(records["all"]):
        cells: list[Cell] = [_e(row["start"])]
        cells += [_e(number(row[k])) for k in ("offered", "answered", "abandoned")]
        cells.append(_e(number(row["asa"], "s")))
        cells += [_e(number(row[key], unit)) for key, _, unit in extra]
        for name, frame in records.items():
            if i >= len(frame):
                cells.append("-")
                continue
            current = frame[i]
            level = float(current["service_level"])
            text = number(level, "%")
            if banded and name == "all" and not math.isnan(float(current["service_level_ci95"])):
                text += f" ± {number(float(current['service_level_ci95']), '%')}"
            below = float(current["offered"]) > 0 and not math.isnan(level) and level < target
            cells.append((_e(text), "miss" if below else "met" if not math.isnan(level) else ""))
        rows.append(cells)
    headers = ["interval", "offered", "answered", "abandoned", "ASA", *[_e(label) for _, label, _ in extra]]
    headers += ["SL all calls", *[f"SL {_e(name)}" for name in departments]]
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
    if extra:
        clock += (
            " The hold, callback and experience columns are of all calls arriving in the interval "
            "(experience: the mean modelled score, 0-10)."
        )
    return (
        lead + f"<p>{_e(clock)}</p>" + '<div class="scroll">' + _table(headers, rows, "intervals") + "</div>"
    )


def departments_section(run: SavedRun) -> str:
    """Per department (over its queue visits) and, when there are agent groups, per group: occupancy,
    calls handled by skill, who answered each department's calls, and the groups interval by interval."""
    summary = run.summary
    scenario = run.scenario
    found = features(scenario)
    ci = _ci(summary) or {}
    columns = [
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
    ]
    if found.callbacks or found.hold_callbacks:
        columns.insert(2, ("callbacks_answered", "of them callbacks", "n"))
    target = scenario.service_level.target
    rows: list[list[Cell]] = []
    for name, values in (summary.get("by_department") or {}).items():
        department_ci = (ci.get("by_department") or {}).get(name, {})
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
    if summary.get("by_group") or any(d.overflow for d in scenario.departments.values()):
        out += groups_section(run)
    return out


def _speed(factors: Mapping[str, float]) -> str:
    slower = [f"{d} x{f:g}" for d, f in factors.items() if f != 1.0]
    return ", ".join(slower) if slower else "x1 (as the departments' own agents)"


def groups_section(run: SavedRun) -> str:
    """Agent groups: staffing, skills, speed, occupancy and calls handled by skill; each department's
    calls answered by its own agents or by others (groups, overflow); the groups interval by interval."""
    summary = run.summary
    scenario = run.scenario
    ci = _ci(summary) or {}
    departments = run.departments
    groups: Mapping[str, Any] = summary.get("by_group") or {}
    out = ""
    if groups:
        group_rows: list[list[Cell]] = []
        for name, values in groups.items():
            spec = scenario.agent_groups.get(name)
            handled = values.get("handled") or {}
            counts = [float(handled.get(d, 0) or 0) for d in departments]
            group_ci = (ci.get("by_group") or {}).get(name, {})
            group_rows.append(
                [
                    _e(name),
                    _e(_staffing(spec.agents, scenario) if spec else "-"),
                    _e(", ".join(f"{d} ({p})" for d, p in spec.skills.items()) if spec else "-"),
                    _e(_speed(spec.speed) if spec else "-"),
                    _e(with_ci(values, "occupancy", "%", group_ci)),
                    *[_e(number(n)) for n in counts],
                    _e(number(sum(counts))),
                ]
            )
        headers = ["group", "agents", "skills (preference)", "handle time", "occupancy"]
        headers += [f"handled {_e(d)}" for d in departments] + ["handled, all"]
        out += (
            '<h3 id="groups">Agent groups</h3><p>Calls handled by skill are queue visits the group\'s agents '
            "took; handle time is the department's times the group's speed factor.</p>"
            + '<div class="scroll">'
            + _table(headers, group_rows, "groups")
            + "</div>"
        )
    overflows = any(d.overflow is not None for d in scenario.departments.values())
    share_rows: list[list[Cell]] = []
    for name, values in (summary.get("by_department") or {}).items():
        own = values.get("answered_by_own_agents")
        others = 1.0 - float(own) if isinstance(own, int | float) and not math.isnan(float(own)) else None
        cells: list[Cell] = [
            _e(name),
            _e(number(values.get("answered"))),
            _e(number(own, "%")),
            _e(number(others, "%")),
        ]
        share_rows.append([*cells, _e(_overflow(scenario, name))] if overflows else cells)
    headers = ["department", "answered", "by own agents", "by groups or overflow"]
    out += "<h3>Who answered each department's calls</h3>" + _table(
        [*headers, "overflow rule"] if overflows else headers, share_rows
    )
    out += group_intervals(run)
    return out


def _overflow(scenario: Scenario, department: str) -> str:
    overflow = scenario.departments[department].overflow
    if overflow is None:
        return "-"
    return f"after {format_duration(overflow.after)} to {', '.join(overflow.to)}"


def group_intervals(run: SavedRun) -> str:
    """Per interval: each group's occupancy, agents logged in and calls handled by skill, and the share
    of each department's calls its own agents answered (from the interval table's group rows)."""
    intervals = run.intervals
    group_rows = kind_rows(intervals, "group")
    if group_rows.empty:
        return ""
    names = list(dict.fromkeys(group_rows["department"].astype(str)))
    departments = run.departments

    def serves(name: str, department: str) -> bool:
        column = f"handled_{department}"
        if column not in group_rows.columns:
            return False
        spec = run.scenario.agent_groups.get(name)
        mine = group_rows[group_rows["department"].astype(str) == name]
        return (spec is not None and department in spec.skills) or float(mine[column].sum()) > 0

    skills = {name: [d for d in departments if serves(name, d)] for name in names}
    frames = {name: interval_rows(group_rows, name).to_dict(orient="records") for name in names}
    owned = kind_rows(intervals, "department")
    own = {
        d: interval_rows(owned, d).to_dict(orient="records")
        for d in departments
        if "answered_by_own_agents" in owned.columns
    }
    overall = interval_rows(kind_rows(intervals, "all"))
    headers = ["interval"]
    for name in names:
        headers += [f"{_e(name)} occupancy", f"{_e(name)} logged in"]
        headers += [f"{_e(name)}: {_e(d)}" for d in skills[name]]
    headers += [f"{_e(d)} by own agents" for d in own]
    rows: list[list[Cell]] = []
    for i, start in enumerate(overall["start"]):
        cells: list[Cell] = [_e(start)]
        for name in names:
            row = frames[name][i] if i < len(frames[name]) else {}
            cells += [_e(number(row.get("occupancy"), "%")), _e(number(row.get("agents_logged_in")))]
            cells += [_e(number(row.get(f"handled_{d}"))) for d in skills[name]]
        for records in own.values():
            cells.append(
                _e(number(records[i].get("answered_by_own_agents") if i < len(records) else None, "%"))
            )
        rows.append(cells)
    return (
        "<h3>Agent groups by interval</h3><p>Occupancy and mean agents logged in over each interval; calls a "
        "group handled and the share of each department's answered calls its own agents took, by the "
        "interval the visit joined the queue.</p>"
        + '<div class="scroll">'
        + _table(headers, rows, "intervals")
        + "</div>"
    )


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
    if kind == "fixed":
        return f"fixed {mean:g} s"
    if kind == "uniform":
        return f"uniform {value.low:g}-{value.high:g} s"
    if kind == "triangular":
        return f"triangular, low {value.low:g} s, mode {value.mode:g} s, high {value.high:g} s"
    return f"{kind}, mean {mean:g} s" + (f", cv {cv:.2f}" if cv and kind not in ("exponential",) else "")


def _share(p: float) -> str:
    return f"{100 * p:.0f}%" if abs(100 * p - round(100 * p)) < 1e-9 else f"{100 * p:.1f}%"


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


def hold_assumptions(scenario: Scenario) -> list[str]:
    """One sentence per department with mid-call holds: chance, promise, check-back, callback, patience."""
    items = []
    for name, department in scenario.departments.items():
        hold = department.hold
        if hold is None:
            continue
        times = (
            f"up to {hold.max_holds} times per call, each time"
            if hold.max_holds > 1
            else "at most once per call,"
        )
        after = (
            f"the caller keeps holding with a new {format_duration(hold.promise)} promise "
            f"({_share(1 - hold.callback_share)}) or takes a callback ({_share(hold.callback_share)}), whose "
            "handle time is the talk and research left"
            if hold.callback_share > 0
            else "the caller keeps holding with a new promise"
        )
        patience = (
            f"A caller hangs up on hold (abandoned_on_hold) when a stretch of holding (up to one promise) "
            f"outlasts their hold patience ({_dist(hold.patience)}, drawn for each stretch)."
            if hold.patience is not None
            else "Callers never hang up on hold."
        )
        items.append(
            f"{name} holds: {times} with probability {_share(hold.probability)}, at a uniformly drawn point of the "
            f"remaining talk, the agent puts the caller on hold to research ({_dist(hold.duration)}), promising "
            f"{format_duration(hold.promise)}. Research done within the promise: the talk resumes. Otherwise the "
            f"agent checks back when the promise runs out ({_dist(hold.check_back_time)} of talk) and {after}. "
            f"{patience} The agent stays busy throughout: holds cost agent time."
        )
    return items


def callback_assumptions(scenario: Scenario) -> list[str]:
    """Callbacks instead of waiting (or chosen on hold): offer, estimated wait, place, window, dial-out."""
    offer = scenario.callback
    from_hold = any(d.hold is not None and d.hold.callback_share > 0 for d in scenario.departments.values())
    if offer is None and not from_hold:
        return []
    settings = offer or Callbacks()
    items = []
    if offer is not None:
        place = (
            "in the caller's place in the queue (keep_place: virtual hold)"
            if offer.keep_place
            else "after every live caller (keep_place: false)"
        )
        items.append(
            "Callbacks instead of waiting: a caller joining a queue is told an estimated wait, (callers ahead + "
            "1) x the department's mean handle + wrap time / the agents on duty who take that queue. Over "
            f"{format_duration(offer.offer_when_wait_over)} a callback is offered and {_share(offer.accept)} "
            f"accept: they hang up (the line is freed) and a callback entry waits {place}. Accepting a callback "
            "is not abandoning; service_level counts these callers as misses (they were not answered within "
            "the threshold), service_level_live leaves them out."
        )
    hold_note = (
        " Callbacks chosen on hold wait after every live caller"
        + (
            ""
            if offer is not None
            else ", with the default callback settings (the scenario has no callback block)"
        )
        + "."
        if from_hold
        else ""
    )
    retries = (
        f"otherwise the callback waits again, after every live caller, {format_duration(settings.retry_delay)} "
        f"later, up to {settings.retries} retries, then is given up (callback_failed)"
        if settings.retries
        else "otherwise it is given up (callback_failed)"
    )
    items.append(
        f"Callback window {format_duration(settings.window)}: a callback not dialled by the end of its window less "
        "the time the front of the queue takes to reach an agent (mean handle + wrap time / agents on duty, "
        "judged when the callback is requested) moves to the front of its caller's priority level, ahead of "
        f"live callers of that priority.{hold_note} The agent who reaches a callback dials out "
        f"({_dist(settings.dial_time)}, the agent busy); the caller answers with probability "
        f"{_share(settings.answer_probability)} and is then served as a normal call; {retries}. "
        "callback_promise_kept checks the first dial-out against the window."
    )
    return items


def redial_assumptions(scenario: Scenario) -> list[str]:
    """Who calls again, when, and how often."""
    redial = scenario.redial
    if redial is None or (redial.blocked is None and redial.abandoned is None):
        return []
    rules = []
    if redial.blocked is not None:
        rules.append(
            f"a caller who heard a busy signal calls again with probability {_share(redial.blocked.probability)} "
            f"after {_dist(redial.blocked.delay)}"
        )
    if redial.abandoned is not None:
        rules.append(
            "one who gave up (in a queue, ringing or on hold) with probability "
            f"{_share(redial.abandoned.probability)} after {_dist(redial.abandoned.delay)}"
        )
    return [
        f"Redials: {'; '.join(rules)}; up to {redial.max_attempts} calls per caller in all, and only while the "
        "day is open. Each redial is a new call"
        + (" with fresh patience from the same distribution" if scenario.patience is not None else "")
        + ": offered counts calls, unique_callers counts people."
    ]


def experience_assumption(scenario: Scenario) -> str:
    """The experience score's formula with this scenario's parameters."""
    x = scenario.experience
    ends = x.end_badness
    w = x.peak_weight
    return (
        "Caller-experience score, a model (the peak-end rule: people judge an experience by its worst moment "
        "and by how it ended), not a survey result; 0 worst, 10 best. Each call: badness of a wait = min(1, "
        f"wait / {x.wait_tolerance:g} s) for each live queue visit; of a hold = min(1, hold time / "
        f"{x.hold_tolerance:g} s) for each hold; a broken hold promise {x.overrun_badness:g}, a misroute "
        f"(transferred, or first answered where the reason cannot be resolved) {x.misroute_badness:g}, a busy "
        f"signal {x.busy_badness:g}. peak = the worst of these (0 if none); end = how the call ended: first "
        f"agent {ends.first_agent:g}, later agent {ends.later_agent:g}, callback {ends.callback:g}, "
        f"self-service {ends.self_service:g}, unresolved (any other ending: abandoned, blocked, hung up on "
        f"hold, dropped, callback given up, still in the system) "
        f"{ends.unresolved:g}. score = 10 x (1 - {w:g} x peak - {1 - w:g} x end)."
    )


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
    if arrivals.priority:
        items.append(
            "Priorities (lower first; unlisted reasons 1): "
            + ", ".join(f"{r} {p}" for r, p in arrivals.priority.items())
            + "."
        )
    for name, department in scenario.departments.items():
        sentence = (
            f"{name}: {_staffing(department.agents, scenario)}; handle time {_dist(department.handle_time)}; "
            f"wrap-up {_dist(department.wrap_time)}."
        )
        if department.overflow is not None:
            sentence += (
                f" After waiting {format_duration(department.overflow.after)} a call also becomes eligible for "
                f"{', '.join(department.overflow.to)}, who take it after the calls of their own skills."
            )
        items.append(sentence)
    for name, group in scenario.agent_groups.items():
        skills = ", ".join(f"{d} (preference {p})" for d, p in group.skills.items())
        speeds = [f"x{f:g} on {d}" for d, f in group.speed.items() if f != 1.0]
        speed = (
            f"; handle time is the department's times its speed factor: {', '.join(speeds)} (above 1 is slower)"
            if speeds
            else "; they handle calls at the departments' own speed (speed factor 1)"
        )
        items.append(
            f"Agent group {name}: {_staffing(group.agents, scenario)}, serving {skills}, lower preference "
            f"first, then priority, then longest wait{speed}."
        )
    items += hold_assumptions(scenario)
    items += callback_assumptions(scenario)
    items += redial_assumptions(scenario)
    if features(scenario).experience:
        items.append(experience_assumption(scenario))
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
