"""Episodes that span several events: holds (hold .. unhold, with check-backs), callbacks (request ..
dials .. answer or give-up), and callers across redials. Derived from the event table only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.columns import Columns, any_of, derived, event_departments
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event, EventColumns

_HOLD, _CHECK_BACK, _UNHOLD = CODE[Event.HOLD], CODE[Event.CHECK_BACK], CODE[Event.UNHOLD]
_HOLD_ABANDON, _REQUEST = CODE[Event.HOLD_ABANDON], CODE[Event.CALLBACK_REQUEST]
_ORIGINS = {0.0: "queue", 1.0: "hold", 2.0: "redial"}
"""Where a callback request came from, by its event detail (2: a redial that asked for a callback)."""
_DIAL, _MISSED, _FAILED = CODE[Event.CALLBACK_DIAL], CODE[Event.CALLBACK_MISSED], CODE[Event.CALLBACK_FAILED]
_ANSWER, _REDIAL, _ARRIVE = CODE[Event.ANSWER], CODE[Event.REDIAL], CODE[Event.ARRIVE]

HOLD_ENDINGS = ("resumed", "hung_up", "callback")


def _columns(events: pd.DataFrame | EventColumns) -> tuple[np.ndarray, ...]:
    """The event table's columns as numpy views, in their logged integer widths (no copies: a
    million-call day logs millions of events)."""
    if isinstance(events, EventColumns):
        return events.t, events.code, events.call, events.agent, events.department, events.detail
    return (
        events["t"].to_numpy(),
        events["event"].cat.codes.to_numpy(),
        events["call_id"].to_numpy(),
        events["agent_id"].to_numpy(),
        events["department"].cat.codes.to_numpy(),
        events["detail"].to_numpy(),
    )


def hold_table(events: pd.DataFrame) -> pd.DataFrame:
    """One row per hold: who, when, the promise, check-backs, the time on hold (check-backs excluded),
    whether it outran its promise, and how it ended (resumed, hung up, callback)."""
    return _holds(_columns(events), list(events["department"].cat.categories)).frame()


def hold_columns(result: RunResult) -> Columns:
    """`hold_table` of the run's events as numpy columns (categorical ones as codes), built once."""
    return derived(result, "holds.columns", lambda run: _holds(_columns(run.columns), event_departments(run)))


def _holds(columns: tuple[np.ndarray, ...], names: list[str]) -> Columns:
    t, code, call, agent, department, detail = columns
    from_hold = (code == _REQUEST) & (detail == 1.0)
    ends = any_of(code, (_UNHOLD, _HOLD_ABANDON)) | from_hold
    keep = np.flatnonzero((code == _HOLD) | (code == _CHECK_BACK) | ends)
    keep = keep[np.argsort(call[keep], kind="stable")]  # per call, in time order
    starts = np.flatnonzero(code[keep] == _HOLD)
    finishing = np.flatnonzero(ends[keep])
    position = np.searchsorted(finishing, starts)
    closed = position < len(finishing)
    starts, stops = starts[closed], finishing[position[closed]]
    same_call = call[keep[stops]] == call[keep[starts]]
    starts, stops = starts[same_call], stops[same_call]
    check_back = np.where(code[keep] == _CHECK_BACK, detail[keep], 0.0)
    checks = np.where(code[keep] == _CHECK_BACK, 1, 0)
    check_time = np.concatenate(([0.0], np.cumsum(check_back)))
    check_count = np.concatenate(([0], np.cumsum(checks)))
    start_rows, stop_rows = keep[starts], keep[stops]
    spent = t[stop_rows] - t[start_rows]
    checked = check_time[stops] - check_time[starts]
    ending = np.where(code[stop_rows] == _UNHOLD, 0, np.where(code[stop_rows] == _HOLD_ABANDON, 1, 2))
    check_backs = check_count[stops] - check_count[starts]
    # in order of the time put on hold, then call id (a stable sort, as `sort_values` on both keys)
    order = np.lexsort((call[start_rows], t[start_rows]))
    return Columns(
        {
            "call_id": call[start_rows].astype(np.int64)[order],
            "agent_id": agent[start_rows].astype(np.int64)[order],
            "department": department[start_rows][order],
            "held_at": t[start_rows][order],
            "ended_at": t[stop_rows][order],
            "promise": detail[start_rows][order],
            "check_backs": check_backs[order],
            "check_back_time": checked[order],
            "hold_time": (spent - checked)[order],
            "ending": ending[order],
            "overrun": check_backs[order] > 0,
        },
        {"department": names, "ending": HOLD_ENDINGS},
    )


