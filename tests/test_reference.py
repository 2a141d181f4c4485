"""The fast engine against the slow, plain SimPy reference model (`sim/engine/reference.py`).

Both models run the same small scenarios (holds, callbacks and redials; IVR self-service, misroutes, cold
and warm transfers; agent groups with skills, speeds and overflow; an explicit transfer network with holds)
for R independent replications each; every compared KPI (from the one analysis layer) must agree in mean
within t_{0.999, df} * sqrt(se_a^2 + se_b^2) (Welch). Tiny deterministic days must give identical calls.
And the seam: `clock.Clock` runs SimPy models exactly as `simpy.Environment` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy
from scipy import stats

from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.clock import Clock
from sim.engine.day import RunResult, simulate
from sim.engine.reference import simulate_reference
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario

QUICK_REPS = 16
SLOW_REPS = 60
SEED = 20261202
ERROR_RATE = 0.001
"""Per KPI and scenario, the chance a correct model fails the comparison (two-sided t quantile 0.999)."""

HOLDS_AND_CALLBACKS: dict[str, Any] = {
    "name": "ref-holds",
    "duration": "2h",
    "interval": "30m",
    "lines": 30,
    "ring": {"cycle": "6s", "rings": 1},
    "arrivals": {"per_hour": 150, "reasons": {"billing": 0.6, "technical": 0.4}},
    "patience": {"dist": "exponential", "mean": "2m"},
    "callback": {
        "offer_when_wait_over": "60s",
        "accept": 0.5,
        "window": "30m",
        "dial_time": {"dist": "uniform", "low": "10s", "high": "25s"},
        "answer_probability": 0.8,
        "retries": 1,
        "retry_delay": "5m",
    },
    "redial": {"abandoned": {"probability": 0.5, "delay": {"dist": "exponential", "mean": "5m"}}},
    "departments": {
        "billing": {
            "agents": {"per_interval": [5, 6, 6, 5]},
            "handle_time": {"dist": "lognormal", "mean": "4m", "cv": 0.8},
            "wrap_time": "20s",
            "hold": {
                "probability": 0.4,
                "duration": {"dist": "exponential", "mean": "80s"},
                "promise": "60s",
                "check_back_time": "10s",
                "patience": {"dist": "exponential", "mean": "3m"},
                "callback_share": 0.3,
            },
        },
        "technical": {"agents": 4, "handle_time": {"dist": "exponential", "mean": "5m"}, "wrap_time": "20s"},
    },
}

TRANSFERS: dict[str, Any] = {
    "name": "ref-transfers",
    "duration": "2h",
    "interval": "1h",
    "ring": {"cycle": "6s", "rings": 1},
    "arrivals": {"per_hour": 120, "reasons": {"billing": 0.5, "technical": 0.3, "sales": 0.2}},
    "patience": {"dist": "exponential", "mean": "4m"},
    "ivr": {
        "menu_time": {"dist": "uniform", "low": "20s", "high": "40s"},
        "accuracy": 0.6,
        "self_service": {"sales": 0.3},
    },
    "routing": {
        "listen_time": "20s",
        "accuracy": {"base": 0.3, "max": 0.9, "scale": "30s"},
        "transfer_time": "8s",
    },
    "transfers": {"mode": "cold", "priority": True, "patience": "continue"},
    "max_transfers": 1,
    "on_max_transfers": "hang_up",
    "departments": {
        "billing": {
            "agents": 5,
            "handle_time": {"dist": "lognormal", "mean": "4m", "cv": 0.7},
            "wrap_time": "15s",
        },
        "technical": {"agents": 4, "handle_time": {"dist": "gamma", "mean": "5m", "cv": 0.8}},
        "sales": {"agents": 3, "handle_time": {"dist": "exponential", "mean": "4m"}, "wrap_time": "10s"},
    },
}

GROUPS: dict[str, Any] = {
    "name": "ref-groups",
    "duration": "2h",
    "interval": "1h",
    "ring": {"cycle": "5s", "rings": 1},
    "arrivals": {
        "per_hour": 150,
        "reasons": {"billing": 0.6, "technical": 0.4},
        "priority": {"technical": 0},
    },
    "patience": {"dist": "exponential", "mean": "3m"},
    "departments": {
        "billing": {
            "agents": 4,
            "handle_time": {"dist": "lognormal", "mean": "4m", "cv": 0.8},
            "wrap_time": "20s",
            "overflow": {"after": "30s", "to": ["technical"]},
        },
        "technical": {"agents": 3, "handle_time": {"dist": "exponential", "mean": "5m"}},
    },
    "agent_groups": {
        "flex": {"agents": 3, "skills": {"billing": 1, "technical": 2}, "speed": {"technical": 1.2}},
    },
}

WARM: dict[str, Any] = {
    **TRANSFERS,
    "name": "ref-warm",
    "ivr": {"accuracy": 0.7},
    "transfers": {"mode": "warm", "consult_time": {"dist": "uniform", "low": "10s", "high": "30s"}},
    "max_transfers": 2,
    "on_max_transfers": "escalate",
}

NETWORK: dict[str, Any] = {
    "name": "ref-network",
    "duration": "2h",
    "interval": "1h",
    "arrivals": {"per_hour": 90, "reasons": {"reception": 1.0}},
    "patience": {"dist": "exponential", "mean": "5m"},
    "departments": {
        "reception": {
            "agents": 4,
            "handle_time": {"dist": "exponential", "mean": "2m"},
            "transfer": {"billing": 0.6, "sales": 0.2},
        },
        "billing": {
            "agents": 5,
            "handle_time": {"dist": "exponential", "mean": "4m"},
            "transfer": {"sales": 0.1},
            "hold": {
                "probability": 0.3,
                "duration": {"dist": "exponential", "mean": "45s"},
                "promise": "60s",
            },
        },
        "sales": {"agents": 3, "handle_time": {"dist": "exponential", "mean": "5m"}, "transfer": {}},
    },
}

COMMON = ("service_level", "asa", "abandon_rate", "occupancy", "answered")
CASES: dict[str, tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]] = {
    # scenario, KPIs, departments whose answered share and ASA are compared
    "holds-callbacks": (
        HOLDS_AND_CALLBACKS,
        (
            *COMMON,
            "hold_rate",
            "mean_hold_time",
            "abandoned_on_hold",
            "callbacks_offered",
            "callbacks_accepted",
            "callbacks_from_hold",
            "callback_answer_rate",
            "attempts_per_caller",
        ),
        ("billing", "technical"),
    ),
    "transfers": (
        TRANSFERS,
        (
            *COMMON,
            "self_served",
            "transfers_per_call",
            "dropped",
            "first_contact_resolution",
            "mean_agents_touched",
        ),
        ("billing", "technical", "sales"),
    ),
    "warm-transfers": (WARM, (*COMMON, "transfers_per_call", "aht"), ("billing", "technical", "sales")),
    "groups": (GROUPS, COMMON, ("billing", "technical")),
    "network": (NETWORK, (*COMMON, "transfers_per_call", "hold_rate"), ("reception", "billing", "sales")),
}


def _kpis(result: RunResult, keys: tuple[str, ...], departments: tuple[str, ...]) -> dict[str, float]:
    """The compared figures of one run: headline KPIs and, per department, answered and ASA."""
    figures = summary(result)
    out = {key: float(figures[key]) for key in keys}
    for name in departments:
        department = figures["by_department"][name]
        out[f"{name}.answered"] = float(department["answered"])
        out[f"{name}.asa"] = float(department["asa"])
    return out


def _replicate(
    model: Callable[[Scenario, int, int], RunResult],
    scenario: Scenario,
    reps: int,
    first: int,
    keys: tuple[str, ...],
    departments: tuple[str, ...],
) -> dict[str, np.ndarray]:
    rows = [_kpis(model(scenario, SEED, first + rep), keys, departments) for rep in range(reps)]
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def welch_disagreements(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    """KPIs whose means differ by more than t_{1 - ERROR_RATE, df} * sqrt(se_a^2 + se_b^2) (Welch df)."""
    failures = []
    for key in a:
        x, y = a[key][~np.isnan(a[key])], b[key][~np.isnan(b[key])]
        assert len(x) >= 3 and len(y) >= 3, f"{key}: too few replications with a value"
        va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
        difference = abs(x.mean() - y.mean())
        if va + vb == 0:
            if difference > 1e-9:
                failures.append(f"{key}: {x.mean():.4g} vs {y.mean():.4g}, both without spread")
            continue
        df = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
        bound = stats.t.ppf(1 - ERROR_RATE, df) * math.sqrt(va + vb)
        if difference > bound:
            failures.append(f"{key}: fast {x.mean():.4g} vs reference {y.mean():.4g} (bound {bound:.3g})")
    return failures


def _compare(case: str, reps: int) -> None:
    data, keys, departments = CASES[case]
    scenario = scenario_from_dict(data)
    # independent replications: the reference runs replication numbers the fast engine does not
    fast = _replicate(simulate, scenario, reps, 0, keys, departments)
    reference = _replicate(simulate_reference, scenario, reps, reps, keys, departments)
    failures = welch_disagreements(fast, reference)
    assert not failures, f"{case}: " + "; ".join(failures)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_engine_and_reference_agree_on_kpis(case: str) -> None:
    _compare(case, QUICK_REPS)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_engine_and_reference_agree_on_kpis_closely(case: str) -> None:
    _compare(case, SLOW_REPS)


def test_the_comparison_catches_a_model_that_differs() -> None:
    """The tolerance is not so wide that a real difference passes: one agent fewer in the reference."""
    data, keys, departments = CASES["groups"]
    fewer = {
        **data,
        "departments": {**data["departments"], "billing": {**data["departments"]["billing"], "agents": 2}},
    }
    fast = _replicate(simulate, scenario_from_dict(data), QUICK_REPS, 0, keys, departments)
    reference = _replicate(
        simulate_reference, scenario_from_dict(fewer), QUICK_REPS, QUICK_REPS, keys, departments
    )
    assert welch_disagreements(fast, reference)


EXACT: dict[str, dict[str, Any]] = {
    # one department: rings, wrap-up, and callers with a fixed patience who give up
    "queue": {
        "ring": {"cycle": "3s", "rings": 1},
        "patience": "100s",
        "departments": {"support": {"agents": 2, "handle_time": "70s", "wrap_time": "9s"}},
    },
    # everyone is sent on from reception to billing (probability 1: the draw decides nothing)
    "transfer": {
        "arrivals": {"reasons": {"reception": 1.0}},
        "departments": {
            "reception": {"agents": 1, "handle_time": "20s", "transfer": {"billing": 1.0}},
            "billing": {"agents": 1, "handle_time": "45s", "wrap_time": "5s", "transfer": {}},
        },
    },
}


def _deterministic(tmp_path: Path, case: str) -> Scenario:
    times = [0, 5, 12, 14, 40, 95, 131, 133, 250, 263, 300, 301, 302]
    (tmp_path / "calls.csv").write_text("at\n" + "\n".join(str(t) for t in times) + "\n", encoding="utf-8")
    data: dict[str, Any] = {"name": f"ref-exact-{case}", "duration": "10m", "interval": "10m", **EXACT[case]}
    data["arrivals"] = {**data.get("arrivals", {}), "trace": str(tmp_path / "calls.csv")}
    return scenario_from_dict(data)


@pytest.mark.parametrize("case", sorted(EXACT))
def test_a_deterministic_day_gives_identical_calls(tmp_path: Path, case: str) -> None:
    scenario = _deterministic(tmp_path, case)
    fast, reference = calls_table(simulate(scenario)), calls_table(simulate_reference(scenario))
    assert len(fast) == len(reference) == 13
    assert (fast["wait_time"] > 0).sum() >= 5  # a queue forms: the check is not trivial
    assert list(fast["outcome"]) == list(reference["outcome"])
    for column in ("arrived_at", "wait_time", "answered_at", "ended_at", "first_agent_id", "n_transfers"):
        np.testing.assert_allclose(fast[column].to_numpy(float), reference[column].to_numpy(float), atol=1e-9)
    assert summary(simulate(scenario))["occupancy"] == pytest.approx(
        summary(simulate_reference(scenario))["occupancy"]
    )


# The seam: `Clock` is SimPy's environment with a cheaper `now`, and must run any SimPy model the same.


def _story(env: simpy.Environment, trace: list[tuple[float, str]]) -> None:
    resource = simpy.Resource(env, capacity=1)

    def customer(name: str, patience: float) -> Generator[simpy.Event, Any, None]:
        with resource.request() as request:
            got = yield request | env.timeout(patience)
            trace.append((env.now, f"{name} {'served' if request in got else 'gave up'}"))
            if request in got:
                yield env.timeout(3.0)

    def interrupted() -> Generator[simpy.Event, Any, None]:
        try:
            yield env.timeout(100.0)
        except simpy.Interrupt as stop:
            trace.append((env.now, f"interrupted: {stop.cause}"))

    victim = env.process(interrupted())
    for index in range(5):
        env.process(customer(f"c{index}", 4.0 + index))

    def interrupter() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(2.5)
        victim.interrupt("enough")

    env.process(interrupter())


def test_clock_runs_a_simpy_model_as_simpy_does() -> None:
    traces: list[list[tuple[float, str]]] = []
    for env in (simpy.Environment(), Clock()):
        trace: list[tuple[float, str]] = []
        _story(env, trace)
        env.run(until=7.5)
        trace.append((env.now, "paused"))
        env.run()
        trace.append((env.now, "done"))
        traces.append(trace)
    assert traces[0] == traces[1]
    assert any("gave up" in what for _, what in traces[0]) and any(
        "interrupted" in what for _, what in traces[0]
    )


def test_clock_crashes_on_an_undefused_failure_as_simpy_does() -> None:
    for env in (simpy.Environment(), Clock()):

        def fail(_: simpy.Event, env: simpy.Environment = env) -> None:
            env.event().fail(ValueError("boom"))

        env.timeout(1.0).callbacks.append(fail)
        with pytest.raises(ValueError, match="boom"):
            env.run()
        assert env.now == 1.0


def test_clock_runs_until_an_event_as_simpy_does() -> None:
    """Until an event, `Clock.run` loops over the events itself: the same story, the same stop (with a
    callback of the stopping event left for the resumed run), the same crash and the same complaint."""
    traces: list[list[tuple[float, str]]] = []
    for env in (simpy.Environment(), Clock()):
        trace: list[tuple[float, str]] = []
        _story(env, trace)
        half_time = env.timeout(7.5, value="half-time")

        def watcher(
            env: simpy.Environment = env, trace: list[tuple[float, str]] = trace, half_time: Any = half_time
        ) -> Generator[simpy.Event, Any, None]:
            yield env.timeout(1.0)  # waits on the stopping event after `run` hooked it: runs after the stop
            seen = yield half_time
            trace.append((env.now, f"watcher saw {seen}"))

        env.process(watcher())
        stopped_with = env.run(until=half_time)
        trace.append((env.now, f"paused at {stopped_with}"))
        env.run(until=env.timeout(20.0))
        trace.append((env.now, "done"))

        def fail(_: simpy.Event, env: simpy.Environment = env) -> None:
            env.event().fail(ValueError("boom"))

        env.timeout(1.0).callbacks.append(fail)
        with pytest.raises(ValueError, match="boom"):
            env.run(until=env.timeout(5.0))
        trace.append((env.now, "crashed"))
        idle = type(env)()
        idle.timeout(1.0)
        with pytest.raises(RuntimeError, match="until"):
            idle.run(until=idle.event())  # nothing left to happen, and the event never happened
        trace.append((idle.now, "nothing left"))
        traces.append(trace)
    assert traces[0] == traces[1]
    assert (7.5, "paused at half-time") in traces[0] and (7.5, "watcher saw half-time") in traces[0]
    assert traces[0].index((7.5, "paused at half-time")) < traces[0].index((7.5, "watcher saw half-time"))
    assert traces[0][-3:] == [(27.5, "done"), (28.5, "crashed"), (1.0, "nothing left")]
