"""From the event log to analysable tables: one row per call, one row per queue visit, and time-weighted
levels (agents busy, agents logged in, callers queued) integrated over reporting intervals.

No KPI is defined here: `sim/analysis/metrics.py` turns these tables into figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.analysis.episodes import caller_ids, hold_table
from sim.analysis.experience import experience_scores
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event, EventColumns, categorical
from sim.model.scenario import Scenario

_ARRIVE, _BLOCK, _ENQUEUE, _RING = (
    CODE[Event.ARRIVE],
    CODE[Event.BLOCK],
    CODE[Event.ENQUEUE],
    CODE[Event.RING],
)
_ANSWER, _ABANDON, _END, _IDLE = CODE[Event.ANSWER], CODE[Event.ABANDON], CODE[Event.END], CODE[Event.IDLE]
_LOGIN, _LOGOUT = CODE[Event.LOGIN], CODE[Event.LOGOUT]
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


def _first(
    mask: np.ndarray, calls: np.ndarray, values: np.ndarray, size: int, fill: float = np.nan
) -> np.ndarray:
    """Per call id, the value at the first row where `mask` holds (rows are in time order)."""
    out = np.full(size, fill, dtype=float)
    rows = np.flatnonzero(mask)
    ids, first = np.unique(calls[rows], return_index=True)
    out[ids] = values[rows[first]]
    return out


def _sum(mask: np.ndarray, calls: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per call id, the sum of `values` where `mask` holds (floats even when no row does: numpy's bincount
    of nothing is integer)."""
    return np.bincount(calls[mask], weights=values[mask], minlength=size)[:size].astype(float, copy=False)


def _derived(result: RunResult, name: str, build: Callable[[RunResult], pd.DataFrame]) -> pd.DataFrame:
    """A table derived from the run, built once (callers filter it and must not change it in place)."""
    table = result.derived.get(name)
    if table is None:
        table = result.derived[name] = build(result)
    return table


def calls_table(result: RunResult) -> pd.DataFrame:
    """One row per call: who, when, how it ended, and where its time went (seconds)."""
    return _derived(result, "calls", _calls_table)


