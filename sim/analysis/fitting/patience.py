"""Patience from a call log's waits, where most callers never show theirs: a Kaplan-Meier curve and
maximum-likelihood fits on right-censored data, the distribution chosen by AIC.

A caller who hung up waiting showed their patience: their wait (queue entry to hang-up) is an event. A
caller who was answered showed only that their patience was longer than their wait: a right-censored
observation. "Total wait / abandonments" is the exponential's maximum-likelihood estimate under this
censoring, and is one candidate here; the lognormal and gamma are fitted by maximising the censored
log-likelihood (log density of each event + log survival of each censored wait) with scipy, and the
candidate with the smallest AIC is chosen (a two-parameter shape only when it lowers the AIC by more than
2 against the exponential: smaller differences are no real support, Burnham & Anderson). Standard errors
come from the observed Fisher information (the numerical Hessian of the log-likelihood at its maximum).

Every figure is in seconds; a spec is what a scenario's `patience:` accepts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

RESOLUTION = 1.0
"""An abandonment logged at a wait of 0 is taken as patience within the first second (interval-censored in
[0, RESOLUTION]): a continuous density cannot explain an exact zero, and logs count in whole seconds."""
FEW_EVENTS = 50
"""Below this many abandonments the fit is flagged as uncertain."""
AIC_SUPPORT = 2.0
"""A two-parameter distribution replaces the exponential only when it lowers the AIC by more than this."""
_CV_BOUNDS = (0.05, 20.0)
"""The cvs the shape fits search (the scenario accepts 1e-6 to 100; beyond these the data say nothing)."""


@dataclass(frozen=True)
class PatienceFit:
    """Patience fitted to censored waits: `spec` the chosen scenario distribution (None when the log shows
    no abandonment), `method` how it was chosen, `candidates` each fitted distribution as (name, spec,
    log-likelihood, AIC), `kaplan_meier` (times, survival) the nonparametric estimate (survival[i] holds
    from times[i] to times[i + 1]), `events` abandonments, `censored` answered callers, `notes` what the
    data could not tell, `standard_errors` per candidate name the standard error of its `mean` (and `cv`)
    from the observed Fisher information."""

    spec: dict[str, Any] | None
    method: str
    candidates: list[tuple[str, dict[str, Any], float, float]]
    kaplan_meier: tuple[np.ndarray, np.ndarray]
    events: int
    censored: int
    notes: list[str]
    standard_errors: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class KaplanMeier:
    """The Kaplan-Meier estimate at each distinct event time: `survival` just after `times`, the callers
    `at_risk` (wait >= time) and `events` there, and Greenwood's standard error of the survival."""

    times: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    standard_error: np.ndarray

    def at(self, instants: np.ndarray) -> np.ndarray:
        """The estimated survival P(patience > t) at each instant (a right-continuous step function)."""
        where = np.searchsorted(self.times, np.asarray(instants, dtype=float), side="right")
        return np.concatenate([[1.0], self.survival])[where]


def kaplan_meier(waits: np.ndarray, abandoned: np.ndarray) -> KaplanMeier:
    """The Kaplan-Meier estimator, vectorised: at each distinct event time t, S drops by the factor
    (1 - events at t / callers at risk at t); callers censored at t are still at risk at t (the usual
    convention for ties: a censored wait equal to an event time is taken to have outlasted it)."""
    waits, abandoned = _checked(waits, abandoned)
    if not len(waits):
        empty = np.array([], dtype=float)
        return KaplanMeier(empty, empty, empty, empty, empty)
    distinct, position = np.unique(waits, return_inverse=True)
    events = np.bincount(position, weights=abandoned.astype(float), minlength=len(distinct))
    leaving = np.bincount(position, minlength=len(distinct))
    at_risk = len(waits) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    keep = events > 0
    times, events, at_risk = distinct[keep], events[keep], at_risk[keep].astype(float)
    survival = np.cumprod(1.0 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > events, events / (at_risk * (at_risk - events)), np.inf)
        standard_error = survival * np.sqrt(np.cumsum(terms))
    standard_error[survival == 0] = 0.0
    return KaplanMeier(times, survival, at_risk, events, standard_error)


