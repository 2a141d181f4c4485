"""What an agent does: log in, take the next call, let it ring, talk, wrap up, and log out when rostered off.

An agent is not a process but a small state machine driven by callbacks on the clock, which is what makes
the common call cheap: ring, answer, talk, then the caller leaves or is transferred cold, wrap-up. A call
that needs more (a callback dial-out, a warm transfer, holds) is served by a SimPy process (`serve`,
`finish`), after which the agent takes its next call as usual.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine import caller
from sim.engine.away import go_on_break, returned
from sim.engine.centre import BUSY, IDLE, OFF, RINGING, TALKING, WAITING, Agent, Call, Centre
from sim.engine.hold import Ending, converse
from sim.engine.log import CODE, Event
from sim.engine.routing import explicit_next, next_call_for, queue_head, transfer_target, without

_RING, _ANSWER, _END, _IDLE = CODE[Event.RING], CODE[Event.ANSWER], CODE[Event.END], CODE[Event.IDLE]
_LOGIN, _LOGOUT = CODE[Event.LOGIN], CODE[Event.LOGOUT]
_TRANSFER, _HANDOVER, _DROP = CODE[Event.TRANSFER], CODE[Event.HANDOVER], CODE[Event.DROP]
_DIAL, _MISSED, _FAILED = CODE[Event.CALLBACK_DIAL], CODE[Event.CALLBACK_MISSED], CODE[Event.CALLBACK_FAILED]
_CONFERENCE_MISSED = CODE[Event.CONFERENCE_MISSED]

LEAVE, DROP = -1, -2
"""Where a conversation sends the caller other than a department (`Agent.target`): away served, or away
unresolved."""


# The agent's life: shifts and the next call.


def log_in(centre: Centre, agent: Agent) -> None:
    """Start a shift: on duty at once, and the first call if one is waiting."""
    agent.state = BUSY
    agent.pool.on_duty += 1
    centre.record((centre.env.now, _LOGIN, -1, agent.id, agent.pool.home, 0.0))
    take_next(centre, agent)


def log_out(centre: Centre, agent: Agent) -> None:
    """End the shift of a free agent (idle and already off its pool's idle list, or just done)."""
    agent.state = OFF
    agent.leaving = False
    agent.break_time = 0.0
    agent.pool.on_duty -= 1
    centre.record((centre.env.now, _LOGOUT, -1, agent.id, agent.pool.home, 0.0))


def take_next(centre: Centre, agent: Agent) -> None:
    """A free agent logs out if rostered off, else takes the next waiting call, else goes idle."""
    if agent.leaving:
        log_out(centre, agent)
        return
    if agent.break_time:  # a break fell due during the call (`sim.engine.breaks`)
        go_on_break(centre, agent, back_from_break)
        return
    pool = agent.pool
    if pool.take is None:
        if (queue := pool.sole) is not None:  # a pool serving one queue: `next_call_for` in line, two
            taken = queue_head(queue.levels) if queue.waiting else None  # calls fewer per call
        else:
            taken = next_call_for(pool)
    elif pool.blend is not None:  # a blended agent: its desk decides (`sim.engine.blend`)
        pool.blend.next_work(agent)
        return
    else:
        taken = pool.take(pool, centre.env.now)
    if taken is None:
        agent.state = IDLE
        agent.idle_since = centre.env.now
        pool.idle.append(agent)
        if pool.dialler is not None:  # a blended pool may dial now (`sim.engine.outbound`)
            pool.dialler()
        return
    call, entries = taken
    entries.popleft()
    if call.state == WAITING:
        centre.queues[call.department].waiting -= 1
    begin(agent, call)


def back_from_break(tick: Any) -> None:
    """A break is over: back on duty and to the next call (unless sent home meanwhile)."""
    agent = returned(tick)
    if agent is not None:
        take_next(agent.centre, agent)


# The common call, as callbacks.


def begin(agent: Agent, call: Call) -> None:
    """The agent (busy from here; an idle one already taken off its pool's idle list) takes the call: it
    rings (a caller whose patience ends first hangs up); a callback to dial or a warm transfer to pick up
    is served by a process. (The centre is the agent's: `centre.hand_call` is this function itself, not a
    partial binding the centre, which would cost more per call than the attribute read.)"""
    centre = agent.centre
    agent.state = BUSY
    call.state = RINGING
    now = centre.env.now
    centre.busy += 1
    agent.call = call
    department = agent.department = call.department
    centre.record((now, _RING, call.id, agent.id, department, now - call.queued_at))
    if call.callback or call.warm is not None:
        centre.env.process(serve(centre, agent, call))
        return
    ring_time = centre.ring_time
    if ring_time <= 0.0 or department in centre.unrung:  # an email is answered without a ring
        _talk(centre, agent, call)
    elif call.deadline < now + ring_time:
        agent.timer.after(call.deadline - now, _hung_up_ringing)
    else:
        agent.timer.after(ring_time, _picked_up)


hand_call = begin
"""Give an idle agent (already taken off its pool's idle list) the call to answer: `begin` (one function,
not a wrapper: a call fewer on the busiest path)."""


def _hung_up_ringing(tick: Any) -> None:
    """The caller's patience ran out while the phone rang."""
    agent: Agent = tick.value
    call = agent.call
    assert call is not None
    caller.hang_up(agent.centre, call, agent.id)
    _free(agent, 0.0)


def _picked_up(tick: Any) -> None:
    """The agent answers after the rings."""
    agent: Agent = tick.value
    assert agent.call is not None
    _talk(agent.centre, agent, agent.call)


def _talk(centre: Centre, agent: Agent, call: Call) -> None:
    """Answer and talk; holds, or a transfer the agent must stay on the line for, need a process."""
    answer(centre, agent, call)
    queue = centre.queues[agent.department]
    holds = queue.hold is not None and not call.researched and not agent.misrouted
    if holds or (agent.target >= 0 and queue.warm):
        centre.env.process(finish(centre, agent, call))
        return
    agent.timer.after(agent.talk_time, _talked)  # no consultation: nobody transferred warm


def _talked(tick: Any) -> None:
    """The conversation ends: the caller leaves served, is sent on cold, or drops; then wrap-up."""
    agent: Agent = tick.value
    centre = agent.centre
    call = agent.call
    assert call is not None
    target = agent.target
    if target == LEAVE:
        centre.record((centre.env.now, _END, call.id, agent.id, agent.department, agent.talk_time))
        caller.leave(centre, call)
    elif target == DROP:
        centre.record((centre.env.now, _DROP, call.id, agent.id, agent.department, agent.talk_time))
        caller.leave(centre, call)
    else:
        centre.record((centre.env.now, _TRANSFER, call.id, agent.id, agent.department, float(target)))
        call.transfers += 1
        caller.join_queue(centre, call, target, front=centre.transfer_front)
    wrap_time = agent.wrap_time
    if wrap_time > 0.0:
        agent.timer.after(wrap_time, _wrapped)
    else:
        _free(agent, 0.0)


def _wrapped(tick: Any) -> None:
    """After-call work is done."""
    agent: Agent = tick.value
    _free(agent, agent.wrap_time)


def _free(agent: Agent, wrap_time: float) -> None:
    """The agent is done with the call (wrap-up included) and takes the next one."""
    centre = agent.centre
    call = agent.call
    assert call is not None
    centre.busy -= 1
    centre.record((centre.env.now, _IDLE, call.id, agent.id, agent.department, wrap_time))
    agent.call = None
    if centre.closed:  # nothing ends the run before the doors close
        centre.check_done()
    take_next(centre, agent)


def answer(centre: Centre, agent: Agent, call: Call) -> None:
    """The caller is on the line with the agent: settle the patience left, let a warm-transferring colleague
    hand over, and settle the talk and where the caller goes next, on the agent (misrouted callers are
    listened to and sent on, or dropped after too many transfers)."""
    now = centre.env.now
    department = agent.department
    call.state = TALKING
    call.agent = agent
    centre.record((now, _ANSWER, call.id, agent.id, department, now - call.queued_at))
    if not centre.patience_restarts:
        call.patience = call.deadline - now
    queue = centre.queues[department]
    agent.consult_time = 0.0
    if call.warm is not None:  # the transferring agent hands the caller over, then leaves
        agent.consult_time = centre.consult()
        call.warm.succeed(agent.consult_time)
        call.warm = None
    agent.wrap_time = call.wrap_time
    agent.misrouted = False
    handle_time = call.handle_time * agent.pool.speed[department]
    if centre.times is not None:  # an agent group's own time for the reason
        handle_time = centre.times.group_time(agent, call, handle_time)
    if queue.transfer_targets is not None:  # explicit network: serve, then maybe send on
        agent.talk_time = handle_time
        agent.target = explicit_next(centre.decide(), queue.transfer_targets, queue.transfer_cumulative)
        if agent.target >= 0 and queue.transfer_time is not None:
            agent.talk_time += queue.transfer_time()
        return
    if queue.resolves >> call.reason & 1 or (call.transfers >= centre.max_transfers and centre.escalate):
        agent.talk_time = handle_time
        agent.target = LEAVE
        return
    # misrouted: listen, decide where the caller should go, and transfer (or lose them)
    agent.misrouted = True
    agent.talk_time = queue.listen() if queue.listen is not None else 0.0
    if call.transfers >= centre.max_transfers:
        agent.target = DROP
        return
    # where the caller may be sent wrongly: departments that cannot resolve it and it has not visited
    others = without(centre.unresolving[call.reason], call.visited & centre.unresolving_set[call.reason])
    accuracy = queue.accuracy(agent.talk_time)
    agent.target = transfer_target(
        centre.decide(), centre.decide(), accuracy, centre.resolvers[call.reason], others
    )
    if queue.transfer_time is not None:
        agent.talk_time += queue.transfer_time()


# Calls that need a process: callbacks, warm transfers, holds.


def serve(centre: Centre, agent: Agent, call: Call) -> Generator[simpy.Event, Any, None]:
    """Dial a callback (or ring a warm-transferred caller), then talk as `finish` does."""
    env = centre.env
    if call.callback:
        answered = yield from dial(centre, agent, call)
        if not answered:
            yield from wrap_up(centre, agent, call, 0.0)
            return
    elif centre.ring_time > 0.0:
        yield env.timeout(centre.ring_time)  # a caller on a warm transfer does not hang up
    answer(centre, agent, call)
    yield from finish(centre, agent, call)


def finish(centre: Centre, agent: Agent, call: Call) -> Generator[simpy.Event, Any, None]:
    """Talk as the agent settled on answering, with holds (the caller may hang up on hold or take a callback), then send the caller
    on (cold, or warm: staying on the line until the next agent answers) or let them go, and wrap up."""
    env = centre.env
    record = centre.record
    department = agent.department
    queue = centre.queues[department]
    consult_time, talk_time, target = agent.consult_time, agent.talk_time, agent.target
    if agent.misrouted:
        yield env.timeout(consult_time + talk_time)
        end_conference(call)
        if target == DROP:
            record((env.now, _DROP, call.id, agent.id, department, consult_time + talk_time))
            caller.leave(centre, call)
        else:
            yield from transfer(centre, agent, call, target, consult_time + talk_time)
        yield from wrap_up(centre, agent, call, agent.wrap_time)
        return
    if consult_time:
        yield env.timeout(consult_time)
    ending, talked, work_left = yield from converse(centre, agent, call, queue, talk_time)
    end_conference(call)
    if ending is Ending.HUNG_UP:
        caller.leave(centre, call)
        caller.maybe_redial(centre, call, "abandoned")
    elif ending is Ending.CALLBACK:
        call.handle_time = work_left / agent.pool.speed[department]  # the next agent works at its own speed
        call.researched = True
        caller.request_callback(centre, call, queue, from_hold=True, agent_id=agent.id)
    elif target == LEAVE:
        record((env.now, _END, call.id, agent.id, department, consult_time + talked))
        caller.leave(centre, call)
    else:
        yield from transfer(centre, agent, call, target, consult_time + talked)
    yield from wrap_up(centre, agent, call, agent.wrap_time)


def dial(centre: Centre, agent: Agent, call: Call) -> Generator[simpy.Event, Any, bool]:
    """Dial a callback: the caller answers (True), or the dial is retried later or given up (False)."""
    env = centre.env
    record = centre.record
    settings = centre.callback_settings
    record((env.now, _DIAL, call.id, agent.id, call.department, env.now - call.requested_at))
    dial_time = centre.dial()
    yield env.timeout(dial_time)
    call.dials += 1
    if centre.callback_draw() < settings.answer_probability:
        call.callback = False
        return True
    record((env.now, _MISSED, call.id, agent.id, call.department, dial_time))
    if call.dials <= settings.retries:
        env.timeout(settings.retry_delay, call).callbacks.append(centre.requeue_callback)
    else:
        record((env.now, _FAILED, call.id, agent.id, call.department, 0.0))
        caller.leave(centre, call)
    return False


def transfer(
    centre: Centre, agent: Agent, call: Call, target: int, talked: float = 0.0
) -> Generator[simpy.Event, Any, None]:
    """Send the caller on: cold (they rejoin the target queue alone), warm (this agent stays on the line
    until an agent of the target answers, then they talk for the consultation time), or conference (only
    to an agent free at once, and this agent stays on the line until that agent's part of the call ends);
    `talked` is this agent's talk time with the caller so far."""
    env = centre.env
    record = centre.record
    otherwise = centre.queues[agent.department].conference
    conference = False
    if otherwise is not None:
        conference = any(pool.idle for pool in centre.queues[target].servers)
        if not conference:
            record((env.now, _CONFERENCE_MISSED, call.id, agent.id, agent.department, float(target)))
            if otherwise != "wait":
                yield from nobody_free(centre, agent, call, target, otherwise, talked)
                return
    record((env.now, _TRANSFER, call.id, agent.id, agent.department, float(target)))
    call.transfers += 1
    if not centre.queues[agent.department].warm:
        caller.join_queue(centre, call, target, front=centre.transfer_front)
        return
    started = env.now
    call.warm = env.event()
    handed_over = call.warm
    leg_over = call.conference = env.event() if conference else None
    caller.join_queue(centre, call, target)  # an idle agent takes a conference at once
    consult_time = yield handed_over
    yield env.timeout(consult_time)
    if leg_over is not None:
        yield leg_over
    record((env.now, _HANDOVER, call.id, agent.id, agent.department, env.now - started))


def end_conference(call: Call) -> None:
    """The caller's part of the call with this agent is over: a colleague who conferenced them in leaves."""
    leg_over = call.conference
    if leg_over is not None:
        call.conference = None
        leg_over.succeed()


def nobody_free(
    centre: Centre, agent: Agent, call: Call, target: int, otherwise: str, talked: float
) -> Generator[simpy.Event, Any, None]:
    """A conference finds no agent of the target free: the agent serves the caller alone (for a handle
    time of the target's kind, linked to the first leg's if the target's are, at its own speed there) or
    the caller leaves unresolved (`talked`: the talk
    so far, which the ending's record carries as any segment's does)."""
    env = centre.env
    next_queue = centre.queues[target]
    alone = next_queue.alone_handle
    if otherwise == "alone" and alone is not None:
        drawn = alone() if next_queue.linked is None else next_queue.linked * call.first_handle_time
        alone_time = drawn * agent.pool.speed[target]
        yield env.timeout(alone_time)
        centre.record((env.now, _END, call.id, agent.id, agent.department, talked + alone_time))
    else:
        centre.record((env.now, _DROP, call.id, agent.id, agent.department, talked))
    caller.leave(centre, call)


def wrap_up(centre: Centre, agent: Agent, call: Call, wrap_time: float) -> Generator[simpy.Event, Any, None]:
    """After-call work of a call served by a process, then the agent is free."""
    if wrap_time > 0.0:
        yield centre.env.timeout(wrap_time)
    _free(agent, wrap_time)
