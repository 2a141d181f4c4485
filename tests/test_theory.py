"""The simulator against queueing theory: Erlang C (M/M/c), Erlang A (M/M/c+M) and Erlang B (M/M/c/c).

Method. Each case runs R independent replications (seed s, replications 0..R-1: independent named streams),
each one long day after a warm-up. Per KPI we take the mean over replications and its standard error
SE = sd / √R, and require |mean - theory| <= crit · SE, where theory comes from `sim.analysis.erlang` (itself checked
against an independent oracle in `tests/test_erlang.py`). Replications are independent, so SE is honest
whatever the autocorrelation within a day; each replication's KPI is an average of thousands of calls, so
it is close to normal and (mean - theory) / SE follows Student's t with R - 1 degrees of freedom.

The tolerance, fixed up front: Z = 4, i.e. a two-sided false-alarm probability α = 2·(1 - Φ(4)) ≈ 6.3e-5 per
assertion. Because SE is estimated from R replications, crit is the Student-t quantile with the same α
(4.67 for R = 30, 4.15 for R = 120), not 4 itself; using 4 with R = 30 would raise α six-fold, to 4e-4.
Bonferroni view: the default run makes 40 such assertions and the slow run another 40, so the chance that
a correct simulator fails anywhere is below 40·α ≈ 0.25 % per run (0.5 % for both), whatever the
correlation between KPIs of the same replications. Seeds are fixed, so the outcome is reproducible; α is
the chance of a false alarm after any change that reshuffles the random streams.

Two guards keep the test meaningful rather than merely green: SE must be positive (a KPI stuck at one
value would make any tolerance vacuous), and crit·SE must stay below RESOLUTION of the theory value (the
test must be able to see an error of that relative size: 50 % fast, 15 % slow for the noisiest KPI, ASA
at ρ = 0.9; probabilities and occupancy are resolved to a few percent or better). Both guard the design,
not the outcome: they fail only if a plan is too small or a replication runs away. Each assertion message
reports theory, mean, SE, z, crit, the relative error and the start-up bias; `pytest -s` prints the same
line for passing KPIs.

Bias. The statistics above assume E[KPI of one day] = theory. Two effects could break that:
- the empty start: the day begins empty, so arrivals soon after t = 0 see a lighter queue. Calls arriving
  before `warmup` are not counted. The residual bias is computed exactly, not guessed: the law of the
  number in system at time t is p(t) = e₀ e^{Qt} for the (truncated) CTMC generator Q; by PASTA the counted
  callers see its time average p̄ over [warmup, duration), and the oracle's per-state figures turn p̄ into
  the expected KPIs. Each test asserts |bias| <= BIAS_SHARE · SE (0.2: a shift of 0.2 SE moves the false-alarm
  rate at z = 4 from 6.3e-5 to 8.6e-5). The warm-ups below were chosen from that computation.
- the close: arrivals stop at `duration` but the agents stay until the calls in the system are served, and
  under FCFS a caller's fate depends only on who is ahead of it, so calls arriving near the close are not
  biased. `in_system` is asserted to be 0 (nothing cut off by the drain limit).
Ratio KPIs (e.g. ASA = total wait / answered) carry an O(1/n) ratio-estimator bias, n ≈ 3 000 to 10 000
calls per day: about 10⁻⁴ relative, far below SE.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

from sim.analysis import erlang
from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.experiments.runner import parallel_map
from sim.model.dists import Exponential, Fixed
from sim.model.loading import load_scenario
from sim.model.scenario import Scenario
from tests.conftest import ROOT
from tests.test_erlang import Model, figures

Z = 4.0
ALPHA = 2 * stats.norm.sf(Z)
BIAS_SHARE = 0.2
JOBS = 2
RESOLUTION = {"fast": 0.50, "slow": 0.15}  # largest crit·SE / |theory|; observed at most 0.29 and 0.09
SCALAR_KPIS = (
    "p_wait",
    "asa",
    "mean_wait",
    "service_level",
    "abandon_rate",
    "block_rate",
    "occupancy",
    "in_system",
)


@dataclass(frozen=True)
class Plan:
    """How much to simulate: replications, and the counted hours of each replication's day."""

    reps: int
    hours: float
    seed: int


