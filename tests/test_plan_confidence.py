"""Plans with stated confidence (`callsim staff --confidence C --days-met D`,
sim/experiments/staffing/confidence.py): the criterion exactly (the one-sided Student-t bound of replication
means, the share of days meeting every goal), the share of days against theory on Erlang C days (M/M/c:
Poisson, exponential handle, nobody abandons), the plans it gives against the plain plan and Erlang C, the
three verdicts counted alike everywhere, and bad values refused where they are written.

Tolerances are Student-t quantiles at the fixed false-alarm rate of tests/test_theory.py (ALPHA) times a
binomial standard error."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import optimize, stats
from typer.testing import CliRunner

import sim
from sim.analysis import erlang
from sim.analysis.intervals import interval_table
from sim.cli.app import app
from sim.engine.day import simulate
from sim.experiments.executors import ProcessExecutor, SerialExecutor
from sim.experiments.staffing import FIGURES, StaffingError, Targets, parse_targets, search
from sim.experiments.staffing.confidence import MET, MISSED, VERDICTS, WITHIN_CI, bound, wilson
from sim.experiments.staffing.figures import pool
from sim.experiments.staffing.result import confirm
from sim.model.loading import ScenarioError, scenario_from_dict
from tests.conftest import deep_merge
from tests.test_theory import ALPHA

runner = CliRunner()

PER_HOUR, HANDLE, THRESHOLD, TARGET = 120.0, 240.0, 20.0, 0.8
ERLANG_C: dict[str, Any] = {
    "name": "erlang-c-day",
    "seed": 11,
    "duration": "3h",
    "interval": "1h",
    "warmup": "1h",
    "arrivals": {"per_hour": PER_HOUR},
    "departments": {"support": {"agents": 10, "handle_time": {"dist": "exponential", "mean": "4m"}}},
}
"""M/M/c at 8 erlangs, a warm-up hour, then two measured hours (no patience: nobody abandons)."""
SERVICE = Targets({"service_level": TARGET})


def _crit(n: int) -> float:
    return float(stats.t.isf(ALPHA / 2, n - 1))


def erlang_c_level(agents: int, factor: float = 1.0) -> float:
    """Erlang C's service level within 20 s at `factor` times the arrival rate (0 when overloaded)."""
    return erlang.erlang_c_figures(PER_HOUR * factor / 3600, HANDLE, agents, THRESHOLD).service_level


def with_agents(agents: int, **changes: Any) -> Any:
    return scenario_from_dict(
        deep_merge(ERLANG_C, {"departments": {"support": {"agents": agents}}, **changes})
    )


# --- the criterion, exactly -------------------------------------------------------------------------------


def test_the_bound_is_the_one_sided_student_t_bound_and_the_share_counts_each_day() -> None:
    """Figures of 12 replications x 2 cells: the pooled bound is mean - t(0.9, n - 1) sd / sqrt(n) over the
    replications with a value (one has no calls in cell 0: it is left out of the mean and counted as a day
    that met the goal), and the share is the share of replications whose own figure met it."""
    rng = np.random.default_rng(5)
    tables = [
        np.column_stack([np.full(2, 50.0), rng.uniform(0.6, 1.0, (2, len(FIGURES) - 1))]) for _ in range(12)
    ]
    tables[3][0, 1:] = math.nan  # replication 3, cell 0: no figures
    pooled = pool(tables, ["support"], Targets({"service_level": 0.8}, {"abandon_rate": 0.9}))
    column = FIGURES.index("service_level")
    for cell in (0, 1):
        figures = pooled.cell(cell, "support")
        values = np.array([t[cell, column] for t in tables])
        known = values[~np.isnan(values)]
        n = len(known)
        expected = known.mean() - stats.t.ppf(0.9, n - 1) * known.std(ddof=1) / math.sqrt(n)
        assert figures["service_level_n"] == n == (11 if cell == 0 else 12)
        assert bound(figures, "service_level", 1.0, 0.9) == pytest.approx(expected, rel=1e-12)
        upper = bound(figures, "service_level", -1.0, 0.9)
        assert upper - figures["service_level"] == pytest.approx(figures["service_level"] - expected)
        abandon = np.array([t[cell, FIGURES.index("abandon_rate")] for t in tables])
        every = ~(values < 0.8) & ~(abandon > 0.9)  # NaN compares False: a day without calls met
        assert figures["met_share"] == pytest.approx(every.mean())
        assert figures["met_share_service_level"] == pytest.approx(np.mean(~(values < 0.8)))
        assert figures["replications"] == 12


