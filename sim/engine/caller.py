"""What a caller does: dials in (or hears a busy signal), goes through the menu, queues, perhaps takes a
callback instead of waiting, runs out of patience, hangs up, and perhaps calls again later.

A waiting caller is not a process: it is a `Call` in a department's queue with a patience timer, settled
either by the agent who takes it or by that timer (whichever comes first), which is what makes it cheap.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from sim.engine.centre import CALLBACK_LEVEL, DONE, WAITING, Call, Centre, Queue
from sim.engine.clock import call_after
from sim.engine.log import CODE, Event
from sim.engine.routing import ivr_route, longest_idle, right_department

_ARRIVE, _BLOCK, _ENQUEUE = CODE[Event.ARRIVE], CODE[Event.BLOCK], CODE[Event.ENQUEUE]
_ABANDON, _OVERFLOW = CODE[Event.ABANDON], CODE[Event.OVERFLOW]
_IVR, _SELF_SERVICE = CODE[Event.IVR], CODE[Event.SELF_SERVICE]
_OFFER, _REQUEST = CODE[Event.CALLBACK_OFFER], CODE[Event.CALLBACK_REQUEST]
_CALLBACK_QUEUE, _REDIAL = CODE[Event.CALLBACK_QUEUE], CODE[Event.REDIAL]
_CALLBACK_DUE = CODE[Event.CALLBACK_DUE]
_INFINITY = math.inf  # a module global: one look-up where `math.inf` takes two


class IvrChoice(NamedTuple):
    """What the phone menu will do with a caller: how long it takes, and whether it resolves them."""

    menu_time: float
    self_served: bool


def arrive(centre: Centre, call: Call, menu: IvrChoice | None = None) -> None:
    """A call reaches the centre: busy signal if every line is taken; else the IVR menu, if there is one,
    and then the first queue. `menu` holds the IVR's decision for this caller, drawn at arrival."""
    log = centre.record
    # `detail` as the int it is: the log packs it as a double all the same, without a call of `float`
    log((call.arrived_at, _ARRIVE, call.id, -1, call.department, call.reason))
    if centre.lines_busy >= centre.lines:
        call.state = DONE
        log((call.arrived_at, _BLOCK, call.id, -1, call.department, 0.0))
        maybe_redial(centre, call, "blocked")
        return
    centre.lines_busy += 1
    centre.active += 1
    call.on_line = True
    if menu is None:
        join_queue(centre, call, call.department)
    else:
        centre.env.timeout(menu.menu_time, (call, menu)).callbacks.append(centre.ivr_done)


def leave_menu(centre: Centre, event: Any) -> None:
    """The caller finishes the phone menu: resolved there, or sent on to the department it chose."""
    call, menu = event.value
    now = centre.env.now
    if menu.self_served:
        centre.record((now, _SELF_SERVICE, call.id, -1, -1, menu.menu_time))
        leave(centre, call)
        return
    centre.record((now, _IVR, call.id, -1, call.department, menu.menu_time))
    join_queue(centre, call, call.department)


def join_queue(centre: Centre, call: Call, department: int, front: bool = False) -> None:
    """Wait for an agent of `department`: the longest-idle one at once if any; else, offered a callback
    when the estimated wait is long, take it or queue (at the front of its priority level if `front`).
    A caller held by a warm-transferring agent cannot abandon."""
    now = centre.env.now
    queue = centre.queues[department]
    visit = call.visit
    if not visit:
        call.first_handle_time = call.handle_time
    else:
        if centre.times is None:
            call.handle_time = queue.handle()
            call.wrap_time = queue.wrap()
        else:  # by reason or by the interval of arrival
            centre.times.give_work(call, department)
        if queue.linked is not None:  # a later leg: a multiple of the first leg's handle time
            call.handle_time = queue.linked * call.first_handle_time
    call.department = department
    call.queued_at = now
    patience = _INFINITY if call.warm is not None else call.patience
    call.deadline = now + patience
    visit = call.visit = visit + 1
    call.visited |= 1 << department
    call.state = WAITING
    policy = queue.policy
    if policy is None:
        centre.record((now, _ENQUEUE, call.id, -1, department, call.priority))  # packed as a double
        servers = queue.servers
        if len(servers) == 1:
            idle = servers[0].idle
            if idle:
                centre.hand_call(idle.popleft(), call)
                return
        elif (pool := longest_idle(servers)) is not None:  # it has an idle agent
            centre.hand_call(pool.idle.popleft(), call)
            return
    elif policy.route(centre, call, queue):  # handed to the agent it chose, or the queue was full
        return
    offer = centre.callback_offer
    if offer is not None and call.warm is None:
        estimated = estimated_wait(queue)
        if estimated > offer.offer_when_wait_over:
            centre.record((now, _OFFER, call.id, -1, department, min(estimated, 1e9)))
            if centre.callback_draw() < offer.accept:
                request_callback(centre, call, queue, from_hold=False)
                return
    if front:
        queue.levels[call.priority].appendleft((visit, call))
    else:
        queue.levels[call.priority].append((visit, call))
    queue.waiting += 1
    if patience < _INFINITY:
        call_after(centre.env, patience, centre.patience_runs_out, (call, visit))
    if queue.overflow_after is not None:
        call_after(centre.env, queue.overflow_after, centre.overflow_due, (call, visit))


