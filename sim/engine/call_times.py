"""The fast engine's times that depend on a call's reason, on the agent group that answers it, or on the
interval it arrived in (`call_types`, `by_reason`, `mean_by_interval` / `scale_by_interval`).

Which spec and stream a time comes from is decided in `sim.model.call_types` (shared with the reference
model). A scenario without any of this never calls in here: `Centre.times` stays None and the queues' own
samplers draw as before, in the same order, so its sample paths are unchanged.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import numpy as np

from sim.model.call_types import patience_spec, uses_call_times, work_spec
from sim.model.dists import Sampler, _Spec
from sim.model.scenario import Scenario
from sim.model.streams import Streams

# `sim.engine.centre`'s objects: that module imports this one, so they are not imported back.
Centre: TypeAlias = Any
Agent: TypeAlias = Any
Call: TypeAlias = Any


class Draw:
    """One spec's draws through its stream, times the factor of the interval the call arrived in."""

    __slots__ = ("factors", "last", "sample", "width")

    def __init__(self, sample: Sampler, spec: _Spec, scenario: Scenario) -> None:
        self.sample = sample
        self.factors = spec.interval_factors()
        self.width = scenario.interval
        self.last = scenario.interval_count - 1

    def __call__(self, arrived_at: float) -> float:
        factors = self.factors
        if factors is None:
            return self.sample()
        index = int(arrived_at // self.width)
        return self.sample() * factors[index if index < self.last else self.last]


class CallTimes:
    """Per department and reason, the handle and wrap draws a call gets on joining the queue; per agent
    group and reason, the group's own (None where it has none); per reason, a redial's patience."""

    def __init__(self, centre: Centre) -> None:
        scenario = centre.scenario
        streams = centre.streams
        self.scenario = scenario
        samplers: dict[str, Sampler] = {}
        for queue in centre.queues:  # the departments' own samplers: the same streams, the same objects
            samplers[f"handle_time.{queue.name}"] = queue.handle
            samplers[f"wrap_time.{queue.name}"] = queue.wrap
        if centre.redial_patience is not None:
            samplers["redial.patience"] = centre.redial_patience
        self._samplers = samplers
        self._streams = streams
        reasons = centre.reason_names
        self.work = [
            [
                (self._draw("handle_time", name, reason), self._draw("wrap_time", name, reason))
                for reason in reasons
            ]
            for name in centre.department_names
        ]
        self.group_work: list[list[tuple[Draw | None, Draw | None]] | None] = []
        for pool in centre.pools:
            group = scenario.agent_groups.get(pool.name) if pool.home < 0 else None
            if group is None or not group.by_reason:
                self.group_work.append(None)
                continue
            self.group_work.append(
                [
                    (self._own(pool.name, reason, "handle_time"), self._own(pool.name, reason, "wrap_time"))
                    for reason in reasons
                ]
            )
        self.redial_patience: list[Draw | None] = []
        for reason in reasons:
            stream, spec = patience_spec(scenario, reason, redial=True)
            self.redial_patience.append(None if spec is None else self._from(stream, spec))
        ivr = scenario.ivr
        self.redial_menu: Draw | None = None
        if ivr is not None and centre.redial_menu is not None:
            self.redial_menu = Draw(centre.redial_menu, ivr.menu_time, scenario)

    def _from(self, stream: str, spec: _Spec) -> Draw:
        sampler = self._samplers.get(stream)
        if sampler is None:
            sampler = self._samplers[stream] = Sampler(spec, self._streams.generator(stream))
        return Draw(sampler, spec, self.scenario)

    def _draw(self, kind: str, department: str, reason: str) -> Draw:
        stream, spec, _ = work_spec(self.scenario, kind, department, reason)  # type: ignore[arg-type]
        return self._from(stream, spec)

    def _own(self, group: str, reason: str, kind: str) -> Draw | None:
        department = next(iter(self.scenario.departments))  # any: only the group's own spec is kept
        stream, spec, own = work_spec(self.scenario, kind, department, reason, group)  # type: ignore[arg-type]
        return self._from(stream, spec) if own else None

    def give_work(self, call: Call, department: int) -> None:
        """The handle and wrap time of the call in `department`, drawn as it joins the queue."""
        handle, wrap = self.work[department][call.reason]
        call.handle_time = handle(call.arrived_at)
        call.wrap_time = wrap(call.arrived_at)

    def group_time(self, agent: Agent, call: Call, handle_time: float) -> float:
        """The talk time of a call answered by a group's agent: the group's own time for the reason where
        it has one (its speed not applied; not for a caller called back after a hold, whose work left is
        known), else `handle_time`; the group's own wrap time replaces the call's likewise."""
        own = self.group_work[agent.pool.index]
        if own is None:
            return handle_time
        handle, wrap = own[call.reason]
        if wrap is not None:
            agent.wrap_time = wrap(call.arrived_at)
        if handle is not None and not call.researched:
            return handle(call.arrived_at)
        return handle_time

    def redial(self, reason: int, at: float) -> float:
        """A redial's patience (infinite without one)."""
        draw = self.redial_patience[reason]
        return math.inf if draw is None else draw(at)

    def menu(self, at: float) -> float:
        """A redial's time in the phone menu."""
        assert self.redial_menu is not None
        return self.redial_menu(at)


def attach(centre: Centre) -> None:
    """Give the centre its `times` when the scenario needs them (else leave None: the plain path)."""
    if uses_call_times(centre.scenario):
        centre.times = CallTimes(centre)


def arrival_factors(scenario: Scenario, spec: _Spec, arrived_at: np.ndarray) -> np.ndarray | None:
    """Each call's multiplier of `spec`'s draws, by the interval of its arrival (None without a curve)."""
    factors = spec.interval_factors()
    if factors is None:
        return None
    index = np.minimum((arrived_at // scenario.interval).astype(np.int64), scenario.interval_count - 1)
    return np.asarray(factors, dtype=float)[np.maximum(index, 0)]


def patience_of(
    scenario: Scenario, streams: Streams, arrived_at: np.ndarray, reason: np.ndarray, patience: np.ndarray
) -> np.ndarray:
    """Today's callers' patience with each reason's own (from its stream `patience.<reason>`) and curves
    applied; `patience` is what the scenario's patience gave (drawn as without call types)."""
    if scenario.patience is not None:
        factors = arrival_factors(scenario, scenario.patience, arrived_at)
        if factors is not None:
            patience = patience * factors
    for index, name in enumerate(scenario.reason_mix()):
        stream, spec = patience_spec(scenario, name)
        if spec is None or stream == "patience":
            continue
        mine = np.flatnonzero(reason == index)
        own = spec.draw_block(streams.generator(stream), len(mine))
        factors = arrival_factors(scenario, spec, arrived_at[mine])
        patience[mine] = own if factors is None else own * factors
    return patience