def test_three_verdicts_and_the_plain_criterion_unchanged() -> None:
    figures = {
        "service_level": 0.82,
        "service_level_ci95": 0.04,
        "service_level_sd": 0.0559,  # 20 replications: t(0.975, 19) * sd / sqrt(20) = 0.0262
        "service_level_n": 20.0,
        "met_share": 0.55,
        "replications": 20.0,
    }
    plain, confident, days = (
        SERVICE,
        Targets({"service_level": TARGET}, confidence=0.95),
        Targets({"service_level": TARGET}, days_met=0.9),
    )
    assert plain.verdict(figures) == MET  # the mean reaches 0.8
    assert confident.verdict(figures) == WITHIN_CI  # its 95% lower bound 0.80 - 0.0216... does not
    assert not confident.met(figures) and confident.clear(figures) is False
    assert days.verdict(figures) == MISSED  # 11 of 20 days: Wilson's upper bound is below 0.9
    assert wilson(0.55, 20)[1] < 0.9
    assert days.verdict({**figures, "met_share": 0.8}) == WITHIN_CI  # 16 of 20: 0.9 is within its interval
    below = {**figures, "service_level": 0.77}
    assert plain.verdict(below) == WITHIN_CI and not plain.met(below)  # missed by the mean, within its CI
    assert plain.verdict({**figures, "service_level": 0.75}) == MISSED
    assert confident.verdict({**figures, "service_level": 0.95}) == MET
    # the plain criterion reads nothing new: the share of days and the spread do not move it
    assert plain.met({"service_level": 0.8}) and plain.met({**figures, "met_share": 0.0})


def test_bad_values_are_refused_where_they_are_written(tmp_path: Path) -> None:
    for key, value, message in (
        ("confidence", 1.5, "must be < 1"),
        ("confidence", 0, "must be > 0"),
        ("days_met", 1, "must be < 1"),
        ("days_met", "most", "expected a number"),
    ):
        with pytest.raises(ScenarioError, match=rf"goals\.{key}: {message}"):
            scenario_from_dict(deep_merge(ERLANG_C, {"goals": {key: value}}))
    with pytest.raises(ScenarioError, match=r"goals\.departments\.support.*confidence"):
        scenario_from_dict(deep_merge(ERLANG_C, {"goals": {"departments": {"support": {"confidence": 0.9}}}}))
    path = tmp_path / "day.yaml"
    path.write_text(yaml.safe_dump(ERLANG_C), encoding="utf-8")
    for option, value in (("--confidence", "1.5"), ("--days-met", "0"), ("--confidence", "-0.2")):
        ran = runner.invoke(app, ["staff", str(path), option, value, "--out", str(tmp_path / "x")])
        assert ran.exit_code == 2, ran.output
        assert f"{option} {float(value)!r}: expected a share strictly between 0 and 1" in ran.output
        assert not (tmp_path / "x").exists()
    with pytest.raises(StaffingError, match=r"--confidence 1\.0"):
        sim.staff(with_agents(10), confidence=1.0, reps=2, jobs=1)
    with pytest.raises(StaffingError, match="--days-met True"):
        Targets({"service_level": 0.8}, days_met=True)


def test_the_scenarios_goals_set_the_criterion_and_the_command_line_wins() -> None:
    scenario = scenario_from_dict(deep_merge(ERLANG_C, {"goals": {"confidence": 0.9, "days_met": 0.75}}))
    from_goals = parse_targets([], [], scenario)
    assert (from_goals.confidence, from_goals.days_met) == (0.9, 0.75)
    assert from_goals.floors == {"service_level": scenario.service_level.target}
    given = parse_targets(["service_level=0.7"], [], scenario, confidence=0.99)
    assert (given.confidence, given.days_met) == (0.99, 0.75)
    assert "at 99% confidence on 75% of days" in given.describe()
    plain = parse_targets([], [], with_agents(10))
    assert (plain.confidence, plain.days_met) == (None, None) and plain.describe() == "service_level >= 0.8"


# --- the share of days meeting the goal, against theory -------------------------------------------------


