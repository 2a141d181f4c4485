"""Reaching an instant exactly: `now + (at - now)` is not always `at` in floating point (0.2 + 0.7 is
0.8999999999999999), so an event that must happen at a drawn or planned instant (an arrival, a shift
change, the close) is scheduled at that absolute time instead of after a computed delay.
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


class _Tick:
    """The least an event needs for SimPy's loop: callbacks, and that it succeeded (no value)."""

    __slots__ = ("_ok", "_value", "callbacks")

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self.callbacks: list[Callable[[Any], None]] | None = [callback]
        self._ok = True
        self._value = None


def call_at(env: simpy.Environment, at: float, callback: Callable[[Any], None]) -> None:
    """Call `callback` at exactly `at`, without a process or a `Timeout` object (the arrivals' hot path)."""
    heappush(env._queue, (max(at, env._now), NORMAL, next(env._eid), _Tick(callback)))
