"""The one seam with SimPy: the only module that touches its private fields (`_queue`, `_now`, `_eid`, an
event's `_ok`/`_value`), tested on the SimPy versions `pyproject.toml` pins.

What it adds to SimPy, and why:
- `Clock`, an `Environment` whose `now` is a plain attribute, kept by its own copy of `step`: the engine
  reads the time several times per call, and SimPy's `now` property costs a Python call each time. Its
  `run` until an event processes the events in a loop of its own, without a call of `step` per event.
- Scheduling at an exact instant (`at_instant`, `call_at`, `Alarm`): SimPy schedules by delay only, and
  `now + (at - now)` is not always `at` in floating point (0.2 + 0.7 is 0.8999999999999999), so an event that
  must happen at a drawn or planned instant (an arrival, a shift change, the close) is pushed at that instant.
- Plain callbacks on a `Tick`, the least an event needs for SimPy's loop (`call_after`, `call_at`, `Alarm`,
  `Timer`): the busiest steps of a run (arrivals, rings, talk and wrap-up of the common call) cost the loop
  less than a `Timeout` or a process would.

Everything else in the engine uses SimPy's public API (`env.now`, `env.timeout`, `env.process`, `env.event`).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, EventPriority


class Clock(simpy.Environment):
    """A SimPy environment whose current time `now` is a plain attribute (as cheap to read as a field).

    SimPy's `now` is a property over `_now`; here `step` sets both before any callback runs, so code that
    reads `env.now` sees the same value either way, and runs unchanged on a plain `simpy.Environment`.
    """

    now: float = 0.0  # a plain attribute: shadows SimPy's read-only property

    def __init__(self, initial_time: float = 0.0) -> None:
        super().__init__(initial_time)
        self.now = self._now

    def run(self, until: simpy.Event | float | None = None) -> Any:
        """SimPy's `run`; until an event (how a day runs), by `_steps`, `step` in a loop without a method
        call or a look-up of the queue per event (a few per cent of a day's run)."""
        if not isinstance(until, simpy.Event) or until.callbacks is None:
            return super().run(until)  # until an instant, or the end: SimPy's own loop over `step`
        until.callbacks.append(StopSimulation.callback)
        try:
            self._steps()
        except StopSimulation as stop:
            return stop.args[0]  # the value of `until`
        except EmptySchedule:
            raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {until}') from None
        raise AssertionError("unreachable: `_steps` ends only by raising")

    def _steps(self) -> None:
        """Process events as `step` does, one after another, until the schedule is empty (`EmptySchedule`)
        or an event stops the run (`StopSimulation`)."""
        queue = self._queue
        while True:
            try:
                at, _, _, event = heappop(queue)
            except IndexError:
                raise EmptySchedule from None
            self._now = self.now = at
            callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
            try:
                for callback in callbacks:
                    callback(event)
            except StopSimulation:
                _resume_later(self, event, callbacks, callback)
                raise
            if not event._ok and not hasattr(event, "_defused"):
                _crash(event)

    def step(self) -> None:
        """Process the next event: SimPy 4.1's `Environment.step`, which also sets `now`."""
        try:
            at, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        self._now = self.now = at
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            _resume_later(self, event, callbacks, callback)
            raise
        if not event._ok and not hasattr(event, "_defused"):
            _crash(event)


def _resume_later(
    env: simpy.Environment, event: simpy.Event, callbacks: list[Any], stopped_in: Callable[[Any], None]
) -> None:
    """As SimPy does when a callback stops the run: keep the event's callbacks not run yet, to be
    processed when the simulation resumes."""
    event.callbacks = callbacks[callbacks.index(stopped_in) + 1 :]
    env.schedule(event, EventPriority(-1))


def _crash(event: simpy.Event) -> None:
    """A failed event nobody defused crashes the run, with a copy of its exception (as SimPy's `step`)."""
    failure: Any = event._value
    exc = type(failure)(*failure.args)
    exc.__cause__ = failure
    raise exc


def at_instant(env: simpy.Environment, at: float) -> simpy.Event:
    """An event that fires at exactly `at` (not before now), for a process to yield.

    Pushed onto SimPy's event queue exactly as `Environment.schedule` does, with the absolute time in place
    of `now + delay`.
    """
    event = env.event()
    event._ok = True
    event._value = None
    heappush(env._queue, (max(at, env._now), NORMAL, next(env._eid), event))
    return event


class Tick:
    """The least an event needs for SimPy's loop: callbacks, a value for them, and that it succeeded."""

    __slots__ = ("_ok", "callbacks", "value")
    _value = None

    def __init__(self, callback: Callable[[Any], None], value: Any) -> None:
        self.callbacks: list[Callable[[Any], None]] | None = [callback]
        self.value = value
        # a slot, not a class attribute: the loop reads it after every tick, and reading a class attribute
        # through an instance costs several times a slot's
        self._ok = True


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


class Alarm:
    """One callback rung at instants set one at a time (the next arrival), reusing a single tick.

    At most one ring may be pending: `set` again only from the callback or after it has run. Reusing the
    tick saves an allocation per ring on the busiest path of a run.
    """

    __slots__ = ("_callbacks", "_env", "_tick")

    def __init__(self, env: simpy.Environment, callback: Callable[[Any], None]) -> None:
        self._env = env
        self._callbacks = [callback]
        self._tick: Any = Tick(callback, None)

    def set(self, at: float) -> None:
        """Ring at exactly `at` (not before now)."""
        env = self._env
        tick = self._tick
        tick.callbacks = self._callbacks  # SimPy's loop cleared them when the tick last rang
        now = env._now
        # `max(at, now)` without the call of a builtin (the same value: max keeps `at` unless now > at)
        heappush(env._queue, (now if now > at else at, NORMAL, next(env._eid), tick))


class Timer:
    """Callbacks rung one at a time, each given the same value (an agent's ring, talk and wrap-up), reusing
    a single tick: the common call's steps cost the loop no allocation of a tick each.

    At most one ring may be pending: `after` again only from the callback or after it has run.
    """

    __slots__ = ("_env", "_tick")

    def __init__(self, env: simpy.Environment, value: Any) -> None:
        self._env = env
        self._tick: Any = Tick(_unset, value)
        self._tick.callbacks = None

    def after(self, delay: float, callback: Callable[[Any], None]) -> None:
        """Call `callback(tick)` `delay` seconds from now (`tick.value` is the timer's value), as
        `call_after` does."""
        env = self._env
        tick = self._tick
        tick.callbacks = [callback]
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), tick))


def _unset(_: Any) -> None:
    raise RuntimeError("timer rung before it was set")