def test_the_share_of_days_is_the_interval_tables_and_rises_with_agents_within_erlang_c_bounds() -> None:
    """On an Erlang C day (common random numbers: the same callers for every count), each measured hour's
    share of days meeting 80% in 20 s is (a) the share of replications whose own interval table row met it
    (another code path), (b) never lower with more agents, and (c) within the bounds theory puts on a
    figure in [0, 1] with mean m (Erlang C's service level): (m - 0.8) / (1 - 0.8) <= P(SL >= 0.8) <=
    m / 0.8 (reverse Markov and Markov), up to binomial noise."""
    reps, seed = 40, 11
    shares: dict[int, np.ndarray] = {}
    for agents in (9, 10, 11, 12):
        scenario = with_agents(agents)
        confirmed = confirm(SerialExecutor(), scenario, seed, reps, SERVICE, ["support"])["table"]
        shares[agents] = confirmed["confirm_met_share"].to_numpy()[1:]  # hour 0 is the warm-up
        assert math.isnan(confirmed["confirm_met_share"].iloc[0])
        if agents == 11:  # near the target: (a), on another code path
            met = np.zeros(2)
            for replication in range(reps):
                table = interval_table(simulate(scenario, seed, replication))
                rows = table[table["kind"] == "department"]["service_level"].to_numpy()[1:]
                met += rows >= TARGET - 1e-12
            np.testing.assert_allclose(shares[agents], met / reps, rtol=0, atol=1e-12)
        level = erlang_c_level(agents)
        tolerance = _crit(reps) * math.sqrt(0.25 / reps)
        assert np.all(shares[agents] >= (level - TARGET) / (1 - TARGET) - tolerance), (agents, shares[agents])
        assert np.all(shares[agents] <= level / TARGET + tolerance), (agents, shares[agents])
    for fewer, more in ((9, 10), (10, 11), (11, 12)):
        assert np.all(shares[more] >= shares[fewer]), shares
    assert shares[9].max() < 0.5 < shares[12].min()  # 9 agents: 37% in 20 s on average; 12: 92%


BUSY: dict[str, Any] = {
    "duration": "9h",
    "interval": "3h",
    "warmup": "3h",
    "arrivals": {"per_hour": PER_HOUR, "busyness": {"cv": 0.3}},
}


def _days_theory(agents: int, cv: float) -> float:
    """P(a day's factor F lets Erlang C reach 80% in 20 s) = P(F <= f*), F gamma with mean 1 and this cv,
    f* the factor at which the service level falls to the target."""
    cut = optimize.brentq(
        lambda f: erlang_c_level(agents, f) - TARGET, 0.3, agents * 3600 / PER_HOUR / HANDLE
    )
    shape = 1 / cv**2
    return float(stats.gamma.cdf(cut, shape, scale=1 / shape))


def _check_busy_days(agents: int, reps: int) -> None:
    """On busy days (arrival rates times a gamma factor, cv 0.3) of M/M/c, each 3-hour interval's share of
    days meeting 80% in 20 s is the probability that the day's factor is one Erlang C can serve at the
    target (a 3-hour interval of ~360 calls varies far less within a day than between days, so a day meets
    the target when its steady state does), a binomial estimate. Without busy days the share would be
    about 0 or 1: the test tells them apart."""
    scenario = with_agents(agents, **BUSY)
    pool_ = ProcessExecutor(2)
    try:
        shares = confirm(pool_, scenario, 11, reps, SERVICE, ["support"])["table"]["confirm_met_share"]
    finally:
        pool_.close()
    theory = _days_theory(agents, 0.3)
    tolerance = _crit(reps) * math.sqrt(theory * (1 - theory) / reps)
    assert tolerance < min(theory, 1 - theory), "too few days to tell busy days from none"
    for share in shares.to_numpy()[1:]:
        assert abs(share - theory) <= tolerance, (agents, share, theory, tolerance)


def test_on_busy_days_the_share_of_days_met_is_the_chance_the_days_load_is_served() -> None:
    _check_busy_days(11, 150)


@pytest.mark.slow
@pytest.mark.parametrize("agents", [11, 12, 13])
def test_on_busy_days_the_share_of_days_met_is_the_chance_the_days_load_is_served_precisely(
    agents: int,
) -> None:
    _check_busy_days(agents, 800)


# --- the plans ------------------------------------------------------------------------------------------

PLAN_DAY: dict[str, Any] = {
    "name": "erlang-c-plan",
    "seed": 3,
    "duration": "3h",
    "interval": "1h",
    "arrivals": {"per_interval": [90, 150, 120]},
    "departments": {"support": {"agents": 10, "handle_time": {"dist": "exponential", "mean": "4m"}}},
}


