"""When calls come and who they are: Poisson arrivals with a piecewise-constant rate (or a replayed
trace), and each caller's reason and patience, drawn up front from their own streams.

Arrival times come from inverting the cumulative rate at unit-exponential steps, so a variant with a
different rate still shares its random numbers with the base case.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.call_times import arrival_factors, patience_of
from sim.engine.caller import IvrChoice, arrive
from sim.engine.centre import Call, Centre
from sim.engine.clock import Alarm, call_at
from sim.engine.routing import ivr_route, right_department
from sim.model.call_types import uses_call_times
from sim.model.rates import interval_widths, rate_per_second, reason_rates
from sim.model.scenario import Scenario
from sim.model.streams import Streams

_COMPACT_EVERY = 1024
"""Arrivals between offers to compact the event log: often enough that the values it packs are still
in the processor's cache (see `sim.engine.log`)."""


@dataclass(frozen=True)
class Callers:
    """Everyone who will call today, in arrival order (index i is call id i + 1)."""

    arrived_at: np.ndarray
    reason: np.ndarray
    patience: np.ndarray
    handle_time: np.ndarray | None = None
    """Traced calls' own handle times at their first department (NaN: drawn), or None without any."""

    def __len__(self) -> int:
        return len(self.arrived_at)


def poisson_times(
    scenario: Scenario, rng: np.random.Generator, factor: float = 1.0, rates: np.ndarray | None = None
) -> np.ndarray:
    """Arrival instants of a Poisson process with the scenario's piecewise-constant rate (or `rates`,
    calls per second in each interval), times `factor`, the day's busyness."""
    rates = (rate_per_second(scenario) if rates is None else rates) * factor
    widths = interval_widths(scenario)
    cumulative = np.concatenate(([0.0], np.cumsum(rates * widths)))
    total = cumulative[-1]
    if total <= 0:
        return np.empty(0)
    expected = int(total + 10 * math.sqrt(total) + 100)
    steps = np.cumsum(rng.standard_exponential(expected))
    while steps[-1] < total:
        steps = np.concatenate((steps, steps[-1] + np.cumsum(rng.standard_exponential(expected))))
    steps = steps[steps < total]
    edges = np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)
    interval = np.searchsorted(cumulative, steps, side="right") - 1
    interval = np.clip(interval, 0, len(rates) - 1)
    times = edges[interval] + (steps - cumulative[interval]) / rates[interval]
    return np.minimum(times, np.nextafter(scenario.duration, 0))


def draw_callers(scenario: Scenario, streams: Streams, factor: float = 1.0) -> Callers:
    """Today's callers: arrival times (at the day's busyness `factor`), reasons (indices into the reason
    mix) and patience."""
    arrivals = scenario.arrivals
    mix = scenario.reason_mix()
    names = list(mix)
    if arrivals.trace_times is not None:
        arrived_at = np.asarray(arrivals.trace_times, dtype=float)
    elif arrivals.per_interval_by_reason is not None:
        arrived_at, reason = _times_by_reason(scenario, streams, factor, names)
    else:
        arrived_at = poisson_times(scenario, streams.generator("arrivals"), factor)
    count = len(arrived_at)
    if arrivals.per_interval_by_reason is None:
        probabilities = np.asarray([mix[name] for name in names], dtype=float)
        reason = streams.generator("reasons").choice(
            len(names), size=count, p=probabilities / probabilities.sum()
        )
    if arrivals.trace_reasons is not None:
        given = np.asarray([names.index(r) if r else -1 for r in arrivals.trace_reasons])
        reason = np.where(given >= 0, given, reason)
    if scenario.patience is None:
        patience = np.full(count, math.inf)
    else:
        patience = scenario.patience.draw_block(streams.generator("patience"), count)
    if uses_call_times(scenario):  # each reason's own patience, and patience through the day
        patience = patience_of(scenario, streams, arrived_at, reason, patience)
    if arrivals.trace_patience is not None:  # a traced call's own patience replaces the drawn one
        own = own_values(arrivals.trace_patience)
        patience = np.where(np.isnan(own), patience, own)
    handle_time = None
    if arrivals.trace_handle_times is not None:  # NaN: drawn as usual at the first department
        handle_time = own_values(arrivals.trace_handle_times)
    return Callers(arrived_at, reason.astype(np.int64), patience, handle_time)


