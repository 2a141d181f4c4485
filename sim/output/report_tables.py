"""The report's tables: every KPI against its target, the intervals against the service-level target,
the departments, and the agent groups (with their interval table)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.analysis import kpis
from sim.model.durations import format_duration
from sim.model.scenario import Scenario
from sim.output.console import Features, features, lookup
from sim.output.plots import interval_rows
from sim.output.report_format import Cell, esc, number, summary_ci, table, target_met, with_ci
from sim.output.report_model import staffing_text
from sim.output.saved import SavedRun

KpiRow = tuple[str, str, str]
"""(summary key, dotted for nested figures like `experience.mean`; label; unit), from the KPI registry."""


def _rows(*keys: str) -> tuple[KpiRow, ...]:
    """Report rows of these summary keys: which figures, in which order, is the report's choice; their
    labels and units are the registry's (`sim.analysis.kpis`)."""
    return tuple((key, kpis.kpi(key).label, kpis.kpi(key).unit) for key in keys)


HEADLINE = _rows(
    *("offered", "answered", "abandoned", "blocked", "service_level", "answered_within_rings", "asa"),
    *("mean_wait", "p90_wait", "p_wait", "abandon_rate", "block_rate", "occupancy", "aht"),
    *("first_contact_routing", "first_contact_resolution", "transfers_per_call", "mean_agents_touched"),
    *("misroute_cost_hours", "agent_hours"),
)
HOLD_KPIS = _rows(
    *("hold_rate", "mean_hold_time", "p90_hold_time", "hold_overrun_rate", "abandoned_on_hold"),
    *("agent_hours_on_hold", "agent_hours_checking_back"),
)
CALLBACK_KPIS = _rows("service_level_live", "callbacks_offered", "callbacks_accepted")
HOLD_CALLBACK_KPIS = _rows("callbacks_from_hold")
DIAL_KPIS = _rows(
    "callback_promise_kept",
    "mean_time_to_callback",
    "callback_answer_rate",
    "callbacks_failed",
    "agent_hours_dialling",
)
REDIAL_KPIS = _rows("unique_callers", "attempts_per_caller")
EXPERIENCE_KPIS = _rows("experience.mean", "experience.p10", "experience.share_below_5")


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


def _target_cells(met: bool | None, text: str) -> list[Cell]:
    status: Cell = "" if met is None else ("met", "met") if met else ("missed", "miss")
    return [esc(text), status]


def kpis_section(run: SavedRun) -> str:
    """Every headline KPI, with the target where the scenario sets one; then the holds, callbacks,
    redials and experience figures when the scenario has them."""
    summary = run.summary
    ci = summary_ci(summary)
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
                esc(label),
                esc(with_ci(summary, key, unit, ci)),
                *_target_cells(met, level_target if met is not None else ""),
            ]
        )
    out = table(["KPI", "value", "target", "status"], rows, "kpis")
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
            rows.append([esc(label), esc(with_ci(summary, key, unit, ci)), *cells])
        if rows:
            out += f"<h3>{esc(title)}</h3>" + table(["KPI", "value", "target", "status"], rows, "kpis")
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
        f'{counted} intervals: {esc(starts)} (<a href="#intervals">details</a>).</p>'
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
        cells: list[Cell] = [esc(row["start"])]
        cells += [esc(number(row[k])) for k in ("offered", "answered", "abandoned")]
        cells.append(esc(number(row["asa"], "s")))
        cells += [esc(number(row[key], unit)) for key, _, unit in extra]
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
            cells.append((esc(text), "miss" if below else "met" if not math.isnan(level) else ""))
        rows.append(cells)
    headers = ["interval", "offered", "answered", "abandoned", "ASA", *[esc(label) for _, label, _ in extra]]
    headers += ["SL all calls", *[f"SL {esc(name)}" for name in departments]]
    missed = missed_cells(intervals if departments else overall, target)
    total = int((intervals["offered"].astype(float) > 0).sum()) if departments else len(overall)
    if len(missed):
        listing = ", ".join(
            f"{start} {name}" for start, name in zip(missed["start"], missed["department"], strict=True)
        )
        lead = (
            f'<p class="alert">{len(missed)} of {total} interval cells missed the {100 * target:.0f}% '
            f"service-level target: {esc(listing)}.</p>"
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
        lead + f"<p>{esc(clock)}</p>" + '<div class="scroll">' + table(headers, rows, "intervals") + "</div>"
    )


