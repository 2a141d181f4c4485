"""Scheduling without processes: exact instants, and plain callbacks after a delay.

`now + (at - now)` is not always `at` in floating point (0.2 + 0.7 is 0.8999999999999999), so an event
that must happen at a drawn or planned instant (an arrival, a shift change, the close) is scheduled at that
absolute time instead of after a computed delay. The busiest steps of a run (arrivals, rings, talk and
wrap-up of the common call) are callbacks on a `Tick`, which costs SimPy's loop less than a process.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.core import NORMAL


def at_instant(env: simpy.Environment, at: float) -> simpy.Event:
    """An event that fires at exactly `at` (not before now).

    SimPy schedules by delay only; this pushes onto its event queue exactly as `Environment.schedule`
    does, with the absolute time in place of `now + delay`.
    """
    event = env.event()
    event._ok = True
    event._value = None
    heappush(env._queue, (max(at, env.now), NORMAL, next(env._eid), event))
    return event


class Tick:
    """The least an event needs for SimPy's loop: callbacks, a value for them, and that it succeeded."""

    __slots__ = ("callbacks", "value")
    _ok = True
    _value = None

    def __init__(self, callback: Callable[[Any], None], value: Any) -> None:
        self.callbacks: list[Callable[[Any], None]] | None = [callback]
        self.value = value


def call_at(env: simpy.Environment, at: float, callback: Callable[[Any], None], value: Any = None) -> None:
    """Call `callback(tick)` at exactly `at` (not before now); `tick.value` is `value`."""
    tick: Any = Tick(callback, value)  # SimPy's loop needs only what a Tick has
    heappush(env._queue, (max(at, env._now), NORMAL, next(env._eid), tick))


def call_after(
    env: simpy.Environment, delay: float, callback: Callable[[Any], None], value: Any = None
) -> None:
    """Call `callback(tick)` `delay` seconds from now, as `env.timeout(delay, value)` would, minus the Timeout."""
    tick: Any = Tick(callback, value)
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), tick))
