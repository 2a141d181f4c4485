"""The chat desk: an agent of a chat pool holds up to `slots` conversations at once (`sim.model.chat`).

Each conversation has work left (its handle time at the agent's speed, then its wrap-up); while n are in
hand, every one runs down at 1 / factor, factor = slowdown[n-1]. Whenever n changes (or a conversation
moves from talk to wrap-up), the work left of every conversation is brought up to date with the time
elapsed (`_advance`) and the next completion is scheduled afresh (`_reschedule`): the completion scheduled
before is not taken off the clock's heap but recognised as stale by the desk's version counter.

A chat is answered at once (no ring: the agent's first response is the wait); it is logged with the
events of a call (`ring` and `answer` at the same instant, `end` when the conversation is over, `idle` when
its wrap-up is), so the calls and visits tables and the KPIs read chats as they read calls. Per-conversation
state lives on the conversation (`centre.Conversation`), not on the agent.

Who takes what: an agent with a free slot (and not leaving or owing a break) stays on its pool's idle
list, which a chat pool keeps in order of chats in hand (fewest first), then of the time it reached that
number: an arriving chat goes to the least loaded agent; a free slot takes the waiting chat a free agent
would. With one slot and no slow-down this is the voice path without a ring, event for event.

The voice path pays nothing: `centre.hand_call` is this module's `hand_call` only in a run with a chat
pool, and the roster and breaks call in here only for an agent with a desk.
"""

from __future__ import annotations

from typing import Any

from sim.engine import agent as agents
from sim.engine.away import go_on_break, returned
from sim.engine.caller import leave
from sim.engine.centre import (
    BUSY,
    IDLE,
    OFF,
    RINGING,
    TALKING,
    WAITING,
    Agent,
    Call,
    Centre,
    Conversation,
    Desk,
)
from sim.engine.clock import call_after
from sim.engine.log import CODE, Event
from sim.engine.routing import next_call_for

_RING, _ANSWER, _END, _IDLE = CODE[Event.RING], CODE[Event.ANSWER], CODE[Event.END], CODE[Event.IDLE]
_LOGIN = CODE[Event.LOGIN]


def hand_call(centre: Centre, agent: Agent, call: Call) -> None:
    """Give an agent taken off its pool's idle list a contact: a chat to open beside those in hand, or, for
    a voice agent, the call to answer (`agent.hand_call`)."""
    desk = agent.desk
    if desk is None:
        agents.hand_call(agent, call)
        return
    agent.state = BUSY
    _advance(desk, centre.env.now)
    _open(centre, agent, desk, call)
    _reschedule(centre, agent, desk)
    _settle(centre, agent, desk)


def log_in(centre: Centre, agent: Agent) -> None:
    """A chat agent starts its shift: on duty, and as many waiting chats as it has slots."""
    if agent.pool.blend is not None:  # a blended agent (`sim.engine.blend`)
        agents.log_in(centre, agent)
        return
    agent.state = BUSY
    agent.pool.on_duty += 1
    centre.log.record((centre.env.now, _LOGIN, -1, agent.id, agent.pool.home, 0.0))
    _next(centre, agent)


def back_from_break(tick: Any) -> None:
    """A chat agent's break is over: back on duty and to the waiting chats (unless sent home meanwhile)."""
    agent = returned(tick)
    if agent is not None:
        if agent.pool.blend is not None:  # a blended agent (`sim.engine.blend`)
            agent.pool.blend.next_work(agent)
            return
        _next(agent.centre, agent)


def stop_taking(agent: Agent) -> None:
    """A chat agent rostered off or owing a break takes no further chat (it finishes those in hand)."""
    if agent.pool.blend is not None:  # a blended agent (`sim.engine.blend`)
        agent.pool.blend.stop_taking(agent)
        return
    if agent in agent.pool.idle:
        agent.pool.idle.remove(agent)


def resume(centre: Centre, agent: Agent) -> None:
    """A leaving chat agent is kept on after all: it takes chats again into its free slots."""
    if agent.pool.blend is not None:  # a blended agent (`sim.engine.blend`)
        agent.pool.blend.resume(agent)
        return
    _next(centre, agent)


# The desk's clock: work left, and the next conversation to finish.


def _advance(desk: Desk, now: float) -> None:
    """Bring every conversation's work left up to `now` at the pace in force since the last change; the
    wall time beyond the work done is the slow-down's (added to the phase's logged length)."""
    elapsed = now - desk.updated_at
    desk.updated_at = now
    if elapsed > 0.0 and desk.chats:
        done = elapsed / desk.factor
        extra = elapsed - done  # 0.0 exactly without a slow-down
        for chat in desk.chats:
            chat.work_left -= done
            chat.extra_time += extra