def departments_section(run: SavedRun) -> str:
    """Per department (over its queue visits) and, when there are agent groups, per group: occupancy,
    calls handled by skill, who answered each department's calls, and the groups interval by interval."""
    summary = run.summary
    scenario = run.scenario
    found = features(scenario)
    ci = summary_ci(summary) or {}
    keys = ["visits", "answered", "abandoned", "blocked", "service_level", "asa", "mean_wait", "abandon_rate"]
    keys += ["occupancy", "transfers_in", "transfers_out", "answered_by_own_agents"]
    if found.callbacks or found.hold_callbacks:
        keys.insert(2, "callbacks_answered")
    columns = [
        (key, entry.label, entry.unit) for key in keys for entry in [kpis.kpi(f"by_department.x.{key}")]
    ]
    target = scenario.service_level.target
    rows: list[list[Cell]] = []
    for name, values in (summary.get("by_department") or {}).items():
        department_ci = (ci.get("by_department") or {}).get(name, {})
        cells: list[Cell] = [esc(name)]
        for key, _, unit in columns:
            text = esc(with_ci(values, key, unit, department_ci if unit != "n" else None))
            if key == "service_level" and isinstance(values.get(key), int | float):
                cells.append((text, "miss" if float(values[key]) < target else "met"))
            else:
                cells.append(text)
        rows.append(cells)
    out = '<div class="scroll">' + table(
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
    ci = summary_ci(summary) or {}
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
                    esc(name),
                    esc(staffing_text(spec.agents, scenario) if spec else "-"),
                    esc(", ".join(f"{d} ({p})" for d, p in spec.skills.items()) if spec else "-"),
                    esc(_speed(spec.speed) if spec else "-"),
                    esc(with_ci(values, "occupancy", "%", group_ci)),
                    *[esc(number(n)) for n in counts],
                    esc(number(sum(counts))),
                ]
            )
        headers = ["group", "agents", "skills (preference)", "handle time", "occupancy"]
        headers += [f"handled {esc(d)}" for d in departments] + ["handled, all"]
        out += (
            '<h3 id="groups">Agent groups</h3><p>Calls handled by skill are queue visits the group\'s agents '
            "took; handle time is the department's times the group's speed factor.</p>"
            + '<div class="scroll">'
            + table(headers, group_rows, "groups")
            + "</div>"
        )
    overflows = any(d.overflow is not None for d in scenario.departments.values())
    share_rows: list[list[Cell]] = []
    for name, values in (summary.get("by_department") or {}).items():
        own = values.get("answered_by_own_agents")
        others = 1.0 - float(own) if isinstance(own, int | float) and not math.isnan(float(own)) else None
        cells: list[Cell] = [
            esc(name),
            esc(number(values.get("answered"))),
            esc(number(own, "%")),
            esc(number(others, "%")),
        ]
        share_rows.append([*cells, esc(_overflow(scenario, name))] if overflows else cells)
    headers = ["department", "answered", "by own agents", "by groups or overflow"]
    out += "<h3>Who answered each department's calls</h3>" + table(
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
        headers += [f"{esc(name)} occupancy", f"{esc(name)} logged in"]
        headers += [f"{esc(name)}: {esc(d)}" for d in skills[name]]
    headers += [f"{esc(d)} by own agents" for d in own]
    rows: list[list[Cell]] = []
    for i, start in enumerate(overall["start"]):
        cells: list[Cell] = [esc(start)]
        for name in names:
            row = frames[name][i] if i < len(frames[name]) else {}
            cells += [esc(number(row.get("occupancy"), "%")), esc(number(row.get("agents_logged_in")))]
            cells += [esc(number(row.get(f"handled_{d}"))) for d in skills[name]]
        for records in own.values():
            cells.append(
                esc(number(records[i].get("answered_by_own_agents") if i < len(records) else None, "%"))
            )
        rows.append(cells)
    return (
        "<h3>Agent groups by interval</h3><p>Occupancy and mean agents logged in over each interval; calls a "
        "group handled and the share of each department's answered calls its own agents took, by the "
        "interval the visit joined the queue.</p>"
        + '<div class="scroll">'
        + table(headers, rows, "intervals")
        + "</div>"
    )
