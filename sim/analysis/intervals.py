"""The interval table: per reporting interval, the figures of the whole centre, each department and each
agent group, computed in grouped passes (`interval_table(result)`, the table behind `intervals.csv`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.availability import rostered_agents
from sim.analysis.channel_intervals import channel_rows, email_channel_figures, email_department_figures
from sim.analysis.channel_kpis import channels_of, voice_headline
from sim.analysis.columns import Columns
from sim.analysis.departments import Pools, visit_figures
from sim.analysis.grouping import (
    Groups,
    codes_of,
    count_where,
    equals,
    mean_where,
    pair_keys,
    ratio,
    sum_where,
)
from sim.analysis.metrics import (
    abandon_rate,
    asa,
    counted,
    counted_rows,
    first_contact_resolution,
    first_contact_routing,
    hold_rate,
    mean_agents_touched,
    mean_wait,
    misroute_cost_hours,
    occupancy,
    offered,
    offered_calls,
    p90_wait,
    service_level,
    transfers_per_call,
)
from sim.analysis.tables import (
    agent_levels,
    calls_columns,
    interval_edges,
    scheduled_agents_by,
    transfer_columns,
    visits_columns,
)
from sim.analysis.thresholds import call_thresholds, visit_thresholds
from sim.engine.day import RunResult
from sim.model.durations import format_clock


def interval_table(result: RunResult) -> pd.DataFrame:
    """Per interval, for the whole centre (`all`), each department and each agent group (`kind` says
    which): offered, answered, abandoned, blocked, service level, ASA, mean and 90th-percentile wait,
    occupancy, agents scheduled and logged in, routing, transfers, holds and callbacks, and whether the
    target was met. Calls, visits and transfers fall in the interval the call or visit began.

    Built in one grouped pass per figure (keys interval, interval x department, interval x group), so its
    cost grows with the calls and the rows it returns, not with a pass per interval, department or group."""
    scenario = result.scenario
    edges = interval_edges(result)
    widths = np.diff(edges)
    count = len(widths)
    departments = list(scenario.departments)
    groups = list(scenario.agent_groups or {})
    nd, ng = len(departments), len(groups)
    contacts = offered_calls(counted(result, calls_columns(result)))  # every channel's
    visits = counted_rows(visits_columns(result), contacts["call_id"])
    transfers = counted_rows(transfer_columns(result), contacts["call_id"])
    (calls,) = voice_headline(scenario, contacts)  # the `all` rows: voice's, in a centre of several channels
    channels = channels_of(scenario) if len(channels_of(scenario)) > 1 else []
    nc = len(channels)
    emails = any(department.channel == "email" for department in scenario.departments.values())
    agent_pools, logged_in, busy = agent_levels(result, edges)
    # a row per pool and interval, pool after pool (as `agent_seconds` lays them out)
    seconds = Columns(
        {
            "interval": np.tile(np.arange(count), len(agent_pools)),
            "logged_in_seconds": logged_in.reshape(-1),
            "busy_seconds": busy.reshape(-1),
        }
    )

    def interval_of(times: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(edges, times, side="right") - 1, 0, count - 1)

    call_interval = interval_of(calls["arrived_at"])
    contact_interval = interval_of(contacts["arrived_at"]) if calls is not contacts else call_interval
    visit_interval = interval_of(visits["queued_at"])
    transfer_interval = interval_of(transfers["at"])
    per_call = Groups(call_interval, count)
    per_transfer = Groups(transfer_interval, count)
    index = np.arange(count)
    # the edges as Python floats: the same strings as from numpy scalars, whose arithmetic is slower
    clocks = np.array([format_clock(scenario.start + at) for at in edges[:-1].tolist()], dtype=object)

    # Agent time: the seconds table holds a row per pool and interval, pool after pool.
    pool_interval = seconds["interval"]
    pool_names = list(result.staffing)
    schedules = dict(zip(pool_names, scheduled_agents_by(result.staffing, edges), strict=True))

    def staffing(pool_key: np.ndarray, size: int, scheduled: np.ndarray, width: np.ndarray) -> dict[str, Any]:
        rows = Groups(pool_key, size)
        every = np.ones(len(seconds), dtype=bool)
        logged, busy = sum_where(
            np.vstack((seconds["logged_in_seconds"], seconds["busy_seconds"])), every, rows
        )
        return {
            "occupancy": occupancy(busy, logged),
            "agents_scheduled": scheduled,
            "agents_logged_in": np.divide(logged, width, out=np.zeros(size), where=width != 0),
        }

    # `sum` over pools, one after another, as the figure has always been added up
    total_scheduled = (
        np.cumsum(np.vstack([schedules[p] for p in pool_names]), axis=0)[-1]
        if pool_names
        else np.zeros(count)
    )
    every_call = np.ones(len(calls), dtype=bool)
    table_all: dict[str, Any] = {
        "interval": index,
        "start": clocks,
        "department": "all",
        "kind": "all",
        "offered": offered(calls, by=per_call),
        "answered": count_where(equals(calls, "outcome", "answered"), per_call),
        "abandoned": count_where(equals(calls, "outcome", "abandoned"), per_call),
        "blocked": count_where(equals(calls, "outcome", "blocked"), per_call),
        "service_level": service_level(calls, call_thresholds(scenario, calls), by=per_call),
        "asa": asa(calls, by=per_call),
        "mean_wait": mean_wait(calls, by=per_call),
        "p90_wait": p90_wait(calls, by=per_call),
        "abandon_rate": abandon_rate(calls, by=per_call),
        **staffing(pool_interval, count, total_scheduled, widths),
        "first_contact_routing": first_contact_routing(calls, by=per_call),
        "first_contact_resolution": first_contact_resolution(calls, by=per_call),
        "transfers": count_where(np.ones(len(transfers), dtype=bool), per_transfer),
        "transfers_per_call": transfers_per_call(calls, by=per_call),
        "mean_agents_touched": mean_agents_touched(calls, by=per_call),
        "misroute_cost_hours": misroute_cost_hours(transfers, by=per_transfer),
        "hold_rate": hold_rate(calls, by=per_call),
        "abandoned_on_hold": count_where(equals(calls, "outcome", "abandoned_on_hold"), per_call),
        "callbacks_accepted": count_where(calls["virtual_hold"], per_call),
        "experience": mean_where(calls["experience"], every_call, per_call),
    }

    # Departments: keys interval x department, interval-major (the rows' order).
    size = count * nd
    agents = Pools.of(result, departments, groups)
    visit_department = codes_of(visits, "department", departments)
    visit_key = pair_keys(visit_interval, visit_department, nd)
    call_key = pair_keys(contact_interval, codes_of(contacts, "first_department", departments), nd)
    blocked = count_where(equals(contacts, "outcome", "blocked"), Groups(call_key, size))
    answered = visits["answered"]
    agent_ids = visits["agent_id"]
    own = (agents.home(agent_ids) == visit_department) & (visit_department >= 0)
    answered_here = count_where(answered, Groups(visit_key, size))
    out_key = Groups(pair_keys(transfer_interval, codes_of(transfers, "from", departments), nd), size)
    every_transfer = np.ones(len(transfers), dtype=bool)
    department_at = {name: i for i, name in enumerate(departments)}
    pool_department = np.repeat(
        np.array([department_at.get(p, -1) for p in agent_pools], dtype=np.int64), count
    )
    figures = visit_figures(visits, visit_key, size, visit_thresholds(scenario, visit_department), blocked)
    del figures["visits"]
    figures["answered"] = answered_here
    table_departments: dict[str, Any] = {
        "interval": np.repeat(index, nd),
        "start": np.repeat(clocks, nd),
        "department": np.tile(np.array(departments, dtype=object), count),
        "kind": "department",
        **figures,
        **staffing(
            pair_keys(pool_interval, pool_department, nd),
            size,
            np.vstack([schedules.get(name, np.zeros(count)) for name in departments]).T.reshape(-1),
            np.repeat(widths, nd),
        ),
        "first_contact_routing": first_contact_routing(
            contacts,
            by=Groups(
                pair_keys(contact_interval, codes_of(contacts, "answer_department", departments), nd), size
            ),
        ),
        "transfers": count_where(every_transfer, out_key),
        "transfers_in": count_where(
            every_transfer,
            Groups(pair_keys(transfer_interval, codes_of(transfers, "to", departments), nd), size),
        ),
        "misroute_cost_hours": misroute_cost_hours(transfers, by=out_key),
        "answered_by_own_agents": ratio(count_where(answered & own, Groups(visit_key, size)), answered_here),
    }
    if emails:  # judged by their due time: no service level, and how the box went (`channel_intervals`)
        table_departments["service_level"] = np.where(
            np.tile(np.array([own.channel == "email" for own in scenario.departments.values()]), count),
            np.nan,
            table_departments["service_level"],
        )
        table_departments.update(email_department_figures(result, edges, departments))
    frames = [table_all, table_departments]
    span = 1 + nc + nd + ng
    positions = [index * span, np.repeat(index * span, nd) + 1 + nc + np.tile(np.arange(nd), count)]
    if nc:  # a centre of several channels: a row per channel, after `all`
        table_channels = channel_rows(result, contacts, contact_interval, count, clocks)
        if "email" in channels:
            table_channels.update(email_channel_figures(result, edges, channels))
        frames.append(table_channels)
        positions.append(np.repeat(index * span, nc) + 1 + np.tile(np.arange(nc), count))

    if ng:
        # Groups: keys interval x group; what each group's agents took, by department.
        size = count * ng
        group_key = pair_keys(visit_interval, agents.group(agent_ids), ng)
        group_at = {name: i for i, name in enumerate(groups)}
        pool_group = np.repeat(np.array([group_at.get(p, -1) for p in agent_pools], dtype=np.int64), count)
        handled = count_where(
            np.ones(len(visits), dtype=bool), Groups(pair_keys(group_key, visit_department, nd), size * nd)
        ).reshape(size, nd)
        frames.append(
            {
                "interval": np.repeat(index, ng),
                "start": np.repeat(clocks, ng),
                "department": np.tile(np.array(groups, dtype=object), count),
                "kind": "group",
                "answered": count_where(answered, Groups(group_key, size)),
                **staffing(
                    pair_keys(pool_interval, pool_group, ng),
                    size,
                    np.vstack([schedules[name] for name in groups]).T.reshape(-1),
                    np.repeat(widths, ng),
                ),
                **{f"handled_{skill}": handled[:, d] for d, skill in enumerate(departments)},
            }
        )
        positions.append(np.repeat(index * span, ng) + 1 + nc + nd + np.tile(np.arange(ng), count))
    data = _stack(frames, positions, count * span)
    level = data["service_level"]
    if emails:  # an email row is judged by the share handled within due, never by the service level
        level = np.where(np.isnan(data["email_within_due"]), level, data["email_within_due"])
    data["met_target"] = np.isnan(level) | (level >= scenario.service_level.target)
    if result.rostered:  # shrinkage, breaks or absence: the roster before them, beside what was applied
        data["agents_rostered"] = rostered_agents(result, edges, data)
        if nc:  # a channel's row is no pool's
            data["agents_rostered"][data["kind"] == "channel"] = np.nan
    return pd.DataFrame(data, copy=False)


def _stack(parts: list[dict[str, Any]], positions: list[np.ndarray], rows: int) -> dict[str, np.ndarray]:
    """The columns of the parts' rows (each part's rows going to its `positions`), as `pd.concat` of the
    parts' frames would give them: columns in order of first appearance, a scalar repeated down its part,
    and a column a part lacks missing (NaN) in that part's rows, which makes a count a float column. Built
    as arrays, one DataFrame at the end (not three frames, a concatenation and a reordering)."""
    where = np.concatenate(positions)
    sizes = [len(at) for at in positions]
    names = list(dict.fromkeys(name for part in parts for name in part))
    data: dict[str, np.ndarray] = {}
    for name in names:
        pieces: list[np.ndarray] = []
        missing = False
        for part, size in zip(parts, sizes, strict=True):
            value = part.get(name)
            if value is None:
                missing = True
                pieces.append(np.full(size, np.nan))
            elif isinstance(value, str):
                pieces.append(np.full(size, value, dtype=object))
            else:
                pieces.append(np.asarray(value))
        if missing:  # pandas fills the rows of a part without the column with NaN: counts become floats
            pieces = [piece.astype(float) for piece in pieces]
        stacked = np.concatenate(pieces)
        column = np.empty(rows, dtype=stacked.dtype)
        column[where] = stacked
        data[name] = column
    return data
