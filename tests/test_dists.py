"""Samplers draw what the spec says, and named streams are reproducible and independent.

Statistical checks use n = 100,000 draws from fixed seeds and a threshold of Z = 5 standard errors
(two-sided p = 5.7e-7 for a correct sampler), so a failure means a wrong sampler, not bad luck:
- the sample mean has SE = sd / sqrt(n);
- the sample cv = s / xbar has, by the delta method, Var = (cv^4 + cv^2 (kurtosis - 1) / 4 - skew cv^3) / n,
  with the skewness and (non-excess) kurtosis of the true distribution, taken from scipy;
- the whole shape is checked with a Kolmogorov-Smirnov test against scipy's distribution, refused below
  p = 1e-6 (a wrong family with the right mean and cv, say gamma for lognormal, gives p far below that).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from sim.model.dists import Dist, Sampler
from sim.model.streams import Streams
from tests.conftest import ROOT

N = 100_000
Z = 5.0
KS_P_MIN = 1e-6

DIST: TypeAdapter[Any] = TypeAdapter(Dist)


def spec_of(written: object) -> Any:
    """A distribution spec exactly as a scenario would give it."""
    return DIST.validate_python(written)


def draws(spec: Any, name: str = "handle_time.billing", n: int = N, seed: int = 12345) -> np.ndarray:
    """`n` draws through a Sampler on a named stream (the engine's path, one value per call)."""
    sampler = Sampler(spec, Streams(seed).generator(name))
    return np.array([sampler() for _ in range(n)])


def lognormal(mean: float, cv: float) -> Any:
    sigma2 = math.log1p(cv * cv)
    return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(mean) - sigma2 / 2))


def gamma(mean: float, cv: float) -> Any:
    shape = 1 / (cv * cv)
    return stats.gamma(a=shape, scale=mean / shape)


# Each spec in real units, with the scipy distribution it must be (derived independently from the README).
CONTINUOUS = [
    ({"dist": "exponential", "mean": "4m"}, stats.expon(scale=240)),
    ({"dist": "lognormal", "mean": "4m", "cv": 0.8}, lognormal(240, 0.8)),
    ({"dist": "lognormal", "mean": "4m", "sd": "3m"}, lognormal(240, 0.75)),
    ({"dist": "lognormal", "mean": "30s", "cv": 2.0}, lognormal(30, 2.0)),
    ({"dist": "gamma", "mean": "4m", "cv": 0.5}, gamma(240, 0.5)),
    ({"dist": "gamma", "mean": "7m", "cv": 1.5}, gamma(420, 1.5)),
    ({"dist": "uniform", "low": "1m", "high": "3m"}, stats.uniform(loc=60, scale=120)),
    ({"dist": "triangular", "low": "1m", "mode": "2m", "high": "6m"}, stats.triang(c=0.2, loc=60, scale=300)),
    ({"dist": "triangular", "low": 0, "mode": 0, "high": 10}, stats.triang(c=0.0, loc=0, scale=10)),
]
IDS = [
    "exponential",
    "lognormal-cv",
    "lognormal-sd",
    "lognormal-heavy",
    "gamma",
    "gamma-cv-over-1",
    "uniform",
    "triangular",
    "triangular-mode-at-low",
]


@pytest.mark.parametrize(("written", "truth"), CONTINUOUS, ids=IDS)
def test_spec_mean_and_cv_are_the_distributions(written: object, truth: Any) -> None:
    spec = spec_of(written)
    assert spec.mean_value() == pytest.approx(truth.mean(), rel=1e-9)
    assert spec.cv_value() == pytest.approx(truth.std() / truth.mean(), rel=1e-9)


@pytest.mark.parametrize(("written", "truth"), CONTINUOUS, ids=IDS)
def test_sample_mean_is_within_5_standard_errors(written: object, truth: Any) -> None:
    sample = draws(spec_of(written))
    se = truth.std() / math.sqrt(N)
    z = (sample.mean() - truth.mean()) / se
    assert abs(z) < Z, f"mean {sample.mean():.4g} vs {truth.mean():.4g}: z = {z:.2f} (SE {se:.3g})"


@pytest.mark.parametrize(("written", "truth"), CONTINUOUS, ids=IDS)
def test_sample_cv_is_within_5_standard_errors(written: object, truth: Any) -> None:
    sample = draws(spec_of(written))
    mean, variance, skew, excess = (float(m) for m in truth.stats(moments="mvsk"))
    cv = math.sqrt(variance) / mean
    kurtosis = excess + 3
    se = math.sqrt((cv**4 + cv**2 * (kurtosis - 1) / 4 - skew * cv**3) / N)
    observed = sample.std(ddof=1) / sample.mean()
    z = (observed - cv) / se
    assert abs(z) < Z, f"cv {observed:.4f} vs {cv:.4f}: z = {z:.2f} (SE {se:.3g})"


@pytest.mark.parametrize(("written", "truth"), CONTINUOUS, ids=IDS)
def test_sample_has_the_distributions_shape(written: object, truth: Any) -> None:
    sample = draws(spec_of(written))
    result = stats.kstest(sample, truth.cdf)
    assert result.pvalue > KS_P_MIN, f"KS D = {result.statistic:.4g}, p = {result.pvalue:.3g}"


