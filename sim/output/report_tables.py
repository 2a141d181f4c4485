"""The report's tables: every KPI against its target, the departments, and the agent groups (their interval
table, like the intervals against the service-level target, is `sim/output/report_intervals.py`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.analysis import kpis
from sim.analysis.channel_kpis import CHANNEL_FIGURES
from sim.analysis.goals import scope_goals
from sim.analysis.thresholds import channel_threshold_words
from sim.model.durations import format_duration
from sim.model.goals import department_thresholds, has_own_thresholds
from sim.model.scenario import Scenario
from sim.output.console import COST_ROWS, Features, features, lookup
from sim.output.report_format import Cell, esc, number, summary_ci, table, target_met, with_ci
from sim.output.report_intervals import group_intervals
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
    *("mean_wait", "p90_wait", "p_wait", "abandon_rate", "block_rate", "messages", "message_rate"),
    *("occupancy", "aht"),
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
DAY_KPIS = _rows("days_meeting_target", "busyness")
CHAT_KPIS = _rows("chat_occupancy", "slot_use")
CHANNEL_KPIS = _rows(
    *(f"{channel}_{key}" for channel in ("voice", "chat") for key in CHANNEL_FIGURES)
)
OUTBOUND_KPIS = _rows(
    "outbound_dials",
    "outbound_contacts",
    "outbound_contacts_per_agent_hour",
    "nuisance_rate",
    "outbound_list_left",
)
EMAIL_KPIS = _rows(
    "emails_handled",
    "email_within_due",
    "email_backlog_at_open",
    "email_backlog_at_close",
    "email_backlog_mean_age",
    "email_backlog_max_age",
    "emails_overdue",
    "email_overdue_calls",
)
AVAILABILITY_KPIS = _rows("utilisation", "paid_hours", "break_hours", "unavailable_hours", "absent_agents")
COST_KPIS = _rows(*COST_ROWS, "costs.overtime_hours", "costs.line_hours")


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
    groups.append(
        ("Days (replications: how often the target is met; busyness)", DAY_KPIS)
    )  # shown if present
    groups.append(("Channels (each channel's contacts by their own figures)", CHANNEL_KPIS))  # shown if present
    groups.append(("Chat desks (time with a chat in hand; slots in use)", CHAT_KPIS))  # shown if present
    groups.append(("Outbound (a campaign list dialled by blended agents)", OUTBOUND_KPIS))  # shown if present
    groups.append(("Email (handled, within due, backlog, overdue)", EMAIL_KPIS))  # shown if present
    groups.append(("Availability (shrinkage, breaks, absence)", AVAILABILITY_KPIS))  # shown if present
    groups.append(("Costs (the scenario's money unit)", COST_KPIS))  # shown if present
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
    level_target = f"≥ {100 * target:.0f}% within {channel_threshold_words(scenario)}"
    rows: list[list[Cell]] = []
    for key, label, unit in HEADLINE:
        if key not in summary:
            continue
        met = target_met(summary, target) if key == "service_level" else None
        rows.append(
            [
                esc(kpis.label_in(label, key, summary)),  # `(voice)` in a centre of several channels
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
        "days_meeting_target": f"of {run.reps} simulated days",
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
            if key in ("voice_service_level", "chat_service_level") and has_own_thresholds(scenario):
                channel = key.split("_")[0]  # `service level (chat, 60 s)`: the channel's own threshold
                label = f"{label[:-1]}, {channel_threshold_words(scenario, channel)})"
            rows.append([esc(kpis.label_in(label, key, summary)), esc(with_ci(summary, key, unit, ci)), *cells])
        if rows:
            out += f"<h3>{esc(title)}</h3>" + table(["KPI", "value", "target", "status"], rows, "kpis")
    return out


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
    if "utilisation" in summary:  # shrinkage, breaks or absence: busy over paid time beside occupancy
        keys.insert(keys.index("occupancy") + 1, "utilisation")
    if "costs" in summary:  # the scenario sets prices: each department's pay, waiting and abandonment cost
        keys.append("cost")
    columns = [
        (key, entry.label, entry.unit) for key in keys for entry in [kpis.kpi(f"by_department.x.{key}")]
    ]
    goals = scope_goals(scenario)
    own = department_thresholds(scenario) if has_own_thresholds(scenario) else None  # a column when set
    rows: list[list[Cell]] = []
    for name, values in (summary.get("by_department") or {}).items():
        department_ci = (ci.get("by_department") or {}).get(name, {})
        cells: list[Cell] = [esc(name)]
        if own is not None:
            cells.append(esc(f"{own[name]:g} s" if name in own else "-"))
        for key, _, unit in columns:
            text = esc(with_ci(values, key, unit, department_ci if unit != "n" else None))
            level = values.get(key)
            if key == "service_level" and isinstance(level, int | float) and not math.isnan(level):
                goal = goals.get(name, goals["all"]).service_level  # `sim.analysis.goals`
                cells.append((text, "miss" if float(values[key]) < (goal or 0.0) - 1e-12 else "met"))
            else:
                cells.append(text)
        rows.append(cells)
    out = '<div class="scroll">' + table(
        ["department", *(["service-level threshold"] if own is not None else []), *[label for _, label, _ in columns]],
        rows,
        "departments",
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
