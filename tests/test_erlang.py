"""sim/analysis/erlang.py against computations written here from first principles, and against published tables.

The oracle below shares no code or algorithm with the module: the stationary law comes from solving the
balance equations of the truncated CTMC by GTH state reduction (a general CTMC method, entrywise accurate
even in tails of 1e-19, not the birth-death product), and a
tagged caller's fate comes from an absorbing chain (fundamental-matrix solves for the answer probability
and mean waits, uniformization for the service level) rather than the module's closed products and `expm`.
`tests/test_theory.py` reuses the oracle to compute the finite-horizon bias of its simulations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate, stats

from sim.analysis import erlang

# --- the independent oracle ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """M/M/c+M with an optional line limit: Poisson(λ) arrivals, c agents at rate μ, patience rate θ.

    θ = 0 is M/M/c (Erlang C); lines = c is M/M/c/c (Erlang B). Rates per second.
    """

    arrival_rate: float
    mu: float
    servers: int
    theta: float = 0.0
    lines: int | None = None

    @property
    def load(self) -> float:
        """Offered load in erlangs."""
        return self.arrival_rate / self.mu

    def death_rate(self, n: int) -> float:
        """Departure rate with n callers in the system (services plus abandonments)."""
        return self.mu * min(n, self.servers) + self.theta * max(n - self.servers, 0)

    def size(self, negligible: float = 1e-18) -> int:
        """States 0..size-1 keep all but a negligible stationary tail (the line limit if there is one)."""
        if self.lines is not None:
            return self.lines + 1
        log_weight, best, n = 0.0, 0.0, 0
        while n <= self.servers or log_weight > best + math.log(negligible):
            n += 1
            log_weight += math.log(self.arrival_rate / self.death_rate(n))
            best = max(best, log_weight)
        return n + 1

    def generator(self, size: int | None = None) -> np.ndarray:
        """The CTMC generator of the number in system, truncated to `size` states."""
        size = size or self.size()
        q = np.zeros((size, size))
        for n in range(size - 1):
            q[n, n + 1] = self.arrival_rate
            q[n + 1, n] = self.death_rate(n + 1)
        np.fill_diagonal(q, -q.sum(axis=1))
        return q

    def stationary(self) -> np.ndarray:
        """Solve πQ = 0, Σπ = 1 for the truncated generator by GTH state reduction (`gth_stationary`)."""
        return gth_stationary(self.generator())


def gth_stationary(q: np.ndarray) -> np.ndarray:
    """The stationary law of an irreducible CTMC with generator `q`, by the Grassmann-Taksar-Heyman algorithm.

    States are censored out one at a time from the last: removing state k sends its outflow to the states
    below it in proportion to its rates there (q[i, j] += q[i, k] q[k, j] / Σ_{j<k} q[k, j]). Only
    off-diagonal rates are used, and only multiplied, divided and added, never subtracted, so every π_n
    comes out with a small *relative* error, also in tails of 1e-14 and below (O'Cinneide, 1993). A least-
    squares or LU solve of πQ = 0 works with the diagonal, whose cancellations leave errors of about
    machine epsilon times the largest π on every entry: relative errors of order one in the tail.
    It is a general CTMC method, not the birth-death product the module uses.
    """
    a = np.array(q, dtype=float)
    np.fill_diagonal(a, 0.0)
    size = len(a)
    for k in range(size - 1, 0, -1):
        out = a[k, :k].sum()
        a[:k, k] /= out
        a[:k, :k] += np.outer(a[:k, k], a[k, :k])
    pi = np.zeros(size)
    pi[0] = 1.0
    for k in range(1, size):
        pi[k] = pi[:k] @ a[:k, k]
    return pi / pi.sum()


@dataclass(frozen=True)
class Tagged:
    """A caller who finds k others queued ahead (k = 0..K-1), as an absorbing CTMC on 'k ahead'.

    From k ahead it moves to k-1 (or is answered from 0) at rate cμ + kθ and abandons at its own rate θ.
    """

    answered: np.ndarray  # P(answered | k)
    answered_wait: np.ndarray  # E[wait · 1{answered} | k]
    wait: np.ndarray  # E[time in queue, answered or not | k]
    subgenerator: np.ndarray
    to_answer: np.ndarray

    @classmethod
    def of(cls, model: Model, positions: int) -> Tagged:
        """Fundamental-matrix solves: h = (-S)⁻¹a, E[τ·1A] = (-S)⁻¹h, E[τ] = (-S)⁻¹1."""
        c_mu, theta = model.servers * model.mu, model.theta
        k = np.arange(positions)
        s = np.diag(-(c_mu + k * theta + theta))
        s[k[1:], k[1:] - 1] = c_mu + k[1:] * theta
        a = np.zeros(positions)
        a[0] = c_mu
        fundamental = np.linalg.inv(-s)
        h = fundamental @ a
        return cls(h, fundamental @ h, fundamental @ np.ones(positions), s, a)

    def answered_within(self, threshold: float) -> np.ndarray:
        """P(answered within `threshold` | k), by uniformization of the absorbing chain."""
        rate = float(-self.subgenerator.diagonal().min())
        step = np.eye(len(self.subgenerator)) + self.subgenerator / rate
        entry = self.to_answer / rate
        mean = rate * threshold
        steps = int(mean + 12 * math.sqrt(mean) + 40)
        weights = stats.poisson.pmf(np.arange(steps + 1), mean)
        absorbed = np.zeros(len(step))  # P(answered within n jumps), n = 0
        total = np.zeros(len(step))
        for n in range(steps + 1):
            total += weights[n] * absorbed
            absorbed = step @ absorbed + entry
        return total


def figures(model: Model, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Per-call KPIs for callers arriving to state law `p` (PASTA), named as in `sim.analysis.summary.summary`.

    With `p` stationary these are the steady-state figures; with `p` a time-averaged transient law they are
    what a finite day's KPIs converge to (occupancy is a time average of min(N, c) / c either way).
    """
    n = np.arange(len(p))
    c = model.servers
    lines = model.lines if model.lines is not None else len(p)
    blocked = float(p[n >= lines].sum())
    at_once = float(p[n < c].sum())
    queued = p[(n >= c) & (n < lines)]
    tagged = Tagged.of(model, max(len(queued), 1))
    k = slice(0, len(queued))
    answered = at_once + float(queued @ tagged.answered[k])
    reached = 1.0 - blocked
    return {
        "p_wait": float(queued.sum()) / reached,
        "asa": float(queued @ tagged.answered_wait[k]) / answered,
        "mean_wait": float(queued @ tagged.wait[k]) / reached,
        "service_level": at_once + float(queued @ tagged.answered_within(threshold)[k]),
        "abandon_rate": float(queued @ (1.0 - tagged.answered[k])),
        "block_rate": blocked,
        "occupancy": float(np.minimum(n, c) @ p) / c,
    }


def oracle(model: Model, threshold: float) -> dict[str, float]:
    """Steady-state KPIs of the model, computed independently of `sim.analysis.erlang`."""
    return figures(model, model.stationary(), threshold)


def erlang_b_direct(servers: int, load: Fraction) -> Fraction:
    """Erlang B as the textbook ratio a^c/c! / Σ_{k≤c} a^k/k!, in exact rational arithmetic."""
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    return terms[-1] / sum(terms)


def erlang_c_closed(servers: int, load: float) -> float:
    """Erlang C closed form: (a^c/c! · c/(c-a)) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c-a))."""
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)