def test_lognormal_and_gamma_with_the_same_mean_and_cv_are_told_apart() -> None:
    """The shape test has power: it refuses a gamma sample posing as the lognormal of the same mean and cv."""
    sample = draws(spec_of({"dist": "gamma", "mean": "4m", "cv": 0.8}))
    assert stats.kstest(sample, lognormal(240, 0.8).cdf).pvalue < KS_P_MIN


@pytest.mark.parametrize("written", ["30s", 30, {"dist": "fixed", "value": "30s"}])
def test_fixed_is_constant(written: object) -> None:
    sample = draws(spec_of(written), n=5000)  # more than one refill block
    assert set(sample.tolist()) == {30.0}


def test_uniform_stays_within_and_fills_its_bounds() -> None:
    sample = draws(spec_of({"dist": "uniform", "low": "1m", "high": "3m"}))
    assert sample.min() >= 60.0 and sample.max() <= 180.0
    # P(no draw within 0.02% of range of an end) = (1 - 2e-4)^100000 = e^-20: the range is not shrunk
    assert sample.min() < 60.0 + 2e-4 * 120 and sample.max() > 180.0 - 2e-4 * 120


def test_triangular_stays_within_its_bounds() -> None:
    sample = draws(spec_of({"dist": "triangular", "low": "1m", "mode": "2m", "high": "6m"}))
    assert sample.min() >= 60.0 and sample.max() <= 360.0


def test_empirical_returns_only_the_given_values_with_their_frequencies() -> None:
    values = [30, 60, 90, 90]  # a repeated value is twice as likely
    sample = draws(spec_of({"dist": "empirical", "values": ["30s", "1m", 90, "1.5m"]}))
    assert set(sample.tolist()) == {30.0, 60.0, 90.0}
    for value in set(values):
        p = values.count(value) / len(values)
        share = float(np.mean(sample == value))
        se = math.sqrt(p * (1 - p) / N)
        assert abs(share - p) / se < Z, f"{value}: share {share:.4f} vs {p} (SE {se:.2g})"


def test_exponential_cv_is_1_and_fixed_cv_is_0() -> None:
    assert spec_of({"dist": "exponential", "mean": 10}).cv_value() == 1.0
    assert spec_of(10).cv_value() == 0.0


# --- streams ----------------------------------------------------------------------------------------------


def test_same_name_gives_the_same_sequence() -> None:
    first = Streams(7, 2).generator("arrivals").random(1000)
    again = Streams(7, 2).generator("arrivals").random(1000)
    twice = Streams(7, 2)
    assert np.array_equal(first, again)
    assert np.array_equal(twice.generator("arrivals").random(1000), twice.generator("arrivals").random(1000))


def test_samplers_on_the_same_stream_agree_across_refill_blocks() -> None:
    spec = spec_of({"dist": "lognormal", "mean": "4m", "cv": 0.8})
    assert np.array_equal(draws(spec, n=5000), draws(spec, n=5000))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((1, 0, "arrivals"), (1, 0, "reasons")),
        ((1, 0, "handle_time.billing"), (1, 0, "handle_time.technical")),
        ((1, 0, "arrivals"), (1, 1, "arrivals")),
        ((1, 0, "arrivals"), (2, 0, "arrivals")),
        ((1, 1, "arrivals"), (2, 0, "arrivals")),
    ],
    ids=["names", "similar-names", "replications", "seeds", "seed-and-replication-swapped"],
)
def test_different_streams_look_independent(a: tuple[int, int, str], b: tuple[int, int, str]) -> None:
    x = Streams(a[0], a[1]).generator(a[2]).random(N)
    y = Streams(b[0], b[1]).generator(b[2]).random(N)
    assert not np.array_equal(x[:10], y[:10])
    # independent uniforms: the sample correlation has SE 1/sqrt(n)
    for lag in (0, 1):
        r = float(np.corrcoef(x[lag:], y[: N - lag])[0, 1])
        assert abs(r) * math.sqrt(N) < Z, f"lag {lag}: r = {r:.4f}"
    # and the pairs fill the unit square evenly: chi-square over a 10 x 10 grid, 99 degrees of freedom
    counts, _, _ = np.histogram2d(x, y, bins=10, range=[[0, 1], [0, 1]])
    assert stats.chisquare(counts.ravel()).pvalue > KS_P_MIN


def test_adding_a_stream_does_not_shift_another() -> None:
    alone = Streams(3).generator("patience").random(100)
    streams = Streams(3)
    streams.generator("handle_time.new_department").random(10_000)
    mixed = streams.generator("patience")
    streams.generator("reasons").random(5)
    assert np.array_equal(mixed.random(100), alone)


def test_stream_names_are_stable_across_processes() -> None:
    """Stream keys must not depend on Python's per-process salted `hash`."""
    code = "from sim.model.streams import Streams; print(repr(Streams(5, 1).generator('arrivals').random()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert float(output) == Streams(5, 1).generator("arrivals").random()


@pytest.mark.parametrize(("seed", "replication"), [(-1, 0), (0, -1)])
def test_negative_seed_or_replication_is_refused(seed: int, replication: int) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Streams(seed, replication)
