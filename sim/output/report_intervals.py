"""The report's intervals: the service level of all calls and of each department, interval by interval, against
the target (misses highlighted), the sentence that counts the misses, and the agent groups interval by interval.

A long run (more than `MAX_INTERVAL_ROWS` intervals: a year in hourly intervals has 8,760) shows the intervals
that missed the target and a roll-up by day instead of every interval, and says so; `intervals.csv` in the
results folder holds every one. The tables are built a column at a time (`report_format.numbers`), so even
the longest list costs little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis import kpis
from sim.analysis.goals import scope_goals
from sim.analysis.grouping import Groups
from sim.analysis.metrics import service_level
from sim.analysis.thresholds import call_thresholds
from sim.model.durations import format_duration
from sim.output.console import features
from sim.output.plots_service_data import counted_offered, interval_days, interval_rows
from sim.output.report_format import column, column_table, esc, numbers
from sim.output.report_goals import missed_sentence, run_missed
from sim.output.saved import SavedRun

MAX_INTERVAL_ROWS = 1000
"""Above this many intervals the report lists only the intervals that missed the target (at most this many)
and a roll-up by day."""
MAX_NAMED = 40
"""Intervals (or interval cells) named in a sentence; beyond them, a count (`and 312 more`)."""


def kind_rows(intervals: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The interval table's rows of one kind: `all`, `department` or `group`. A table saved before the
    `kind` column existed has no group rows (its rows are `all` and departments)."""
    if "kind" in intervals.columns:
        return intervals[intervals["kind"].astype(str) == kind]
    if kind == "group":
        return intervals.iloc[0:0]
    overall = intervals["department"].astype(str) == "all"
    return intervals[overall if kind == "all" else ~overall]


def intervals_kind(intervals: pd.DataFrame) -> pd.Series:
    """Each row's `kind` (`all` or `department` in an old table without the column)."""
    if "kind" in intervals.columns:
        return intervals["kind"].astype(str)
    return pd.Series(np.where(intervals["department"].astype(str) == "all", "all", "department"), index=intervals.index)


def service_rows(intervals: pd.DataFrame) -> pd.DataFrame:
    """The rows that measure service (all calls and departments): never the agent groups."""
    return pd.concat([kind_rows(intervals, "all"), kind_rows(intervals, "department")])


def missed_cells(intervals: pd.DataFrame, target: float) -> pd.DataFrame:
    """Interval rows (any department or `all`, never an agent group) with offered calls whose service
    level is below the target."""
    intervals = service_rows(intervals)
    level = intervals["service_level"].astype(float)
    return intervals[(intervals["offered"].astype(float) > 0) & (level < target)]


def _named(items: list[str]) -> str:
    """`a, b, c`; past `MAX_NAMED` items, the first of them and how many more."""
    if len(items) <= MAX_NAMED:
        return ", ".join(items)
    return ", ".join(items[:MAX_NAMED]) + f" and {len(items) - MAX_NAMED:,} more"


def missed_line(run: SavedRun) -> str:
    """One sentence: how many interval cells (all calls, and each department of several) missed a goal, as
    the console and the intervals section count them (`sim.output.report_goals`)."""
    return missed_sentence(run, MAX_NAMED, _named)


def _service_missed(run: SavedRun) -> pd.DataFrame:
    """The interval cells that missed a goal (`sim.analysis.goals.missed_cells`), with `department` naming
    the scope."""
    return run_missed(run).rename(columns={"scope": "department"})


def shown_intervals(run: SavedRun, most: int | None = None) -> np.ndarray | None:
    """The interval numbers the report's interval tables list: None (every one) for a run of at most
    `most` intervals (`MAX_INTERVAL_ROWS` unless given); else those where all calls or a department
    missed the target, the first `most`."""
    most = MAX_INTERVAL_ROWS if most is None else most
    if len(kind_rows(run.intervals, "all")) <= most:
        return None
    return np.unique(_service_missed(run)["interval"].to_numpy(dtype=np.int64))[:most]