def within_by_quadrature(model: Model, ahead: int, threshold: float) -> float:
    """P(answered within threshold | `ahead` queued) = ∫₀ᵀ f_V(v) e^{-θv} dv, V hypoexponential.

    V, the wait an infinitely patient caller would have, is a sum of exponential phases with the distinct
    rates cμ + jθ (j = ahead..0); the caller is answered in time if V ≤ T and its patience outlasts V.
    """
    rates = [model.servers * model.mu + j * model.theta for j in range(ahead + 1)]
    coefficients = [
        math.prod(r_m / (r_m - r_i) for m, r_m in enumerate(rates) if m != i) for i, r_i in enumerate(rates)
    ]

    def density(v: float) -> float:
        return sum(w * r * math.exp(-r * v) for w, r in zip(coefficients, rates, strict=True))

    value, _ = integrate.quad(lambda v: density(v) * math.exp(-model.theta * v), 0.0, threshold)
    return value


# --- Erlang B -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("servers", [0, 1, 2, 5, 10, 17])
@pytest.mark.parametrize("load", ["0", "1/2", "1", "8", "31/4"])
def test_erlang_b_matches_direct_formula(servers: int, load: str) -> None:
    expected = float(erlang_b_direct(servers, Fraction(load)))
    assert erlang.erlang_b(servers, float(Fraction(load))) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_erlang_b_published_values() -> None:
    """B(10 lines, 8 erl) = 0.1217; the 1 % row of the Erlang B table (lines → erlangs carried)."""
    assert erlang.erlang_b(10, 8.0) == pytest.approx(0.1217, abs=5e-5)
    for lines, load in [(5, 1.361), (10, 4.461), (20, 12.031), (50, 37.90), (100, 84.06)]:
        assert erlang.erlang_b(lines, load) == pytest.approx(0.01, abs=2e-4), lines