def estimated_wait(queue: Queue) -> float:
    """What the system tells a caller joining `queue`: callers ahead plus one, times the mean handle and
    wrap time, shared among the agents on duty who take this queue (infinite with nobody on duty)."""
    agents_on_duty = queue.on_duty()
    if agents_on_duty == 0:
        return math.inf
    return (queue.waiting + 1) * queue.mean_work / agents_on_duty


def request_callback(centre: Centre, call: Call, queue: Queue, from_hold: bool, agent_id: int = -1) -> None:
    """The caller accepts a callback and hangs up; a callback entry waits for an agent to dial it, in the
    caller's place (virtual hold, `keep_place`) or after every live caller."""
    now = centre.env.now
    centre.record((now, _REQUEST, call.id, agent_id, queue.index, 1.0 if from_hold else 0.0))
    release_line(centre, call)
    call.callback = True
    call.requested_at = now
    keep_place = not from_hold and centre.callback_settings.keep_place
    queue_callback(centre, call, queue, call.priority if keep_place else CALLBACK_LEVEL)
    if call.state == WAITING:
        call_after(centre.env, callback_due_in(centre, queue), centre.callback_due, (call, call.visit))


def callback_due_in(centre: Centre, queue: Queue) -> float:
    """When a callback must move to the front of the queue to be dialled within its window: the window
    less the time the front of the queue takes to reach an agent (mean handle + wrap time per agent on duty)."""
    agents_on_duty = queue.on_duty()
    lead = queue.mean_work / agents_on_duty if agents_on_duty else 0.0
    return max(0.0, centre.callback_settings.window - lead)


def callback_due(centre: Centre, event: Any) -> None:
    """A callback still waiting when its window is running out moves to the front of its caller's
    priority level (ahead of live callers of that priority), so the promise is kept when it can be."""
    call, visit = event.value
    if call.state != WAITING or call.visit != visit:
        return
    centre.record((centre.env.now, _CALLBACK_DUE, call.id, -1, call.department, float(call.priority)))
    call.visit += 1  # the entry where it stood goes stale
    centre.queues[call.department].levels[call.priority].appendleft((call.visit, call))


def queue_callback(centre: Centre, call: Call, queue: Queue, level: int) -> None:
    """Put a callback in line for `queue`'s agents (it cannot abandon: the caller is not on the phone)."""
    now = centre.env.now
    call.department = queue.index
    call.queued_at = now
    call.deadline = math.inf
    call.visit += 1
    call.state = WAITING
    centre.record((now, _CALLBACK_QUEUE, call.id, -1, queue.index, float(level)))
    pool = longest_idle(queue.servers)
    if pool is not None:
        centre.hand_call(pool.idle.popleft(), call)
        return
    queue.levels[level].append((call.visit, call))
    queue.waiting += 1


def requeue_callback(centre: Centre, event: Any) -> None:
    """After a missed dial-out and the retry delay, the callback waits for an agent again."""
    call = event.value
    queue_callback(centre, call, centre.queues[call.department], CALLBACK_LEVEL)


def patience_runs_out(centre: Centre, event: Any) -> None:
    """The caller's patience timer fires: hang up if still waiting in the same queue visit."""
    call, visit = event.value
    if call.state == WAITING and call.visit == visit:
        centre.queues[call.department].waiting -= 1
        hang_up(centre, call, -1)


def overflow_due(centre: Centre, event: Any) -> None:
    """The call has waited `overflow.after`: back-up agents may take it too, an idle one at once."""
    call, visit = event.value
    if call.state != WAITING or call.visit != visit:
        return
    queue = centre.queues[call.department]
    centre.record((centre.env.now, _OVERFLOW, call.id, -1, queue.index, 0.0))
    pool = longest_idle(queue.backups)
    if pool is not None:
        queue.waiting -= 1
        centre.hand_call(pool.idle.popleft(), call)
    else:
        queue.overflowed[call.priority].append((visit, call))


