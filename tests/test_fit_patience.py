"""Patience from censored waits (`sim/analysis/fitting/patience.py`): the Kaplan-Meier estimator against a
hand-computed example and against the true survival of simulated censored data (Greenwood's standard
error), the censored maximum-likelihood fits against known exponential, lognormal and gamma patience with
call-centre-like censoring (most callers answered after short waits), and end to end: simulated Erlang A
days (M/M/10+M, patience exponential with mean 3 min) exported as a call log, read back, and fitted.

Tolerances are a normal quantile at the fixed false-alarm rate of tests/test_theory.py (|z| <= 4, ALPHA =
6.3e-5 per comparison) times a standard error: Greenwood's for the survival curve, the observed Fisher
information's for the fitted parameters (itself checked against replications in the slow test)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.analysis.fitting.patience import RESOLUTION, fit_patience, kaplan_meier
from sim.model.call_log import read_call_log
from tests.conftest import ROOT
from tests.test_theory import ALPHA

Z = float(stats.norm.isf(ALPHA / 2))
MEAN = 180.0
"""The true mean patience of the synthetic data (seconds)."""


def censored_sample(
    dist: str, cv: float, size: int, seed: int, wait_mean: float = 60.0
) -> tuple[np.ndarray, np.ndarray]:
    """Patience from `dist` (mean MEAN, coefficient of variation cv), censored by an exponential time to
    answer with mean `wait_mean` (a centre where most callers are answered within a minute or two): the
    observed wait is the smaller, and the caller abandoned when patience came first."""
    rng = np.random.default_rng(seed)
    patience = truth(dist, cv).rvs(size=size, random_state=rng)
    answer = rng.exponential(wait_mean, size)
    return np.minimum(patience, answer), patience < answer


def truth(dist: str, cv: float) -> stats.rv_continuous:
    """The scipy distribution with mean MEAN and this cv."""
    if dist == "exponential":
        return stats.expon(scale=MEAN)
    if dist == "lognormal":
        sigma2 = math.log1p(cv * cv)
        return stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(MEAN) - sigma2 / 2))
    return stats.gamma(1 / cv**2, scale=MEAN * cv**2)


# --- Kaplan-Meier ------------------------------------------------------------------------------------------


def test_kaplan_meier_matches_a_hand_computed_example_with_ties() -> None:
    """Waits 1, 2, 2*, 3, 4*, 5, 5, 6* (* answered): at t = 1 8 at risk, 1 event -> 7/8; t = 2: 7 at risk
    (the answer at 2 still counts), 1 event -> 3/4; t = 3: 5 at risk -> 3/5; t = 5: 3 at risk, 2 events ->
    1/5. Greenwood at t = 5: S^2 (1/56 + 1/42 + 1/20 + 2/3). The input's order does not matter."""
    waits = np.array([5.0, 2.0, 6.0, 1.0, 2.0, 4.0, 5.0, 3.0])
    abandoned = np.array([1, 1, 0, 1, 0, 0, 1, 1], dtype=bool)
    curve = kaplan_meier(waits, abandoned)
    np.testing.assert_array_equal(curve.times, [1.0, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(curve.survival, [7 / 8, 3 / 4, 3 / 5, 1 / 5], rtol=1e-15)
    np.testing.assert_array_equal(curve.at_risk, [8, 7, 5, 3])
    np.testing.assert_array_equal(curve.events, [1, 1, 1, 2])
    greenwood = (1 / 5) * math.sqrt(1 / 56 + 1 / 42 + 1 / 20 + 2 / 3)
    assert curve.standard_error[-1] == pytest.approx(greenwood, rel=1e-12)
    np.testing.assert_allclose(curve.at(np.array([0.0, 0.99, 1.0, 2.5, 4.9, 5.0, 60.0])),
                               [1, 1, 7 / 8, 3 / 4, 3 / 5, 1 / 5, 1 / 5])
    fitted = fit_patience(waits, abandoned)
    np.testing.assert_allclose(fitted.kaplan_meier[0], [0.0, 1.0, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(fitted.kaplan_meier[1], [1.0, 7 / 8, 3 / 4, 3 / 5, 1 / 5])
    assert (fitted.events, fitted.censored) == (5, 3)


def test_kaplan_meier_follows_the_true_survival_under_censoring() -> None:
    """Lognormal patience (mean 3 min, cv 0.8) censored by answers after exp(1 min) waits, 6000 callers:
    at 30 s, 1, 2 and 3 minutes the estimate is within Z Greenwood standard errors of the true survival,
    while the naive survival of the abandoned callers' waits alone (ignoring the censoring) is far off."""
    waits, abandoned = censored_sample("lognormal", 0.8, 6000, seed=5)
    curve = kaplan_meier(waits, abandoned)
    at = np.array([30.0, 60.0, 120.0, 180.0])
    where = np.searchsorted(curve.times, at, side="right") - 1
    error = curve.standard_error[where]
    true = truth("lognormal", 0.8).sf(at)
    assert np.all(np.abs(curve.at(at) - true) <= Z * error), (curve.at(at), true, error)
    naive = np.mean(waits[abandoned][:, None] > at, axis=0)
    assert np.all(np.abs(naive - true) > 10 * error)


# --- maximum likelihood ------------------------------------------------------------------------------------


def test_exponential_mean_is_total_wait_over_abandonments_within_its_fisher_error() -> None:
    """Exponential patience (3 min) with 80% of callers answered: the fit's mean is the closed form
    (total wait / abandonments), within Z standard errors (mean / sqrt(abandonments), the inverse Fisher
    information, which the numerical Hessian reproduces) of the truth; the exponential is kept."""
    waits, abandoned = censored_sample("exponential", 1.0, 4000, seed=11)
    fitted = fit_patience(waits, abandoned)
    events = int(abandoned.sum())
    assert 0.1 < events / len(waits) < 0.35
    closed_form = waits.sum() / events
    exponential = next(spec for name, spec, _, _ in fitted.candidates if name == "exponential")
    assert exponential["mean"] == pytest.approx(closed_form, abs=0.05)
    error = fitted.standard_errors["exponential"]["mean"]
    assert error == pytest.approx(closed_form / math.sqrt(events), rel=1e-3)
    assert abs(closed_form - MEAN) <= Z * error
    assert fitted.spec is not None and fitted.spec["dist"] in ("exponential", "gamma", "lognormal")
    assert abs(fitted.spec["mean"] - MEAN) <= Z * fitted.standard_errors[fitted.spec["dist"]]["mean"]


@pytest.mark.parametrize(("dist", "cv"), [("lognormal", 0.8), ("gamma", 0.5)])
def test_shapes_are_recovered_and_chosen_by_aic(dist: str, cv: float) -> None:
    """Lognormal (cv 0.8) or gamma (cv 0.5) patience, 5000 callers, ~15-20% abandoning: the fit of the
    true family recovers mean and cv within Z Fisher standard errors, has the smallest AIC (the
    exponential misses the shape by far more than 2 AIC units at this size), and is the one chosen; the
    exponential's "total wait / abandonments" is biased (its hazard is wrong)."""
    waits, abandoned = censored_sample(dist, cv, 5000, seed=21)
    fitted = fit_patience(waits, abandoned)
    specs = {name: spec for name, spec, _, _ in fitted.candidates}
    errors = fitted.standard_errors[dist]
    assert abs(specs[dist]["mean"] - MEAN) <= Z * errors["mean"]
    assert abs(specs[dist]["cv"] - cv) <= Z * errors["cv"]
    assert fitted.spec == specs[dist]
    aics = {name: aic for name, _, _, aic in fitted.candidates}
    assert min(aics, key=aics.__getitem__) == dist
    assert abs(specs["exponential"]["mean"] - MEAN) > Z * fitted.standard_errors["exponential"]["mean"]


@pytest.mark.slow
@pytest.mark.parametrize(("dist", "cv"), [("lognormal", 0.8), ("gamma", 0.5)])
def test_fisher_standard_errors_match_the_spread_over_replications(dist: str, cv: float) -> None:
    """Over 200 independent samples of 1500 callers, z = (estimate - truth) / its Fisher standard error
    has mean 0 (within a Student-t bound) and variance 1 (within chi-square bounds at ALPHA): the standard
    errors the default tests rely on are honest."""
    reps = 200
    scores = []
    for rep in range(reps):
        waits, abandoned = censored_sample(dist, cv, 1500, seed=1000 + rep)
        fitted = fit_patience(waits, abandoned)
        spec = next(spec for name, spec, _, _ in fitted.candidates if name == dist)
        errors = fitted.standard_errors[dist]
        scores.append(((spec["mean"] - MEAN) / errors["mean"], (spec["cv"] - cv) / errors["cv"]))
    z = np.array(scores)
    crit = float(stats.t.isf(ALPHA / 2, reps - 1))
    assert np.all(np.abs(z.mean(axis=0)) <= crit * z.std(axis=0, ddof=1) / math.sqrt(reps))
    low, high = stats.chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], reps - 1) / (reps - 1)
    assert np.all((low <= z.var(axis=0, ddof=1)) & (z.var(axis=0, ddof=1) <= high)), z.var(axis=0, ddof=1)


# --- what the data cannot tell -----------------------------------------------------------------------------


def test_no_abandonment_means_no_estimate_and_few_mean_a_warning() -> None:
    """Nobody abandoned: no spec (infinite patience), said so. Twelve abandonments: a fit, flagged as
    extrapolated beyond the longest abandonment. An abandonment at a wait of 0 is patience under a second
    (a finite likelihood, said so)."""
    none = fit_patience(np.array([3.0, 40.0, 0.0]), np.array([False, False, False]))
    assert none.spec is None and none.candidates == []
    assert any("infinite patience assumed" in note for note in none.notes)
    waits, abandoned = censored_sample("exponential", 1.0, 4000, seed=2)
    keep = np.flatnonzero(abandoned)[:12]
    few_waits = np.concatenate([waits[~abandoned][:400], waits[keep]])
    few = fit_patience(few_waits, np.r_[np.zeros(400, bool), np.ones(12, bool)])
    assert few.events == 12 and few.spec is not None
    assert any(note.startswith("only 12 abandonments") and "extrapolated" in note for note in few.notes)
    zero = fit_patience(np.r_[few_waits, 0.0], np.r_[np.zeros(400, bool), np.ones(13, bool)])
    assert all(math.isfinite(loglik) for _, _, loglik, _ in zero.candidates)
    assert any(f"under {RESOLUTION:.0f} s" in note for note in zero.notes)
    assert zero.kaplan_meier[0][0] == 0.0 and zero.kaplan_meier[1][0] == pytest.approx(1 - 1 / 413)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        fit_patience(np.array([1.0, 2.0]), np.array([True]))
    with pytest.raises(ValueError, match="finite seconds >= 0"):
        fit_patience(np.array([1.0, -2.0]), np.array([True, False]))
    with pytest.raises(ValueError, match="booleans"):
        fit_patience(np.array([1.0, 2.0]), np.array([0.5, 1.0]))


# --- end to end --------------------------------------------------------------------------------------------


def waits_from_log(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """From a call log: queued callers' waits (queue entry to answer, or to hang-up for the abandoned)."""
    calls = read_call_log(path).calls
    queued = calls["queued_at"].fillna(calls["arrived_at"]).to_numpy(dtype=float)
    outcome = calls["outcome"].astype(str).to_numpy()
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    until = np.where(answered, calls["answered_at"], calls["ended_at"]).astype(float)
    use = answered | abandoned
    return (until - queued)[use], abandoned[use]


def test_an_erlang_a_log_gives_back_its_patience(tmp_path: Path) -> None:
    """Four simulated 8-hour days of M/M/10+M (120 calls/h, handle 4 min, patience exponential 3 min),
    exported as a call log and read back: the waits give back the patience mean within Z Fisher standard
    errors (about 8% with ~300 abandonments), for the exponential and for whichever candidate is chosen."""
    scenario = sim.load_scenario(ROOT / "scenarios" / "erlang-a.yaml", ["duration=8h"])
    first = date(2026, 3, 2)
    frames = [sim.simulate(scenario, replication=r).call_log(on=first + timedelta(days=r)) for r in range(4)]
    path = tmp_path / "calls.csv"
    pd.concat(frames).to_csv(path, index=False)
    waits, abandoned = waits_from_log(path)
    fitted = fit_patience(waits, abandoned)
    assert fitted.events == int(sum((frame["outcome"] == "abandoned").sum() for frame in frames))
    assert fitted.events > 200
    specs = {name: spec for name, spec, _, _ in fitted.candidates}
    error = fitted.standard_errors["exponential"]["mean"]
    assert abs(specs["exponential"]["mean"] - MEAN) <= Z * error
    assert fitted.spec is not None
    chosen_error = fitted.standard_errors[fitted.spec["dist"]]["mean"]
    assert abs(fitted.spec["mean"] - MEAN) <= Z * chosen_error