def test_erlang_b_is_stable_for_large_systems() -> None:
    """Thousands of lines: no overflow, and agreement with the log-space direct formula."""
    servers, load = 2000, 1950.0
    log_terms = np.array([k * math.log(load) - math.lgamma(k + 1) for k in range(servers + 1)])
    expected = math.exp(log_terms[-1] - np.logaddexp.reduce(log_terms))
    assert erlang.erlang_b(servers, load) == pytest.approx(expected, rel=1e-9)


def test_erlang_b_matches_loss_chain() -> None:
    model = Model(arrival_rate=8 / 240, mu=1 / 240, servers=10, lines=10)
    assert erlang.erlang_b(10, 8.0) == pytest.approx(oracle(model, 20.0)["block_rate"], rel=1e-9)


def test_erlang_b_refuses_negative_arguments() -> None:
    with pytest.raises(ValueError):
        erlang.erlang_b(-1, 1.0)
    with pytest.raises(ValueError):
        erlang.erlang_b(3, -0.5)


# --- Erlang C -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("servers", "load"), [(1, 0.3), (1, 0.95), (2, 1.0), (10, 8.0), (20, 18.0), (50, 49.5)]
)
def test_erlang_c_matches_closed_form(servers: int, load: float) -> None:
    assert erlang.erlang_c(servers, load) == pytest.approx(erlang_c_closed(servers, load), rel=1e-10)


def test_erlang_c_published_values() -> None:
    """C(10 agents, 8 erl) = 0.4092; M/M/1: C = ρ; M/M/2 at 1 erl: C = a²/(2+a) = 1/3."""
    assert erlang.erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-5)
    assert erlang.erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-12)
    assert erlang.erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)


@pytest.mark.parametrize("load", [10.0, 12.5])
def test_erlang_c_is_one_when_overloaded(load: float) -> None:
    assert erlang.erlang_c(10, load) == 1.0
    figures_ = erlang.erlang_c_figures(load / 240, 240.0, 10, 20.0)
    assert (figures_.p_wait, figures_.asa, figures_.service_level) == (1.0, math.inf, 0.0)