@dataclass(frozen=True)
class Case:
    """An operating point: a shipped Erlang scenario with overrides, the KPIs theory predicts, two plans."""

    id: str
    file: str
    overrides: tuple[str, ...]
    warmup_hours: float
    kpis: tuple[str, ...]
    fast: Plan
    slow: Plan

    def scenario(self, plan: Plan) -> Scenario:
        """The scenario as simulated: warm-up, then `plan.hours` counted hours."""
        duration = self.warmup_hours + plan.hours
        return load_scenario(
            ROOT / "scenarios" / f"{self.file}.yaml",
            [*self.overrides, f"warmup={self.warmup_hours}h", f"duration={duration}h"],
        )


C_KPIS = ("p_wait", "asa", "service_level", "occupancy")
A_KPIS = ("p_wait", "abandon_rate", "asa", "mean_wait", "service_level", "occupancy")
B_KPIS = ("block_rate", "occupancy")

# Fast plans: 30 days of about 3 500 counted calls (10 000 at ρ = 0.9, whose ASA is noisier);
# slow plans: 120 days of about 8 000 (21 000 at ρ = 0.9). Warm-ups from `start_bias` (see the docstring).
CASES = [
    Case("C-10agents-rho0.80", "erlang-c", (), 2, C_KPIS, Plan(30, 30, 101), Plan(120, 66, 1101)),
    Case(
        "C-1agent-rho0.70",
        "erlang-c",
        ("departments.support.agents=1", "arrivals.per_hour=42", "departments.support.handle_time.mean=1m"),
        2,
        C_KPIS,
        Plan(30, 84, 102),
        Plan(120, 190, 1102),
    ),
    Case(
        "C-20agents-rho0.90",
        "erlang-c",
        ("departments.support.agents=20", "arrivals.per_hour=270"),
        4,
        C_KPIS,
        Plan(30, 40, 103),
        Plan(120, 80, 1103),
    ),
    Case(
        "C-5agents-rho0.50",
        "erlang-c",
        ("departments.support.agents=5", "arrivals.per_hour=37.5"),
        1,
        C_KPIS,
        Plan(30, 96, 104),
        Plan(120, 210, 1104),
    ),
    Case("A-10agents-load8", "erlang-a", (), 1, A_KPIS, Plan(30, 30, 201), Plan(120, 66, 1201)),
    Case(
        "A-10agents-load12-overloaded",
        "erlang-a",
        ("arrivals.per_hour=180", "patience.mean=2m"),
        1,
        A_KPIS,
        Plan(30, 20, 202),
        Plan(120, 44, 1202),
    ),
    Case(
        "A-1agent-load0.83",
        "erlang-a",
        (
            "departments.support.agents=1",
            "arrivals.per_hour=50",
            "departments.support.handle_time.mean=1m",
            "patience.mean=90s",
        ),
        1,
        A_KPIS,
        Plan(30, 72, 203),
        Plan(120, 160, 1203),
    ),
    Case("B-10lines-load8", "erlang-b", (), 1, B_KPIS, Plan(30, 30, 301), Plan(120, 66, 1301)),
    Case(
        "B-1line-load1",
        "erlang-b",
        ("lines=1", "departments.support.agents=1", "arrivals.per_hour=15"),
        1,
        B_KPIS,
        Plan(30, 240, 302),
        Plan(120, 530, 1302),
    ),
    Case(
        "B-30lines-load25",
        "erlang-b",
        ("lines=30", "departments.support.agents=30", "arrivals.per_hour=375"),
        1,
        B_KPIS,
        Plan(30, 10, 303),
        Plan(120, 22, 1303),
    ),
]
BY_ID = {case.id: case for case in CASES}


# --- theory -------------------------------------------------------------------------------------------------


