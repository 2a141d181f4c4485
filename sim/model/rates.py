"""The scenario's intervals and its arrival rate over them: each interval's length, calls per second in
each, as a step function, and the day's busyness factor that scales them. Used by the engine to draw arrivals, and by the offered-load checks and the
staffing search without the engine.
"""

from __future__ import annotations

import numpy as np

from sim.model.scenario import Scenario
from sim.model.streams import Streams


def rate_per_second(scenario: Scenario) -> np.ndarray:
    """The arrival rate in each interval, calls per second."""
    arrivals = scenario.arrivals
    if arrivals.per_interval is not None:
        widths = interval_widths(scenario)
        return np.asarray(arrivals.per_interval, dtype=float) / widths
    if arrivals.per_interval_by_reason is not None:  # all reasons together
        return sum(reason_rates(scenario).values(), np.zeros(scenario.interval_count))
    per_hour = arrivals.per_hour or 0.0
    return np.full(scenario.interval_count, per_hour / 3600.0)


def reason_rates(scenario: Scenario) -> dict[str, np.ndarray]:
    """Each reason's arrival rate per interval, calls per second (`arrivals.per_interval_by_reason`;
    empty without it)."""
    widths = interval_widths(scenario)
    by_reason = scenario.arrivals.per_interval_by_reason or {}
    return {name: np.asarray(counts, dtype=float) / widths for name, counts in by_reason.items()}


def interval_widths(scenario: Scenario) -> np.ndarray:
    """Each interval's length in seconds (the last one may be cut short by the end of the day)."""
    edges = np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)
    return np.diff(edges)


def day_factor(scenario: Scenario, streams: Streams) -> float:
    """How busy this replication's day is: 1 without `arrivals.busyness`, else a draw from a gamma
    distribution with mean 1 and the given cv (shape 1/cv^2), from its own stream (so no other draw moves)."""
    busyness = scenario.arrivals.busyness
    if busyness is None:
        return 1.0
    shape = 1.0 / busyness.cv**2
    return float(streams.generator("busyness").gamma(shape, 1.0 / shape))
