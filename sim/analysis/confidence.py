"""Over replications: means and Student-t confidence half-widths, one definition for every consumer (the
replication summary and interval means here, the sweep's table, the staffing search, the API and the plots).

scipy is imported inside `half_widths`, not at the top: `scipy.stats` takes a second to import and a single
day needs no interval (`callsim validate` and `import sim` must not load it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd


def half_widths(std: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Half-widths of Student-t confidence intervals for means, element by element, from each sample's
    standard deviation (`ddof=1`) and its number of values: `t(0.5 + confidence / 2, n - 1) * std / sqrt(n)`,
    NaN where there are fewer than two values. One array operation for every KPI, sweep point, interval or
    department at once; the one formula behind every half-width the simulator reports."""
    # Imported here, not at the top: scipy.stats takes a second to import and one day needs no interval.
    from scipy import stats

    spread = np.asarray(std, dtype=float)
    count = np.asarray(n, dtype=float)
    quantile = stats.t.ppf(0.5 + confidence / 2, np.maximum(count - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        width = quantile * spread / np.sqrt(np.maximum(count, 1))
    return np.where(count >= 2, width, math.nan)


def half_width(values: Sequence[float], confidence: float = 0.95) -> float:
    """Half-width of the Student-t confidence interval for the mean of independent replications."""
    data = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(data) < 2:
        return math.nan
    if np.ptp(data) == 0:
        return 0.0
    return float(half_widths(data.std(ddof=1), len(data), confidence))


def aggregate(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean of each KPI over replications, with `ci95` half-widths in the same shape and `reps`; and, from
    two replications on, `days_meeting_target` (`days_meeting_target`)."""
    means, widths = _aggregate(summaries)
    if len(summaries) >= 2:
        means["days_meeting_target"] = days_meeting_target(summaries)
    means["ci95"] = widths
    means["reps"] = len(summaries)
    return means


def meets_target(service_level: npt.ArrayLike, target: npt.ArrayLike) -> np.ndarray:
    """Whether each day's service level reached its target (a day without offered calls, NaN, counts as
    meeting it): the one rule behind `days_meeting_target` and the sweep's per-point share."""
    levels = np.asarray(service_level, dtype=float)
    return ~(levels < np.asarray(target, dtype=float) - 1e-12)


def days_meeting_target(summaries: Sequence[Mapping[str, Any]]) -> float:
    """Share of replications (simulated days) whose service level reached the target: the chance a day
    meets it, which the mean service level does not tell (a mean at the target can be half the days
    missing it)."""
    if not summaries:
        return math.nan
    levels = [s.get("service_level") for s in summaries]
    met = meets_target(
        [level if isinstance(level, int | float) else math.nan for level in levels],
        [s["service_level_target"] for s in summaries],
    )
    return float(met.mean())


def _aggregate(summaries: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    means: dict[str, Any] = {}
    widths: dict[str, Any] = {}
    for key, first in summaries[0].items():
        values = [s.get(key) for s in summaries]
        if isinstance(first, Mapping):
            means[key], widths[key] = _aggregate([v if isinstance(v, Mapping) else {} for v in values])
        elif isinstance(first, bool) or not isinstance(first, int | float):
            means[key] = first
        else:
            numbers = [float(v) for v in values if isinstance(v, int | float) and not math.isnan(float(v))]
            means[key] = float(np.mean(numbers)) if numbers else math.nan
            widths[key] = half_width(numbers)
    return means, widths


def aggregate_intervals(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Interval tables of several replications: the mean of each figure, plus `service_level_ci95`."""
    if len(tables) == 1:
        return tables[0]
    stacked = pd.concat(tables, keys=range(len(tables)), names=["rep", "row"]).reset_index(level="rep")
    keys = ["interval", "start", "department", "kind"]
    numeric = [c for c in stacked.columns if c not in (*keys, "rep", "met_target")]
    grouped = stacked.groupby(keys, sort=False)
    table = grouped[numeric].mean().reset_index()
    table["service_level_ci95"] = grouped["service_level"].agg(lambda s: half_width(list(s))).to_numpy()
    return table
