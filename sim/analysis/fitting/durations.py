"""Handle and wrap times from a log: per call type, a distribution and a curve through the day.

The curve is `scale_by_interval`: each interval's mean (by the interval in which the call arrived, as the
simulator applies it) over the overall mean; intervals with too few calls get 1.0. The distribution is
fitted to the values with the curve taken out (each divided by its interval's factor), so that the
distribution times the curve gives back each interval's mean: with enough values, the values themselves
(`empirical`, written to a CSV); else a lognormal or a gamma by maximum likelihood, whichever has the lower
AIC (both have two parameters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EMPIRICAL_AT = 200
"""Values needed for an empirical distribution; fewer get a fitted lognormal or gamma."""
CURVE_AT = 30
"""Calls an interval needs for its own factor in the curve; fewer: 1.0."""


@dataclass(frozen=True)
class TimeFit:
    """One fitted time (`what`, e.g. `handle_time of billing`): the scenario's distribution (`spec`, any
    `file` in it named in `file`, whose values are `file_values`), how it was chosen and on what."""

    what: str
    spec: dict[str, Any]
    observations: int
    method: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    curve: list[float] | None = None
    interval_means: list[float | None] = field(default_factory=list)
    interval_counts: list[int] = field(default_factory=list)
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    file: str | None = None
    file_values: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What fit.json says about it."""
        return {
            "what": self.what,
            "observations": self.observations,
            "method": self.method,
            "spec": self.spec,
            "candidates": self.candidates,
            "mean": float(np.mean(self.values)) if len(self.values) else None,
            "interval_means": self.interval_means,
            "interval_counts": self.interval_counts,
            "notes": self.notes,
        }


def fit_time(what: str, values: np.ndarray, intervals: np.ndarray, interval_count: int, file: str) -> TimeFit:
    """The distribution and curve of durations `values` (seconds, >= 0) of calls that arrived in
    `intervals`; `file` is the CSV name an empirical distribution's values go to."""
    values = np.asarray(values, dtype=float)
    intervals = np.asarray(intervals, dtype=np.int64)
    count = len(values)
    if count == 0:
        raise ValueError(f"{what}: no values to fit")
    counts = np.bincount(intervals, minlength=interval_count)[:interval_count]
    sums = np.bincount(intervals, weights=values, minlength=interval_count)[:interval_count]
    overall = float(values.mean())
    notes: list[str] = []
    means: list[float | None] = [float(s / c) if c else None for s, c in zip(sums, counts, strict=True)]
    curve: list[float] | None = None
    if overall > 0 and (counts >= CURVE_AT).sum() >= 2:
        factors = np.where(counts >= CURVE_AT, sums / np.maximum(counts, 1) / overall, 1.0)
        factors = np.maximum(factors, 1e-3)
        curve = [round(float(f), 4) for f in factors]
        if all(f == 1.0 for f in curve):  # the same all day (a fixed time): no curve
            curve = None
            factors = np.ones(interval_count)
        thin = int(((counts > 0) & (counts < CURVE_AT)).sum())
        if thin:
            notes.append(f"{thin} interval(s) with fewer than {CURVE_AT} calls keep factor 1.0 in the curve")
        values = values / factors[intervals]
    elif overall > 0:
        notes.append(f"no curve through the day: fewer than two intervals have {CURVE_AT} calls")
    spec, method, candidates, file_values = _distribution(values, file, notes)
    if curve is not None:
        spec["scale_by_interval"] = curve
    return TimeFit(
        what,
        spec,
        count,
        method,
        candidates,
        curve,
        means,
        [int(c) for c in counts],
        np.asarray(values),
        spec.get("file"),
        file_values,
        notes,
    )


