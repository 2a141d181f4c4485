"""Step functions integrated over reporting intervals: how many agents are scheduled (or logged in, or
busy) on average in each interval. Plain numpy, so the pre-run checks (`callsim validate`'s stability
warning) use it without loading the tables' pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def integrate_levels(times: np.ndarray, deltas: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Integral over each [edges[i], edges[i+1]) of the step function that jumps by `deltas` at `times`."""
    if len(edges) < 2:
        return np.zeros(0)
    if len(times) == 0:
        return np.zeros(len(edges) - 1)
    order = np.argsort(times, kind="stable")
    times, deltas = times[order], deltas[order]
    level = np.cumsum(deltas)
    area = np.concatenate(([0.0], np.cumsum(level[:-1] * np.diff(times))))

    def area_at(x: np.ndarray) -> np.ndarray:
        k = np.searchsorted(times, x, side="right") - 1
        inside = k >= 0
        result = np.zeros(len(x))
        kk = k[inside]
        result[inside] = area[kk] + level[kk] * (x[inside] - times[kk])
        return result

    return np.diff(area_at(edges))


def scheduled_agents(levels: Sequence[tuple[float, int]], edges: np.ndarray) -> np.ndarray:
    """Mean scheduled agents per interval from a staffing step function."""
    times = np.array([at for at, _ in levels])
    counts = np.array([count for _, count in levels], dtype=float)
    deltas = np.diff(np.concatenate(([0.0], counts)))
    widths = np.diff(edges)
    area = integrate_levels(times, deltas, edges)
    return np.divide(area, widths, out=np.zeros_like(area), where=widths > 0)