def _calls_table(result: RunResult) -> pd.DataFrame:
    c = result.columns
    departments = list(result.events["department"].cat.categories)
    reasons = result.reason_names
    arrive = c.code == _ARRIVE
    ids = np.sort(c.call[arrive])  # redials are numbered after the day's callers but arrive mid-day
    size = int(ids.max()) + 1 if len(ids) else 1
    # Call ids run 1..N without gaps (redials are numbered after the day's callers): a view, not a copy.
    each: slice | np.ndarray = slice(1, size) if len(ids) == size - 1 else ids
    arrived_at = np.full(size, np.nan)
    arrived_at[c.call[arrive]] = c.t[arrive]
    reason = np.zeros(size, dtype=np.int64)
    reason[c.call[arrive]] = c.detail[arrive].astype(np.int64)
    first_department = np.zeros(size, dtype=np.int64)
    first_department[c.call[arrive]] = c.department[arrive]

    answer = c.code == _ANSWER
    answered_at = _first(answer, c.call, c.t, size)
    answer_department = _first(answer, c.call, c.department.astype(float), size, -1).astype(np.int64)
    first_agent = _first(answer, c.call, c.agent.astype(float), size, -1).astype(np.int64)
    queue_abandon = (c.code == _ABANDON) & (c.agent < 0)
    queue_request = (c.code == _CALLBACK_REQUEST) & (c.detail == 0.0)
    left_queue = (c.code == _RING) | queue_abandon | queue_request
    first_ring_at = _first(c.code == _RING, c.call, c.t, size)
    first_queued_at = _first(c.code == _ENQUEUE, c.call, c.t, size)
    wait_time = _first(left_queue, c.call, c.t, size) - first_queued_at
    worst_wait = np.zeros(size)
    live = visits_table(result)
    live = live[~live["callback"]]  # a caller waiting for a callback is not on the line
    np.maximum.at(worst_wait, live["call_id"].to_numpy(), live["wait_time"].fillna(0.0).to_numpy())

    terminal = np.isin(
        c.code, (_BLOCK, _ABANDON, _END, _SELF_SERVICE, _DROP, _HOLD_ABANDON, _CALLBACK_FAILED, _QUEUE_FULL)
    )
    last_code = np.full(size, -1, dtype=np.int64)
    ended_at = np.full(size, np.nan)
    rows = np.flatnonzero(terminal)
    last_code[c.call[rows]] = c.code[rows]  # rows ascend in time: the last terminal event wins
    ended_at[c.call[rows]] = c.t[rows]
    outcome = np.full(size, 3, dtype=np.int8)
    outcome[last_code == _END] = 0
    outcome[last_code == _ABANDON] = 1
    outcome[last_code == _BLOCK] = 2
    outcome[last_code == _SELF_SERVICE] = 4
    outcome[last_code == _DROP] = 5
    outcome[last_code == _HOLD_ABANDON] = 6
    outcome[last_code == _CALLBACK_FAILED] = 7
    full = rows[c.code[rows] == _QUEUE_FULL]  # the caller's last event: nothing follows a full queue
    outcome[c.call[full]] = np.where(c.detail[full] == 1.0, 8, 2)  # a message, or lost (blocked)
    holds = hold_table(result.events)
    hold_time = np.bincount(holds["call_id"], weights=holds["hold_time"], minlength=size)[:size]
    hold_count = np.bincount(holds["call_id"], minlength=size)[:size]
    worst_hold = np.zeros(size)
    np.maximum.at(worst_hold, holds["call_id"].to_numpy(), holds["hold_time"].to_numpy())
    overran = np.bincount(holds["call_id"], weights=holds["overrun"].astype(float), minlength=size)[:size] > 0
    requested = np.bincount(c.call[c.code == _CALLBACK_REQUEST], minlength=size)[:size] > 0
    virtual_hold = np.bincount(c.call[queue_request], minlength=size)[:size] > 0
    dialled = np.bincount(c.call[c.code == _CALLBACK_DIAL], minlength=size)[:size] > 0
    caller, attempt = caller_ids(result.events, size)

    talk_time = _sum(np.isin(c.code, (_END, _HANDOVER, _DROP)), c.call, c.detail, size)
    talk_time += _transfer_segments(result, size)
    talk_time += _segments_left_on_hold(result, holds, size)
    transfers = np.bincount(c.call[c.code == _TRANSFER], minlength=size)[:size]
    wrap_time = _sum((c.code == _IDLE) & (c.call >= 0), c.call, c.detail, size)
    agents_touched = np.bincount(c.call[answer], minlength=size)[:size]
    ringing_abandon = (c.code == _ABANDON) & (c.agent >= 0)
    abandoned_ringing = np.bincount(c.call[ringing_abandon], minlength=size)[:size] > 0

    resolves = _resolves(result.scenario, reasons, departments)
    routed = resolves[
        reason[each], answer_department[each]
    ]  # department -1 (never answered): the False column
    no_wait = np.isnan(wait_time[each]) & (outcome[each] != 2) & (outcome[each] != 8)
    wait = np.where(no_wait, 0.0, wait_time[each])
    outcomes = categorical(outcome[each], list(OUTCOMES))
    resolved = (outcome[each] == 0) | (outcome[each] == 4)  # by an agent, or in the phone menu
    first_department[outcome == 4] = -1  # resolved in the menu: never reached a department
    misrouted = (transfers[each] > 0) | ((answer_department[each] >= 0) & ~routed)
    frame = pd.DataFrame(
        {
            "call_id": ids,
            "caller_id": caller[each],
            "attempt": attempt[each],
            "reason": categorical(reason[each], reasons),
            "first_department": categorical(first_department[each], departments),
            "arrived_at": arrived_at[each],
            "answered_at": answered_at[each],
            "ended_at": ended_at[each],
            "outcome": outcomes,
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
            "chain": _chains(c, ids, answer_department, agents_touched, departments),
            "first_agent_id": first_agent[each],
            "answer_department": categorical(answer_department[each], departments),
            "first_contact_routed": routed,
        },
        copy=False,  # the columns are fresh arrays: no second copy of a million-row table
    )
    frame["experience"] = experience_scores(
        result.scenario.experience,
        pd.Series(outcomes),
        worst_wait[each],
        worst_hold[each],
        overran[each],
        misrouted,
        agents_touched[each],
        dialled[each] & resolved,
    )
    return frame


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
    transfers = transfer_table(result)
    return np.bincount(transfers["call_id"], weights=transfers["segment_time"], minlength=size)[:size]


