"""The scenario's intervals and its arrival rate over them: each interval's length, and calls per second in
each, as a step function. Used by the engine to draw arrivals, and by the offered-load checks and the
staffing search without the engine.
"""

from __future__ import annotations

import numpy as np

from sim.model.scenario import Scenario


def rate_per_second(scenario: Scenario) -> np.ndarray:
    """The arrival rate in each interval, calls per second."""
    arrivals = scenario.arrivals
    if arrivals.per_interval is not None:
        widths = interval_widths(scenario)
        return np.asarray(arrivals.per_interval, dtype=float) / widths
    per_hour = arrivals.per_hour or 0.0
    return np.full(scenario.interval_count, per_hour / 3600.0)


def interval_widths(scenario: Scenario) -> np.ndarray:
    """Each interval's length in seconds (the last one may be cut short by the end of the day)."""
    edges = np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)
    return np.diff(edges)