def callback_table(events: pd.DataFrame) -> pd.DataFrame:
    """One row per callback request: when, from a queue or a hold, the first dial, dials made, agent time
    spent dialling, and whether the caller was reached or the callback given up."""
    names = list(events["department"].cat.categories)
    rows = [
        (call, names[department], _ORIGINS.get(origin, "queue"), *rest)
        for call, department, origin, *rest in _callback_rows(_columns(events))
    ]
    columns = [
        "call_id",
        "department",
        "origin",
        "requested_at",
        "first_dial_at",
        "dials",
        "dial_time",
        "reached",
        "failed",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["time_to_callback"] = frame["first_dial_at"] - frame["requested_at"]
    return frame


def callback_columns(result: RunResult) -> Columns:
    """`callback_table` of the run's events as numpy columns (department and origin as codes), built once."""
    return derived(result, "callbacks.columns", _callback_columns)


def _callback_columns(result: RunResult) -> Columns:
    rows = _callback_rows(_columns(result.columns))
    origin_code = {origin: code for code, origin in enumerate(_ORIGINS)}
    values = list(zip(*rows, strict=True)) if rows else [()] * 9
    requested_at = np.array(values[3], dtype=float)
    first_dial_at = np.array(values[4], dtype=float)
    return Columns(
        {
            "call_id": np.array(values[0], dtype=np.int64),
            "department": np.array(values[1], dtype=np.int64),
            "origin": np.array([origin_code.get(origin, 0) for origin in values[2]], dtype=np.int64),
            "requested_at": requested_at,
            "first_dial_at": first_dial_at,
            "dials": np.array(values[5], dtype=np.int64),
            "dial_time": np.array(values[6], dtype=float),
            "reached": np.array(values[7], dtype=bool),
            "failed": np.array(values[8], dtype=bool),
            "time_to_callback": first_dial_at - requested_at,
        },
        {"department": event_departments(result), "origin": list(_ORIGINS.values())},
    )


def _callback_rows(columns: tuple[np.ndarray, ...]) -> list[tuple[Any, ...]]:
    """Per callback request, in log order: call id, department code, origin (the request's detail), requested
    at, first dial at, dials, dialling time, reached, failed."""
    t, code, call, _, department, detail = columns
    requests = np.flatnonzero(code == _REQUEST)
    rows: list[tuple[Any, ...]] = []
    if not len(requests):
        return rows  # no callback asked for: no sort of the answers and dials of every call
    # The events of calls that asked for a callback, per call in time order.
    asked = np.zeros(int(call.max(initial=0)) + 1, dtype=bool)
    asked[call[requests]] = True
    rows_in_time = np.flatnonzero(any_of(code, (_REQUEST, _DIAL, _ANSWER, _MISSED, _FAILED)))
    rows_in_time = rows_in_time[asked[call[rows_in_time]]]
    order = np.argsort(call[rows_in_time], kind="stable")
    keep = rows_in_time[order]
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))  # where each row of rows_in_time went in keep
    for request in requests:
        index = int(position[np.searchsorted(rows_in_time, request)]) + 1
        first_dial = np.nan
        dials = 0
        dialling = 0.0
        reached = failed = False
        dial_started = np.nan
        while index < len(keep) and call[keep[index]] == call[request] and code[keep[index]] != _REQUEST:
            row = keep[index]
            if code[row] == _DIAL:
                dials += 1
                dial_started = t[row]
                if np.isnan(first_dial):
                    first_dial = t[row]
            elif code[row] == _MISSED:
                dialling += detail[row]
            elif code[row] == _ANSWER and dials:
                dialling += t[row] - dial_started
                reached = True
                break
            elif code[row] == _FAILED:
                failed = True
                break
            index += 1
        rows.append(
            (
                int(call[request]),
                int(department[request]),
                float(detail[request]),
                float(t[request]),
                first_dial,
                dials,
                dialling,
                reached,
                failed,
            )
        )
    return rows


def caller_ids(events: pd.DataFrame | EventColumns, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per call id (index), the caller it belongs to (the id of their first call) and its attempt number."""
    _, code, call, _, _, detail = _columns(events)
    caller = np.arange(size, dtype=np.int64)
    attempt = np.ones(size, dtype=np.int64)
    redials = np.flatnonzero(code == _REDIAL)
    for new, previous in sorted(
        zip(call[redials].tolist(), detail[redials].astype(np.int64).tolist(), strict=True)
    ):
        caller[new] = caller[previous]
        attempt[new] = attempt[previous] + 1
    return caller, attempt