def _segments_left_on_hold(result: RunResult, holds: pd.DataFrame, size: int) -> np.ndarray:
    """Per call, the talk time of segments that ended on hold (the caller hung up, or took a callback):
    from the answer to the end of the segment, less the time on hold (check-backs are talk)."""
    c = result.columns
    ends = (c.code == _HOLD_ABANDON) | ((c.code == _CALLBACK_REQUEST) & (c.detail == 1.0))
    rows = np.flatnonzero((c.code == _ANSWER) | ends)
    rows = rows[np.argsort(c.agent[rows], kind="stable")]  # per agent, in time order
    is_end = ends[rows]
    end, answer = rows[is_end], rows[np.flatnonzero(is_end) - 1]  # an agent holds one call at a time
    out = np.zeros(size)
    if not len(end):
        return out
    segments = pd.DataFrame(
        {"call_id": c.call[end], "agent_id": c.agent[end], "answered_at": c.t[answer], "ended_at": c.t[end]}
    )
    held = segments.merge(holds[["call_id", "agent_id", "held_at", "hold_time"]], on=["call_id", "agent_id"])
    inside = held[(held["held_at"] >= held["answered_at"]) & (held["held_at"] <= held["ended_at"])]
    on_hold = inside.groupby(["call_id", "answered_at"])["hold_time"].sum()
    keys = pd.MultiIndex.from_frame(segments[["call_id", "answered_at"]])
    talk = segments["ended_at"] - segments["answered_at"] - on_hold.reindex(keys, fill_value=0.0).to_numpy()
    np.add.at(out, segments["call_id"].to_numpy(), talk.to_numpy())
    return out


def _chains(
    c: EventColumns,
    ids: np.ndarray,
    answer_department: np.ndarray,
    touched: np.ndarray,
    departments: list[str],
) -> np.ndarray:
    """Per call, the departments of the agents who answered it in order (`billing > technical`)."""
    chain = np.full(len(ids), "", dtype=object)
    single = touched[ids] == 1
    names = np.array([*departments, ""], dtype=object)
    chain[single] = names[answer_department[ids][single]]
    several = ids[touched[ids] > 1]
    if len(several):
        rows = np.flatnonzero((c.code == _ANSWER) & np.isin(c.call, several))
        frame = pd.DataFrame({"call": c.call[rows], "department": names[c.department[rows]]})
        joined = frame.groupby("call", sort=True)["department"].agg(" > ".join)
        chain[np.searchsorted(ids, joined.index.to_numpy())] = joined.to_numpy()
    return chain


def visits_table(result: RunResult) -> pd.DataFrame:
    """One row per queue visit (a caller reaching a department's queue): its wait and how it ended."""
    return _derived(result, "visits", _visits_table)


def _visits_table(result: RunResult) -> pd.DataFrame:
    c = result.columns
    departments = list(result.events["department"].cat.categories)
    keep = np.flatnonzero(
        np.isin(c.code, (_ENQUEUE, _CALLBACK_QUEUE, _RING, _ANSWER, _ABANDON, _CALLBACK_REQUEST))
    )
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
    return pd.DataFrame(
        {
            "call_id": c.call[row],
            "visit": visit_number[final],
            "department": categorical(c.department[row], departments),
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
        }
    )


