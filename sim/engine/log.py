"""What happened: the event vocabulary and the recorder (plain tuples, compacted to numpy, one frame at the end).

Each event is `(t, event, call_id, agent_id, department, detail)`. `agent_id` and `department` are -1 when
they do not apply. `detail` carries one number whose meaning depends on the event (see `Event`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a table is made: `callsim validate` reaches this module
    import pandas as pd


class Event(StrEnum):
    """The vocabulary of the event log, with what `detail` holds for each."""

    # A call reaches the centre; department = where routing sends it, detail = reason index.
    ARRIVE = "arrive"
    # No free trunk line: busy signal.
    BLOCK = "block"
    # Joins a department's queue; detail = priority.
    ENQUEUE = "enqueue"
    # Waited long enough to be offered to back-up agents too.
    OVERFLOW = "overflow"
    # An agent takes the call (and lets it ring, or dials a callback); detail = queue wait of this visit.
    RING = "ring"
    # Conversation starts; detail = time to answer this visit (queue wait + ring).
    ANSWER = "answer"
    # The caller hangs up waiting; agent_id >= 0 if while ringing; detail = time waited this visit.
    ABANDON = "abandon"
    # The caller leaves the agent, served; detail = talk time of this segment.
    END = "end"
    # The agent finishes after-call work; detail = wrap time.
    IDLE = "idle"
    # An agent starts work; department = home department (-1 for agent groups).
    LOGIN = "login"
    # An agent stops work.
    LOGOUT = "logout"
    # The caller leaves the phone menu; department = where it routes them, detail = menu time.
    IVR = "ivr"
    # The IVR resolved the caller's reason; detail = menu time.
    SELF_SERVICE = "self_service"
    # The agent sends the caller on; department = from, detail = target department index.
    TRANSFER = "transfer"
    # Warm transfer done: the first agent leaves; detail = time on the line since the transfer.
    HANDOVER = "handover"
    # The caller hangs up unresolved after too many transfers; detail = talk time of this segment.
    DROP = "drop"
    # The agent puts the caller on hold to research; detail = the promised hold time.
    HOLD = "hold"
    # The promise ran out: the agent checks back with the caller; detail = check-back talk time.
    CHECK_BACK = "check_back"
    # The agent comes back with the answer; detail = total time on this hold (check-backs included).
    UNHOLD = "unhold"
    # The caller hangs up on hold; detail = total time on this hold.
    HOLD_ABANDON = "abandon_on_hold"
    # The caller is offered a callback instead of waiting; detail = estimated wait.
    CALLBACK_OFFER = "callback_offer"
    # The caller accepts a callback and hangs up; detail = 0 from a queue, 1 from a hold, 2 a redial that
    # comes back as a callback request (`redial.as_callback`).
    CALLBACK_REQUEST = "callback_request"
    # A callback waits in a department's queue for an agent to dial it; detail = priority level.
    CALLBACK_QUEUE = "callback_queue"
    # The agent dials the caller back; detail = time since the callback was requested.
    CALLBACK_DIAL = "callback_dial"
    # Nobody answers the dial-out; detail = dial time.
    CALLBACK_MISSED = "callback_missed"
    # The last retry failed: the callback is given up.
    CALLBACK_FAILED = "callback_failed"
    # A caller who gave up calls again (just before the new call's arrive); detail = previous call id.
    REDIAL = "redial"
    # A callback not dialled yet is due (its window is running out): it moves to the front of its caller's
    # priority level; detail = that priority.
    CALLBACK_DUE = "callback_due"
    # Nobody free and the department's queue full (`queue_capacity`): the caller cannot wait; detail = 0 lost
    # (a `blocked` call, as in Erlang B), 1 left a message (a `message` call).
    QUEUE_FULL = "queue_full"
    # A conference transfer finds nobody of the next department free (the caller then waits with the first
    # agent on the line, is served by them alone, or is lost: `transfers.if_nobody_free`); department = from,
    # detail = the next department.
    CONFERENCE_MISSED = "conference_missed"
    # An agent goes on a scheduled break (logged in no longer, for the analysis); detail = break length.
    BREAK = "break"
    # The agent is back from its break and takes calls again (or, rostered off meanwhile, logs out).
    BACK = "back"
    # A week's day: work left at the close is kept for the next day (`sim.engine.carry_over`); detail = 0
    # a callback not yet dialled, 1 a redial due after the close, 2 an email still waiting.
    CARRY_OUT = "carry_out"
    # Work kept from the day before comes back (just before its `arrive`); detail = yesterday's call id.
    CARRY_IN = "carry_in"
    # Outbound (`sim.engine.outbound`): a campaign record is dialled; agent_id = the agent dialling
    # (progressive) or -1 (predictive: nobody reserved), department = the dialling pool's home, detail = record.
    DIAL_OUT = "dial_out"
    # The dial ends unanswered (or not by the right person); detail = record.
    NO_ANSWER = "no_answer"
    # The right person answers; agent_id as the dial's; detail = record.
    RIGHT_PARTY = "right_party"
    # Predictive: a right-party answer is put through to an idle agent (busy from here); detail = record.
    CONNECT = "connect"
    # Predictive: a right-party answer finds no agent free and the line is dropped; detail = record.
    NUISANCE = "nuisance"
    # The agent is done with an outbound dial (talk and wrap-up, or a dial that missed) and free again;
    # detail = talk + wrap time.
    OUTBOUND_DONE = "outbound_done"
    # An email waiting at the open (just before its `arrive` at the open); detail = its age at the open.
    EMAIL_BACKLOG = "email_backlog"
    # An email passes its due time unhandled (it keeps waiting); detail = its age.
    EMAIL_OVERDUE = "email_overdue"
    # At the close, an email still waiting is left in the backlog; detail = its age.
    EMAIL_LEFT = "email_left"
    # The customer of an overdue email calls (just before the new call's `arrive`); detail = the email's id.
    EMAIL_CALL = "email_call"


CODE: dict[Event, int] = {event: index for index, event in enumerate(Event)}
"""Small integer codes the engine records, one per `Event`."""

EVENT_NAMES: tuple[str, ...] = tuple(event.value for event in Event)
COLUMNS = ("t", "event", "call_id", "agent_id", "department", "detail")
_DTYPES = (np.float64, np.int8, np.int32, np.int32, np.int16, np.float64)
_COMPACT_EVERY = 1 << 13
"""Events gathered before they are packed: a few thousand, so that the values (and the objects they point
to) are still in the processor's cache when packed (a 200,000-call day packs in about 0.15 s so, against
0.19 s sixty-five thousand events at a time)."""


class EventLog:
    """Collects events; `record` is a bound `list.extend` of one flat list, so logging costs one call and
    leaves no tuple alive (the values are packed into numpy column chunks as they gather)."""

    def __init__(self) -> None:
        self._values: list[float] = []
        self._chunks: list[list[np.ndarray]] = [[] for _ in COLUMNS]
        self.record: Callable[[tuple[float, int, int, int, int, float]], None] = self._values.extend

    def maybe_compact(self) -> None:
        """Pack the values into column chunks once enough have gathered (bounds memory on long runs)."""
        if len(self._values) >= _COMPACT_EVERY * len(COLUMNS):
            self._compact()

    def _compact(self) -> None:
        values = self._values
        if values:
            width = len(COLUMNS)
            count = len(values) // width
            for index, dtype in enumerate(_DTYPES):
                # a column at a time, packed by `struct` into C doubles or 64-bit integers (twice as fast
                # as `np.fromiter` converting the same numbers), integers then to the column's type
                floats = dtype is np.float64
                packed = struct.pack(f"{count}{'d' if floats else 'q'}", *values[index::width])
                column = np.frombuffer(packed, dtype=np.float64 if floats else np.int64)
                self._chunks[index].append(column if floats else column.astype(dtype))
            values.clear()

    def columns(self) -> tuple[np.ndarray, ...]:
        """The event table's columns (`COLUMNS`), in time order. Empties the log, so the chunks and the
        columns are never both held in full."""
        self._compact()
        columns = []
        for index, dtype in enumerate(_DTYPES):
            chunks = self._chunks[index]
            columns.append(np.concatenate(chunks) if chunks else np.empty(0, dtype=dtype))
            chunks.clear()
        return tuple(columns)

    def frame(self, departments: Sequence[str]) -> pd.DataFrame:
        """The event table, in time order: event and department names as categories (empties the log)."""
        return frame(self.columns(), departments)


def frame(columns: Sequence[np.ndarray], departments: Sequence[str]) -> pd.DataFrame:
    """The event table of an event log's `columns`: event and department names as categories."""
    import pandas as pd

    t, event, call, agent, department, detail = columns
    return pd.DataFrame(
        {
            "t": t,
            "event": categorical(event, EVENT_NAMES),
            "call_id": call,
            "agent_id": agent,
            "department": categorical(department, departments),
            "detail": detail,
        },
        copy=False,
    )


def categorical(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    """A categorical column from integer codes (-1 = missing) and the names they stand for."""
    import pandas as pd

    return pd.Categorical.from_codes(
        np.asarray(codes, dtype=np.int64), categories=pd.Index(list(names), dtype=object)
    )


class EventColumns:
    """The event table as plain numpy columns (integer codes for events and departments), for the tables."""

    def __init__(self, events: pd.DataFrame) -> None:
        self.t = events["t"].to_numpy()
        self.code = events["event"].cat.codes.to_numpy()
        self.call = events["call_id"].to_numpy()  # int32, as logged: these columns are large
        self.agent = events["agent_id"].to_numpy()
        self.department = events["department"].cat.codes.to_numpy()
        self.detail = events["detail"].to_numpy()
