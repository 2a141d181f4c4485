"""From the event log to analysable tables: one row per call, one row per queue visit, one row per transfer.

Each table is built once per run as numpy `Columns` (`calls_columns`, ...), which the KPIs read, and made a
DataFrame (`calls_table`, ...) only when asked for one (the API, the output files); both are kept on the
run's `derived`. Agent time integrated over intervals is `sim/analysis/agent_time.py` (its functions are
importable from here too). No KPI is defined here: `sim/analysis/metrics.py` turns these tables into figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.agent_time import (  # re-exported: where the tables of a run have always been found
    AgentPools,
    agent_levels,
    agent_pools,
    agent_seconds,
    integrate_levels_by,
    scheduled_agents_by,
)
from sim.analysis.columns import Columns, derived, event_departments, event_rows
from sim.analysis.episodes import caller_ids, hold_columns
from sim.analysis.experience import experience_scores
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event, EventColumns
from sim.model.scenario import Scenario

_ARRIVE, _BLOCK, _ENQUEUE, _RING = (
    CODE[Event.ARRIVE],
    CODE[Event.BLOCK],
    CODE[Event.ENQUEUE],
    CODE[Event.RING],
)
_ANSWER, _ABANDON, _END, _IDLE = CODE[Event.ANSWER], CODE[Event.ABANDON], CODE[Event.END], CODE[Event.IDLE]
_TRANSFER, _HANDOVER = CODE[Event.TRANSFER], CODE[Event.HANDOVER]
_SELF_SERVICE, _DROP = CODE[Event.SELF_SERVICE], CODE[Event.DROP]
_HOLD_ABANDON, _CALLBACK_FAILED = CODE[Event.HOLD_ABANDON], CODE[Event.CALLBACK_FAILED]
_CALLBACK_REQUEST, _CALLBACK_DIAL = CODE[Event.CALLBACK_REQUEST], CODE[Event.CALLBACK_DIAL]
_CALLBACK_QUEUE = CODE[Event.CALLBACK_QUEUE]
_QUEUE_FULL = CODE[Event.QUEUE_FULL]

OUTCOMES = (
    "answered",
    "abandoned",
    "blocked",
    "in_system",
    "self_service",
    "dropped",
    "abandoned_on_hold",
    "callback_failed",
    "message",
)
"""How a call ended: served to the end by an agent (perhaps on a callback); hung up waiting (queued or
ringing); busy signal; still there at the hard stop; resolved in the IVR; hung up unresolved after too many
transfers; hung up on hold; never reached for its callback; left a message at a full queue (`when_full:
message`; a caller lost at a full queue is `blocked`, as in Erlang B)."""

_OUTCOME_OF_CODE = np.full(len(CODE) + 1, 3, dtype=np.int8)  # the last entry (code -1): still in the system
_OUTCOME_OF_CODE[[_END, _ABANDON, _BLOCK, _SELF_SERVICE, _DROP, _HOLD_ABANDON, _CALLBACK_FAILED]] = [
    0, 1, 2, 4, 5, 6, 7
]
"""A call's outcome (its position in `OUTCOMES`) by the code of its last terminal event: one lookup, not a
comparison of every call per outcome (a full queue's outcome is set from its event's detail)."""


def _first_rows(rows: np.ndarray, calls: np.ndarray, size: int) -> np.ndarray:
    """Per call id, the earliest of `rows` (event rows, in any order) of its events, -1 where it has none."""
    first = np.full(size, np.iinfo(np.int64).max)
    np.minimum.at(first, calls[rows], rows)  # each call's earliest row (one unbuffered pass, no sort)
    return np.where(first < np.iinfo(np.int64).max, first, -1)


def _at(rows: np.ndarray, values: np.ndarray, fill: float) -> np.ndarray:
    """`values` at `rows` (per call, an event row or -1), `fill` where the row is -1."""
    if not len(values):  # an empty log: no row to take (and none to index)
        return np.full(len(rows), fill, dtype=np.result_type(values, fill))
    return np.where(rows >= 0, values[rows], fill)


def _sum(rows: np.ndarray, calls: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per call id, the sum of `values` at `rows` (ascending: each call's values are added in time order;
    floats even when there is no row: numpy's bincount of nothing is integer)."""
    return np.bincount(calls[rows], weights=values[rows], minlength=size)[:size].astype(float, copy=False)


def calls_table(result: RunResult) -> pd.DataFrame:
    """One row per call: who, when, how it ended, and where its time went (seconds)."""
    return derived(result, "calls", lambda run: calls_columns(run).frame())


