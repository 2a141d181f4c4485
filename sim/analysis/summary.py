"""The day's headline figures: `summary(result)`, the dictionary behind `summary.json`, centre-wide and per
department and agent group, each figure computed by its KPI function in `sim/analysis/metrics.py`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.analysis.availability import add_availability
from sim.analysis.channel_kpis import add_channel_figures, voice_headline
from sim.analysis.channels import channel_figures
from sim.analysis.chat import add_chat
from sim.analysis.columns import Columns
from sim.analysis.costs import add_costs
from sim.analysis.departments import Pools, visit_figures
from sim.analysis.email import add_email
from sim.analysis.episodes import callback_columns, hold_columns
from sim.analysis.grouping import Groups, codes_of, count_where, distinct_count, equals, pair_keys
from sim.analysis.metrics import (
    abandon_rate,
    agents_touched_distribution,
    aht,
    answered_within_rings,
    asa,
    attempts_per_caller,
    block_rate,
    callback_answer_rate,
    callback_promise_kept,
    common_chains,
    conference_missed_rate,
    counted,
    counted_rows,
    experience_summary,
    first_contact_resolution,
    first_contact_routing,
    hold_overrun_rate,
    hold_rate,
    mean_agents_touched,
    mean_hold_time,
    mean_time_to_callback,
    mean_wait,
    mean_wait_per_caller,
    message_rate,
    misroute_cost_hours,
    occupancy,
    offered,
    offered_calls,
    p90_hold_time,
    p90_wait,
    p_wait,
    service_level,
    service_level_live,
    transfer_matrix,
    transfers_per_call,
)
from sim.analysis.outbound import add_outbound
from sim.analysis.tables import agent_levels, calls_columns, transfer_columns, visits_columns
from sim.analysis.thresholds import call_thresholds, visit_thresholds
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event
from sim.model.chat import chat_desks
from sim.model.email import email_departments
from sim.model.scenario import conferences

_CALLBACK_OFFER = CODE[Event.CALLBACK_OFFER]


def summary(result: RunResult) -> dict[str, Any]:
    """The headline KPIs of one run (the keys are the contract of `summary.json`)."""
    scenario = result.scenario
    arrivals = counted(result, calls_columns(result))
    calls = offered_calls(arrivals)
    counted_ids = calls["call_id"]
    contacts = calls  # every channel's offered contacts: the departments' and channels' figures
    arrivals, calls = voice_headline(scenario, arrivals, calls)  # several channels: the headline is voice's
    visits = counted_rows(visits_columns(result), counted_ids)
    window = np.array([scenario.warmup, scenario.duration])
    transfers = counted_rows(transfer_columns(result), counted_ids)
    holds = counted_rows(hold_columns(result), counted_ids)
    callbacks = counted_rows(callback_columns(result), counted_ids)
    pool_names, logged_in, busy = agent_levels(result, window)
    # per pool, its one interval's seconds as a grouped sum gives them (0.0 + seconds)
    logged_in, busy = logged_in[:, 0] + 0.0, busy[:, 0] + 0.0

    def outcomes(table: Columns, name: str) -> int:
        return int(np.count_nonzero(equals(table, "outcome", name)))

    out: dict[str, Any] = {
        "arrivals": len(arrivals),
        "self_served": outcomes(arrivals, "self_service"),
        "offered": offered(calls),
        "answered": outcomes(calls, "answered"),
        "abandoned": outcomes(calls, "abandoned"),
        "blocked": outcomes(calls, "blocked"),
        "in_system": outcomes(calls, "in_system"),
        "dropped": outcomes(calls, "dropped"),
        "abandoned_on_hold": outcomes(calls, "abandoned_on_hold"),
        "callbacks_failed": outcomes(calls, "callback_failed"),
        "service_level": service_level(calls, call_thresholds(scenario, calls)),
        "service_level_target": scenario.service_level.target,
        "service_level_live": service_level_live(calls, call_thresholds(scenario, calls)),
        "answered_within_rings": answered_within_rings(
            calls, scenario.ring.cycle, scenario.service_level.rings
        ),
        "asa": asa(calls),
        "mean_wait": mean_wait(calls),
        "p90_wait": p90_wait(calls),
        "p_wait": p_wait(calls),
        "abandon_rate": abandon_rate(calls),
        "block_rate": block_rate(calls),
        "occupancy": occupancy(float(busy.sum()), float(logged_in.sum())),
        "aht": aht(calls),
        "first_contact_routing": first_contact_routing(calls),
        "first_contact_resolution": first_contact_resolution(calls),
        "transfers_per_call": transfers_per_call(calls),
        "mean_agents_touched": mean_agents_touched(calls),
        "agents_touched": agents_touched_distribution(calls),
        "misroute_cost_hours": misroute_cost_hours(transfers),
        "transfer_matrix": transfer_matrix(transfers),
        "common_chains": common_chains(calls),
        "hold_rate": hold_rate(calls),
        "mean_hold_time": mean_hold_time(holds),
        "p90_hold_time": p90_hold_time(holds),
        "hold_overrun_rate": hold_overrun_rate(holds),
        "callbacks_offered": int(np.count_nonzero(result.columns.code == _CALLBACK_OFFER)),
        "callbacks_accepted": int(np.count_nonzero(equals(callbacks, "origin", "queue"))),
        "callbacks_from_hold": int(np.count_nonzero(equals(callbacks, "origin", "hold"))),
        "callback_promise_kept": callback_promise_kept(
            callbacks, scenario.callback.window if scenario.callback else 7200.0
        ),
        "mean_time_to_callback": mean_time_to_callback(callbacks),
        "callback_answer_rate": callback_answer_rate(callbacks),
        "unique_callers": distinct_count(calls["caller_id"]),
        "attempts_per_caller": attempts_per_caller(calls),
        "agent_hours_on_hold": _total(holds["hold_time"]) / 3600.0,
        "agent_hours_checking_back": _total(holds["check_back_time"]) / 3600.0,
        "agent_hours_dialling": _total(callbacks["dial_time"]) / 3600.0,
        "experience": experience_summary(calls),
        "agent_hours": float(logged_in.sum()) / 3600.0,
    }
    redial = scenario.redial
    if redial is not None and (redial.patience == "remaining" or redial.as_callback > 0):  # retrials remember
        out["mean_wait_per_caller"] = mean_wait_per_caller(calls)
        out["callbacks_from_redials"] = int(np.count_nonzero(equals(callbacks, "origin", "redial")))
    # Per department and per group: one grouped pass over each table, then a dictionary per name.
    departments = list(scenario.departments)
    groups = list(scenario.agent_groups or {})
    size = len(departments)
    agents = Pools.of(result, departments, groups)
    visit_department = codes_of(visits, "department", departments)
    by_department_key = Groups(visit_department, size)
    answered = visits["answered"]
    callback = visits["callback"]
    agent_ids = visits["agent_id"]
    own = (agents.home(agent_ids) == visit_department) & (visit_department >= 0)
    blocked = count_where(
        equals(contacts, "outcome", "blocked"),
        Groups(codes_of(contacts, "first_department", departments), size),
    )
    visit_threshold = visit_thresholds(scenario, visit_department)  # each visit's department's
    figures = visit_figures(visits, visit_department, size, visit_threshold, blocked)
    every_transfer = np.ones(len(transfers), dtype=bool)
    transfers_in = count_where(every_transfer, Groups(codes_of(transfers, "to", departments), size))
    transfers_out = count_where(every_transfer, Groups(codes_of(transfers, "from", departments), size))
    answered_here = count_where(answered, by_department_key)
    callbacks_answered = count_where(answered & callback, by_department_key)
    by_own = count_where(answered & own, by_department_key)
    occupancy_of = {
        name: occupancy(float(b), float(seconds))
        for name, b, seconds in zip(pool_names, busy, logged_in, strict=True)
    }
    by_department: dict[str, Any] = {}
    for i, name in enumerate(departments):
        by_department[name] = {
            "visits": int(figures["visits"][i]),
            "transfers_in": int(transfers_in[i]),
            "transfers_out": int(transfers_out[i]),
            "answered": int(answered_here[i]),
            "callbacks_answered": int(callbacks_answered[i]),
            "abandoned": int(figures["abandoned"][i]),
            "blocked": int(blocked[i]),
            "service_level": float(figures["service_level"][i]),
            "asa": float(figures["asa"][i]),
            "mean_wait": float(figures["mean_wait"][i]),
            "abandon_rate": float(figures["abandon_rate"][i]),
            "occupancy": occupancy_of.get(name, math.nan),
            "answered_by_own_agents": float(by_own[i] / answered_here[i]) if answered_here[i] else math.nan,
        }
    out["by_department"] = by_department
    by_channel = channel_figures(scenario, visits, visit_department, visit_threshold, blocked)
    if by_channel:  # calls and chats (...) in one centre: each channel as a whole
        out["by_channel"] = by_channel
    # voice_KEY, chat_KEY beside a non-voice channel
    add_channel_figures(out, scenario, contacts, call_thresholds(scenario, contacts))
    if groups:
        categories = visits.categories["department"]
        taken = visits["taken"]
        group = agents.group(agent_ids)
        key = pair_keys(group, visits["department"].astype(np.int64), len(categories))
        handled = count_where(taken, Groups(key, len(groups) * len(categories))).reshape(
            len(groups), len(categories)
        )
        out["by_group"] = {
            name: {
                "occupancy": occupancy_of.get(name, math.nan),
                "handled": {str(categories[d]): int(handled[g, d]) for d in np.flatnonzero(handled[g])},
            }
            for g, name in enumerate(groups)
        }
    if chat_desks(scenario):  # chat pools: time with a chat in hand, and the slots in use
        add_chat(out, result, pool_names, logged_in, busy)
    if scenario.outbound is not None:  # a campaign dialled by a blended pool
        add_outbound(out, result, pool_names, logged_in)
    if email_departments(scenario):  # emails handled, within due, overdue, the backlog (`sim.analysis.email`)
        add_email(out, result)
    if result.rostered:  # shrinkage, breaks or absence: utilisation beside occupancy, paid and break hours
        add_availability(out, result)
    if scenario.costs is not None:  # wages, overtime, lines, abandonment, waiting (`sim.analysis.costs`)
        add_costs(out, result)
    if scenario.arrivals.busyness is not None:
        out["busyness"] = result.busyness
    if conferences(scenario):
        mode = scenario.transfers.mode
        conferencing = [
            name for name, own in scenario.departments.items() if (own.transfer_mode or mode) == "conference"
        ]
        waits = scenario.transfers.if_nobody_free == "wait"
        out["conference_missed_rate"] = conference_missed_rate(
            result.events, counted_ids, conferencing, waits
        )
    if any(department.queue_capacity is not None for department in scenario.departments.values()):
        out["messages"] = outcomes(calls, "message")  # only where a queue can be full
        out["message_rate"] = message_rate(calls)
    return out


def _total(values: np.ndarray) -> float:
    """A column's sum as pandas takes it (NaN as 0, numpy's pairwise sum)."""
    return float(np.where(np.isnan(values), 0.0, values).sum())
