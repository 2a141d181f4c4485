"""Reaching an instant exactly: `now + (at - now)` is not always `at` in floating point (0.2 + 0.7 is
0.8999999999999999), so an event that must happen at a drawn or planned instant (an arrival, a shift
change, the close) is scheduled at that absolute time instead of after a computed delay.
"""

from __future__ import annotations

from heapq import heappush

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
