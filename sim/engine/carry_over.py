"""Work left at a day's close that comes back the next morning (a week of days, `sim.model.week`).

On a single day, the agents on duty at the close stay until the calls in the system are served, callbacks
waiting in a queue included, and a redial due after the close is never made. In a week with `carry_over`:

- **callbacks** still waiting for a dial-out at the close (`duration`), and callbacks whose retry falls
  due after it, are taken out of the queue and carried: the caller is not on the phone, so the promise
  is kept the next morning (the evening's agents still finish the live callers in the drain);
- **emails** still waiting at the close (`sim.engine.email`) are carried: the next day's backlog at the
  open is them, each with its age (overnight included), instead of the `email.backlog` setting;
- **redials** that would come after the close are carried: the caller calls again the next day at the
  open plus the part of the redial delay that ran past the close (a caller who hung up at 16:55 meaning
  to call back in 30 minutes, with a 17:00 close, calls at 08:25); one that would then come after the
  next day's close is lost (redial delays are minutes, days hours).

Next morning a carried callback is a callback request at the open (`arrive` then `callback_request`,
detail 2: no line), queued at its caller's priority level ahead of the day's live callers, with its
request time the previous day's (so its dial-out shows its age, overnight included). A carried redial
is a new call. Each carried item is logged: `carry_out` on the day it leaves (call id of that day, detail
the kind), `carry_in` on the day it comes back, just before its `arrive` (call id of the new day, detail
the previous day's call id). Within a day, call and caller ids are that day's (a carried caller is a new
caller of the new day); the `carry_out`/`carry_in` pairs link them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.engine.centre import DONE, WAITING, Call, Centre
from sim.engine.clock import call_at
from sim.engine.log import CODE, Event
from sim.engine.routing import right_department

_CARRY_OUT, _CARRY_IN = CODE[Event.CARRY_OUT], CODE[Event.CARRY_IN]
_ARRIVE, _REQUEST = CODE[Event.ARRIVE], CODE[Event.CALLBACK_REQUEST]
DAY = 86400.0
"""Seconds from one day's start to the next one's: a request made at t on Monday is at t - DAY on Tuesday."""
KINDS = ("callback", "redial", "email")
"""What a carried item is (`detail` of `carry_out`: its index)."""
NO_LINE_REQUEST = 2.0
"""A callback request made without a line (as a redial that asks for a callback: `caller.REDIAL_REQUEST`)."""


@dataclass(frozen=True)
class CarriedWork:
    """One piece of work left at a close: who, why, where, and when it was asked for or falls due."""

    call_id: int
    """The call's id on the day it was left."""
    caller_id: int
    reason: int
    priority: int
    department: int
    kind: str
    """`callback` (waiting for a dial-out), `redial` (the caller will call again) or `email` (waiting at
    the close: `sim.engine.email` takes it in at the next open)."""
    requested_at: float
    """A callback: when it was accepted (that day's clock); a redial: when the caller hung up; an email:
    when it arrived (before that day's open for one already waiting then)."""
    due_at: float
    """A callback: the close (it was owed then); a redial: when the caller meant to call again."""
    close_at: float
    """The close of the day it was left on (that day's clock)."""
    handle_time: float
    wrap_time: float
    patience: float