def calls_columns(result: RunResult) -> Columns:
    """The calls table as numpy columns (`calls_table`'s columns; categorical ones as codes), for the KPIs."""
    return derived(result, "calls.columns", _calls_columns)


def _calls_columns(result: RunResult) -> Columns:
    c = result.columns
    departments = event_departments(result)
    reasons = result.reason_names
    # Each event code's rows are read from `event_rows` (a slice of the log sorted by code once per run),
    # not found by a mask over the whole log per column: a dozen passes over millions of rows saved.
    arrive = event_rows(result, _ARRIVE)
    arriving = c.call[arrive]
    ids = np.sort(arriving)  # redials are numbered after the day's callers but arrive mid-day
    size = int(ids.max()) + 1 if len(ids) else 1
    # Call ids run 1..N without gaps (redials are numbered after the day's callers): a view, not a copy.
    each: slice | np.ndarray = slice(1, size) if len(ids) == size - 1 else ids
    arrived_at = np.full(size, np.nan)
    arrived_at[arriving] = c.t[arrive]
    reason = np.zeros(size, dtype=np.int64)
    reason[arriving] = c.detail[arrive].astype(np.int64)
    first_department = np.zeros(size, dtype=np.int64)
    first_department[arriving] = c.department[arrive]

    answer = event_rows(result, _ANSWER)
    first_answer = _first_rows(answer, c.call, size)  # one search for the three columns of the first answer
    answered_at = _at(first_answer, c.t, np.nan)
    answer_department = _at(first_answer, c.department, -1).astype(np.int64)
    first_agent = _at(first_answer, c.agent, -1).astype(np.int64)
    abandons = event_rows(result, _ABANDON)
    queue_abandon = abandons[c.agent[abandons] < 0]
    ringing_abandon = abandons[c.agent[abandons] >= 0]
    requests = event_rows(result, _CALLBACK_REQUEST)
    queue_request = requests[c.detail[requests] == 0.0]
    rings = event_rows(result, _RING)
    left_queue = np.concatenate((rings, queue_abandon, queue_request))  # any order: the earliest is taken
    first_ring_at = _at(_first_rows(rings, c.call, size), c.t, np.nan)
    first_queued_at = _at(_first_rows(event_rows(result, _ENQUEUE), c.call, size), c.t, np.nan)
    wait_time = _at(_first_rows(left_queue, c.call, size), c.t, np.nan) - first_queued_at
    worst_wait = np.zeros(size)
    visits = visits_columns(result)
    live = ~visits["callback"]  # a caller waiting for a callback is not on the line
    live_wait = visits["wait_time"][live]
    np.maximum.at(worst_wait, visits["call_id"][live], np.where(np.isnan(live_wait), 0.0, live_wait))

    terminal = event_rows(
        result,
        *(_BLOCK, _ABANDON, _END, _SELF_SERVICE, _DROP, _HOLD_ABANDON, _CALLBACK_FAILED, _QUEUE_FULL),
        in_time_order=False,
    )
    last = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last, c.call[terminal], terminal)  # each call's last terminal event
    ended_at = _at(last, c.t, np.nan)
    outcome = _OUTCOME_OF_CODE[_at(last, c.code, -1)]  # no terminal event (code -1): in the system
    full = event_rows(result, _QUEUE_FULL)  # the caller's last event: nothing follows a full queue
    outcome[c.call[full]] = np.where(c.detail[full] == 1.0, 8, 2)  # a message, or lost (blocked)
    holds = hold_columns(result)
    hold_time = np.bincount(holds["call_id"], weights=holds["hold_time"], minlength=size)[:size]
    hold_count = np.bincount(holds["call_id"], minlength=size)[:size]
    worst_hold = np.zeros(size)
    np.maximum.at(worst_hold, holds["call_id"], holds["hold_time"])
    overran = np.bincount(holds["call_id"], weights=holds["overrun"].astype(float), minlength=size)[:size] > 0
    requested = np.bincount(c.call[requests], minlength=size)[:size] > 0
    virtual_hold = np.bincount(c.call[queue_request], minlength=size)[:size] > 0
    dialled = np.bincount(c.call[event_rows(result, _CALLBACK_DIAL)], minlength=size)[:size] > 0
    caller, attempt = caller_ids(c, size)

    talk_time = _sum(event_rows(result, _END, _HANDOVER, _DROP), c.call, c.detail, size)
    talk_time += _transfer_segments(result, size)
    talk_time += _segments_left_on_hold(result, holds, size)
    transfers = np.bincount(c.call[event_rows(result, _TRANSFER)], minlength=size)[:size]
    idles = event_rows(result, _IDLE)
    wrap_time = _sum(idles[c.call[idles] >= 0], c.call, c.detail, size)
    agents_touched = np.bincount(c.call[answer], minlength=size)[:size]
    abandoned_ringing = np.bincount(c.call[ringing_abandon], minlength=size)[:size] > 0

    resolves = _resolves(result.scenario, reasons, departments)
    routed = resolves[
        reason[each], answer_department[each]
    ]  # department -1 (never answered): the False column
    no_wait = np.isnan(wait_time[each]) & (outcome[each] != 2) & (outcome[each] != 8)
    wait = np.where(no_wait, 0.0, wait_time[each])
    resolved = (outcome[each] == 0) | (outcome[each] == 4)  # by an agent, or in the phone menu
    first_department[outcome == 4] = -1  # resolved in the menu: never reached a department
    misrouted = (transfers[each] > 0) | ((answer_department[each] >= 0) & ~routed)
    experience = experience_scores(
        result.scenario.experience,
        outcome[each] == 2,
        outcome[each] == 0,
        outcome[each] == 4,
        worst_wait[each],
        worst_hold[each],
        overran[each],
        misrouted,
        agents_touched[each],
        dialled[each] & resolved,
    )
    return Columns(
        {
            "call_id": ids,
            "caller_id": caller[each],
            "attempt": attempt[each],
            "reason": reason[each],
            "first_department": first_department[each],
            "arrived_at": arrived_at[each],
            "answered_at": answered_at[each],
            "ended_at": ended_at[each],
            "outcome": outcome[each],
            "abandoned_ringing": abandoned_ringing[each],
            "wait_time": wait,
            "ring_time": answered_at[each] - first_ring_at[each],
            "time_to_answer": answered_at[each] - first_queued_at[each],
            "talk_time": talk_time[each],
            "hold_time": hold_time[each],
            "holds": hold_count[each],
            "wrap_time": wrap_time[each],
            "agents_touched": agents_touched[each],
            "n_transfers": transfers[each],
            "resolved": resolved,
            "callback_requested": requested[each],
            "virtual_hold": virtual_hold[each],
            "via_callback": dialled[each] & resolved,
            "chain": _chains(c, answer, ids, answer_department, agents_touched, departments),
            "first_agent_id": first_agent[each],
            "answer_department": answer_department[each],
            "first_contact_routed": routed,
            "experience": experience,
        },
        {
            "reason": reasons,
            "first_department": departments,
            "outcome": OUTCOMES,
            "answer_department": departments,
        },
    )