def fit_patience(waits: np.ndarray, abandoned: np.ndarray) -> PatienceFit:
    """Patience from waits (seconds from queue entry to answer or hang-up) and whether each caller
    abandoned: answered waits are lower bounds (censored), abandoned ones the patience itself. Fits the
    exponential (closed form), lognormal and gamma by censored maximum likelihood and picks by AIC."""
    waits, abandoned = _checked(waits, abandoned)
    events, censored = int(abandoned.sum()), int(len(waits) - abandoned.sum())
    curve = kaplan_meier(waits, abandoned)
    shown = _shown_curve(curve)
    if events == 0:
        said = "no queued callers" if not len(waits) else "no abandonments"
        return PatienceFit(
            None,
            "none",
            [],
            shown,
            events,
            censored,
            [f"{said}: patience cannot be estimated; infinite patience assumed"],
        )
    data = _Data(waits, abandoned)
    candidates: list[tuple[str, dict[str, Any], float, float]] = []
    errors: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    for name, fitter in (("exponential", _fit_exponential), ("lognormal", _fit_shape), ("gamma", _fit_shape)):
        fitted = fitter(name, data)
        if fitted is None:
            notes.append(f"the {name} fit did not converge and is left out")
            continue
        spec, loglik, standard_error = fitted
        parameters = 1 if name == "exponential" else 2
        candidates.append((name, spec, loglik, 2.0 * parameters - 2.0 * loglik))
        errors[name] = standard_error
    chosen, method = _choose(candidates)
    notes += _notes(curve, data, chosen, errors.get(str(chosen[0]), {}))
    return PatienceFit(chosen[1], method, candidates, shown, events, censored, notes, errors)


# --- the likelihood ----------------------------------------------------------------------------------------


class _Data:
    """Waits split the way the likelihood uses them: events with a positive wait (density), events at 0
    (interval-censored in [0, RESOLUTION]) and censored waits > 0 (survival; a censored 0 adds nothing)."""

    def __init__(self, waits: np.ndarray, abandoned: np.ndarray) -> None:
        self.events = waits[abandoned & (waits > 0)]
        self.zero_events = int(np.count_nonzero(abandoned & (waits <= 0)))
        self.censored = waits[~abandoned & (waits > 0)]
        self.event_count = len(self.events) + self.zero_events
        self.total_wait = float(waits.sum())
        self.longest = float(waits.max()) if len(waits) else 0.0


