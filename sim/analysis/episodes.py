"""Episodes that span several events: holds (hold .. unhold, with check-backs), callbacks (request ..
dials .. answer or give-up), and callers across redials. Derived from the event table only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine.log import CODE, Event, categorical

_HOLD, _CHECK_BACK, _UNHOLD = CODE[Event.HOLD], CODE[Event.CHECK_BACK], CODE[Event.UNHOLD]
_HOLD_ABANDON, _REQUEST = CODE[Event.HOLD_ABANDON], CODE[Event.CALLBACK_REQUEST]
_ORIGINS = {0.0: "queue", 1.0: "hold", 2.0: "redial"}
"""Where a callback request came from, by its event detail (2: a redial that asked for a callback)."""
_DIAL, _MISSED, _FAILED = CODE[Event.CALLBACK_DIAL], CODE[Event.CALLBACK_MISSED], CODE[Event.CALLBACK_FAILED]
_ANSWER, _REDIAL, _ARRIVE = CODE[Event.ANSWER], CODE[Event.REDIAL], CODE[Event.ARRIVE]

HOLD_ENDINGS = ("resumed", "hung_up", "callback")


def _columns(events: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """The event table's columns as numpy views, in their logged integer widths (no copies: a
    million-call day logs millions of events)."""
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
    t, code, call, agent, department, detail = _columns(events)
    from_hold = (code == _REQUEST) & (detail == 1.0)
    ends = np.isin(code, (_UNHOLD, _HOLD_ABANDON)) | from_hold
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
    names = list(events["department"].cat.categories)
    frame = pd.DataFrame(
        {
            "call_id": call[start_rows].astype(np.int64),
            "agent_id": agent[start_rows].astype(np.int64),
            "department": categorical(department[start_rows], names),
            "held_at": t[start_rows],
            "ended_at": t[stop_rows],
            "promise": detail[start_rows],
            "check_backs": check_count[stops] - check_count[starts],
            "check_back_time": checked,
            "hold_time": spent - checked,
            "ending": categorical(ending, HOLD_ENDINGS),
        }
    )
    frame["overrun"] = frame["check_backs"] > 0
    return frame.sort_values(["held_at", "call_id"], ignore_index=True)


def callback_table(events: pd.DataFrame) -> pd.DataFrame:
    """One row per callback request: when, from a queue or a hold, the first dial, dials made, agent time
    spent dialling, and whether the caller was reached or the callback given up."""
    t, code, call, _, department, detail = _columns(events)
    requests = np.flatnonzero(code == _REQUEST)
    names = list(events["department"].cat.categories)
    rows = []
    # The events of calls that asked for a callback, per call in time order.
    asked = np.zeros(int(call.max(initial=0)) + 1, dtype=bool)
    asked[call[requests]] = True
    rows_in_time = np.flatnonzero(np.isin(code, (_REQUEST, _DIAL, _ANSWER, _MISSED, _FAILED)))
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
                names[department[request]],
                _ORIGINS.get(float(detail[request]), "queue"),
                float(t[request]),
                first_dial,
                dials,
                dialling,
                reached,
                failed,
            )
        )
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


def caller_ids(events: pd.DataFrame, size: int) -> tuple[np.ndarray, np.ndarray]:
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