def model_of(scenario: Scenario) -> Model:
    """The queueing model a scenario is, refusing anything outside M/M/c(+M)(/c) so theory applies."""
    (department,) = scenario.departments.values()
    assert isinstance(department.handle_time, Exponential), "handle time must be exponential"
    assert isinstance(department.wrap_time, Fixed) and department.wrap_time.value == 0, "no wrap-up"
    servers = department.agents.count if department.agents is not None else None
    assert servers is not None, "a constant number of agents"
    assert scenario.arrivals.per_hour is not None, "a constant Poisson rate"
    assert scenario.ring_time == 0, "answered without ringing"
    assert not scenario.agent_groups and scenario.ivr is None
    if scenario.patience is not None:
        assert isinstance(scenario.patience, Exponential), "patience must be exponential"
    return Model(
        arrival_rate=scenario.arrivals.per_hour / 3600,
        mu=1 / department.handle_time.mean,
        servers=servers,
        theta=1 / scenario.patience.mean if scenario.patience is not None else 0.0,
        lines=scenario.lines,
    )


def theory(scenario: Scenario, model: Model) -> dict[str, float]:
    """Steady-state KPIs from `sim.analysis.erlang`, keyed as in `sim.analysis.summary.summary`."""
    lam, handle, c = model.arrival_rate, 1 / model.mu, model.servers
    threshold = scenario.service_level.threshold
    if model.lines is not None:
        assert model.lines == c and model.theta == 0, "Erlang B: lines = agents, no abandonment"
        blocking = erlang.erlang_b(c, model.load)
        return {"block_rate": blocking, "occupancy": model.load * (1 - blocking) / c}
    if model.theta == 0:
        figures_ = erlang.erlang_c_figures(lam, handle, c, threshold)
    else:
        figures_ = erlang.erlang_a_figures(lam, handle, 1 / model.theta, c, threshold)
    keys = ("p_wait", "asa", "mean_wait", "service_level", "abandon_rate", "occupancy")
    return {key: float(getattr(figures_, key)) for key in keys}


def start_bias(scenario: Scenario, model: Model) -> dict[str, float]:
    """Expected KPI of a finite day started empty minus its steady state, from the transient CTMC law.

    p̄ = p(W) · (1/(D-W)) ∫₀^{D-W} e^{Qs} ds, the integral read off the exponential of [[Q, I], [0, 0]].
    """
    q = model.generator()
    n = len(q)
    start = np.zeros(n)
    start[0] = 1.0
    warmup, duration = scenario.warmup, scenario.duration
    at_warmup = start @ expm(q * warmup)
    augmented = np.zeros((2 * n, 2 * n))
    augmented[:n, :n] = q
    augmented[:n, n:] = np.eye(n)
    averaged = at_warmup @ expm(augmented * (duration - warmup))[:n, n:] / (duration - warmup)
    assert averaged.sum() == pytest.approx(1.0, abs=1e-6)  # expm of a long horizon: ~1e-9 round-off
    averaged = np.clip(averaged, 0.0, None) / np.clip(averaged, 0.0, None).sum()
    threshold = scenario.service_level.threshold
    transient = figures(model, averaged, threshold)
    steady = figures(model, model.stationary(), threshold)
    return {key: transient[key] - steady[key] for key in steady}


# --- simulation ---------------------------------------------------------------------------------------------