def _log_density_and_survival(
    name: str, mean: float, cv: float, events: np.ndarray, censored: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log density at the events and log survival at the censored waits of a family with this mean and
    cv (the exponential ignores cv), from scipy.special directly: a frozen scipy.stats distribution costs
    more to build than these sums over thousands of waits."""
    if name == "exponential":
        return -math.log(mean) - events / mean, -censored / mean
    if name == "lognormal":
        sigma = math.sqrt(math.log1p(cv * cv))
        mu = math.log(mean) - sigma * sigma / 2
        z_events = (np.log(events) - mu) / sigma
        density = -np.log(events) - math.log(sigma) - 0.5 * math.log(2 * math.pi) - z_events**2 / 2
        return density, special.log_ndtr(-(np.log(censored) - mu) / sigma)
    shape = 1.0 / (cv * cv)
    scale = mean / shape
    density = (shape - 1) * np.log(events) - events / scale - special.gammaln(shape) - shape * math.log(scale)
    with np.errstate(divide="ignore"):
        survival = np.log(special.gammaincc(shape, censored / scale))
    underflow = ~np.isfinite(survival)
    if underflow.any():  # far in the tail: scipy's slower log survival keeps precision
        survival[underflow] = stats.gamma.logsf(censored[underflow], shape, scale=scale)
    return density, survival


def _log_cdf(name: str, mean: float, cv: float, at: float) -> float:
    """log P(patience <= at) for a family with this mean and cv."""
    if name == "exponential":
        return float(stats.expon.logcdf(at, scale=mean))
    if name == "lognormal":
        sigma2 = math.log1p(cv * cv)
        return float(stats.lognorm.logcdf(at, math.sqrt(sigma2), scale=math.exp(math.log(mean) - sigma2 / 2)))
    shape = 1.0 / (cv * cv)
    return float(stats.gamma.logcdf(at, shape, scale=mean / shape))


def _loglik(name: str, data: _Data, log_mean: float, log_cv: float = 0.0) -> float:
    """The censored log-likelihood at (log mean, log cv): sum of log densities of events, log survivals of
    censored waits, log P(patience <= RESOLUTION) of each abandonment at 0."""
    mean, cv = math.exp(log_mean), math.exp(log_cv)
    density, survival = _log_density_and_survival(name, mean, cv, data.events, data.censored)
    total = float(np.sum(density)) + float(np.sum(survival))
    if data.zero_events:
        total += data.zero_events * _log_cdf(name, mean, cv, RESOLUTION)
    return total if math.isfinite(total) else -1e300


def _hessian(function: Callable[[np.ndarray], float], point: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """The Hessian of `function` at `point` by central differences (the parameters are logs: a relative
    step)."""
    size = len(point)
    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            shifts = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                moved = point.copy()
                moved[i] += si * step
                moved[j] += sj * step
                shifts.append(function(moved))
            hessian[i, j] = hessian[j, i] = (shifts[0] - shifts[1] - shifts[2] + shifts[3]) / (4 * step * step)
    return hessian


def _standard_errors(
    name: str, data: _Data, point: np.ndarray, labels: tuple[str, ...]
) -> dict[str, float]:
    """Standard errors of mean (and cv) from the inverse observed information in log parameters (delta
    method: se(x) = x se(log x)); NaN where the information is not positive definite."""
    information = -_hessian(lambda p: _loglik(name, data, *p), point)
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return {label: math.nan for label in labels}
    variances = np.diag(covariance)
    return {
        label: float(math.exp(value) * math.sqrt(variance)) if variance > 0 else math.nan
        for label, value, variance in zip(labels, point, variances, strict=True)
    }


_Fitted = tuple[dict[str, Any], float, dict[str, float]]


def _fit_exponential(name: str, data: _Data) -> _Fitted | None:
    """Mean = total wait / abandonments (the closed-form censored MLE); with abandonments at 0 (interval
    censored) the likelihood is maximised numerically from there."""
    log_mean = math.log(max(data.total_wait, RESOLUTION) / data.event_count)
    if data.zero_events:
        found = optimize.minimize_scalar(
            lambda x: -_loglik(name, data, x), bounds=(log_mean - 5, log_mean + 5), method="bounded"
        )
        log_mean = float(found.x)
    point = np.array([log_mean])
    loglik = _loglik(name, data, log_mean)
    errors = _standard_errors(name, data, point, ("mean",))
    return {"dist": "exponential", "mean": _rounded(math.exp(log_mean))}, loglik, errors


def _fit_shape(name: str, data: _Data) -> _Fitted | None:
    """Lognormal or gamma by censored maximum likelihood over (log mean, log cv), started from the
    exponential fit (the gamma's cv = 1 is the exponential itself, so the fit can only improve on it) and
    from the events' own spread."""
    exponential_mean = max(data.total_wait, RESOLUTION) / data.event_count
    low, high = (math.log(bound) for bound in _CV_BOUNDS)
    bounds = [(math.log(exponential_mean) - 8, math.log(exponential_mean) + 8), (low, high)]
    starts = [np.array([math.log(exponential_mean), 0.0])]
    if len(data.events) > 2 and np.std(data.events) > 0:
        spread = float(np.clip(np.std(data.events) / np.mean(data.events), *_CV_BOUNDS))
        starts.append(np.array([math.log(exponential_mean), math.log(spread)]))
    best: Any = None
    for start in starts:
        found = optimize.minimize(
            lambda p: -_loglik(name, data, *p), start, method="L-BFGS-B", bounds=bounds
        )
        if np.all(np.isfinite(found.x)) and (best is None or found.fun < best.fun):
            best = found
    if best is None or not math.isfinite(best.fun) or best.fun >= 1e299:
        return None
    point = np.asarray(best.x, dtype=float)
    mean, cv = math.exp(point[0]), math.exp(point[1])
    errors = _standard_errors(name, data, point, ("mean", "cv"))
    spec = {"dist": name, "mean": _rounded(mean), "cv": float(f"{cv:.4g}")}
    return spec, -float(best.fun), errors


def _rounded(mean: float) -> float:
    """A mean as a scenario would say it: to a tenth of a second."""
    return round(mean, 1)


# --- choice and what the data could not tell ---------------------------------------------------------------


def _choose(
    candidates: list[tuple[str, dict[str, Any], float, float]],
) -> tuple[tuple[str, dict[str, Any], float, float], str]:
    """The smallest-AIC candidate, but the exponential unless another lowers the AIC by > AIC_SUPPORT."""
    best = min(candidates, key=lambda candidate: candidate[3])
    exponential = next(candidate for candidate in candidates if candidate[0] == "exponential")
    others = ", ".join(f"{name} {aic:.1f}" for name, _, _, aic in candidates)
    if best[0] != "exponential" and exponential[3] - best[3] <= AIC_SUPPORT:
        return exponential, (
            "censored maximum likelihood; the exponential kept: no shape lowers the AIC by more than "
            f"{AIC_SUPPORT:g} (AIC: {others})"
        )
    return best, f"censored maximum likelihood; the smallest AIC chosen (AIC: {others})"


def _notes(
    curve: KaplanMeier, data: _Data, chosen: tuple[str, dict[str, Any], float, float], errors: dict[str, float]
) -> list[str]:
    """Plain sentences on what the waits could not tell."""
    notes = []
    spec = chosen[1]
    error = errors.get("mean", math.nan)
    if math.isfinite(error):
        notes.append(
            f"mean patience {_human(spec['mean'])} (95% interval +/- {_human(1.96 * error)}, from "
            f"{data.event_count} abandonments)"
        )
    last_event = float(curve.times[-1]) if len(curve.times) else 0.0
    if data.event_count < FEW_EVENTS:
        notes.append(
            f"only {data.event_count} abandonments: the shape is poorly determined and the tail beyond "
            f"{_human(last_event)} is extrapolated"
        )
    beyond = float(curve.survival[-1]) if len(curve.survival) else 1.0
    if beyond > 0.5:
        notes.append(
            f"the median patience is not reached: {beyond:.0%} of callers would outwait the longest "
            f"abandonment ({_human(last_event)}); the fitted tail beyond it is extrapolated"
        )
    elif beyond > 0.05:
        notes.append(
            f"{beyond:.0%} of callers' patience exceeds the longest abandonment ({_human(last_event)}): "
            "the fitted tail beyond it is extrapolated"
        )
    if data.zero_events:
        notes.append(
            f"{data.zero_events} abandonment(s) at a wait of 0 taken as patience under {_human(RESOLUTION)}"
        )
    return notes


def _human(seconds: float) -> str:
    """`45 s`, `3.2 min`: a duration for a sentence."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _shown_curve(curve: KaplanMeier) -> tuple[np.ndarray, np.ndarray]:
    """(times, survival) starting at (0, 1) unless an abandonment at 0 already lowers it there."""
    if len(curve.times) and curve.times[0] <= 0:
        return curve.times.copy(), curve.survival.copy()
    return np.concatenate([[0.0], curve.times]), np.concatenate([[1.0], curve.survival])


def _checked(waits: np.ndarray, abandoned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Waits as float seconds (finite, >= 0) and abandonment flags as booleans, of equal length."""
    waits = np.asarray(waits, dtype=float).ravel()
    abandoned = np.asarray(abandoned).ravel()
    if len(waits) != len(abandoned):
        raise ValueError(f"waits ({len(waits)}) and abandoned ({len(abandoned)}) differ in length")
    if not np.all(np.isfinite(waits)) or np.any(waits < 0):
        bad = int(np.count_nonzero(~np.isfinite(waits) | (waits < 0)))
        raise ValueError(f"waits must be finite seconds >= 0: {bad} are not")
    if abandoned.dtype != bool:
        if not np.all(np.isin(abandoned, (0, 1))):
            raise ValueError("abandoned must be booleans (or 0/1)")
        abandoned = abandoned.astype(bool)
    return waits, abandoned