def test_a_plan_with_confidence_has_at_least_the_plain_plans_agents_and_erlang_c_bounds_both() -> None:
    """Same seed and replications: the 95% bound is below the mean on the same figures, so each hour needs
    at least the plain plan's agents; the plain plan is within one agent of Erlang C (M/M/c); a plan for 90%
    of days meets the target on at least 90% of its search's days in every hour."""
    scenario = scenario_from_dict(
        deep_merge(PLAN_DAY, {"duration": "2h", "arrivals": {"per_interval": [150, 120]}})
    )
    options: dict[str, Any] = {"reps": 10, "confirm_reps": 4, "jobs": 1}
    plain = search(scenario, {"service_level": TARGET}, **options)
    confident = search(scenario, {"service_level": TARGET}, confidence=0.95, **options)
    days = search(scenario, {"service_level": TARGET}, days_met=0.9, **options)
    erlang_c_plan = plain.erlang_c["support"]
    for hour, (c, p, k) in enumerate(
        zip(erlang_c_plan, plain.plan["support"], confident.plan["support"], strict=True)
    ):
        assert p >= c - 1 and abs(p - c) <= 1, (hour, plain.table)
        assert k >= p, (hour, plain.plan, confident.plan)
    assert confident.hours()["simulated"]["total"] > plain.hours()["simulated"]["total"]
    assert (days.table["search_met_share"] >= 0.9).all(), days.table
    assert confident.targets.confidence == 0.95 and days.targets.days_met == 0.9
    assert "at 95% confidence" in confident.targets.describe()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_over_seeds_the_confident_plan_is_never_below_the_plain_one(seed: int) -> None:
    """Over seeds and a longer day: every hour, Erlang C - 1 <= plain plan <= confidence 0.95 plan."""
    scenario = scenario_from_dict(
        deep_merge(PLAN_DAY, {"duration": "5h", "arrivals": {"per_interval": [60, 120, 180, 150, 90]}})
    )
    options: dict[str, Any] = {"reps": 20, "confirm_reps": 4, "seed": seed, "jobs": 2}
    plain = search(scenario, {"service_level": TARGET}, **options)
    confident = search(scenario, {"service_level": TARGET}, confidence=0.95, **options)
    for c, p, k in zip(
        plain.erlang_c["support"], plain.plan["support"], confident.plan["support"], strict=True
    ):
        assert c - 1 <= p <= k, (plain.plan, confident.plan, plain.erlang_c)


def test_the_verdicts_are_counted_alike_in_the_console_the_csv_and_the_headlines(tmp_path: Path) -> None:
    path = tmp_path / "day.yaml"
    path.write_text(
        yaml.safe_dump(deep_merge(PLAN_DAY, {"duration": "2h", "arrivals": {"per_interval": [150, 120]}})),
        encoding="utf-8",
    )
    folder = tmp_path / "plan"
    ran = runner.invoke(
        app,
        [
            "staff",
            str(path),
            "--confidence",
            "0.95",
            "--reps",
            "6",
            "--confirm-reps",
            "6",
            "--jobs",
            "1",
            "--out",
            str(folder),
        ],
    )
    assert ran.exit_code == 0, ran.output
    plan = pd.read_csv(folder / "plan.csv")
    verdicts = plan["confirm_verdict"].fillna("")
    assert set(verdicts) <= set(VERDICTS)
    counts = {verdict: int((verdicts == verdict).sum()) for verdict in VERDICTS}
    assert (plan["confirm_met"] == (verdicts == MET)).all()  # within CI is never met
    assert (plan["confirm_within_ci"] == (verdicts == WITHIN_CI)).all()
    assert plan["confirm_met_share"].between(0, 1).all() and "confirm_met_share_service_level" in plan
    summary = json.loads((folder / "summary.json").read_text())
    confirmation = summary["confirmation"]
    assert summary["targets"]["confidence"] == 0.95 and summary["targets"]["days_met"] is None
    assert (
        confirmation["intervals_met"],
        confirmation["intervals_within_ci"],
        confirmation["intervals_missed"],
    ) == (
        counts[MET],
        counts[WITHIN_CI],
        counts[MISSED],
    )
    assert sum(counts.values()) == confirmation["intervals"] == 2
    sentence = (
        f"{counts[MET]} met, {counts[WITHIN_CI]} within their 95% CI (not met), {counts[MISSED]} missed, of 2 "
        "interval rows"
    )
    header = (folder / "staffing.yaml").read_text()
    assert sentence in header and "one-sided 95% bound" in header
    console = re.sub(r"\s+", " ", ran.output)
    assert sentence in console
    shown = re.findall(r"\b(met|within CI|missed)\s*$", ran.output, flags=re.MULTILINE)
    assert len(shown) == 2 and {v: shown.count(v) for v in VERDICTS} == counts


def test_without_the_options_the_plan_and_its_met_count_are_todays(tmp_path: Path) -> None:
    """The criterion changes nothing unasked: the plain search gives the plan the revision before plans with
    confidence gave on the same seed ([9, 14, 11], recorded from it), and its met rows are those whose mean
    met (as its "met" counted them)."""
    scenario = scenario_from_dict(PLAN_DAY)
    result = search(scenario, {"service_level": TARGET}, reps=6, confirm_reps=6, jobs=1)
    assert result.plan == {"support": [9, 14, 11]}
    table = result.table
    assert (table["confirm_met"] == (table["confirm_service_level"] >= TARGET - 1e-12)).all()
    assert result.confirmation["intervals_met"] == int(table["confirm_met"].sum())
    assert (result.targets.confidence, result.targets.days_met) == (None, None)
