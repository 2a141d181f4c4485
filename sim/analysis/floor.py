"""The floor as it happens: from the event table, each agent's state through the day (idle, ringing, talking,
on hold, wrapping up, on a break ...) as segments, each caller's waits (in a queue, for a callback, in the
phone menu) as intervals, and the service level as it runs. What a replay of the run shows at any instant.

Each is one vectorised pass over the event columns (a stable sort by agent or call, the next row of the same
agent or call found with `searchsorted`), never a Python loop over agents, calls or intervals, so a day of
many thousand calls is prepared in milliseconds and a viewer finds the floor at any instant by binary search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.log import CODE, EVENT_NAMES, Event

AGENT_STATES = (
    "offline",
    "idle",
    "ringing",
    "talking",
    "on_hold",
    "wrap_up",
    "on_break",
    "dialling",
    "transferring",
)
"""What an agent is doing; `transferring`: still on the line after a warm or conference transfer, until the
handover. `dialling`: calling a caller back, until they answer or the dial is missed."""
OFFLINE, IDLE, RINGING, TALKING, ON_HOLD, WRAP_UP, ON_BREAK, DIALLING, TRANSFERRING = range(len(AGENT_STATES))

WAIT_KINDS = ("queue", "callback", "menu")
"""What a waiting caller waits for: an agent in a queue (on the line), a callback dial (off the line), or
the phone menu to route them."""
QUEUE, CALLBACK, MENU = range(len(WAIT_KINDS))

_STATE_AFTER = {
    Event.LOGIN: IDLE,
    Event.BACK: IDLE,
    Event.IDLE: IDLE,
    Event.LOGOUT: OFFLINE,
    Event.BREAK: ON_BREAK,
    Event.RING: RINGING,
    Event.CALLBACK_DIAL: DIALLING,
    Event.ANSWER: TALKING,
    Event.UNHOLD: TALKING,
    Event.CHECK_BACK: TALKING,
    Event.CONFERENCE_MISSED: TALKING,
    Event.HOLD: ON_HOLD,
    Event.END: WRAP_UP,
    Event.DROP: WRAP_UP,
    Event.ABANDON: WRAP_UP,
    Event.HOLD_ABANDON: WRAP_UP,
    Event.HANDOVER: WRAP_UP,
    Event.CALLBACK_MISSED: WRAP_UP,
    Event.CALLBACK_REQUEST: WRAP_UP,
    Event.TRANSFER: WRAP_UP,  # a cold transfer; `transferring` when the agent's next event is a handover
}
"""The agent's state from an event of theirs on (events of no agent, agent_id -1, are not read)."""
_NO_STATE = -1
_STATE_OF_CODE = np.full(len(EVENT_NAMES), _NO_STATE, dtype=np.int8)
for _event, _state in _STATE_AFTER.items():
    _STATE_OF_CODE[CODE[_event]] = _state
_KEEPS_CALL = np.zeros(len(AGENT_STATES), dtype=bool)
_KEEPS_CALL[[RINGING, TALKING, ON_HOLD, WRAP_UP, DIALLING, TRANSFERRING]] = True

_STILL_WAITING = (Event.CALLBACK_OFFER, Event.OVERFLOW, Event.CALLBACK_DUE)
"""A caller's events that leave them where they wait (any other event of theirs ends the wait)."""
_ON_HOLD_NEXT = (Event.CHECK_BACK, Event.UNHOLD, Event.HOLD_ABANDON)
"""After a check-back, the caller holds again when the agent's next event is one of these."""


def event_codes(events: pd.DataFrame) -> np.ndarray:
    """The event column as `CODE` integers, read by name (a saved table's categories in any order)."""
    column = events["event"]
    lookup = np.array([EVENT_NAMES.index(str(name)) for name in column.cat.categories], dtype=np.int16)
    codes = column.cat.codes.to_numpy()
    return np.where(codes >= 0, lookup[np.maximum(codes, 0)] if len(lookup) else -1, -1).astype(np.int16)


def _in(codes: np.ndarray, wanted: tuple[Event, ...]) -> np.ndarray:
    return np.isin(codes, [CODE[event] for event in wanted])


