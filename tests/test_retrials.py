"""Retrials that remember (`redial.patience: remaining`, `redial.as_callback`), and redials as they were.

- `fresh` (the default) with exponential patience is a retrial queue: M/M/2+M whose abandoning callers join
  an orbit with probability p and call again after an exponential delay. A numerically solved continuous-time
  Markov chain (state: callers at the centre, callers in orbit; truncated where the mass is negligible) gives
  the share of attempts abandoned and the rate of redials, compared with replications within a Student-t
  quantile times their standard error.
- `remaining` with exponential patience has the same distribution as `fresh` (memoryless), so it is checked by
  its identity instead, with a fixed patience where the two differ: per caller, the total wait across attempts
  is at most the patience, and equals it for a caller whose last attempt was given up in the queue.
- `as_callback`: the share of redials that come back as callback requests, against the share configured.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.episodes import callback_table
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.day import simulate
from sim.engine.reference import simulate_reference
from sim.model.loading import ScenarioError, scenario_from_dict
from sim.model.scenario import Scenario
from tests.test_theory import ALPHA

PER_HOUR, HANDLE, PATIENCE, AGENTS = 36.0, 240.0, 180.0, 2
P_REDIAL, REDIAL_DELAY = 0.5, 300.0
REPS = 16


def _crit(n: int) -> float:
    return float(stats.t.isf(ALPHA / 2, n - 1))


def _scenario(redial: dict[str, Any], **changes: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "retrials",
        "duration": "12h",
        "warmup": "2h",
        "interval": "1h",
        "drain": "4h",
        "arrivals": {"per_hour": PER_HOUR},
        "patience": {"dist": "exponential", "mean": PATIENCE},
        "redial": {"max_attempts": 50, **redial},
        "departments": {
            "support": {"agents": AGENTS, "handle_time": {"dist": "exponential", "mean": HANDLE}}
        },
        **changes,
    }
    return scenario_from_dict(data)


FRESH = {"abandoned": {"probability": P_REDIAL, "delay": {"dist": "exponential", "mean": REDIAL_DELAY}}}


@cache
def _retrial_chain(queue_limit: int = 45, orbit_limit: int = 45) -> tuple[float, float, float]:
    """Stationary share of attempts abandoned, redials per second and tail mass of the truncated chain."""
    lam, mu, theta, gamma = PER_HOUR / 3600, 1 / HANDLE, 1 / PATIENCE, 1 / REDIAL_DELAY
    size = (queue_limit + 1) * (orbit_limit + 1)

    def index(n: int, m: int) -> int:
        return n * (orbit_limit + 1) + m

    generator = np.zeros((size, size))
    for n in range(queue_limit + 1):
        for m in range(orbit_limit + 1):
            here = index(n, m)
            moves = []
            if n < queue_limit:
                moves.append((index(n + 1, m), lam))
                if m > 0:
                    moves.append((index(n + 1, m - 1), m * gamma))
            if n > 0:
                waiting = max(n - AGENTS, 0)
                moves.append((index(n - 1, m), min(n, AGENTS) * mu + waiting * theta * (1 - P_REDIAL)))
                if m < orbit_limit:
                    moves.append((index(n - 1, m + 1), waiting * theta * P_REDIAL))
            for there, rate in moves:
                generator[here, there] += rate
                generator[here, here] -= rate
    system = generator.T.copy()  # pi Q = 0, one balance equation replaced by sum(pi) = 1
    system[-1, :] = 1.0
    target = np.zeros(size)
    target[-1] = 1.0
    pi = np.linalg.solve(system, target).reshape(queue_limit + 1, orbit_limit + 1)
    in_system = np.arange(queue_limit + 1)[:, None]
    in_orbit = np.arange(orbit_limit + 1)[None, :]
    queued = float((np.maximum(in_system - AGENTS, 0) * pi).sum())
    orbit = float((in_orbit * pi).sum())
    attempts = lam + gamma * orbit
    tail = float(pi[-3:, :].sum() + pi[:, -3:].sum())
    return theta * queued / attempts, gamma * orbit, tail


@cache
def _fresh_days() -> pd.DataFrame:
    """Per replication: attempts arriving after the warm-up, the share abandoned, redials per second."""
    scenario = _scenario(FRESH)
    rows = []
    for replication in range(REPS):
        calls = calls_table(simulate(scenario, seed=3, replication=replication))
        window = calls[(calls["arrived_at"] >= scenario.warmup) & (calls["arrived_at"] < scenario.duration)]
        rows.append(
            {
                "abandoned": float((window["outcome"] == "abandoned").mean()),
                "redial_rate": float((window["attempt"] > 1).sum()) / (scenario.duration - scenario.warmup),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("figure", ["abandoned", "redial_rate"])
def test_fresh_redials_agree_with_the_retrial_markov_chain(figure: str) -> None:
    abandoned, redial_rate, tail = _retrial_chain()
    assert tail < 1e-9, "the truncation must hold no mass"
    theory = {"abandoned": abandoned, "redial_rate": redial_rate}[figure]
    days = _fresh_days()[figure].to_numpy()
    se = days.std(ddof=1) / math.sqrt(len(days))
    assert _crit(len(days)) * se < 0.5 * theory, "too few replications to resolve the figure"
    assert abs(days.mean() - theory) <= _crit(len(days)) * se, f"{figure}: {days.mean():.5f} vs {theory:.5f}"


# --- patience: remaining ----------------------------------------------------------------------------------

FIXED_PATIENCE = 120.0


def _remembering(patience: str) -> pd.DataFrame:
    """A busy day with a fixed patience, every caller who gives up or hears a busy signal calling again (up
    to 4 calls): the calls of 4 replications."""
    redial = {
        "abandoned": {"probability": 1.0, "delay": {"dist": "exponential", "mean": 120}},
        "blocked": {"probability": 1.0, "delay": {"dist": "exponential", "mean": 60}},
        "max_attempts": 4,
        "patience": patience,
    }
    scenario = _scenario(redial, patience=FIXED_PATIENCE, lines=6, duration="6h", warmup=0)
    frames = []
    for replication in range(4):
        calls = calls_table(simulate(scenario, seed=5, replication=replication))
        calls["caller_id"] += replication * 10**7
        frames.append(calls)
    return pd.concat(frames, ignore_index=True)


def test_remaining_patience_bounds_each_callers_total_wait_by_the_first_patience() -> None:
    calls = _remembering("remaining")
    assert calls["attempt"].max() == 4 and (calls["outcome"] == "blocked").any()
    per_caller = calls.groupby("caller_id").agg(
        total_wait=("wait_time", lambda w: float(w.fillna(0.0).sum())),
        last=("outcome", "last"),
        attempts=("attempt", "max"),
    )
    assert (per_caller["total_wait"] <= FIXED_PATIENCE + 1e-6).all()
    gave_up = per_caller[per_caller["last"] == "abandoned"]
    assert len(gave_up) > 100 and (gave_up["attempts"] > 1).sum() > 50
    np.testing.assert_allclose(gave_up["total_wait"], FIXED_PATIENCE, atol=1e-6)


def test_fresh_patience_lets_a_caller_wait_a_whole_patience_again_on_each_call() -> None:
    """The contrast: with `fresh`, a caller who gave up twice waited twice the patience."""
    calls = _remembering("fresh")
    totals = calls.groupby("caller_id")["wait_time"].apply(lambda w: float(w.fillna(0.0).sum()))
    twice = calls.groupby("caller_id")["outcome"].apply(lambda o: int((o == "abandoned").sum()) >= 2)
    assert twice.sum() > 20
    np.testing.assert_array_less(FIXED_PATIENCE * 2 - 1e-6, totals[twice].to_numpy())


def test_the_mean_total_wait_per_caller_is_reported_for_retrials_that_remember() -> None:
    redial = {**FRESH, "patience": "remaining"}
    result = simulate(_scenario(redial, duration="4h", warmup=0), seed=2)
    found = summary(result)
    calls = calls_table(result)
    by_caller: dict[int, float] = {}
    for caller, wait in zip(calls["caller_id"], calls["wait_time"].fillna(0.0), strict=True):
        by_caller[caller] = by_caller.get(caller, 0.0) + wait
    assert found["mean_wait_per_caller"] == pytest.approx(sum(by_caller.values()) / len(by_caller))
    assert found["callbacks_from_redials"] == 0
    plain = summary(simulate(_scenario(FRESH, duration="4h", warmup=0), seed=2))
    assert "mean_wait_per_caller" not in plain  # a scenario without the feature keeps its figures


# --- as_callback -------------------------------------------------------------------------------------------

SHARE = 0.3


def test_the_configured_share_of_redials_comes_back_as_callback_requests() -> None:
    redial = {**FRESH, "as_callback": SHARE}
    callback = {"offer_when_wait_over": "100h", "window": "1h"}  # no offers in the queue: only redials
    scenario = _scenario(redial, callback=callback)
    shares, served = [], 0
    for replication in range(REPS):
        result = simulate(scenario, seed=7, replication=replication)
        calls = calls_table(result)
        requests = callback_table(result.events)
        redials = int((calls["attempt"] > 1).sum())
        assert set(requests["origin"]) <= {"redial"}
        assert set(requests["call_id"]) <= set(calls.loc[calls["attempt"] > 1, "call_id"])
        shares.append(len(requests) / redials)
        served += int((calls["via_callback"] & (calls["attempt"] > 1)).sum())
    shares_array = np.array(shares)
    se = shares_array.std(ddof=1) / math.sqrt(REPS)
    assert abs(shares_array.mean() - SHARE) <= _crit(REPS) * se, f"{shares_array.mean():.4f} vs {SHARE}"
    assert served > 0  # the callbacks are dialled and answered


def test_as_callback_without_a_callback_block_is_refused_at_its_path() -> None:
    with pytest.raises(ScenarioError) as caught:
        _scenario({**FRESH, "as_callback": 0.2})
    (problem,) = caught.value.problems
    assert problem.path == "redial.as_callback" and "callback: block" in problem.message


@pytest.mark.parametrize("redial", [{"patience": "remaining"}, {"as_callback": 0.2}])
def test_the_reference_model_refuses_retrials_that_remember(redial: dict[str, Any]) -> None:
    scenario = _scenario({**FRESH, **redial}, callback={})
    with pytest.raises(ValueError, match="retrials that remember"):
        simulate_reference(scenario, seed=1)
