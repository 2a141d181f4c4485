"""Email departments in the engine (`sim.model.email`): waiting without giving up, due times, the backlog at
the open and at the close, and the calls overdue emails bring.

An email is a `Call` of an email department whose patience is its time to due: it never abandons, because
the timer that would end a caller's patience here marks the email overdue instead (`due`) and leaves it
waiting. It is answered without a ring (`Centre.unrung`). A pool serving voice and email departments has
its email queues moved to a last preference tier of their own (`attach`), so an agent takes an email only
when none of its other queues has a caller waiting, and never drops one in hand (non-preemptive).

The backlog at the open is put in the queues at the open (each logged `email_backlog` with its age, then
`arrive` at the open, due at the open + due - age); at the close every email still waiting is logged
`email_left` with its age and taken off the queues, so the run ends when the last call does; on a week's
day that carries over (`sim.engine.carry_over`) they are also logged `carry_out` (detail 2) and make the
next day's backlog at the open (`carry_in`, then `email_backlog` with the age overnight included).

The voice path pays one set lookup per answered call when calls ring (`agent.begin`); everything else here
runs only in a run with an email department.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from sim.engine import caller
from sim.engine.arrivals import Callers, give_work
from sim.engine.carry_over import DAY, CarriedWork
from sim.engine.centre import DONE, WAITING, Call, Centre
from sim.engine.clock import call_after, call_at
from sim.engine.log import CODE, Event
from sim.engine.routing import right_department
from sim.model.dists import Sampler, Uniform
from sim.model.email import EmailSettings, email_settings

_BACKLOG, _OVERDUE = CODE[Event.EMAIL_BACKLOG], CODE[Event.EMAIL_OVERDUE]
_LEFT, _EMAIL_CALL = CODE[Event.EMAIL_LEFT], CODE[Event.EMAIL_CALL]
_CARRY_IN = CODE[Event.CARRY_IN]
_UNIT = Uniform(dist="uniform", low=0.0, high=1.0)


class Emails:
    """One run's email departments: their settings by queue index, the ages at the open of the backlog's
    emails (by call id), and the draws deciding which overdue emails' customers call."""

    def __init__(self, centre: Centre) -> None:
        scenario = centre.scenario
        names = centre.department_names
        self.centre = centre
        self.settings: dict[int, EmailSettings] = {
            names.index(name): settings for name, settings in email_settings(scenario).items()
        }
        self.age_at_open: dict[int, float] = {}
        self.call_draw = Sampler(_UNIT, centre.streams.generator("email.overdue_calls"))
        self.call_patience = (
            Sampler(scenario.patience, centre.streams.generator("email.overdue_calls.patience"))
            if scenario.patience is not None
            else None
        )

    def age(self, call: Call, now: float) -> float:
        """An email's age at `now`: since it arrived (before the open, for the backlog's)."""
        return now - call.arrived_at + self.age_at_open.get(call.id, 0.0)


def with_due_times(centre: Centre, callers: Callers) -> Callers:
    """The day's callers with each email's patience replaced by its time to due (the other callers' draws,
    and every random stream, unchanged)."""
    emails: Emails = centre.emails
    first = np.array([right_department(resolvers) for resolvers in centre.resolvers], dtype=np.int64)
    due = np.full(len(first), np.nan)
    for index, settings in emails.settings.items():
        due[first == index] = settings.due
    own = due[callers.reason] if len(callers.reason) else np.empty(0)
    patience = np.where(np.isnan(own), callers.patience, own)
    return Callers(callers.arrived_at, callers.reason, patience, callers.handle_time)


def attach(centre: Centre) -> None:
    """Wire email departments into a built centre: no ring, email queues last in every pool's preferences,
    the due-time timer instead of patience, and the close that leaves the backlog."""
    emails = centre.emails = Emails(centre)
    indices = set(emails.settings)
    centre.unrung = frozenset(indices)
    for pool in centre.pools:
        email_tier = [queue for tier in pool.tiers for queue in tier if queue.index in indices]
        if email_tier:
            tiers = [[queue for queue in tier if queue.index not in indices] for tier in pool.tiers]
            pool.tiers = [tier for tier in tiers if tier] + [email_tier]
    centre.patience_runs_out = partial(due, centre, centre.patience_runs_out)
    call_at(centre.env, centre.scenario.duration, partial(close, centre))