def _following(
    code: np.ndarray, call: np.ndarray, enqueue: np.ndarray, order: np.ndarray, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each enqueue among the call-grouped events, the code and event row `offset` places after it
    within the same call (-1 and 0 when there is none)."""
    position = enqueue + offset
    same = np.zeros(len(enqueue), dtype=bool)
    inside = position < len(code)
    same[inside] = call[position[inside]] == call[enqueue[inside]]
    codes = np.full(len(enqueue), -1, dtype=np.int64)
    codes[same] = code[position[same]]
    return codes, order[np.where(same, position, 0)]


def transfer_table(result: RunResult) -> pd.DataFrame:
    """One row per transfer: when, which call, from and to which department, by which agent, and the
    talk time of the segment it ended."""
    return _derived(result, "transfers", _transfer_table)


def _transfer_table(result: RunResult) -> pd.DataFrame:
    c = result.columns
    departments = list(result.events["department"].cat.categories)
    rows = np.flatnonzero((c.code == _ANSWER) | (c.code == _TRANSFER))
    rows = rows[np.argsort(c.agent[rows], kind="stable")]
    is_transfer = c.code[rows] == _TRANSFER
    transfer, answer = rows[is_transfer], rows[np.flatnonzero(is_transfer) - 1]
    order = np.argsort(transfer, kind="stable")
    transfer, answer = transfer[order], answer[order]
    return pd.DataFrame(
        {
            "at": c.t[transfer],
            "call_id": c.call[transfer],
            "agent_id": c.agent[transfer],
            "from": categorical(c.department[transfer], departments),
            "to": categorical(c.detail[transfer].astype(np.int64), departments),
            "segment_time": c.t[transfer] - c.t[answer],
        }
    )


def interval_edges(result: RunResult) -> np.ndarray:
    """Reporting interval boundaries over the day, seconds after the start."""
    scenario = result.scenario
    return np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)


def scheduled_agents_by(staffing: Mapping[str, Sequence[tuple[float, int]]], edges: np.ndarray) -> np.ndarray:
    """Mean scheduled agents per interval (columns) for each pool's staffing step function (rows, in the
    mapping's order): `levels.scheduled_agents` for every pool in one `integrate_levels_by` pass, the
    same floats."""
    steps = list(staffing.values())
    group = np.repeat(np.arange(len(steps)), [len(levels) for levels in steps])
    times = np.array([at for levels in steps for at, _ in levels], dtype=float)
    deltas = np.concatenate(
        [np.diff(np.concatenate(([0.0], np.array([n for _, n in levels], dtype=float)))) for levels in steps]
        or [np.zeros(0)]
    )
    area = integrate_levels_by(group, times, deltas, edges, len(steps))
    widths = np.diff(edges)
    return np.divide(area, widths, out=np.zeros_like(area), where=widths > 0)


def integrate_levels_by(
    group: np.ndarray, times: np.ndarray, deltas: np.ndarray, edges: np.ndarray, size: int
) -> np.ndarray:
    """Per group 0..size-1 (rows), the integral over each [edges[i], edges[i+1]) (columns) of the step
    function that jumps by `deltas` at `times` in that group (rows of groups from `size` on are left out).

    The same floats as `integrate_levels` on each group's rows alone, from whole-array passes: two stable
    sorts (the groups' by radix) put each group's rows in time order (ties in log order), groups one after
    another, and the products and the values at the edges are elementwise over all groups at once. Only the
    running sums and the search for each edge's last change go group by group, one numpy call each, because
    a group's sums must start afresh and add in order for the floats to match: the cost is the events' and
    the output's, plus a few microseconds per group (not a dozen small-array steps per group)."""
    out = np.zeros((size, max(len(edges) - 1, 0)))
    counts = np.bincount(group, minlength=size)[:size]
    filled = np.flatnonzero(counts)
    if len(edges) < 2 or not len(filled):
        return out
    # A group key of 16 bits or fewer sorts by radix, in one pass (the order is the same: both are stable).
    key = group.astype(np.uint16) if size <= np.iinfo(np.uint16).max and group.max() < size else group
    by_time = np.argsort(times, kind="stable")
    order = by_time[np.argsort(key[by_time], kind="stable")][: int(counts.sum())]
    times, deltas = times[order], deltas[order]
    bounds = np.concatenate(([0], np.cumsum(counts)))
    spans = [(bounds[index], bounds[index + 1]) for index in filled.tolist()]
    level = np.empty(len(times))
    running_sum = np.add.accumulate  # np.cumsum, without its Python wrapper (a call per group)
    for start, stop in spans:
        running_sum(deltas[start:stop], out=level[start:stop])
    steps = level[:-1] * np.diff(times)  # within a group, its own; across groups, unused
    area = np.zeros(len(times))  # at each group's first change, nothing yet
    last = np.empty((len(filled), len(edges)), dtype=np.int64)  # per group and edge: its last change
    for row, (start, stop) in enumerate(spans):
        running_sum(steps[start : stop - 1], out=area[start + 1 : stop])
        last[row] = times[start:stop].searchsorted(edges, side="right")
    first = bounds[filled][:, None]
    last += first - 1
    started = last >= first  # the group has changed by the edge
    change = np.where(started, last, 0)
    at_edge = np.where(started, area[change] + level[change] * (edges - times[change]), 0.0)
    out[filled] = np.diff(at_edge, axis=1)
    return out


def _spans(
    pool: np.ndarray, opened: np.ndarray, closed: np.ndarray, at: np.ndarray, ended_at: float, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pool, time and +1/-1 of span starts and ends (rows `opened`, `closed`), spans left open closed at
    `ended_at`: per pool, starts in log order, then ends, then the closes."""
    still_open = (
        np.bincount(pool[opened], minlength=size)[:size] - np.bincount(pool[closed], minlength=size)[:size]
    )
    closes = np.repeat(np.arange(size), np.maximum(still_open, 0))
    return (
        np.concatenate((pool[opened], pool[closed], closes)),
        np.concatenate((at[opened], at[closed], np.full(len(closes), ended_at))),
        np.concatenate((np.ones(int(opened.sum())), -np.ones(int(closed.sum())), -np.ones(len(closes)))),
    )


def agent_seconds(result: RunResult, edges: np.ndarray) -> pd.DataFrame:
    """Per pool and interval: logged-in and busy agent-seconds (busy = ringing, talking or wrapping up)."""
    c = result.columns
    agents = result.agents
    # Only the events that start or end a span, each with its agent's pool (-1: no agent): one pass over
    # the event log, not one per pool (a million-call day logs millions of events).
    rows_of_spans = np.flatnonzero(np.isin(c.code, (_LOGIN, _LOGOUT, _RING, _IDLE)))
    code, at, agent = c.code[rows_of_spans], c.t[rows_of_spans], c.agent[rows_of_spans]
    pool_codes, pools = pd.factorize(agents["pool"])  # pools in order of first appearance
    agent_ids = agents["agent_id"].to_numpy(dtype=np.int64)
    pool_of = np.full(int(max(agent_ids.max(initial=-1), agent.max(initial=-1))) + 2, -1)
    pool_of[agent_ids + 1] = pool_codes
    pool_at = pool_of[agent.astype(np.int64) + 1]
    known = pool_at >= 0
    size = len(pools)
    # Close open spans at the end of the run so integrals stay finite.
    logged = integrate_levels_by(
        *_spans(pool_at, known & (code == _LOGIN), known & (code == _LOGOUT), at, result.ended_at, size),
        edges,
        size,
    )
    busy = integrate_levels_by(
        *_spans(pool_at, known & (code == _RING), known & (code == _IDLE), at, result.ended_at, size),
        edges,
        size,
    )
    count = len(edges) - 1
    return pd.DataFrame(
        {
            "pool": np.repeat(np.asarray(pools, dtype=object), count),
            "interval": np.tile(np.arange(count), size),
            "logged_in_seconds": logged.reshape(-1),
            "busy_seconds": busy.reshape(-1),
        }
    )