def _distribution(
    values: np.ndarray, file: str, notes: list[str]
) -> tuple[dict[str, Any], str, list[dict[str, Any]], np.ndarray | None]:
    """The spec, how it was chosen, the candidates (name, spec, log-likelihood, AIC) and any file's values."""
    count = len(values)
    mean = float(values.mean())
    if mean <= 0:
        return {"dist": "fixed", "value": 0.0}, "every value is 0", [], None
    positive = values[values > 0]
    if count < 2 or float(np.std(values)) <= 1e-9 * mean:
        return {"dist": "fixed", "value": round(mean, 3)}, f"{count} value(s), all equal: fixed", [], None
    candidates = _candidates(positive) if len(positive) >= 2 else []
    if count >= EMPIRICAL_AT:
        kept = np.round(values, 3)
        return (
            {"dist": "empirical", "file": file},
            f"empirical: {count} values (at least {EMPIRICAL_AT}) are resampled as they are",
            candidates,
            kept,
        )
    zeros = count - len(positive)
    if zeros or not candidates:
        notes.append(f"{zeros} of {count} values are 0, which neither lognormal nor gamma allows")
        return (
            {"dist": "empirical", "values": [round(float(v), 3) for v in values]},
            f"empirical: {count} values, {zeros} of them 0",
            candidates,
            None,
        )
    best = min(candidates, key=lambda candidate: candidate["aic"])
    others = [c for c in candidates if c is not best]
    versus = "; ".join(f"{c['name']} AIC {c['aic']:.1f}" for c in others)
    return (
        dict(best["spec"]),
        f"{best['name']} by maximum likelihood ({count} values, fewer than {EMPIRICAL_AT}): the lower AIC "
        f"({best['aic']:.1f}; {versus})",
        candidates,
        None,
    )


def _candidates(values: np.ndarray) -> list[dict[str, Any]]:
    """Lognormal and gamma fitted by maximum likelihood to positive values, with log-likelihood and AIC."""
    from scipy import stats

    logs = np.log(values)
    mu, sigma = float(logs.mean()), float(logs.std())
    sigma = max(sigma, 1e-6)
    lognormal_ll = float(stats.lognorm.logpdf(values, sigma, scale=math.exp(mu)).sum())
    lognormal_mean = math.exp(mu + sigma**2 / 2)
    lognormal_cv = math.sqrt(math.expm1(sigma**2))
    shape, _, scale = stats.gamma.fit(values, floc=0)
    gamma_ll = float(stats.gamma.logpdf(values, shape, scale=scale).sum())
    return [
        {
            "name": "lognormal",
            "spec": {"dist": "lognormal", "mean": round(lognormal_mean, 3), "cv": round(lognormal_cv, 4)},
            "log_likelihood": lognormal_ll,
            "aic": 4 - 2 * lognormal_ll,
        },
        {
            "name": "gamma",
            "spec": {
                "dist": "gamma",
                "mean": round(float(shape * scale), 3),
                "cv": round(1 / math.sqrt(shape), 4),
            },
            "log_likelihood": gamma_ll,
            "aic": 4 - 2 * gamma_ll,
        },
    ]


def inferred_wraps(calls: Any, cap: float) -> tuple[np.ndarray, dict[str, Any]]:
    """Wrap time inferred from each agent's gaps: for every answered call followed by the same agent's next
    answer on the same day, the gap from its end to that answer, kept when under the median gap and `cap`
    (a longer gap is taken to be idle time). Returns per call (NaN where no gap was kept) and what was done."""
    frame = calls[["day", "agent", "answered_at", "ended_at"]].reset_index(drop=True)
    frame = frame[frame["agent"].notna() & frame["answered_at"].notna() & frame["ended_at"].notna()]
    order = frame.sort_values(["day", "agent", "answered_at"], kind="stable")
    same = (order["day"].to_numpy()[1:] == order["day"].to_numpy()[:-1]) & (
        order["agent"].astype(str).to_numpy()[1:] == order["agent"].astype(str).to_numpy()[:-1]
    )
    gap = order["answered_at"].to_numpy(dtype=float)[1:] - order["ended_at"].to_numpy(dtype=float)[:-1]
    usable = same & (gap >= 0)
    gaps = gap[usable]
    out = np.full(len(calls), np.nan)
    if not len(gaps):
        return out, {"gaps": 0, "limit": None}
    limit = min(float(np.median(gaps)), cap)
    keep = usable & (gap < limit)
    positions = order.index.to_numpy()[:-1][keep]
    out[positions] = gap[keep]
    return out, {"gaps": len(gaps), "limit": limit, "kept": int(keep.sum())}