class CarryOver:
    """One day's carry-over: the work brought in from the day before, and the work it leaves."""

    def __init__(self, centre: Centre, carried_in: Sequence[CarriedWork], carry_out: bool) -> None:
        self.centre = centre
        self.carried_in = tuple(carried_in)
        self.carry_out = carry_out
        """Whether this day's leftovers are kept for the next day (false: the last day of a week)."""
        self.left: list[CarriedWork] = []

    def start(self) -> None:
        """At the open: carried callbacks join their queues and carried redials are scheduled; at the close,
        the callbacks still waiting are taken out."""
        centre = self.centre
        close = centre.scenario.duration
        for work in self.carried_in:
            if work.kind == "callback":
                self._callback_back(work)
            elif work.kind == "redial":
                at = work.due_at - work.close_at  # the open + the part of the delay past the last close
                if at < close:
                    call_at(centre.env, max(0.0, at), self._redial_back, work)
        if self.carry_out:
            call_at(centre.env, close, self._close, None)

    def _new_call(self, work: CarriedWork, patience: float) -> Call:
        centre = self.centre
        now = centre.env.now
        call = Call(centre.next_call_id, work.reason, work.priority, now, patience)
        centre.next_call_id += 1
        call.department = work.department
        call.handle_time = work.handle_time
        call.wrap_time = work.wrap_time
        centre.log.record((now, _CARRY_IN, call.id, -1, work.department, float(work.call_id)))
        return call

    def _callback_back(self, work: CarriedWork) -> None:
        """A callback promised yesterday: waits for a dial-out from the open, before today's live callers."""
        from sim.engine.caller import queue_callback  # callers hand calls to agents (wired by the day)

        centre = self.centre
        call = self._new_call(work, math.inf)
        now = centre.env.now
        centre.log.record((now, _ARRIVE, call.id, -1, call.department, float(call.reason)))
        centre.active += 1
        queue = centre.queues[call.department]
        centre.log.record((now, _REQUEST, call.id, -1, queue.index, NO_LINE_REQUEST))
        call.callback = True
        call.requested_at = work.requested_at - DAY
        call.first_handle_time = call.handle_time
        queue_callback(centre, call, queue, call.priority)

    def _redial_back(self, tick: Any) -> None:
        """A caller who meant to call again after yesterday's close calls now: a new call, with its
        patience and work drawn as a redial's would be (`caller.call_again`)."""
        from sim.engine.caller import arrive

        centre = self.centre
        work: CarriedWork = tick.value
        now = centre.env.now
        times = centre.times
        if centre.redial_remaining:
            patience = work.patience
        elif times is not None:
            patience = times.redial(work.reason, now)
        else:
            patience = centre.redial_patience() if centre.redial_patience is not None else math.inf
        call = self._new_call(work, patience)
        call.department = right_department(centre.resolvers[call.reason])
        if times is None:
            queue = centre.queues[call.department]
            call.handle_time = queue.handle()
            call.wrap_time = queue.wrap()
        else:
            times.give_work(call, call.department)
        arrive(centre, call)

    def _close(self, _: Any) -> None:
        """The close: every callback still waiting for a dial-out is taken out and kept for tomorrow."""
        centre = self.centre
        for queue in centre.queues:
            for entries in (*queue.levels.values(), *queue.overflowed.values()):
                for visit, call in entries:
                    if call.state == WAITING and call.visit == visit and call.callback:
                        queue.waiting -= 1
                        self.callback(call)
        centre.check_done()

    def callback(self, call: Call) -> None:
        """Keep a callback not yet dialled (waiting at the close, or due for a retry after it)."""
        centre = self.centre
        self._keep(call, "callback", call.requested_at, centre.env.now, call.patience)
        call.state = DONE
        call.visit += 1  # any entry left in a queue goes stale
        centre.active -= 1

    def email(self, call: Call, arrived_at: float) -> None:
        """Keep an email still waiting at the close (`sim.engine.email.close`), with when it arrived."""
        self._keep(call, "email", arrived_at, self.centre.env.now, math.inf)

    def redial(self, call: Call, due_in: float) -> None:
        """Keep a redial that would come after the close (`caller.maybe_redial`), with the patience left
        where redials keep it."""
        centre = self.centre
        if not self.carry_out:
            return
        now = centre.env.now
        patience = max(0.0, min(call.patience, call.deadline - now)) if centre.redial_remaining else math.nan
        self._keep(call, "redial", now, now + due_in, patience)

    def _keep(self, call: Call, kind: str, requested_at: float, due_at: float, patience: float) -> None:
        """Log a piece of work left at the close (`carry_out`, detail: its kind's index in `KINDS`) and keep
        it for the next day."""
        centre = self.centre
        centre.log.record((centre.env.now, _CARRY_OUT, call.id, -1, call.department, float(KINDS.index(kind))))
        self.left.append(
            CarriedWork(
                call.id, call.caller_id, call.reason, call.priority, call.department, kind,
                requested_at, due_at, centre.scenario.duration, call.handle_time, call.wrap_time, patience,
            )
        )  # fmt: skip


def requeue_or_carry(centre: Centre, event: Any) -> None:
    """After a missed dial-out and the retry delay: wait for an agent again, or, after the close of a day
    that carries over, wait for tomorrow."""
    from sim.engine.caller import requeue_callback

    carry = centre.carry_over
    if carry is not None and carry.carry_out and centre.env.now >= centre.scenario.duration:
        carry.callback(event.value)
        centre.check_done()
        return
    requeue_callback(centre, event)