def _aligned(rows: pd.DataFrame, wanted: np.ndarray) -> pd.DataFrame:
    """One department's (or group's) interval rows for the interval numbers `wanted`, in that order: a
    row of NaN, `present` false, for an interval it has no row in."""
    indexed = rows.drop_duplicates("interval").set_index("interval").assign(present=True)
    aligned = indexed.reindex(pd.Index(wanted, name="interval"))
    aligned["present"] = aligned["present"].astype("boolean").fillna(False).astype(bool)
    return aligned


def _levels(rows: pd.DataFrame, target: float | None, with_half_width: bool) -> list[str]:
    """A service-level column: the level (`± half-width` over replications) in a cell marked `miss` where
    the interval had calls and fell below the target, `met` where it has a level; a bare `-` where the
    department has no row for the interval."""
    level = rows["service_level"].to_numpy(dtype=float)
    text = numbers(level, "%")
    if with_half_width:
        half = rows["service_level_ci95"].to_numpy(dtype=float)
        for index, width in zip(
            np.flatnonzero(~np.isnan(half)).tolist(), numbers(half[~np.isnan(half)], "%"), strict=True
        ):
            text[index] += f" ± {width}"
    known = ~np.isnan(level)
    below = (rows["offered"].to_numpy(dtype=float) > 0) & known & (level < (target or 0.0) - 1e-12)
    classes = np.where(below, "miss", np.where(known, "met", "")).tolist()
    cells = column(text, classes)
    present = rows["present"].to_numpy(dtype=bool)
    return [cell if keep else "<td>-</td>" for cell, keep in zip(cells, present.tolist(), strict=True)]


def _registered(key: str, label: str, unit: str) -> tuple[str, str, str]:
    """An interval column's key, header and unit: the registry's compact label and unit where it knows the
    key, else the given ones."""
    if kpis.known(key):
        return key, kpis.kpi(key).console_label, kpis.kpi(key).unit
    return key, label, unit


