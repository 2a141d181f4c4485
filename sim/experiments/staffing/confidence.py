"""Plans with stated confidence: when does an interval "meet" a goal, and how sure is that verdict?

Three criteria, judged per interval and department on replications of a day:

- **the mean** (the default): the mean over replications reaches every floor and stays under every ceiling;
- **confidence c** (`--confidence 0.95`): the one-sided Student-t bound at confidence c of each goal's mean
  clears it: `mean - t(c, n - 1) * sd / sqrt(n) >= floor`, `mean + t(c, n - 1) * sd / sqrt(n) <= ceiling`
  (n: replications with a value; with fewer than two the mean is judged, as there is no spread);
- **days met d** (`--days-met 0.9`): the interval met every goal on at least a share d of the simulated days
  (each replication judged on its own figures; a day without calls in the interval missed nothing). With
  busy days (`arrivals.busyness`) this is what a planner promises about real days, beyond the mean.

Confidence and days met may be combined; each is then required. Every interval also gets a **verdict** that
is exactly one of `met` (the criterion holds), `within CI` (it does not, but the 95% confidence interval of
every mean reaches its goal, and with days met the 95% Wilson interval of the share reaches d: more
replications could turn it) and `missed` (beyond noise). "within CI" is never counted as met.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache

import numpy as np

MET, WITHIN_CI, MISSED = "met", "within CI", "missed"
VERDICTS = (MET, WITHIN_CI, MISSED)
"""A plan row's verdict, exactly one of these."""
TOLERANCE = 1e-12
WILSON_Z = 1.959963984540054
"""The normal quantile of a two-sided 95% interval, for the Wilson interval of a share of days."""


def check_share(value: float | None, option: str) -> float | None:
    """`value` if it is None or strictly between 0 and 1; else a ValueError naming `option`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) < 1:
        raise ValueError(f"{option} {value!r}: expected a share strictly between 0 and 1, e.g. 0.95")
    return float(value)


@cache
def one_sided_quantile(confidence: float, count: int) -> float:
    """Student-t quantile `t(confidence, count - 1)`: a one-sided bound's multiple of the standard error."""
    from scipy import stats  # a second to import: only when a confidence is asked for

    return float(stats.t.ppf(confidence, max(count - 1, 1)))


def bound(figures: Mapping[str, float], key: str, sign: float, confidence: float | None) -> float:
    """The figure judged against a goal: the mean, or its one-sided bound at `confidence` on the
    unfavourable side (`sign` +1 for a floor, -1 for a ceiling): the mean less (floor) or plus (ceiling)
    `t(confidence, n - 1)` standard errors, when it has at least two values."""
    value = float(figures.get(key, math.nan))
    if confidence is None or math.isnan(value):
        return value
    spread, count = figures.get(f"{key}_sd", math.nan), figures.get(f"{key}_n", 0.0)
    if spread is None or math.isnan(spread) or count is None or count < 2:
        return value
    error = spread / math.sqrt(count)
    return value - sign * one_sided_quantile(confidence, int(count)) * error


def reaches(value: float, goal: float, sign: float) -> bool:
    """Whether `value` reaches a floor (`sign` +1) or stays under a ceiling (`sign` -1); unknown: reached."""
    return math.isnan(value) or sign * (value - goal) >= -TOLERANCE


def wilson(share: float, count: float) -> tuple[float, float]:
    """The 95% Wilson score interval of a share observed on `count` days."""
    if count <= 0 or math.isnan(share):
        return 0.0, 1.0
    z2 = WILSON_Z**2
    centre = (share + z2 / (2 * count)) / (1 + z2 / count)
    half = WILSON_Z * math.sqrt(share * (1 - share) / count + z2 / (4 * count**2)) / (1 + z2 / count)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def days_met_holds(figures: Mapping[str, float], days_met: float | None) -> bool:
    """Whether the share of days that met every goal (`met_share`) reaches `days_met` (None: no such goal)."""
    if days_met is None:
        return True
    share = figures.get("met_share")
    if share is None or math.isnan(share):
        return True  # no replications judged (cannot happen for a pooled cell): nothing missed
    return share >= days_met - TOLERANCE


def days_met_unclear(figures: Mapping[str, float], days_met: float | None) -> bool:
    """Whether `days_met` lies within the 95% Wilson interval of the share of days met."""
    if days_met is None or "met_share" not in figures:
        return False
    low, high = wilson(figures["met_share"], figures.get("replications", 0.0))
    return low <= days_met <= high


def replication_verdicts(
    stacked: np.ndarray,
    columns: Mapping[str, int],
    floors: Mapping[str, float | np.ndarray],
    ceilings: Mapping[str, float | np.ndarray],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per replication and cell, whether that replication's own figures met every goal, and per goal.

    `stacked`: replications x cells x figures; `columns`: a figure's index there; a goal is one number, or
    one per cell (NaN: that cell has no such goal). A figure unknown in a replication (no calls, nobody
    answered) misses nothing, as `Targets.met` judges a mean."""
    each: dict[str, np.ndarray] = {}
    for key, goal in floors.items():
        values = stacked[:, :, columns[key]]
        each[key] = ~(values < goal - TOLERANCE)  # NaN compares False: met
    for key, goal in ceilings.items():
        values = stacked[:, :, columns[key]]
        each[key] = ~(values > goal + TOLERANCE)
    every = np.ones(stacked.shape[:2], dtype=bool)
    for verdicts in each.values():
        every &= verdicts
    return every, each
