"""How many calls come, of which type, when: mean calls per interval and call type over the chosen days,
whether the type mix changes through the day, and how much day totals vary beyond Poisson (busyness).

A Poisson day with mean total m has variance m; real days vary more. With a gamma day factor of mean 1 and
cv c (the scenario's `arrivals.busyness`), a day's total has variance m + c^2 m^2, so
c^2 = (var - mean) / mean^2 estimates it (method of moments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.fitting.days import Window

MIN_BUSY_DAYS = 8
"""Days of a type needed before day-to-day variation (busyness) is estimated."""
MIX_ALPHA = 0.001
"""A type mix that changes through the day with a chi-square p-value below this is kept per interval."""
DISPERSION_ALPHA = 0.05
"""Busyness is fitted only when the day totals' variance beyond the mean is significant at this level (the
index-of-dispersion test: (days - 1) variance / mean is chi-square with days - 1 degrees of freedom for
Poisson days); else a few days' noise would pass for busyness."""
SELF_SERVED = "self_service"


@dataclass(frozen=True)
class Volumes:
    """Calls per day, interval and type (`counts[day, interval, type]`), the types, and what the
    scenario's `arrivals` should say (`arrivals`), with notes."""

    types: tuple[str, ...]
    counts: np.ndarray
    arrivals: dict[str, Any]
    mix_changes: bool
    mix_p_value: float
    busyness_cv: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def mean_per_interval(self) -> np.ndarray:
        """Mean calls per interval and type (interval x type)."""
        return np.asarray(self.counts.mean(axis=0))

    @property
    def day_totals(self) -> np.ndarray:
        return np.asarray(self.counts.sum(axis=(1, 2)))


def fit_volumes(window: Window, types: tuple[str, ...]) -> Volumes:
    """Mean calls per interval and type over the window's days: `per_interval` with one reason mix when the
    mix stays put through the day, else `per_interval_by_reason` (a chi-square test of type against
    interval on the pooled counts); busyness from the day totals when there are enough days."""
    calls = window.calls
    notes: list[str] = []
    offered = calls["outcome"].astype(str).to_numpy() != SELF_SERVED
    served_in_menu = int((~offered).sum())
    if served_in_menu:
        notes.append(
            f"{served_in_menu} call(s) resolved in the phone menu (self_service) are not counted as arrivals: "
            "the fitted scenario has no menu"
        )
    blocked = int((calls["outcome"].astype(str) == "blocked").sum())
    if blocked:
        notes.append(
            f"{blocked} blocked call(s) are counted as arrivals; lines are not fitted, so the fitted "
            "scenario queues them instead"
        )
    kept = calls[offered]
    type_index = {name: index for index, name in enumerate(types)}
    which = kept["call_type"].astype(str).map(type_index).to_numpy(dtype=np.int64)
    counts = np.zeros((window.day_count, window.interval_count, len(types)))
    np.add.at(counts, (kept["day_number"].to_numpy(), kept["interval"].to_numpy(), which), 1.0)
    means = counts.mean(axis=0)
    changes, p_value = _mix_changes(counts.sum(axis=0))
    if changes:
        arrivals: dict[str, Any] = {
            "per_interval_by_reason": {name: _rounded(means[:, index]) for index, name in enumerate(types)}
        }
        notes.append(
            f"the call-type mix changes through the day (chi-square p = {p_value:.2g}): each type has its "
            "own calls per interval"
        )
    else:
        totals = means.sum(axis=0)
        shares = totals / totals.sum()
        arrivals = {"per_interval": _rounded(means.sum(axis=1))}
        arrivals["reasons"] = _shares(types, shares)
        if len(types) > 1:
            notes.append(
                f"the call-type mix does not change detectably through the day (chi-square p = {p_value:.2g}): "
                "one mix for the whole day"
            )
    cv, busy_notes = busyness(counts.sum(axis=(1, 2)))
    notes += busy_notes
    if cv is not None:
        arrivals["busyness"] = {"cv": round(cv, 4)}
    notes.append(
        f"arrivals: mean calls per {window.interval:g} s interval over {window.day_count} day(s), "
        f"{len(kept)} calls; within an interval, arrivals are taken to be Poisson"
    )
    return Volumes(types, counts, arrivals, changes, p_value, cv, notes)


def busyness(totals: np.ndarray) -> tuple[float | None, list[str]]:
    """The gamma cv of the day factor from day totals (None, with why, when it cannot be told)."""
    days = len(totals)
    if days < MIN_BUSY_DAYS:
        return None, [f"busyness not fitted: {days} day(s), at least {MIN_BUSY_DAYS} are needed"]
    mean = float(np.mean(totals))
    variance = float(np.var(totals, ddof=1))
    excess = (variance - mean) / mean**2 if mean > 0 else 0.0
    if excess <= 0:
        return None, [
            f"busyness omitted: day totals (mean {mean:.1f}, variance {variance:.1f} over {days} days) vary no "
            "more than Poisson days would"
        ]
    from scipy.stats import chi2

    p_value = float(chi2.sf((days - 1) * variance / mean, days - 1))  # index-of-dispersion test
    if p_value >= DISPERSION_ALPHA:
        return None, [
            f"busyness omitted: day totals (mean {mean:.1f}, variance {variance:.1f} over {days} days) are "
            f"within what Poisson days give (dispersion test p = {p_value:.2g})"
        ]
    cv = min(math.sqrt(excess), 3.0)
    return cv, [
        f"busyness cv {cv:.3f} from {days} day totals (mean {mean:.1f}, variance {variance:.1f}; dispersion "
        f"test p = {p_value:.2g}): cv^2 = (variance - mean) / mean^2"
    ]


def _mix_changes(pooled: np.ndarray) -> tuple[bool, float]:
    """Whether the type shares differ between intervals (chi-square test of independence on the pooled
    interval x type counts; intervals and types without calls left out) and its p-value."""
    from scipy.stats import chi2_contingency

    table = pooled[pooled.sum(axis=1) > 0][:, pooled.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return False, 1.0
    p_value = float(chi2_contingency(table)[1])
    return p_value < MIX_ALPHA, p_value


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(value), 3) for value in values]


def _shares(types: tuple[str, ...], shares: np.ndarray) -> dict[str, float]:
    """Shares rounded to 6 places that still sum to 1 (the largest absorbs the rounding)."""
    rounded = [round(float(share), 6) for share in shares]
    largest = int(np.argmax(rounded))
    rounded[largest] = round(1.0 - sum(rounded) + rounded[largest], 6)
    return dict(zip(types, rounded, strict=True))
