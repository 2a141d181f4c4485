"""Random busy days (`arrivals.busyness: {cv}`): each replication's arrival rates are multiplied by a gamma
factor with mean 1 and the given cv. Checked against theory: the factor's own distribution, and a day's
abandonment and service level averaged over days against the mixture of Erlang A over the gamma factor
(each day is an M/M/c+M queue at rate lambda * factor). Tolerances are Student-t quantiles at the fixed
false-alarm rate of tests/test_theory.py times the replications' standard error."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from scipy import stats

from sim.analysis import erlang
from sim.analysis.confidence import days_meeting_target
from sim.experiments.runner import replicate
from sim.model.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model.rates import day_factor
from sim.model.scenario import Scenario
from sim.model.streams import Streams
from tests.conftest import ROOT
from tests.test_theory import ALPHA

CV = 0.3
REPS = 80
PER_HOUR, HANDLE, PATIENCE, AGENTS, THRESHOLD = 120.0, 240.0, 180.0, 10, 20.0


def _crit(n: int) -> float:
    return float(stats.t.isf(ALPHA / 2, n - 1))


def busy_day(cv: float | None = CV) -> Scenario:
    """M/M/10+M at 8 erlangs (the shipped erlang-a scenario), 8 hours with a 1-hour warm-up."""
    overrides = ["duration=8h", "warmup=1h"] + ([f"arrivals.busyness.cv={cv}"] if cv is not None else [])
    return load_scenario(ROOT / "scenarios" / "erlang-a.yaml", overrides)


def test_the_day_factor_has_mean_one_and_the_given_cv() -> None:
    scenario = busy_day()
    factors = np.array([day_factor(scenario, Streams(7, replication)) for replication in range(4000)])
    n = len(factors)
    assert abs(factors.mean() - 1.0) <= _crit(n) * factors.std(ddof=1) / math.sqrt(n)
    shape = 1 / CV**2  # gamma(k, 1/k): variance 1/k, fourth central moment 3(k + 2)/k^3
    variance_se = math.sqrt((3 * (shape + 2) / shape**3 - (1 / shape) ** 2) / n)
    assert abs(factors.var(ddof=1) - CV**2) <= _crit(n) * variance_se
    assert day_factor(busy_day(None), Streams(7, 0)) == 1.0


def _mixture(figure: str, cv: float) -> float:
    """E over the gamma day factor of the Erlang A figure at rate lambda * factor: a midpoint rule on 400
    quantiles of the factor (its error is far below the simulation's standard error)."""
    shape = 1 / cv**2
    factors = stats.gamma.ppf((np.arange(400) + 0.5) / 400, shape, scale=1 / shape)
    return float(np.mean([_erlang_a(figure, f) for f in factors]))


@cache
def _days() -> list[dict[str, float]]:
    run = replicate(busy_day(), 3, REPS, 2)
    return [r.summary for r in run.replications]


FIGURES = [("abandon_rate", "abandon_rate"), ("service_level", "service_level")]


def _erlang_a(figure: str, factor: float) -> float:
    figures = erlang.erlang_a_figures(PER_HOUR * factor / 3600, HANDLE, PATIENCE, AGENTS, THRESHOLD)
    return float(getattr(figures, figure))


@pytest.mark.parametrize(("kpi", "figure"), FIGURES)
def test_each_day_is_erlang_a_at_its_own_rate(kpi: str, figure: str) -> None:
    """Given its factor, a day is M/M/10+M at rate lambda * factor: the mean of (day's figure - Erlang A at
    that rate) is zero. Subtracting each day's own theory removes the spread between days, so this resolves
    a busyness ignored by the engine (the days would then sit at the plain rate's figure)."""
    days = _days()
    residuals = np.array([day[kpi] - _erlang_a(figure, day["busyness"]) for day in days])
    se = residuals.std(ddof=1) / math.sqrt(len(residuals))
    ignored = np.array([_erlang_a(figure, 1.0) - _erlang_a(figure, day["busyness"]) for day in days])
    assert _crit(len(days)) * se < abs(ignored.mean()), "too few days to tell busyness from none"
    assert abs(residuals.mean()) <= _crit(len(days)) * se, f"{kpi}: mean residual {residuals.mean():+.5f}"


@pytest.mark.parametrize(("kpi", "figure"), FIGURES)
def test_the_mean_day_is_the_mixture_of_erlang_a_over_the_gamma_factor(kpi: str, figure: str) -> None:
    """Unconditionally, the mean over days is E[Erlang A(lambda * F)] for the gamma factor F: the planner's
    expected day (a wider tolerance: the spread between days is in the standard error)."""
    days = np.array([day[kpi] for day in _days()])
    theory = _mixture(figure, CV)
    se = days.std(ddof=1) / math.sqrt(len(days))
    assert abs(days.mean() - theory) <= _crit(len(days)) * se, f"{kpi}: {days.mean():.5f} vs {theory:.5f}"


def test_busy_days_spread_the_daily_service_level_and_the_days_meeting_the_target_follow() -> None:
    busy = [day["service_level"] for day in _days()]
    steady = [r.summary["service_level"] for r in replicate(busy_day(None), 3, REPS, 2).replications]
    assert np.std(busy, ddof=1) > 2 * np.std(steady, ddof=1)  # Poisson days vary far less than real ones
    summaries = _days()
    target = summaries[0]["service_level_target"]
    assert days_meeting_target(summaries) == np.mean([s["service_level"] >= target for s in summaries])
    assert all(0.3 < s["busyness"] < 3 for s in summaries)


def test_a_replicated_run_reports_the_share_of_days_meeting_the_target() -> None:
    run = replicate(busy_day(), 3, 6, 1)
    met = [r.summary["service_level"] >= r.summary["service_level_target"] for r in run.replications]
    assert run.summary["days_meeting_target"] == sum(met) / 6
    assert run.summary["busyness"] == pytest.approx(
        np.mean([r.summary["busyness"] for r in run.replications])
    )


def test_busyness_with_a_replayed_trace_is_refused_where_it_is_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = {
        "name": "trace-day",
        "duration": "1h",
        "arrivals": {"trace_times": [1.0, 2.0], "busyness": {"cv": 0.2}},
        "departments": {"support": {"agents": 1, "handle_time": "1m"}},
    }
    with pytest.raises(ScenarioError, match=r"arrivals.*busyness scales a Poisson rate"):
        scenario_from_dict(data)
    with pytest.raises(ScenarioError, match=r"arrivals\.busyness\.cv"):
        load_scenario(ROOT / "scenarios" / "erlang-a.yaml", ["arrivals.busyness.cv=0"])


def test_a_sweep_reports_the_share_of_days_meeting_the_target_per_point() -> None:
    """Sweeping agents on busy days: each point's `days_meeting_target` is the share of its replications
    whose service level reached the target, and more agents never meet it on fewer days (common random
    numbers: every point sees the same days)."""
    import sim

    grid = sim.sweep(busy_day(), {"departments.support.agents": [9, 10, 12]}, reps=6, jobs=1)
    rows = grid.rows
    for point, share in zip(grid.summary["point"], grid.summary["days_meeting_target"], strict=True):
        mine = rows[rows["point"] == point]
        assert share == float((mine["service_level"] >= mine["service_level_target"]).mean())
    assert grid.summary["days_meeting_target"].is_monotonic_increasing