def _resolves(scenario: Scenario, reasons: list[str], departments: list[str]) -> np.ndarray:
    """[reason, department]: whether the department can resolve the reason, with a last column of False for
    calls no department answered; a look-up per reason a department resolves, not per reason and department."""
    table = np.zeros((len(reasons), len(departments) + 1), dtype=bool)
    row_of = {reason: row for row, reason in enumerate(reasons)}
    for column, department in enumerate(departments):
        for reason in scenario.resolves(department):
            if reason in row_of:
                table[row_of[reason], column] = True
    return table


def _transfer_segments(result: RunResult, size: int) -> np.ndarray:
    """Per call, the talk time of segments that ended in a transfer."""
    transfers = transfer_columns(result)
    return np.bincount(transfers["call_id"], weights=transfers["segment_time"], minlength=size)[:size]


def _segments_left_on_hold(result: RunResult, holds: Columns, size: int) -> np.ndarray:
    """Per call, the talk time of segments that ended on hold (the caller hung up, or took a callback):
    from the answer to the end of the segment, less the time on hold (check-backs are talk)."""
    c = result.columns
    out = np.zeros(size)
    requests = event_rows(result, _CALLBACK_REQUEST)
    if not len(event_rows(result, _HOLD_ABANDON)) and not np.any(c.detail[requests] == 1.0):
        return out  # no segment ended on hold: the sort of every answer by agent is not needed
    rows = event_rows(result, _ANSWER, _HOLD_ABANDON, _CALLBACK_REQUEST)
    code = c.code[rows]
    ends = (code == _HOLD_ABANDON) | ((code == _CALLBACK_REQUEST) & (c.detail[rows] == 1.0))
    rows, ends = rows[ends | (code == _ANSWER)], ends[ends | (code == _ANSWER)]
    order = np.argsort(c.agent[rows], kind="stable")  # per agent, in time order
    rows, is_end = rows[order], ends[order]
    end, answer = rows[is_end], rows[np.flatnonzero(is_end) - 1]  # an agent holds one call at a time
    call, agent = c.call[end].astype(np.int64), c.agent[end].astype(np.int64)
    answered_at, ended_at = c.t[answer], c.t[end]
    # Each segment's holds: those of its call and agent put on hold while it lasted, in the hold table's order.
    width = int(max(agent.max(initial=0), holds["agent_id"].max(initial=0))) + 2
    segment_key = call * width + agent + 1
    by_key = np.argsort(segment_key, kind="stable")
    hold_key = holds["call_id"] * width + holds["agent_id"] + 1
    low = np.searchsorted(segment_key[by_key], hold_key, side="left")
    matches = np.searchsorted(segment_key[by_key], hold_key, side="right") - low
    pair_hold = np.repeat(np.arange(len(hold_key)), matches)
    pair_segment = by_key[np.arange(len(pair_hold)) - np.repeat(np.cumsum(matches) - matches - low, matches)]
    held_at = holds["held_at"][pair_hold]
    inside = (held_at >= answered_at[pair_segment]) & (held_at <= ended_at[pair_segment])
    on_hold = _kahan_sums(holds["hold_time"][pair_hold[inside]], pair_segment[inside], len(end))
    np.add.at(out, call, ended_at - answered_at - on_hold)
    return out


