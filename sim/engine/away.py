"""An agent away on a break (`sim.engine.breaks` sends them): going, being away, coming back, or being sent
home meanwhile. Below `sim.engine.agent`, which sends a busy agent owing a break on it when its call is done.

An agent on break is logged as `break` (the analysis counts it logged out: not available) and `back` when it
returns. It still counts towards its pool's staffing level, so the roster does not log in a stand-in; if the
level drops while it is away, it is the first to go home (`back` and `logout` at that instant).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sim.engine.centre import BUSY, OFF, Agent, Centre
from sim.engine.clock import call_after
from sim.engine.log import CODE, Event

_BREAK, _BACK, _LOGOUT = CODE[Event.BREAK], CODE[Event.BACK], CODE[Event.LOGOUT]


def go_on_break(centre: Centre, agent: Agent, comeback: Callable[[Any], None]) -> None:
    """A free agent (off its pool's idle list) owing a break takes it now, for its whole length;
    `comeback(tick)` runs when it is over (`tick.value` the agent), unless `still_away` says otherwise."""
    length = agent.break_time
    agent.break_time = 0.0
    agent.state = OFF
    agent.pool.on_duty -= 1
    agent.back_at = centre.env.now + length
    centre.record((centre.env.now, _BREAK, -1, agent.id, agent.pool.home, length))
    call_after(centre.env, length, comeback, agent)


def on_break(agent: Agent) -> bool:
    """Whether the agent is away on a break."""
    return agent.back_at < math.inf


def sent_home_meanwhile(centre: Centre, agent: Agent) -> bool:
    """At a break's planned end: whether the agent was sent home during it (and perhaps is on another since)."""
    return agent.back_at > centre.env.now


def back(centre: Centre, agent: Agent) -> None:
    """Record the agent's return from its break (its state is for the caller to set)."""
    agent.back_at = math.inf
    centre.record((centre.env.now, _BACK, -1, agent.id, agent.pool.home, 0.0))


def returned(tick: Any) -> Agent | None:
    """A break's planned end (`tick.value` the agent): the agent back on duty, its return recorded; None if it
    was sent home meanwhile. The caller gives it its next work (a call, or chats)."""
    agent: Agent = tick.value
    centre = agent.centre
    if sent_home_meanwhile(centre, agent):
        return None
    back(centre, agent)
    agent.state = BUSY
    agent.pool.on_duty += 1
    return agent


def send_home(centre: Centre, agent: Agent) -> None:
    """An agent on break whose pool's level dropped ends its break and its shift at once."""
    back(centre, agent)
    centre.record((centre.env.now, _LOGOUT, -1, agent.id, agent.pool.home, 0.0))