def intervals_section(run: SavedRun, most: int | None = None) -> str:
    """Per interval: volumes and the service level of all calls and each department (misses highlighted);
    holds, callbacks and the experience score when the scenario has them. Past `most` intervals, only the
    intervals that missed the target, then a roll-up by day."""
    scenario = run.scenario
    intervals = service_rows(run.intervals)
    departments = run.departments if len(run.departments) > 1 else []
    overall = interval_rows(kind_rows(intervals, "all"))
    department_rows = kind_rows(intervals, "department")
    found = features(scenario)
    extra = [
        _registered(key, label, unit)
        for key, label, unit, wanted in (
            ("hold_rate", "on hold", "%", found.holds),
            ("abandoned_on_hold", "hung up on hold", "n", found.holds),
            ("callbacks_accepted", "callbacks accepted", "n", found.callbacks),
            ("experience", "experience", "x", found.experience),  # a score: not a registry key
        )
        if wanted and key in overall.columns
    ]
    shown = shown_intervals(run, most)
    wanted = overall["interval"].to_numpy(dtype=np.int64) if shown is None else shown
    rows = _aligned(overall, wanted)
    columns = [column([esc(start) for start in rows["start"].astype(str)])]
    columns += [column(numbers(rows[key])) for key in ("offered", "answered", "abandoned")]
    columns.append(column(numbers(rows["asa"], "s")))
    columns += [column(numbers(rows[key], unit)) for key, _, unit in extra]
    goals = scope_goals(scenario)
    level_column = _levels(rows, goals["all"].service_level, "service_level_ci95" in intervals.columns)
    columns.append(level_column)
    emails = {name for name, own in scenario.departments.items() if own.channel == "email"}
    for name in departments:
        department_levels = _aligned(interval_rows(department_rows, name), wanted)
        if name in emails and "email_within_due" in department_levels.columns:  # judged by its due time
            department_levels = department_levels.assign(service_level=department_levels["email_within_due"])
        columns.append(_levels(department_levels, goals[name].service_level, False))
    headers = ["interval", "offered", "answered", "abandoned", kpis.department_kpi("asa").console_label]
    headers += [esc(label) for _, label, _ in extra]
    channels = run.intervals["department"][intervals_kind(run.intervals) == "channel"].astype(str)
    first = channels.iloc[0] if len(channels) else ""  # several channels: the `all` rows are its contacts'
    headers += [
        {"": "SL all calls", "voice": "SL voice calls"}.get(first, "SL chats"),
        *[f"{'within due' if name in emails else 'SL'} {esc(name)}" for name in departments],
    ]
    missed = _service_missed(run)
    if scenario.goals is not None:  # every goal, not only the service level the SL columns show
        by_interval = missed.groupby("interval")["department"].agg(", ".join)
        named = by_interval.reindex(pd.Index(wanted)).fillna("").astype(str).tolist()
        columns.append(column([esc(text) for text in named], ["miss" if text else "" for text in named]))
        headers.append("missed a goal")
    lead = missed_line(run).replace(' (<a href="#intervals">details</a>)', "")
    clock = (
        f"Clock times are interval starts ({format_duration(scenario.interval)} intervals); calls count in "
    )
    clock += "the interval they arrived in; waits in seconds."
    if extra:
        clock += (
            " The hold, callback and experience columns are of all calls arriving in the interval "
            "(experience: the mean modelled score, 0-10)."
        )
    listed = '<div class="scroll">' + column_table(headers, columns, "intervals") + "</div>"
    if shown is None:
        return lead + f"<p>{esc(clock)}</p>" + listed
    missed_intervals = len(np.unique(missed["interval"].to_numpy()))
    first = f" (the first {len(shown):,} of {missed_intervals:,})" if missed_intervals > len(shown) else ""
    shows = (
        f"the table shows the {missed_intervals:,} where all calls together or a department missed a "
        f"goal{first}, then a roll-up by day"
        if missed_intervals
        else "none missed a goal; a roll-up by day follows"
    )
    long = (
        f"This run has {len(overall):,} intervals, too many to list: {shows}. Every interval is in "
        "intervals.csv in the results folder."
    )
    return (
        lead
        + f'<p class="note">{esc(long)}</p><p>{esc(clock)}</p>'
        + (listed if len(shown) else "")
        + day_rollup(run, overall)
    )


def day_rollup(run: SavedRun, overall: pd.DataFrame) -> str:
    """Per day of the run (the day an interval starts in): its intervals, the calls offered, answered and
    abandoned (the interval table's, summed), the day's service level (`metrics.service_level` over the
    calls that arrived in its intervals; replication 0's calls when replicated), how many interval cells
    missed a goal (`sim.analysis.goals`) and the lowest interval service level."""
    scenario = run.scenario
    target = scenario.service_level.target
    number = overall["interval"].to_numpy(dtype=np.int64)
    day_of = interval_days(np.arange(number.max() + 1), scenario)
    day = day_of[number]
    days = int(day.max()) + 1
    level = overall["service_level"].to_numpy(dtype=float)
    firsts = np.unique(day, return_index=True)[1]
    calls = counted_offered(run.calls, scenario)
    arrived = np.clip(
        np.floor(calls["arrived_at"].to_numpy(dtype=float) / scenario.interval), 0, len(day_of) - 1
    ).astype(np.int64)
    day_level = np.asarray(  # each call judged by its first department's threshold, as the summary does
        service_level(calls, call_thresholds(scenario, calls), Groups(day_of[arrived], days))
    )
    missed = _service_missed(run)["interval"].to_numpy(dtype=np.int64)  # the cells every view counts
    known = ~np.isnan(day_level)
    columns = [
        column([str(index + 1) for index in range(days)]),
        column([esc(start) for start in overall["start"].astype(str).to_numpy()[firsts]]),
        column(numbers(np.bincount(day, minlength=days))),
    ]
    columns += [
        column(numbers(np.bincount(day, overall[key].to_numpy(dtype=float), minlength=days)))
        for key in ("offered", "answered", "abandoned")
    ]
    columns.append(
        column(
            numbers(day_level, "%"),
            np.where(known & (day_level < target), "miss", np.where(known, "met", "")).tolist(),
        )
    )
    columns.append(column(numbers(np.bincount(day_of[missed], minlength=days)[:days])))
    lowest = pd.Series(level).groupby(day).min().reindex(range(days)).to_numpy(dtype=float)
    columns.append(column(numbers(lowest, "%")))
    replicated = " (replication 0)" if run.reps > 1 else ""
    headers = ["day", "first interval", "intervals", "offered", "answered", "abandoned"]
    headers += [f"SL all calls{replicated}", "cells missing a goal", "lowest interval SL"]
    note = (
        "Volumes are the interval table's summed over the day"
        + (f" (means over {run.reps} replications)" if run.reps > 1 else "")
        + f"; the day's service level is of the calls arriving that day{replicated}; cells missing a goal "
        "are those the sentence above counts (all calls, and each department of several)."
    )
    return (
        f'<h3 id="intervals-by-day">By day</h3><p>{esc(note)}</p><div class="scroll">'
        + column_table(headers, columns, "intervals")
        + "</div>"
    )