def _kahan_sums(values: np.ndarray, group: np.ndarray, size: int) -> np.ndarray:
    """Per group, the sum of its `values` in their order, compensated (Kahan) as pandas' grouped `sum` adds
    them: the same floats as `groupby(...).sum()` (0.0 for a group without values)."""
    total = np.zeros(size)
    compensation = np.zeros(size)
    order = np.argsort(group, kind="stable")
    values, group = values[order], group[order]
    starts = (
        np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.zeros(0, dtype=np.int64)
    )
    position = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    for step in range(int(position.max(initial=-1)) + 1):
        at = position == step
        which, value = group[at], values[at]
        adjusted = value - compensation[which]
        added = total[which] + adjusted
        compensation[which] = (added - total[which]) - adjusted
        total[which] = added
    return total


def _chains(
    c: EventColumns,
    answers: np.ndarray,
    ids: np.ndarray,
    answer_department: np.ndarray,
    touched: np.ndarray,
    departments: list[str],
) -> np.ndarray:
    """Per call, the departments of the agents who answered it in order (`billing > technical`); `answers`
    are the answer events' rows, ascending."""
    names = np.array([*departments, ""], dtype=object)
    # a call answered once: its department's name (-1, the last entry, names ""), in one gather of names
    chain = names[np.where(touched[ids] == 1, answer_department[ids], -1)]
    several = np.zeros(len(touched), dtype=bool)
    several[ids] = touched[ids] > 1
    rows = answers[several[c.call[answers]]]
    if len(rows):
        # Each such call's answering departments in time order, one row of a matrix per call (-2 past its
        # end), so that each distinct chain is spelled out once however many calls took it.
        order = np.argsort(c.call[rows], kind="stable")
        call, department = c.call[rows][order], c.department[rows][order].astype(np.int64)
        starts = np.flatnonzero(np.r_[True, call[1:] != call[:-1]])
        lengths = np.diff(np.r_[starts, len(call)])
        matrix = np.full((len(starts), int(lengths.max())), -2, dtype=np.int64)
        matrix[
            np.repeat(np.arange(len(starts)), lengths), np.arange(len(call)) - np.repeat(starts, lengths)
        ] = department
        distinct, which = np.unique(matrix, axis=0, return_inverse=True)
        labels = names.tolist()  # a department code -1 (none) names "", the last entry
        spelled = np.array(
            [" > ".join(labels[code] for code in row if code != -2) for row in distinct.tolist()],
            dtype=object,
        )
        chain[np.searchsorted(ids, call[starts])] = spelled[which.reshape(-1)]
    return chain


def visits_table(result: RunResult) -> pd.DataFrame:
    """One row per queue visit (a caller reaching a department's queue): its wait and how it ended."""
    return derived(result, "visits", lambda run: visits_columns(run).frame())


def visits_columns(result: RunResult) -> Columns:
    """The visits table as numpy columns (`visits_table`'s; the department as codes), for the KPIs."""
    return derived(result, "visits.columns", _visits_columns)


