"""What a caller does: dials in (or hears a busy signal), queues, rings, runs out of patience, leaves.

A waiting caller is not a process: it is a `Call` in a department's queue with a patience timer, settled
either by the agent who takes it or by that timer (whichever comes first), which is what makes it cheap.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from sim import agent as agents
from sim.centre import DONE, WAITING, Call, Centre
from sim.log import CODE, Event
from sim.routing import longest_idle

_ARRIVE, _BLOCK, _ENQUEUE = CODE[Event.ARRIVE], CODE[Event.BLOCK], CODE[Event.ENQUEUE]
_ABANDON, _OVERFLOW = CODE[Event.ABANDON], CODE[Event.OVERFLOW]
_IVR, _SELF_SERVICE = CODE[Event.IVR], CODE[Event.SELF_SERVICE]


def arrive(centre: Centre, call: Call, menu: IvrChoice | None = None) -> None:
    """A call reaches the centre: busy signal if every line is taken; else the IVR menu, if there is one,
    and then the first queue. `menu` holds the IVR's decision for this caller, drawn at arrival."""
    log = centre.log.record
    log((call.arrived_at, _ARRIVE, call.id, -1, call.department, float(call.reason)))
    if centre.in_system >= centre.lines:
        call.state = DONE
        log((call.arrived_at, _BLOCK, call.id, -1, call.department, 0.0))
        return
    centre.in_system += 1
    if menu is None:
        join_queue(centre, call, call.department)
    else:
        centre.env.timeout(menu.menu_time, (call, menu)).callbacks.append(centre.ivr_done)


class IvrChoice(NamedTuple):
    """What the phone menu will do with a caller: how long it takes, and whether it resolves them."""

    menu_time: float
    self_served: bool


def leave_menu(centre: Centre, event: Any) -> None:
    """The caller finishes the phone menu: resolved there, or sent on to the department it chose."""
    call, menu = event.value
    now = centre.env.now
    if menu.self_served:
        centre.log.record((now, _SELF_SERVICE, call.id, -1, -1, menu.menu_time))
        leave(centre, call)
        return
    centre.log.record((now, _IVR, call.id, -1, call.department, menu.menu_time))
    join_queue(centre, call, call.department)


def join_queue(centre: Centre, call: Call, department: int, front: bool = False) -> None:
    """Wait for an agent of `department`: the longest-idle one at once if any, else in the queue (at the
    front of its priority level if `front`). A caller held by a warm-transferring agent cannot abandon."""
    env = centre.env
    now = env.now
    queue = centre.queues[department]
    if call.visit:
        call.handle_time = queue.handle()
        call.wrap_time = queue.wrap()
    call.department = department
    call.queued_at = now
    patience = math.inf if call.warm is not None else call.patience
    call.deadline = now + patience
    call.visit += 1
    call.visited |= 1 << department
    call.state = WAITING
    centre.log.record((now, _ENQUEUE, call.id, -1, department, float(call.priority)))
    pool = longest_idle(queue.servers)
    if pool is not None:
        agents.hand_call(pool.idle.popleft(), call)
        return
    if front:
        queue.levels[call.priority].appendleft((call.visit, call))
    else:
        queue.levels[call.priority].append((call.visit, call))
    queue.waiting += 1
    if patience < math.inf:
        env.timeout(call.patience, (call, call.visit)).callbacks.append(centre.patience_runs_out)
    if queue.overflow_after is not None:
        env.timeout(queue.overflow_after, (call, call.visit)).callbacks.append(centre.overflow_due)


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
    centre.log.record((centre.env.now, _OVERFLOW, call.id, -1, queue.index, 0.0))
    pool = longest_idle(queue.backups)
    if pool is not None:
        queue.waiting -= 1
        agents.hand_call(pool.idle.popleft(), call)
    else:
        queue.overflowed.append((visit, call))


def hang_up(centre: Centre, call: Call, agent_id: int) -> None:
    """The caller gives up waiting (in the queue, or while an agent lets it ring)."""
    now = centre.env.now
    centre.log.record((now, _ABANDON, call.id, agent_id, call.department, now - call.queued_at))
    leave(centre, call)


def leave(centre: Centre, call: Call) -> None:
    """The caller hangs up for good: the line is free again."""
    call.state = DONE
    centre.in_system -= 1
    centre.check_done()