def open_backlog(centre: Centre, carried_in: Sequence[CarriedWork] | None = None) -> None:
    """Put the emails waiting at the open in their queues (after the day's callers are numbered): on a
    week's later day, the emails the day before left (`carried_in`, with their ages overnight included);
    otherwise each department's `email.backlog`."""
    emails: Emails = centre.emails
    if carried_in is not None:
        for work in carried_in:
            if work.kind == "email":
                call = _waiting(centre, work.department, work.reason, DAY - work.requested_at)
                call.handle_time, call.wrap_time = work.handle_time, work.wrap_time
                was_overdue = work.requested_at + emails.settings[work.department].due <= work.close_at
                _open_one(centre, call, float(work.call_id), was_overdue)
        return
    for index, settings in emails.settings.items():
        queue = centre.queues[index]
        reason = (queue.resolves & -queue.resolves).bit_length() - 1
        for age in settings.backlog_ages():
            call = _waiting(centre, index, reason, age)
            give_work(centre, call, index)
            _open_one(centre, call)


def _waiting(centre: Centre, department: int, reason: int, age: float) -> Call:
    """An email waiting at the open, `age` old: due at the open + due - age (one already past due gets no
    timer: it is overdue at the open, `_open_one`)."""
    emails: Emails = centre.emails
    due_time = emails.settings[department].due
    patience = math.inf if age >= due_time else due_time - age
    call = Call(centre.next_call_id, reason, 1, centre.env.now, patience)
    centre.next_call_id += 1
    call.department = department
    emails.age_at_open[call.id] = age
    return call


def _open_one(
    centre: Centre, call: Call, carried_from: float | None = None, was_overdue: bool = False
) -> None:
    """Log an email of the backlog (`carry_in` first if yesterday left it), overdue at once if past due
    (unless it was overdue yesterday already: logged, and its customer's call drawn, once), and let it
    arrive."""
    emails: Emails = centre.emails
    now = centre.env.now
    age = emails.age_at_open[call.id]
    if carried_from is not None:
        centre.record((now, _CARRY_IN, call.id, -1, call.department, carried_from))
    centre.record((now, _BACKLOG, call.id, -1, call.department, age))
    settings = emails.settings[call.department]
    if age >= settings.due and not was_overdue:
        _overdue(centre, call, settings)
    caller.arrive(centre, call)


def due(centre: Centre, patience_runs_out: Callable[[Any], None], event: Any) -> None:
    """A waiting timer fires: an email still waiting is overdue (logged, and perhaps its customer will call);
    a caller's patience runs out as usual."""
    call, visit = event.value
    emails: Emails = centre.emails
    settings = emails.settings.get(call.department)
    if settings is None:
        patience_runs_out(event)
        return
    if call.state != WAITING or call.visit != visit:
        return
    _overdue(centre, call, settings)


def _overdue(centre: Centre, call: Call, settings: EmailSettings) -> None:
    """An email is past its due time unhandled: logged, and with the stated share its customer will call."""
    emails: Emails = centre.emails
    now = centre.env.now
    centre.record((now, _OVERDUE, call.id, -1, call.department, emails.age(call, now)))
    overdue = settings.overdue_calls
    if overdue is None or emails.call_draw() >= overdue.share:  # one draw per overdue email
        return
    if now + overdue.delay < centre.scenario.duration:
        call_after(centre.env, overdue.delay, partial(_customer_calls, centre), call)


def _customer_calls(centre: Centre, event: Any) -> None:
    """The customer of an overdue email calls the department its settings name (a new call, the email's
    caller, a reason that department resolves first)."""
    email: Call = event.value
    emails: Emails = centre.emails
    overdue = emails.settings[email.department].overdue_calls
    assert overdue is not None
    now = centre.env.now
    department = centre.department_names.index(overdue.department)
    queue = centre.queues[department]
    reason = email.reason
    if not queue.resolves >> reason & 1:  # the first reason that department resolves
        reason = (queue.resolves & -queue.resolves).bit_length() - 1
    patience = emails.call_patience() if emails.call_patience is not None else math.inf
    call = Call(centre.next_call_id, reason, 1, now, patience)
    centre.next_call_id += 1
    call.caller_id = email.caller_id
    call.department = department
    give_work(centre, call, department)
    centre.record((now, _EMAIL_CALL, call.id, -1, department, float(email.id)))
    caller.arrive(centre, call)


def close(centre: Centre, _: Any) -> None:
    """The close: every email still waiting is left in the backlog (logged with its age), off its queue,
    and on a week's day that carries over, kept for the next open."""
    emails: Emails = centre.emails
    now = centre.env.now
    record = centre.record
    carry = centre.carry_over
    keep = carry is not None and carry.carry_out  # a week's day: tomorrow's backlog
    for index in emails.settings:
        queue = centre.queues[index]
        for entries in queue.levels.values():
            while entries:
                visit, call = entries.popleft()
                if call.state == WAITING and call.visit == visit:
                    record((now, _LEFT, call.id, -1, index, emails.age(call, now)))
                    if keep:
                        carry.email(call, call.arrived_at - emails.age_at_open.get(call.id, 0.0))
                    call.state = DONE
                    queue.waiting -= 1
                    centre.active -= 1
    centre.check_done()