@pytest.mark.parametrize(
    ("per_hour", "handle", "servers", "threshold"),
    [(120, 240.0, 10, 20.0), (42, 60.0, 1, 30.0), (270, 240.0, 20, 20.0), (30, 300.0, 4, 0.0)],
)
def test_erlang_c_figures_match_ctmc(per_hour: float, handle: float, servers: int, threshold: float) -> None:
    """Every figure against the truncated-chain oracle, and ASA/SL against their closed forms."""
    lam = per_hour / 3600
    got = erlang.erlang_c_figures(lam, handle, servers, threshold)
    want = oracle(Model(lam, 1 / handle, servers), threshold)
    for key in ("p_wait", "asa", "mean_wait", "service_level", "abandon_rate", "occupancy"):
        assert getattr(got, key) == pytest.approx(want[key], rel=1e-7, abs=1e-12), key
    drain = servers / handle - lam
    assert got.asa == pytest.approx(got.p_wait / drain, rel=1e-12)
    assert got.service_level == pytest.approx(1 - got.p_wait * math.exp(-drain * threshold), rel=1e-12)
    assert got.load == pytest.approx(lam * handle)


# --- Erlang A -----------------------------------------------------------------------------------------------

ERLANG_A_CASES = [
    # per hour, mean handle, mean patience, agents, threshold
    (120, 240.0, 180.0, 10, 20.0),  # scenarios/erlang-a.yaml
    (180, 240.0, 120.0, 10, 20.0),  # overloaded: 12 erlangs on 10 agents
    (50, 60.0, 90.0, 1, 15.0),  # single agent
    (600, 180.0, 300.0, 30, 30.0),  # larger centre
]


@pytest.mark.parametrize(("per_hour", "handle", "patience", "servers", "threshold"), ERLANG_A_CASES)
def test_stationary_mmc_m_matches_balance_equations(
    per_hour: float, handle: float, patience: float, servers: int, threshold: float
) -> None:
    got = erlang.stationary_mmc_m(per_hour / 3600, handle, patience, servers)
    want = Model(per_hour / 3600, 1 / handle, servers, 1 / patience).stationary()
    assert got.sum() == pytest.approx(1.0, rel=1e-12)
    common = min(len(got), len(want))
    # Both laws are entrywise accurate to a few hundred ulps (product of logs; GTH), so every state is
    # compared relatively, the 1e-19 tail included; the two truncations differ by less than 1e-17 in mass.
    np.testing.assert_allclose(got[:common], want[:common], rtol=1e-9, atol=0)
    assert want[common:].sum() < 1e-12  # what the module truncated away is negligible


def exact_birth_death_law(model: Model, size: int) -> list[Fraction]:
    """The truncated chain's stationary law in exact rationals, from the cut equations
    π_{n+1} d_{n+1} = π_n λ (the rates are the floats the generator holds, taken exactly)."""
    weights = [Fraction(1)]
    for n in range(1, size):
        weights.append(weights[-1] * Fraction(model.arrival_rate) / Fraction(model.death_rate(n)))
    total = sum(weights)
    return [w / total for w in weights]


@pytest.mark.parametrize(("per_hour", "handle", "patience", "servers", "threshold"), ERLANG_A_CASES)
def test_oracle_stationary_law_is_accurate_in_the_tail(
    per_hour: float, handle: float, patience: float, servers: int, threshold: float
) -> None:
    """The oracle itself, against exact arithmetic: every state to a relative 1e-11, down to 1e-19.
    (The least-squares solve used before missed tail states of 1e-14 by 100% and more.)"""
    model = Model(per_hour / 3600, 1 / handle, servers, 1 / patience)
    got = model.stationary()
    exact = np.array([float(p) for p in exact_birth_death_law(model, len(got))])
    assert exact.min() < 1e-17  # the check reaches the tiny tail
    np.testing.assert_allclose(got, exact, rtol=1e-11, atol=0)


def test_gth_solves_a_chain_that_is_not_birth_death() -> None:
    """GTH is a general method: a 3-state cycle with a jump back, against its law solved by hand."""
    q = np.array([[-2.0, 2.0, 0.0], [0.0, -3.0, 3.0], [1.0, 4.0, -5.0]])
    # balance: 2π0 = π2; 3π1 = 2π0 + 4π2; so π2 = 2π0, π1 = (2π0 + 8π0)/3 = 10π0/3
    want = np.array([1.0, 10.0 / 3.0, 2.0])
    np.testing.assert_allclose(gth_stationary(q), want / want.sum(), rtol=1e-14)


