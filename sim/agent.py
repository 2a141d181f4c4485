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
from sim.log import CODE, Event
from sim.routing import next_call_for

_RING, _ANSWER, _END, _IDLE = CODE[Event.RING], CODE[Event.ANSWER], CODE[Event.END], CODE[Event.IDLE]
_LOGIN, _LOGOUT = CODE[Event.LOGIN], CODE[Event.LOGOUT]


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
    record((env.now, _LOGOUT, -1, agent.id, pool.home, 0.0))


def serve(centre: Centre, agent: Agent, call: Call) -> Generator[simpy.Event, Any, None]:
    """Ring, talk and wrap up one call; a caller whose patience ends while ringing hangs up."""
    env = centre.env
    record = centre.log.record
    now = env.now
    department = call.department
    centre.busy += 1
    record((now, _RING, call.id, agent.id, department, now - call.queued_at))
    ring_time = centre.ring_time
    if ring_time > 0.0:
        if call.deadline < now + ring_time:
            yield env.timeout(call.deadline - now)
            caller.hang_up(centre, call, agent.id)
            centre.busy -= 1
            record((env.now, _IDLE, call.id, agent.id, department, 0.0))
            centre.check_done()
            return
        yield env.timeout(ring_time)
    call.state = TALKING
    call.agent = agent
    record((env.now, _ANSWER, call.id, agent.id, department, env.now - call.queued_at))
    talk_time = call.handle_time * agent.pool.speed[department]
    yield env.timeout(talk_time)
    record((env.now, _END, call.id, agent.id, department, talk_time))
    caller.leave(centre, call)
    wrap_time = call.wrap_time
    if wrap_time > 0.0:
        yield env.timeout(wrap_time)
    centre.busy -= 1
    record((env.now, _IDLE, call.id, agent.id, department, wrap_time))
    centre.check_done()