@dataclass(frozen=True)
class AgentSegments:
    """Per agent, its states through the day: segment i starts at `start_at[i]` with `state[i]` (about call
    `call_id[i]`, -1 for none) and lasts until the agent's next segment (the last one: the end of the run).
    Segments are grouped by agent (`agent_id` ascending), in time order within an agent; before an agent's
    first segment it is offline. Instants shared by several events keep only the last state."""

    agent_id: np.ndarray
    start_at: np.ndarray
    state: np.ndarray
    call_id: np.ndarray

    def at(self, agent_ids: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Each agent's state and call at instant `t` (offline and -1 before its first segment)."""
        agent_ids = np.asarray(agent_ids)
        if not len(self.state):
            return np.full(len(agent_ids), OFFLINE, dtype=np.int8), np.full(
                len(agent_ids), -1, dtype=np.int64
            )
        first = np.searchsorted(self.agent_id, agent_ids, side="left")
        stop = np.searchsorted(self.agent_id, agent_ids, side="right")
        # within an agent's segments (in time order) those started by t come first: count them
        started = np.concatenate(([0], np.cumsum(self.start_at <= t)))
        last = first + (started[stop] - started[first]) - 1
        known = last >= first
        pick = np.where(known, last, 0)
        state = np.where(known, self.state[pick], OFFLINE).astype(np.int8)
        return state, np.where(known, self.call_id[pick], -1).astype(np.int64)


def agent_segments(events: pd.DataFrame) -> AgentSegments:
    """Every agent's state segments from the event table (see `AgentSegments`)."""
    codes = event_codes(events)
    agent = events["agent_id"].to_numpy()
    state = _STATE_OF_CODE[np.maximum(codes, 0)]
    rows = np.flatnonzero((agent >= 0) & (codes >= 0) & (state != _NO_STATE))
    rows = rows[np.argsort(agent[rows], kind="stable")]  # per agent, in log (time) order
    t = events["t"].to_numpy()[rows]
    who = agent[rows].astype(np.int32)
    code = codes[rows]
    state = state[rows].copy()
    call = events["call_id"].to_numpy()[rows].astype(np.int32)
    detail = events["detail"].to_numpy()[rows]
    same_next = np.append(who[1:] == who[:-1], False)  # the next row is the same agent's
    next_code = np.append(code[1:], -1)
    next_t = np.append(t[1:], np.inf)
    # a transfer the agent stays on the line for (warm, conference) until its handover
    state[(code == CODE[Event.TRANSFER]) & same_next & (next_code == CODE[Event.HANDOVER])] = TRANSFERRING
    # a check-back talks for `detail` seconds; the caller then holds again until the agent's next event
    holds_again = (
        (code == CODE[Event.CHECK_BACK]) & same_next & _in(next_code, _ON_HOLD_NEXT) & (t + detail < next_t)
    )
    extra = np.flatnonzero(holds_again)
    if len(extra):
        position = np.concatenate((np.arange(len(t)), extra)).astype(np.float64)
        position[len(t) :] += 0.5  # right after the check-back it comes from
        order = np.argsort(position, kind="stable")
        t = np.concatenate((t, t[extra] + detail[extra]))[order]
        who = np.concatenate((who, who[extra]))[order]
        state = np.concatenate((state, np.full(len(extra), ON_HOLD, dtype=np.int8)))[order]
        call = np.concatenate((call, call[extra]))[order]
    call = np.where(_KEEPS_CALL[state], call, -1).astype(np.int32)
    # several events at one instant: the last one's state is the agent's from then on
    last_of_instant = np.append((who[1:] != who[:-1]) | (t[1:] != t[:-1]), True)
    return AgentSegments(
        who[last_of_instant], t[last_of_instant], state[last_of_instant], call[last_of_instant]
    )


@dataclass(frozen=True)
class Waits:
    """Callers waiting: wait i is call `call_id[i]` waiting (`kind[i]`, a `WAIT_KINDS` index) at
    `department[i]` (a position in `departments`; for the menu, where it will send them) from `start_at[i]`
    until `end_at[i]` (inf: still waiting when the run stops); waits over at once are left out. `visit[i]`:
    for a queue wait, which of the call's queue visits it is (1 = the first, 2 = after a transfer ...).
    In order of `start_at`."""

    departments: list[str]
    call_id: np.ndarray
    kind: np.ndarray
    department: np.ndarray
    start_at: np.ndarray
    end_at: np.ndarray
    visit: np.ndarray

    def waiting_at(self, t: float) -> np.ndarray:
        """Which waits are under way at instant `t` (started at or before t, not yet over)."""
        return (self.start_at <= t) & (t < self.end_at)


def waits(events: pd.DataFrame) -> Waits:
    """Every wait of every caller from the event table (see `Waits`)."""
    codes = event_codes(events)
    call_all = events["call_id"].to_numpy()
    rows = np.flatnonzero((call_all >= 0) & (codes != CODE[Event.IDLE]))
    rows = rows[np.argsort(call_all[rows], kind="stable")]  # per call, in log order
    code, call = codes[rows], call_all[rows]
    t = events["t"].to_numpy()[rows]
    department = events["department"].cat.codes.to_numpy()[rows].astype(np.int16)
    detail = events["detail"].to_numpy()[rows]
    # queue waits (enqueue) and callback waits (callback_queue) end at the call's next event that moves it
    starts = np.flatnonzero(_in(code, (Event.ENQUEUE, Event.CALLBACK_QUEUE)))
    movers = np.flatnonzero(~_in(code, _STILL_WAITING))
    after = np.searchsorted(movers, starts, side="right")
    ender = movers[np.minimum(after, max(len(movers) - 1, 0))] if len(movers) else np.zeros(0, dtype=np.int64)
    ended = (after < len(movers)) & (call[ender] == call[starts]) if len(movers) else np.zeros(0, dtype=bool)
    end_at = np.where(ended, t[ender], np.inf)
    kind = np.where(code[starts] == CODE[Event.ENQUEUE], QUEUE, CALLBACK).astype(np.int8)
    # the nth queue visit of its call: enqueue rows are grouped by call, in order
    enqueues = starts[kind == QUEUE]
    group_start = np.flatnonzero(np.append(True, call[enqueues][1:] != call[enqueues][:-1]))
    counts = np.diff(np.append(group_start, len(enqueues)))
    visit = np.zeros(len(starts), dtype=np.int32)
    visit[kind == QUEUE] = np.arange(len(enqueues)) - np.repeat(group_start, counts) + 1
    # the phone menu: from arrival (the menu time before the ivr or self-service row) to its row
    menus = np.flatnonzero(_in(code, (Event.IVR, Event.SELF_SERVICE)))
    start_at = np.concatenate((t[starts], t[menus] - detail[menus]))
    end_at = np.concatenate((end_at, t[menus]))
    order = np.argsort(start_at, kind="stable")
    order = order[end_at[order] > start_at[order]]  # a wait over at once (an agent was free) is none
    return Waits(
        [str(name) for name in events["department"].cat.categories],
        np.concatenate((call[starts], call[menus])).astype(np.int32)[order],
        np.concatenate((kind, np.full(len(menus), MENU, dtype=np.int8)))[order],
        np.concatenate((department[starts], department[menus]))[order],
        start_at[order],
        end_at[order],
        np.concatenate((visit, np.zeros(len(menus), dtype=np.int32)))[order],
    )


@dataclass(frozen=True)
class RunningServiceLevel:
    """The service level as the day runs: at instant t, the counted calls answered within the threshold by
    t over the counted calls whose verdict is known by t. A call's verdict is known when it is answered
    in time (a hit), or when it can no longer be one: its wait passes the threshold, or it ends first (a
    miss). At the end of the run every counted call has its verdict, so the figure is the day's
    `service_level` (`sim.analysis.metrics.service_level`: answered within the threshold / offered)."""

    hits_at: np.ndarray
    """When each hit was answered, sorted."""
    decided_at: np.ndarray
    """When each counted call's verdict became known, sorted."""

    def at(self, t: float) -> float:
        """The running service level at t (NaN before any verdict)."""
        decided = int(np.searchsorted(self.decided_at, t, side="right"))
        hits = int(np.searchsorted(self.hits_at, t, side="right"))
        return hits / decided if decided else float("nan")


def running_service_level(
    calls: pd.DataFrame, events: pd.DataFrame, threshold: float | np.ndarray, warmup: float, ended_at: float
) -> RunningServiceLevel:
    """The `RunningServiceLevel` of a run from its calls table (the calls that count: arrived after the
    warm-up, not served by the menu) and the event table (when each call first joined a queue).
    `threshold`: one for all, or one per row of `calls` (each call's first department's, as the summary
    judges it: `sim.analysis.thresholds.call_thresholds`)."""
    counting = ((calls["arrived_at"] >= warmup) & (calls["outcome"].astype(str) != "self_service")).to_numpy()
    counted = calls[counting]
    if isinstance(threshold, np.ndarray):
        threshold = threshold[counting]
    answered_at = counted["answered_at"].to_numpy(dtype=float)
    time_to_answer = counted["time_to_answer"].to_numpy(dtype=float)
    quick = np.nan_to_num(time_to_answer, nan=np.inf) <= threshold + 1e-9
    hit = quick & (counted["outcome"].astype(str).to_numpy() == "answered")
    over_at = np.nan_to_num(counted["ended_at"].to_numpy(dtype=float), nan=ended_at)
    # when the wait passes the threshold: from the first queue join (the arrival when it never joined one)
    codes = event_codes(events)
    enqueue = np.flatnonzero(codes == CODE[Event.ENQUEUE])
    enqueue_call = events["call_id"].to_numpy()[enqueue]
    first_ids, first_rows = np.unique(enqueue_call, return_index=True)
    joined_at = counted["arrived_at"].to_numpy(dtype=float).copy()
    ids = counted["call_id"].to_numpy()
    where = np.searchsorted(first_ids, ids)
    found = (where < len(first_ids)) & (first_ids[np.minimum(where, max(len(first_ids) - 1, 0))] == ids)
    joined_at[found] = events["t"].to_numpy()[enqueue[first_rows[where[found]]]]
    settled_at = np.where(np.isnan(answered_at), over_at, answered_at)
    miss_at = np.where(quick, over_at, np.minimum(settled_at, joined_at + threshold))
    decided = np.where(hit, answered_at, miss_at)
    return RunningServiceLevel(np.sort(answered_at[hit]), np.sort(decided))