def group_intervals(run: SavedRun, most: int | None = None) -> str:
    """Per interval: each group's occupancy, agents logged in and calls handled by skill, and the share
    of each department's calls its own agents answered (from the interval table's group rows). Past
    `most` intervals, the intervals the service-level table lists."""
    intervals = run.intervals
    group_rows = kind_rows(intervals, "group")
    if group_rows.empty:
        return ""
    names = list(dict.fromkeys(group_rows["department"].astype(str).tolist()))
    departments = run.departments
    handled_columns = [f"handled_{d}" for d in departments if f"handled_{d}" in group_rows.columns]
    totals = group_rows.groupby(group_rows["department"].astype(str))[handled_columns].sum().reindex(names)
    handled = {
        (name, column_name): total > 0
        for column_name in handled_columns
        for name, total in zip(names, totals[column_name].to_numpy(dtype=float).tolist(), strict=True)
    }

    def serves(name: str, department: str) -> bool:
        if f"handled_{department}" not in handled_columns:
            return False
        spec = run.scenario.agent_groups.get(name)
        return (spec is not None and department in spec.skills) or handled[(name, f"handled_{department}")]

    skills = {name: [d for d in departments if serves(name, d)] for name in names}
    owned = kind_rows(intervals, "department")
    own = [d for d in departments if "answered_by_own_agents" in owned.columns]
    overall = interval_rows(kind_rows(intervals, "all"))
    shown = shown_intervals(run, most)
    wanted = overall["interval"].to_numpy(dtype=np.int64) if shown is None else shown
    headers = ["interval"]
    columns = [column([esc(start) for start in _aligned(overall, wanted)["start"].astype(str)])]
    for name in names:
        headers += [f"{esc(name)} occupancy", f"{esc(name)} logged in"]
        headers += [f"{esc(name)}: {esc(d)}" for d in skills[name]]
        rows = _aligned(interval_rows(group_rows, name), wanted)
        columns.append(column(numbers(rows["occupancy"], "%")))
        columns.append(column(numbers(rows["agents_logged_in"])))
        columns += [column(numbers(rows[f"handled_{d}"])) for d in skills[name]]
    headers += [f"{esc(d)} by own agents" for d in own]
    for department in own:
        rows = _aligned(interval_rows(owned, department), wanted)
        columns.append(column(numbers(rows["answered_by_own_agents"], "%")))
    lead = (
        "<h3>Agent groups by interval</h3><p>Occupancy and mean agents logged in over each interval; calls a "
        "group handled and the share of each department's answered calls its own agents took, by the "
        "interval the visit joined the queue.</p>"
    )
    if shown is not None:
        lead += (
            f'<p class="note">Of the {len(overall):,} intervals, those the intervals section lists '
            f"({len(shown):,}: where a service goal was missed); every interval is in intervals.csv.</p>"
        )
        if not len(shown):
            return lead
    return lead + '<div class="scroll">' + column_table(headers, columns, "intervals") + "</div>"
