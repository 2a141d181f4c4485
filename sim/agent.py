"""What an agent does: log in, take the next call, let it ring, talk, wrap up, and log out when rostered off.

An idle agent waits on its `wake` event; whoever hands it a call (a caller arriving, a call overflowing)
or sends it home (the roster) settles that event.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim import caller
from sim.centre import BUSY, IDLE, OFF, RINGING, TALKING, WAITING, Agent, Call, Centre
from sim.hold import Ending, converse
from sim.log import CODE, Event
from sim.routing import explicit_next, next_call_for, transfer_target

_RING, _ANSWER, _END, _IDLE = CODE[Event.RING], CODE[Event.ANSWER], CODE[Event.END], CODE[Event.IDLE]
_LOGIN, _LOGOUT = CODE[Event.LOGIN], CODE[Event.LOGOUT]
_TRANSFER, _HANDOVER, _DROP = CODE[Event.TRANSFER], CODE[Event.HANDOVER], CODE[Event.DROP]
_DIAL, _MISSED, _FAILED = CODE[Event.CALLBACK_DIAL], CODE[Event.CALLBACK_MISSED], CODE[Event.CALLBACK_FAILED]


def hand_call(agent: Agent, call: Call) -> None:
    """Give an idle agent (already taken off its pool's idle list) the call to answer."""
    agent.state = BUSY
    call.state = RINGING
    assert agent.wake is not None
    agent.wake.succeed(call)


def send_home(agent: Agent) -> None:
    """Log an idle agent out now (it is already off its pool's idle list)."""
    agent.state = BUSY
    agent.leaving = True
    assert agent.wake is not None
    agent.wake.succeed(None)


def work(centre: Centre, agent: Agent) -> Generator[simpy.Event, Any, None]:
    """One agent's shift: take calls until rostered off, then log out after the call in hand."""
    env = centre.env
    record = centre.log.record
    pool = agent.pool
    agent.state = BUSY
    pool.on_duty += 1
    record((env.now, _LOGIN, -1, agent.id, pool.home, 0.0))
    while not agent.leaving:
        taken = next_call_for(pool)
        if taken is None:
            agent.state = IDLE
            agent.idle_since = env.now
            agent.wake = env.event()
            pool.idle.append(agent)
            call = yield agent.wake
            if call is None:
                if agent.leaving:
                    break
                continue
        else:
            call, entries = taken
            entries.popleft()
            if call.state == WAITING:
                centre.queues[call.department].waiting -= 1
            call.state = RINGING
        yield from serve(centre, agent, call)
    agent.state = OFF
    agent.leaving = False
    pool.on_duty -= 1
    record((env.now, _LOGOUT, -1, agent.id, pool.home, 0.0))


def serve(centre: Centre, agent: Agent, call: Call) -> Generator[simpy.Event, Any, None]:
    """Ring (or dial a callback), talk (resolving, transferring or escalating, with holds) and wrap up one
    call; a caller whose patience ends while ringing hangs up."""
    env = centre.env
    record = centre.log.record
    now = env.now
    department = call.department
    centre.busy += 1
    record((now, _RING, call.id, agent.id, department, now - call.queued_at))
    if call.callback:
        answered = yield from dial(centre, agent, call)
        if not answered:
            yield from wrap_up(centre, agent, call, department, 0.0)
            return
    else:
        ring_time = centre.ring_time
        if ring_time > 0.0:
            if call.deadline < now + ring_time:
                yield env.timeout(call.deadline - now)
                caller.hang_up(centre, call, agent.id)
                yield from wrap_up(centre, agent, call, department, 0.0)
                return
            yield env.timeout(ring_time)
    call.state = TALKING
    call.agent = agent
    now = env.now
    record((now, _ANSWER, call.id, agent.id, department, now - call.queued_at))
    if not centre.patience_restarts:
        call.patience = call.deadline - now
    queue = centre.queues[department]
    consult_time = 0.0
    if call.warm is not None:  # the transferring agent hands the caller over, then leaves
        consult_time = centre.consult()
        call.warm.succeed(consult_time)
        call.warm = None
    wrap_time = call.wrap_time
    target = -1
    if queue.transfer_targets is not None:  # explicit network: serve, then maybe send on
        talk_time = call.handle_time * agent.pool.speed[department]
        target = explicit_next(centre.decide(), queue.transfer_targets, queue.transfer_cumulative)
        if target >= 0 and queue.transfer_time is not None:
            talk_time += queue.transfer_time()
    elif queue.resolves >> call.reason & 1 or (call.transfers >= centre.max_transfers and centre.escalate):
        talk_time = call.handle_time * agent.pool.speed[department]
    else:  # misrouted: listen, decide where the caller should go, and transfer (or lose them)
        talk_time = queue.listen() if queue.listen is not None else 0.0
        if call.transfers >= centre.max_transfers:
            yield env.timeout(consult_time + talk_time)
            record((env.now, _DROP, call.id, agent.id, department, consult_time + talk_time))
            caller.leave(centre, call)
            yield from wrap_up(centre, agent, call, department, wrap_time)
            return
        resolvers = centre.resolvers[call.reason]
        others = [
            d
            for d in range(len(centre.queues))
            if not (call.visited >> d & 1 or centre.queues[d].resolves >> call.reason & 1)
        ]
        accuracy = queue.accuracy(talk_time)
        target = transfer_target(centre.decide(), centre.decide(), accuracy, resolvers, others)
        if queue.transfer_time is not None:
            talk_time += queue.transfer_time()
        yield env.timeout(consult_time + talk_time)
        yield from transfer(centre, agent, call, department, target)
        yield from wrap_up(centre, agent, call, department, wrap_time)
        return
    if consult_time:
        yield env.timeout(consult_time)
    if queue.hold is None or call.researched:  # the common case, without a generator for holds
        yield env.timeout(talk_time)
        ending, talked, work_left = Ending.DONE, talk_time, 0.0
    else:
        ending, talked, work_left = yield from converse(centre, agent, call, queue, talk_time)
    if ending is Ending.HUNG_UP:
        caller.leave(centre, call)
        caller.maybe_redial(centre, call, "abandoned")
    elif ending is Ending.CALLBACK:
        call.handle_time = work_left
        call.researched = True
        caller.request_callback(centre, call, queue, from_hold=True, agent_id=agent.id)
    elif target < 0:
        record((env.now, _END, call.id, agent.id, department, consult_time + talked))
        caller.leave(centre, call)
    else:
        yield from transfer(centre, agent, call, department, target)
    if wrap_time > 0.0:
        yield env.timeout(wrap_time)
    centre.busy -= 1
    record((env.now, _IDLE, call.id, agent.id, department, wrap_time))
    centre.check_done()


def dial(centre: Centre, agent: Agent, call: Call) -> Generator[simpy.Event, Any, bool]:
    """Dial a callback: the caller answers (True), or the dial is retried later or given up (False)."""
    env = centre.env
    record = centre.log.record
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
    centre: Centre, agent: Agent, call: Call, department: int, target: int
) -> Generator[simpy.Event, Any, None]:
    """Send the caller on: cold (they rejoin the target queue alone) or warm (this agent stays on the line
    until an agent of the target answers, then they talk for the consultation time)."""
    env = centre.env
    record = centre.log.record
    record((env.now, _TRANSFER, call.id, agent.id, department, float(target)))
    call.transfers += 1
    if not centre.queues[department].warm:
        caller.join_queue(centre, call, target, front=centre.transfer_front)
        return
    started = env.now
    call.warm = env.event()
    handed_over = call.warm
    caller.join_queue(centre, call, target)
    consult_time = yield handed_over
    yield env.timeout(consult_time)
    record((env.now, _HANDOVER, call.id, agent.id, department, env.now - started))


def wrap_up(
    centre: Centre, agent: Agent, call: Call, department: int, wrap_time: float
) -> Generator[simpy.Event, Any, None]:
    """After-call work, then the agent is free."""
    env = centre.env
    if wrap_time > 0.0:
        yield env.timeout(wrap_time)
    centre.busy -= 1
    centre.log.record((env.now, _IDLE, call.id, agent.id, department, wrap_time))
    centre.check_done()