def _reschedule(centre: Centre, agent: Agent, desk: Desk) -> None:
    """Set the pace for the chats now in hand and schedule the next to finish; earlier ticks go stale."""
    desk.version += 1
    chats = desk.chats
    if not chats:
        return
    desk.factor = desk.factors[len(chats) - 1]
    due = chats[0]
    for chat in chats:
        if chat.work_left < due.work_left:
            due = chat
    desk.due = due
    left = due.work_left if due.work_left > 0.0 else 0.0
    call_after(centre.env, left * desk.factor, _due, (agent, desk.version))


def _due(tick: Any) -> None:
    """A conversation's phase is done (unless the desk changed since this was scheduled): the talk ends and
    its wrap-up starts, or the wrap-up ends and the slot is free."""
    agent, version = tick.value
    desk: Desk = agent.desk
    if version != desk.version:
        return
    centre = agent.centre
    now = centre.env.now
    _advance(desk, now)
    chat = desk.due
    assert chat is not None
    chat.work_left = 0.0
    if not chat.wrapping:
        call = chat.call
        centre.log.record((now, _END, call.id, agent.id, chat.department, _phase(chat)))
        leave(centre, call)
        chat.wrapping = True
        chat.work_left = chat.wrap_time
        chat.extra_time = 0.0
        if chat.wrap_time > 0.0:
            _reschedule(centre, agent, desk)
            return
    _close(centre, agent, desk, chat)


def _phase(chat: Conversation) -> float:
    """The length of the phase just finished: its work plus the slow-down's share (`_advance`)."""
    return (chat.wrap_time if chat.wrapping else chat.handle_time) + chat.extra_time


# Opening and closing conversations.


def _open(centre: Centre, agent: Agent, desk: Desk, call: Call) -> None:
    """The agent takes the chat and responds at once (ring and answer at one instant): its work is the
    handle time at the agent's speed (an agent group's own time for the reason where it has one)."""
    now = centre.env.now
    department = call.department
    centre.busy += 1
    record = centre.log.record
    record((now, _RING, call.id, agent.id, department, now - call.queued_at))
    record((now, _ANSWER, call.id, agent.id, department, now - call.queued_at))
    call.state = TALKING
    call.agent = agent
    if not centre.patience_restarts:
        call.patience = call.deadline - now
    handle_time = call.handle_time * agent.pool.speed[department]
    agent.wrap_time = call.wrap_time
    if centre.times is not None:  # an agent group's own time for the reason (it may set the wrap-up too)
        handle_time = centre.times.group_time(agent, call, handle_time)
    desk.chats.append(Conversation(call, department, handle_time, agent.wrap_time))


def _close(centre: Centre, agent: Agent, desk: Desk, chat: Conversation) -> None:
    """The chat's wrap-up is done: the slot is free, and the agent takes what comes next."""
    desk.chats.remove(chat)
    centre.busy -= 1
    centre.log.record((centre.env.now, _IDLE, chat.call.id, agent.id, chat.department, _phase(chat)))
    centre.check_done()
    if agent.pool.blend is not None:  # a blended agent: its desk's rules decide what next (`sim.engine.blend`)
        agent.pool.blend.next_work(agent)
        return
    _next(centre, agent)


def _next(centre: Centre, agent: Agent) -> None:
    """After a change at the desk: a leaving agent logs out (or one owing a break goes) once its hands are
    empty; otherwise free slots take waiting chats. Then the desk is rescheduled and the agent placed."""
    desk = agent.desk
    assert desk is not None
    _advance(desk, centre.env.now)
    if agent.leaving or agent.break_time:
        stop_taking(agent)
        if not desk.chats:
            if agent.leaving:
                agents.log_out(centre, agent)
            else:
                go_on_break(centre, agent, back_from_break)
        _reschedule(centre, agent, desk)
        return
    pool = agent.pool
    while len(desk.chats) < desk.slots:
        taken = next_call_for(pool) if pool.take is None else pool.take(pool, centre.env.now)
        if taken is None:
            break
        call, entries = taken
        entries.popleft()
        if call.state == WAITING:
            centre.queues[call.department].waiting -= 1
        call.state = RINGING
        _open(centre, agent, desk, call)
    _reschedule(centre, agent, desk)
    _settle(centre, agent, desk)


def _settle(centre: Centre, agent: Agent, desk: Desk) -> None:
    """Place the agent on its pool's idle list by chats in hand (fewest first, then the longest at that
    number) if it has a free slot and takes chats, else off it; idle with none in hand, busy with some."""
    idle = agent.pool.idle
    if agent in idle:
        idle.remove(agent)
    if agent.state == OFF or agent.leaving or agent.break_time:
        return
    in_hand = len(desk.chats)
    agent.state = IDLE if in_hand == 0 else BUSY
    if in_hand < desk.slots:
        agent.idle_since = centre.env.now
        position = len(idle)
        while position and _held(idle[position - 1]) > in_hand:
            position -= 1
        idle.insert(position, agent)


def _held(agent: Agent) -> int:
    """The chats in an agent's hands (every agent of a chat pool has a desk)."""
    desk = agent.desk
    return len(desk.chats) if desk is not None else 0