def _times_by_reason(
    scenario: Scenario, streams: Streams, factor: float, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each reason's own Poisson arrivals (`arrivals.per_interval_by_reason`, stream `arrivals.<reason>`),
    merged in time order (ties: the mix's order), with each caller's reason index."""
    rates = reason_rates(scenario)
    times = [
        poisson_times(scenario, streams.generator(f"arrivals.{name}"), factor, rates[name]) for name in names
    ]
    reason = np.concatenate([np.full(len(t), index, dtype=np.int64) for index, t in enumerate(times)])
    arrived_at = np.concatenate(times)
    order = np.argsort(arrived_at, kind="stable")
    return arrived_at[order], reason[order]


def own_values(values: tuple[float | None, ...]) -> np.ndarray:
    """A trace column of calls' own values as floats, NaN where a cell was left empty."""
    return np.array([math.nan if value is None else value for value in values], dtype=float)


@dataclass(frozen=True)
class MenuPlan:
    """What the IVR will do with each caller, drawn up front: menu time, self-service, and its route."""

    menu_time: np.ndarray
    self_served: np.ndarray
    department: np.ndarray


def plan_menu(centre: Centre, callers: Callers) -> MenuPlan | None:
    """Each caller's IVR outcome (None without an IVR); from the `ivr.*` streams, in arrival order."""
    ivr = centre.scenario.ivr
    if ivr is None:
        return None
    count = len(callers)
    streams = centre.streams
    menu_time = ivr.menu_time.draw_block(streams.generator("ivr.menu_time"), count)
    factors = arrival_factors(centre.scenario, ivr.menu_time, callers.arrived_at)
    if factors is not None:  # the menu time through the day
        menu_time = menu_time * factors
    draws = streams.generator("ivr.decisions").random((count, 3))
    shares = np.array([ivr.self_service.get(name, 0.0) for name in centre.reason_names])
    self_served = draws[:, 0] < shares[callers.reason]
    department = np.empty(count, dtype=np.int64)
    for index, reason in enumerate(callers.reason.tolist()):
        department[index] = ivr_route(
            draws[index, 1],
            draws[index, 2],
            ivr.accuracy,
            centre.resolvers[reason],
            centre.unresolving[reason],
        )
    return MenuPlan(menu_time, self_served, department)


_NUMPY = {"d": np.float64, "q": np.int64, "b": np.int8}


def _numbers(typecode: str, values: np.ndarray) -> array[Any]:
    """A compact array of plain numbers (indexing gives Python numbers, at little cost per caller)."""
    numbers: array[Any] = array(typecode)
    numbers.frombytes(np.ascontiguousarray(values, dtype=_NUMPY[typecode]).tobytes())
    return numbers


class Doors:
    """Bring each caller in at their time, then close the doors: no arrivals after the day ends.

    Each arrival schedules the next one (a callback at an instant, not a process), which keeps the
    busiest loop of the simulation cheap.
    """

    def __init__(self, centre: Centre, callers: Callers) -> None:
        self.centre = centre
        self.first_department = [right_department(resolvers) for resolvers in centre.resolvers]
        self.priorities = [centre.scenario.arrivals.priority.get(name, 1) for name in centre.reason_names]
        # Typed arrays, not lists: a day of a million callers would hold three million Python numbers.
        self.times = _numbers("d", callers.arrived_at)
        self.reasons = _numbers("q", callers.reason)
        self.patiences = _numbers("d", callers.patience)
        self.own_handle_times = None if callers.handle_time is None else _numbers("d", callers.handle_time)
        self.plain_work = centre.times is None and self.own_handle_times is None
        """Each call's work is its first department's own draws (no reason, curve or traced time): the
        common case, tested once per call."""
        self.plan = plan_menu(centre, callers)
        if self.plan is not None:
            self.menu_times = _numbers("d", self.plan.menu_time)
            self.self_served = _numbers("b", self.plan.self_served)
            self.routed = _numbers("q", self.plan.department)
        self.index = 0
        self.count = len(self.times)  # today's callers
        plain = self.plan is None and self.plain_work  # decided once, not tested per call
        # one arrival is pending at a time: one tick reused
        self._alarm = Alarm(centre.env, self._arrive_plainly if plain else self._arrive)
        self._ring_at = self._alarm.set
        centre.next_call_id = len(callers) + 1  # calls made later (redials) are numbered after today's

    def open(self) -> None:
        """Schedule the first caller (or the close, on a day without callers)."""
        self._schedule_next()

    def _schedule_next(self) -> None:
        if self.index < self.count:
            self._ring_at(self.times[self.index])
        else:
            call_at(self.centre.env, self.centre.scenario.duration, self._close)  # the day runs to its close

    def _arrive_plainly(self, _: Any) -> None:
        """`_arrive` on a day without an IVR whose calls' work is their first department's own draws (the
        common day, decided when the doors are built): the same steps, with the tests of the plan and of
        the work skipped and the next arrival scheduled in line, not by `_schedule_next` (a call fewer per
        caller on the busiest path of a run)."""
        centre = self.centre
        index = self.index
        next_index = self.index = index + 1
        times = self.times
        reason = self.reasons[index]
        call = Call(next_index, reason, self.priorities[reason], times[index], self.patiences[index])
        department = call.department = self.first_department[reason]
        queue = centre.queues[department]
        call.handle_time = queue.handle()
        call.wrap_time = queue.wrap()
        arrive(centre, call)
        if not index % _COMPACT_EVERY:
            centre.log.maybe_compact()
        if next_index < self.count:
            self._ring_at(times[next_index])
        else:
            self._schedule_next()  # the close

    def _arrive(self, _: Any) -> None:
        centre = self.centre
        index = self.index
        self.index = index + 1
        reason = self.reasons[index]
        call = Call(index + 1, reason, self.priorities[reason], self.times[index], self.patiences[index])
        plan = self.plan
        department = self.first_department[reason] if plan is None else self.routed[index]
        queue = centre.queues[department]
        call.department = department
        if self.plain_work:
            call.handle_time = queue.handle()
            call.wrap_time = queue.wrap()
        else:
            self._give_work(call, department, index)
        if plan is None:
            arrive(centre, call)
        else:
            arrive(centre, call, IvrChoice(self.menu_times[index], bool(self.self_served[index])))
        if not index % _COMPACT_EVERY:
            centre.log.maybe_compact()
        self._schedule_next()

    def _give_work(self, call: Call, department: int, index: int) -> None:
        """The call's handle and wrap time by reason or by the interval of arrival, or a traced call's own
        handle time (the usual draw is made all the same, so the other calls keep their draws)."""
        give_work(self.centre, call, department)
        own = self.own_handle_times
        if own is not None and own[index] == own[index]:  # not NaN: the traced call's own handle time
            call.handle_time = own[index]

    def _close(self, _: Any) -> None:
        self.centre.closed = True
        self.centre.check_done()


def give_work(centre: Centre, call: Call, department: int) -> None:
    """A new call's handle and wrap time, as its first department draws them: by the department's
    distributions, or by reason or the interval of arrival (`centre.times`)."""
    if centre.times is None:
        queue = centre.queues[department]
        call.handle_time = queue.handle()
        call.wrap_time = queue.wrap()
    else:
        centre.times.give_work(call, department)