@pytest.mark.parametrize(("per_hour", "handle", "patience", "servers", "threshold"), ERLANG_A_CASES)
def test_erlang_a_figures_match_ctmc(
    per_hour: float, handle: float, patience: float, servers: int, threshold: float
) -> None:
    lam = per_hour / 3600
    got = erlang.erlang_a_figures(lam, handle, patience, servers, threshold)
    want = oracle(Model(lam, 1 / handle, servers, 1 / patience), threshold)
    for key in ("p_wait", "asa", "mean_wait", "service_level", "abandon_rate", "occupancy"):
        assert getattr(got, key) == pytest.approx(want[key], rel=1e-7, abs=1e-12), key
    # Flow conservation: what is not abandoned is served, λ(1 - P(ab)) = μ · E[busy agents].
    assert lam * (1 - got.abandon_rate) == pytest.approx(got.occupancy * servers / handle, rel=1e-9)
    # Little's law on the queue: E[Q] = λ · mean wait, and abandonments θ E[Q] = λ P(ab).
    assert got.abandon_rate == pytest.approx(got.mean_wait / patience, rel=1e-9)


def test_erlang_a_shipped_scenario_values() -> None:
    """The figures quoted in scenarios/erlang-a.yaml (rounded there)."""
    got = erlang.erlang_a_figures(120 / 3600, 240.0, 180.0, 10, 20.0)
    quoted = {
        "p_wait": (0.269, 5e-4),
        "abandon_rate": (0.0595, 5e-5),
        "asa": (9.13, 5e-3),
        "service_level": (0.804, 5e-4),
    }
    for key, (value, half_digit) in quoted.items():
        assert getattr(got, key) == pytest.approx(value, abs=half_digit), key


@pytest.mark.parametrize(("servers", "load"), [(3, 2.0), (10, 8.0), (10, 14.0)])
def test_erlang_a_with_patience_equal_to_handle_is_poisson(servers: int, load: float) -> None:
    """θ = μ makes every state's death rate nμ: N is Poisson(a), as in M/M/∞ (a published identity)."""
    handle = 240.0
    got = erlang.erlang_a_figures(load / handle, handle, handle, servers, 20.0)
    poisson = stats.poisson(load)
    n = np.arange(int(load + 60 * math.sqrt(load) + 60))
    excess = float((np.maximum(n - servers, 0) * poisson.pmf(n)).sum())
    assert got.p_wait == pytest.approx(poisson.sf(servers - 1), rel=1e-9)
    assert got.abandon_rate == pytest.approx(excess / load, rel=1e-9)
    assert got.occupancy == pytest.approx(float((np.minimum(n, servers) * poisson.pmf(n)).sum()) / servers)


@pytest.mark.parametrize(
    ("per_hour", "servers", "threshold"), [(120, 10, 20.0), (42, 1, 30.0), (270, 20, 0.0)]
)
def test_erlang_a_with_long_patience_tends_to_erlang_c(
    per_hour: float, servers: int, threshold: float
) -> None:
    """Patience 10⁸ s (θ·ASA ~ 10⁻⁶): Erlang A is Erlang C up to first order in θ."""
    lam, handle = per_hour / 3600, 240.0 if servers > 1 else 60.0
    a = erlang.erlang_a_figures(lam, handle, 1e8, servers, threshold)
    c = erlang.erlang_c_figures(lam, handle, servers, threshold)
    for key in ("p_wait", "asa", "mean_wait", "service_level", "occupancy"):
        assert getattr(a, key) == pytest.approx(getattr(c, key), rel=1e-4), key
    assert a.abandon_rate < 1e-4
    assert erlang.erlang_a_figures(lam, handle, math.inf, servers, threshold) == c


