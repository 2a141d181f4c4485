"""What a mid-call hold is: the agent asks to put the caller on hold, promises a time, researches; if the
research outruns the promise the agent checks back, and the caller keeps holding (a new promise) or takes a
callback; a caller whose patience on hold runs out hangs up.

`converse` is part of an agent's process: it yields simpy events and returns how the conversation ended.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from enum import Enum
from typing import Any

import simpy

from sim.engine.centre import Agent, Call, Centre, Queue
from sim.engine.log import CODE, Event

_HOLD, _CHECK_BACK, _UNHOLD = CODE[Event.HOLD], CODE[Event.CHECK_BACK], CODE[Event.UNHOLD]
_HOLD_ABANDON = CODE[Event.HOLD_ABANDON]


class Ending(Enum):
    """How a conversation with holds ended."""

    DONE = "done"
    HUNG_UP = "hung up on hold"
    CALLBACK = "took a callback"


def converse(
    centre: Centre, agent: Agent, call: Call, queue: Queue, talk_time: float
) -> Generator[simpy.Event, Any, tuple[Ending, float, float]]:
    """Talk for `talk_time` seconds, putting the caller on hold as the department's hold rule says.

    Returns how it ended, the talk time actually spent (check-backs included), and the work left undone
    (talk and research) when the caller took a callback.
    """
    env = centre.env
    hold = queue.hold
    if hold is None or queue.hold_draw is None or call.researched:
        yield env.timeout(talk_time)
        return Ending.DONE, talk_time, 0.0
    draw = queue.hold_draw
    remaining = talk_time
    spent = 0.0
    for _ in range(hold.max_holds):
        if draw() >= hold.probability:
            break
        before = draw() * remaining  # the need to research arises part-way through the conversation
        yield env.timeout(before)
        remaining -= before
        spent += before
        ending, checked, research_left = yield from hold_once(centre, agent, call, queue)
        spent += checked
        if ending is not Ending.DONE:
            return ending, spent, remaining + research_left
    yield env.timeout(remaining)
    return Ending.DONE, spent + remaining, 0.0


def hold_once(
    centre: Centre, agent: Agent, call: Call, queue: Queue
) -> Generator[simpy.Event, Any, tuple[Ending, float, float]]:
    """One hold: research in stretches no longer than the promise, checking back after each broken one.

    Returns how it ended, the check-back talk time, and the research left (for a callback).
    """
    hold = queue.hold
    assert hold is not None and queue.hold_duration is not None and queue.hold_check_back is not None
    assert queue.hold_draw is not None
    env = centre.env
    record = centre.record
    department = queue.index
    research = queue.hold_duration()
    started = env.now
    record((started, _HOLD, call.id, agent.id, department, hold.promise))
    checked = 0.0
    while True:
        stretch = min(hold.promise, research)
        patience = queue.hold_patience() if queue.hold_patience is not None else math.inf
        if patience < stretch:
            yield env.timeout(patience)
            record((env.now, _HOLD_ABANDON, call.id, agent.id, department, env.now - started))
            return Ending.HUNG_UP, checked, 0.0
        yield env.timeout(stretch)
        research -= stretch
        if research <= 1e-9:
            record((env.now, _UNHOLD, call.id, agent.id, department, env.now - started))
            return Ending.DONE, checked, 0.0
        check_back = queue.hold_check_back()
        record((env.now, _CHECK_BACK, call.id, agent.id, department, check_back))
        yield env.timeout(check_back)
        checked += check_back
        if queue.hold_draw() < hold.callback_share:
            return Ending.CALLBACK, checked, research