def hang_up(centre: Centre, call: Call, agent_id: int) -> None:
    """The caller gives up waiting (in the queue, or while an agent lets it ring), and may call again."""
    now = centre.env.now
    centre.record((now, _ABANDON, call.id, agent_id, call.department, now - call.queued_at))
    leave(centre, call)
    maybe_redial(centre, call, "abandoned")


def release_line(centre: Centre, call: Call) -> None:
    """The caller puts the phone down: the trunk line is free again (the call may not be finished)."""
    if call.on_line:
        call.on_line = False
        centre.lines_busy -= 1


def leave(centre: Centre, call: Call) -> None:
    """The call is finished, one way or another."""
    call.state = DONE
    if call.on_line:  # `release_line`, in line: a call fewer per call
        call.on_line = False
        centre.lines_busy -= 1
    centre.active -= 1
    if centre.closed:  # nothing ends the run before the doors close: no call per call until then
        centre.check_done()


def maybe_redial(centre: Centre, call: Call, outcome: str) -> None:
    """A caller who was blocked or gave up may call again after a delay (during opening hours, up to the
    maximum number of attempts)."""
    redial = centre.scenario.redial
    if redial is None or call.attempt >= redial.max_attempts:
        return
    rule = redial.blocked if outcome == "blocked" else redial.abandoned
    if rule is None or centre.redial_draw() >= rule.probability:
        return
    delay = centre.redial_delays[outcome]()
    if centre.env.now + delay < centre.scenario.duration:
        if centre.redial_remaining:  # keeps what is left: all after a busy signal, none after giving up
            call.patience = max(0.0, min(call.patience, call.deadline - centre.env.now))
        centre.env.timeout(delay, call).callbacks.append(centre.redial_due)
    elif centre.carry_over is not None:  # a week's day: the caller calls again tomorrow morning
        centre.carry_over.redial(call, delay)


def call_again(centre: Centre, event: Any) -> None:
    """The caller calls again: a new call (attempt) with the same caller, reason and priority."""
    previous: Call = event.value
    now = centre.env.now
    times = centre.times  # by reason or by the interval of arrival
    if centre.redial_remaining:
        patience = previous.patience  # what was left when the caller hung up (`maybe_redial`)
    elif times is not None:
        patience = times.redial(previous.reason, now)
    else:
        patience = centre.redial_patience() if centre.redial_patience is not None else math.inf
    call = Call(centre.next_call_id, previous.reason, previous.priority, now, patience)
    centre.next_call_id += 1
    call.caller_id = previous.caller_id
    call.attempt = previous.attempt + 1
    menu = None
    resolvers = centre.resolvers[call.reason]
    call.department = right_department(resolvers)
    ivr = centre.scenario.ivr
    share = centre.redial_callback_share
    as_callback = share > 0 and centre.redial_callback_draw() < share  # asks for a callback instead
    if ivr is not None and centre.redial_menu is not None and not as_callback:
        draw = centre.redial_draw
        self_served = draw() < ivr.self_service.get(centre.reason_names[call.reason], 0.0)
        call.department = ivr_route(draw(), draw(), ivr.accuracy, resolvers, centre.unresolving[call.reason])
        menu = IvrChoice(centre.redial_menu() if times is None else times.menu(now), self_served)
    queue = centre.queues[call.department]
    if times is None:
        call.handle_time = queue.handle()
        call.wrap_time = queue.wrap()
    else:
        times.give_work(call, call.department)
    centre.record((now, _REDIAL, call.id, -1, call.department, float(previous.id)))
    if as_callback:
        redial_as_callback(centre, call)
    else:
        arrive(centre, call, menu)


REDIAL_REQUEST = 2.0
"""The detail of a CALLBACK_REQUEST made by a redial that comes back as a callback request."""


def redial_as_callback(centre: Centre, call: Call) -> None:
    """The caller comes back by asking to be called back (a web form, a message) instead of calling: no
    line, no menu; the callback waits after every live caller and moves up when its window runs out."""
    now = centre.env.now
    centre.record((now, _ARRIVE, call.id, -1, call.department, float(call.reason)))
    centre.active += 1
    queue = centre.queues[call.department]
    centre.record((now, _REQUEST, call.id, -1, queue.index, REDIAL_REQUEST))
    call.callback = True
    call.requested_at = now
    call.first_handle_time = call.handle_time  # as `join_queue` sets it on a first visit
    queue_callback(centre, call, queue, CALLBACK_LEVEL)
    if call.state == WAITING:
        call_after(centre.env, callback_due_in(centre, queue), centre.callback_due, (call, call.visit))