@pytest.mark.parametrize(
    ("per_hour", "handle", "patience", "servers", "threshold"),
    [*ERLANG_A_CASES, (120, 240.0, 30.0, 10, 45.0)],
)
def test_erlang_a_service_level_by_quadrature(
    per_hour: float, handle: float, patience: float, servers: int, threshold: float
) -> None:
    """Service level a third way: quadrature of the hypoexponential wait for the first queue positions.

    The module's SL minus the oracle's contribution of positions ≥ 5 must equal the quadrature over
    positions 0..4 (plus the callers answered at once).
    """
    model = Model(per_hour / 3600, 1 / handle, servers, 1 / patience)
    pi = model.stationary()
    tail = Tagged.of(model, len(pi) - servers).answered_within(threshold)
    head = [within_by_quadrature(model, k, threshold) for k in range(5)]
    np.testing.assert_allclose(head, tail[:5], rtol=1e-8)
    quadrature = pi[:servers].sum() + pi[servers : servers + 5] @ head + pi[servers + 5 :] @ tail[5:]
    got = erlang.erlang_a_figures(model.arrival_rate, handle, patience, servers, threshold).service_level
    assert got == pytest.approx(quadrature, rel=1e-8)


def test_uniformization_matches_gamma_without_abandonment() -> None:
    """The oracle's own check: with θ = 0 the wait from k ahead is Gamma(k+1, cμ)."""
    model = Model(120 / 3600, 1 / 240, 10)
    within = Tagged.of(model, 30).answered_within(20.0)
    np.testing.assert_allclose(within, stats.gamma.cdf(20.0, np.arange(1, 31), scale=24.0), rtol=1e-10)


# --- staffing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_hour", "handle", "threshold", "target"),
    [
        (120, 240.0, 20.0, 0.8),
        (120, 240.0, 20.0, 0.95),
        (42, 60.0, 30.0, 0.5),
        (960, 240.0, 15.0, 0.9),
        (3, 600.0, 60.0, 0.8),
    ],
)
def test_staff_erlang_c_is_the_fewest_meeting_target(
    per_hour: float, handle: float, threshold: float, target: float
) -> None:
    lam = per_hour / 3600
    servers = erlang.staff_erlang_c(lam, handle, threshold, target)

    def level(c: int) -> float:
        return oracle(Model(lam, 1 / handle, c), threshold)["service_level"] if c > lam * handle else 0.0

    assert level(servers) >= target
    assert level(servers - 1) < target


@pytest.mark.parametrize(
    ("per_hour", "handle", "patience", "threshold", "target", "max_abandon"),
    [
        (120, 240.0, 180.0, 20.0, 0.8, 1.0),
        (180, 240.0, 120.0, 20.0, 0.9, 1.0),
        (120, 240.0, 180.0, 20.0, 0.2, 0.01),  # the abandonment ceiling binds, not the service level
        (50, 60.0, 90.0, 15.0, 0.7, 0.05),
    ],
)
def test_staff_erlang_a_is_the_fewest_meeting_targets(
    per_hour: float, handle: float, patience: float, threshold: float, target: float, max_abandon: float
) -> None:
    lam = per_hour / 3600
    servers = erlang.staff_erlang_a(lam, handle, patience, threshold, target, max_abandon)

    def meets(c: int) -> bool:
        if c == 0:
            return False
        kpis = oracle(Model(lam, 1 / handle, c, 1 / patience), threshold)
        return kpis["service_level"] >= target and kpis["abandon_rate"] <= max_abandon

    assert meets(servers)
    assert not meets(servers - 1)


def test_staffing_edge_cases() -> None:
    """No calls need no agents; an unreachable target is refused, not looped on."""
    assert erlang.staff_erlang_a(0.0, 240.0, 180.0, 20.0, 0.8) == 0
    with pytest.raises(ValueError):
        erlang.staff_erlang_c(120 / 3600, 240.0, 20.0, 0.99, max_agents=10)
    with pytest.raises(ValueError):
        erlang.staff_erlang_a(120 / 3600, 240.0, 180.0, 20.0, 0.99, max_agents=10)
