"""What a caller does: dials in (or hears a busy signal), queues, rings, runs out of patience, leaves.

A waiting caller is not a process: it is a `Call` in a department's queue with a patience timer, settled
either by the agent who takes it or by that timer (whichever comes first), which is what makes it cheap.
"""

from __future__ import annotations

import math
from typing import Any

from sim import agent as agents
from sim.centre import DONE, WAITING, Call, Centre
from sim.log import CODE, Event
from sim.routing import longest_idle

_ARRIVE, _BLOCK, _ENQUEUE = CODE[Event.ARRIVE], CODE[Event.BLOCK], CODE[Event.ENQUEUE]
_ABANDON, _OVERFLOW = CODE[Event.ABANDON], CODE[Event.OVERFLOW]


def arrive(centre: Centre, call: Call) -> None:
    """A call reaches the centre: busy signal if every line is taken, else it joins its first queue."""
    centre.log.record((call.arrived_at, _ARRIVE, call.id, -1, call.department, float(call.reason)))
    if centre.in_system >= centre.lines:
        call.state = DONE
        centre.log.record((call.arrived_at, _BLOCK, call.id, -1, call.department, 0.0))
        return
    centre.in_system += 1
    join_queue(centre, call, call.department)


def join_queue(centre: Centre, call: Call, department: int) -> None:
    """Wait for an agent of `department`: the longest-idle one at once if any, else in the queue."""
    env = centre.env
    now = env.now
    queue = centre.queues[department]
    call.department = department
    call.queued_at = now
    call.deadline = now + call.patience
    call.visit += 1
    call.state = WAITING
    centre.log.record((now, _ENQUEUE, call.id, -1, department, float(call.priority)))
    pool = longest_idle(queue.servers)
    if pool is not None:
        agents.hand_call(pool.idle.popleft(), call)
        return
    queue.levels[call.priority].append((call.visit, call))
    queue.waiting += 1
    if call.patience < math.inf:
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