def _visits_columns(result: RunResult) -> Columns:
    c = result.columns
    departments = event_departments(result)
    keep = event_rows(result, _ENQUEUE, _CALLBACK_QUEUE, _RING, _ANSWER, _ABANDON, _CALLBACK_REQUEST)
    order = keep[np.argsort(c.call[keep], kind="stable")]  # each call's events together, in time order
    del keep
    code, call = c.code[order], c.call[order]
    enqueue = np.flatnonzero((code == _ENQUEUE) | (code == _CALLBACK_QUEUE))
    next_code, next_row = _following(code, call, enqueue, order, 1)
    after_code, after_row = _following(code, call, enqueue, order, 2)
    visit_number = np.zeros(len(enqueue), dtype=np.int64)
    if len(enqueue):
        starts = np.r_[True, call[enqueue][1:] != call[enqueue][:-1]]
        group_start = np.maximum.accumulate(np.where(starts, np.arange(len(enqueue)), 0))
        visit_number = np.arange(len(enqueue)) - group_start + 1
    row = order[enqueue]
    del order, code, call
    final = np.lexsort((c.call[row], c.t[row]))  # by queue entry time, then call id
    row, next_code, next_row, after_code, after_row = (
        row[final],
        next_code[final],
        next_row[final],
        after_code[final],
        after_row[final],
    )
    taken = next_code == _RING
    abandoned_queue = next_code == _ABANDON
    callback_requested = next_code == _CALLBACK_REQUEST
    answered = taken & (after_code == _ANSWER)
    abandoned_ringing = taken & (after_code == _ABANDON)
    queued_at = c.t[row]
    left_queue_at = np.where(taken | abandoned_queue | callback_requested, c.t[next_row], np.nan)
    answered_at = np.where(answered, c.t[after_row], np.nan)
    return Columns(
        {
            "call_id": c.call[row],
            "visit": visit_number[final],
            "department": c.department[row],
            "priority": c.detail[row].astype(np.int64),
            "callback": c.code[row] == _CALLBACK_QUEUE,
            "callback_requested": callback_requested,
            "queued_at": queued_at,
            "wait_time": left_queue_at - queued_at,
            "taken": taken,
            "answered": answered,
            "abandoned": abandoned_queue | abandoned_ringing,
            "abandoned_ringing": abandoned_ringing,
            "answered_at": answered_at,
            "time_to_answer": answered_at - queued_at,
            "agent_id": np.where(taken, c.agent[next_row], -1),
        },
        {"department": departments},
    )


def _following(
    code: np.ndarray, call: np.ndarray, enqueue: np.ndarray, order: np.ndarray, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each enqueue among the call-grouped events, the code and event row `offset` places after it
    within the same call (-1 and 0 when there is none)."""
    position = enqueue + offset
    inside = np.minimum(position, len(code) - 1)  # past the end: the last row, masked out below
    same = (position < len(code)) & (call[inside] == call[enqueue])
    codes = np.where(same, code[inside], -1).astype(np.int64)
    return codes, order[np.where(same, position, 0)]


def transfer_table(result: RunResult) -> pd.DataFrame:
    """One row per transfer: when, which call, from and to which department, by which agent, and the
    talk time of the segment it ended."""
    return derived(result, "transfers", lambda run: transfer_columns(run).frame())


def transfer_columns(result: RunResult) -> Columns:
    """The transfer table as numpy columns (departments as codes), for the KPIs."""
    return derived(result, "transfers.columns", _transfer_columns)


def _transfer_columns(result: RunResult) -> Columns:
    c = result.columns
    departments = event_departments(result)
    transfer = answer = event_rows(result, _TRANSFER)
    if len(transfer):  # (without transfers, no sort of every answer by agent)
        rows = event_rows(result, _ANSWER, _TRANSFER)
        rows = rows[np.argsort(c.agent[rows], kind="stable")]
        is_transfer = c.code[rows] == _TRANSFER
        transfer, answer = rows[is_transfer], rows[np.flatnonzero(is_transfer) - 1]
        order = np.argsort(transfer, kind="stable")
        transfer, answer = transfer[order], answer[order]
    return Columns(
        {
            "at": c.t[transfer],
            "call_id": c.call[transfer],
            "agent_id": c.agent[transfer],
            "from": c.department[transfer],
            "to": c.detail[transfer].astype(np.int64),
            "segment_time": c.t[transfer] - c.t[answer],
        },
        {"from": departments, "to": departments},
    )


def interval_edges(result: RunResult) -> np.ndarray:
    """Reporting interval boundaries over the day, seconds after the start."""
    scenario = result.scenario
    return np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)


__all__ = [
    "OUTCOMES",
    "AgentPools",
    "agent_levels",
    "agent_pools",
    "agent_seconds",
    "calls_columns",
    "calls_table",
    "integrate_levels_by",
    "interval_edges",
    "scheduled_agents_by",
    "transfer_columns",
    "transfer_table",
    "visits_columns",
    "visits_table",
]