def one_replication(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """The scalar KPIs of one replication (a worker's job; no interval table, which theory does not need)."""
    kpis = summary(simulate(scenario, seed, replication))
    return {key: float(kpis[key]) for key in SCALAR_KPIS}


@functools.cache
def replications(case_id: str, speed: str) -> tuple[Scenario, dict[str, np.ndarray]]:
    """Every replication's KPIs for a case (cached: the KPI tests of one case share the runs)."""
    case = BY_ID[case_id]
    plan = case.fast if speed == "fast" else case.slow
    scenario = case.scenario(plan)
    rows = list(parallel_map(one_replication, [(scenario, plan.seed, r) for r in range(plan.reps)], JOBS))
    return scenario, {key: np.array([row[key] for row in rows]) for key in SCALAR_KPIS}


@dataclass(frozen=True)
class Comparison:
    """A KPI's replications against its theory value."""

    label: str
    theory: float
    values: np.ndarray
    bias: float

    @property
    def mean(self) -> float:
        """Mean over replications."""
        return float(self.values.mean())

    @property
    def se(self) -> float:
        """Standard error of that mean, sd / √R."""
        return float(self.values.std(ddof=1) / math.sqrt(len(self.values)))

    @property
    def z(self) -> float:
        """Distance from theory in standard errors."""
        return (self.mean - self.theory) / self.se if self.se > 0 else math.inf

    @property
    def crit(self) -> float:
        """The Student-t quantile with the fixed two-sided false-alarm rate ALPHA."""
        return float(stats.t.isf(ALPHA / 2, len(self.values) - 1))

    def __str__(self) -> str:
        relative = (self.mean - self.theory) / self.theory if self.theory else math.nan
        return (
            f"{self.label}: theory {self.theory:.6g}, simulated {self.mean:.6g} ± SE {self.se:.3g} "
            f"(R={len(self.values)}), z = {self.z:+.2f} (|z| <= {self.crit:.2f}), "
            f"relative error {relative:+.2%}, start-up bias {self.bias:+.2g}"
        )


@functools.cache
def expectations(case_id: str, speed: str) -> tuple[dict[str, float], dict[str, float]]:
    """Theory and start-up bias of every KPI of a case as planned (cached: the bias needs an expm)."""
    case = BY_ID[case_id]
    scenario = case.scenario(case.fast if speed == "fast" else case.slow)
    model = model_of(scenario)
    return theory(scenario, model), start_bias(scenario, model)


def check(case_id: str, kpi: str, speed: str) -> None:
    """Assert the simulated KPI matches theory within crit·SE, with the guards of the module docstring."""
    _, samples = replications(case_id, speed)
    expected, bias = expectations(case_id, speed)
    comparison = Comparison(f"{case_id} {kpi} [{speed}]", expected[kpi], samples[kpi], bias[kpi])
    print(comparison)
    assert np.isfinite(comparison.values).all(), f"non-finite KPI values: {comparison}"
    assert (samples["in_system"] == 0).all(), f"calls cut off by the drain limit: {comparison}"
    assert comparison.se > 0, f"degenerate SE, the test could not fail: {comparison}"
    assert comparison.crit * comparison.se <= RESOLUTION[speed] * abs(comparison.theory), (
        f"too few replications to resolve a {RESOLUTION[speed]:.0%} error: {comparison}"
    )
    assert abs(comparison.bias) <= BIAS_SHARE * comparison.se, f"warm-up too short for this SE: {comparison}"
    assert abs(comparison.z) <= comparison.crit, f"simulation disagrees with theory: {comparison}"


PARAMS = [pytest.param(case.id, kpi, id=f"{case.id}-{kpi}") for case in CASES for kpi in case.kpis]


# --- the tests ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case_id", "kpi"), PARAMS)
def test_kpi_matches_theory(case_id: str, kpi: str) -> None:
    check(case_id, kpi, "fast")


@pytest.mark.slow
@pytest.mark.parametrize(("case_id", "kpi"), PARAMS)
def test_kpi_matches_theory_long(case_id: str, kpi: str) -> None:
    check(case_id, kpi, "slow")


def test_loss_system_never_queues() -> None:
    """Erlang B: with lines = agents a caller is answered at once or blocked, never queued."""
    _, samples = replications("B-10lines-load8", "fast")
    assert (samples["p_wait"] == 0).all() and (samples["asa"] == 0).all()
    assert (samples["block_rate"] > 0).all()


def test_start_bias_is_seen_without_warmup() -> None:
    """The bias computation is not vacuous: a day started empty and counted from 0 reads light.

    For M/M/20 at ρ = 0.9 over 14 h without warm-up the expected P(wait) is about 0.01 low (1 SE of the fast
    plan), and it shrinks tenfold with the 4 h warm-up the case uses.
    """
    case = BY_ID["C-20agents-rho0.90"]
    with_warmup = case.scenario(case.fast)
    model = model_of(with_warmup)
    cold = load_scenario(ROOT / "scenarios" / "erlang-c.yaml", [*case.overrides, "warmup=0", "duration=14h"])
    cold_bias = start_bias(cold, model)["p_wait"]
    warm_bias = start_bias(with_warmup, model)["p_wait"]
    assert cold_bias < -0.005
    assert abs(warm_bias) < abs(cold_bias) / 10
