"""Times by call type (reason) and through the day: `call_types`, `by_reason` on departments and agent
groups, and `mean_by_interval` / `scale_by_interval` on a distribution.

Theory: two reasons with different exponential patience sharing one pool of two agents (FIFO) against a
numerically solved continuous-time Markov chain on the ordered queue (the sequence of waiting callers'
reasons: with FIFO and reason-dependent patience, counts per reason are not enough); a reason's abandonment
probability is theta_i * E[Q_i] / lambda_i (abandonments of reason i per unit time over its arrivals).
Means through the day: calls (or abandoning callers) of each arrival interval against the configured mean,
each draw independent, within the Student-t quantile at the false-alarm rate of tests/test_theory.py.
Precedence: fixed times with exact expected talk and wrap times, in both engines. Validation: located
errors, as in tests/test_loading.py.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import sparse, stats
from scipy.sparse.linalg import spsolve

from sim.analysis.tables import calls_table
from sim.engine.day import simulate
from sim.engine.reference import simulate_reference
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario
from tests.test_loading import paths, refusal
from tests.test_theory import ALPHA


def _crit(n: int) -> float:
    return float(stats.t.isf(ALPHA / 2, n - 1))


def _calls(scenario: Scenario, seed: int, replication: int = 0, reference: bool = False) -> pd.DataFrame:
    run = (simulate_reference if reference else simulate)(scenario, seed, replication)
    return calls_table(run)


# --- theory: reason-dependent patience, one pool -------------------------------------------------------

RATES = (40.0 / 3600, 40.0 / 3600)  # per second: billing, disputes
THETAS = (1 / 60.0, 1 / 240.0)  # disputes callers are four times as patient here
HANDLE, AGENTS, LONGEST = 90.0, 2, 12


def fifo_chain(
    rates: tuple[float, ...], thetas: tuple[float, ...], mu: float, agents: int, longest: int
) -> tuple[np.ndarray, float]:
    """(E[callers of each reason waiting], P(queue at its truncation)) of M/M/c+M with two reasons served
    first come first served, from pi Q = 0 on states (agents busy below c, idle queue) or (all busy, the
    ordered reasons of the callers waiting, at most `longest`; an arrival to a full queue is lost)."""
    states: list[tuple[str, Any]] = [("idle", busy) for busy in range(agents)]
    for length in range(longest + 1):
        states += [("queue", order) for order in itertools.product((0, 1), repeat=length)]
    index = {state: number for number, state in enumerate(states)}
    rows: list[int] = []
    columns: list[int] = []
    values: list[float] = []

    def move(source: tuple[str, Any], target: tuple[str, Any], rate: float) -> None:
        rows.append(index[source])
        columns.append(index[target])
        values.append(rate)

    for busy in range(agents):
        after = ("idle", busy + 1) if busy + 1 < agents else ("queue", ())
        move(("idle", busy), after, sum(rates))
        if busy:
            move(("idle", busy), ("idle", busy - 1), busy * mu)
    for length in range(longest + 1):
        for order in itertools.product((0, 1), repeat=length):
            state = ("queue", order)
            if length < longest:
                for reason in (0, 1):
                    move(state, ("queue", (*order, reason)), rates[reason])
            move(state, ("queue", order[1:]) if length else ("idle", agents - 1), agents * mu)
            for position, reason in enumerate(order):
                move(state, ("queue", order[:position] + order[position + 1 :]), thetas[reason])
    size = len(states)
    rate = sparse.csr_matrix((values, (rows, columns)), shape=(size, size))
    generator = (rate - sparse.diags(np.asarray(rate.sum(axis=1)).ravel())).T.tocoo()
    keep = generator.row != 0  # replace the first balance equation by sum(pi) = 1
    system = sparse.csr_matrix(
        (
            np.concatenate((generator.data[keep], np.ones(size))),
            (
                np.concatenate((generator.row[keep], np.zeros(size, dtype=int))),
                np.concatenate((generator.col[keep], np.arange(size))),
            ),
        ),
        shape=(size, size),
    )
    right = np.zeros(size)
    right[0] = 1.0
    pi = spsolve(system, right)
    waiting = np.array(
        [[order.count(reason) if kind == "queue" else 0 for reason in (0, 1)] for kind, order in states],
        dtype=float,
    )
    full = sum(pi[index[("queue", order)]] for order in itertools.product((0, 1), repeat=longest))
    return pi @ waiting, float(full)


def _two_patiences(duration: str = "24h") -> Scenario:
    return scenario_from_dict(
        {
            "name": "two-patiences",
            "duration": duration,
            "warmup": "1h",
            "interval": "1h",
            "arrivals": {"per_hour": 80, "reasons": {"billing": 0.5, "disputes": 0.5}},
            "call_types": {
                "billing": {"patience": {"dist": "exponential", "mean": "60s"}},
                "disputes": {"patience": {"dist": "exponential", "mean": "240s"}},
            },
            "departments": {
                "billing": {
                    "resolves": ["billing", "disputes"],
                    "agents": AGENTS,
                    "handle_time": {"dist": "exponential", "mean": HANDLE},
                }
            },
        }
    )


@pytest.mark.parametrize(
    ("reference", "duration", "reps"), [(False, "24h", 30), (True, "12h", 20)], ids=["engine", "reference"]
)
def test_each_reason_abandons_as_the_fifo_chain_with_its_own_patience(
    reference: bool, duration: str, reps: int
) -> None:
    waiting, full = fifo_chain(RATES, THETAS, 1 / HANDLE, AGENTS, LONGEST)
    assert full < 1e-6  # the truncation is invisible
    theory = np.asarray(THETAS) * waiting / np.asarray(RATES)
    assert theory[0] > theory[1] + 0.1  # the two reasons are far apart: a shared patience would show
    scenario = _two_patiences(duration)
    shares = np.empty((reps, 2))
    for replication in range(reps):
        calls = _calls(scenario, 11, replication, reference)
        counted = calls[calls.arrived_at >= scenario.warmup]
        assert not (counted.outcome == "in_system").any()
        for column, reason in enumerate(("billing", "disputes")):
            mine = counted[counted.reason == reason]
            shares[replication, column] = (mine.outcome == "abandoned").mean()
    mean = shares.mean(axis=0)
    error = shares.std(axis=0, ddof=1) / math.sqrt(reps)
    assert (error > 0).all()
    bound = _crit(reps) * error
    assert (np.abs(mean - theory) <= bound).all(), f"theory {theory}, simulated {mean} +- {bound}"


# --- through the day ---------------------------------------------------------------------------------------

MEANS = (120.0, 180.0, 240.0)  # handle time by interval, as a mean_by_interval
SCALES = (1.0, 2.0, 0.5)  # wrap time by interval, as a scale_by_interval of a mean of 20 s


def _through_the_day() -> Scenario:
    return scenario_from_dict(
        {
            "name": "through-the-day",
            "duration": "3h",
            "interval": "1h",
            "arrivals": {"per_hour": 600},
            "departments": {
                "desk": {
                    "agents": 200,  # nobody waits: every call's talk is its handle time
                    "handle_time": {
                        "dist": "lognormal",
                        "mean": "2m",
                        "cv": 0.6,
                        "mean_by_interval": list(MEANS),
                    },
                    "wrap_time": {"dist": "exponential", "mean": "20s", "scale_by_interval": list(SCALES)},
                }
            },
        }
    )


def _interval_means_agree(values: pd.Series, intervals: pd.Series, expected: tuple[float, ...]) -> None:
    for interval, mean in enumerate(expected):
        mine = values[intervals == interval].to_numpy()
        n = len(mine)
        assert n > 100
        error = mine.std(ddof=1) / math.sqrt(n)
        assert abs(mine.mean() - mean) <= _crit(n) * error, f"interval {interval}: {mine.mean()} vs {mean}"


def test_handle_and_wrap_means_follow_the_interval_of_arrival() -> None:
    scenario = _through_the_day()
    calls = _calls(scenario, 3)
    assert (calls.outcome == "answered").all() and (calls.wait_time == 0).all()
    interval = (calls.arrived_at // scenario.interval).astype(int)
    _interval_means_agree(calls.talk_time, interval, MEANS)
    _interval_means_agree(calls.wrap_time, interval, tuple(20.0 * scale for scale in SCALES))


def test_patience_follows_the_interval_of_arrival_on_a_day_without_agents() -> None:
    """Nobody answers: every caller abandons after exactly their patience, the scenario's curve for
    billing and the reason's own for disputes."""
    scenario = scenario_from_dict(
        {
            "name": "nobody-answers",
            "duration": "2h",
            "interval": "1h",
            "arrivals": {"per_hour": 400, "reasons": {"billing": 0.5, "disputes": 0.5}},
            "patience": {"dist": "exponential", "mean": "2m", "mean_by_interval": ["1m", "3m"]},
            "call_types": {
                "disputes": {
                    "patience": {"dist": "gamma", "mean": "40s", "cv": 0.5, "scale_by_interval": [1, 3]}
                }
            },
            "departments": {"desk": {"resolves": ["billing", "disputes"], "agents": 0, "handle_time": "3m"}},
        }
    )
    calls = _calls(scenario, 5)
    assert (calls.outcome == "abandoned").all()
    interval = (calls.arrived_at // scenario.interval).astype(int)
    billing, disputes = calls.reason == "billing", calls.reason == "disputes"
    _interval_means_agree(calls.wait_time[billing], interval[billing], (60.0, 180.0))
    _interval_means_agree(calls.wait_time[disputes], interval[disputes], (40.0, 120.0))


def test_a_curve_of_ones_keeps_the_sample_path() -> None:
    """A department's times with `scale_by_interval: [1, ...]` come from the same stream in the same order:
    every call is identical to the run without the curve."""
    plain = _through_the_day()
    data = plain.model_dump(mode="json", exclude_none=True)
    department = data["departments"]["desk"]
    department["handle_time"].pop("mean_by_interval")
    department["wrap_time"].pop("scale_by_interval")
    without = scenario_from_dict(data)
    department["handle_time"]["scale_by_interval"] = [1, 1, 1]
    with_ones = scenario_from_dict(data)
    pd.testing.assert_frame_equal(_calls(without, 9), _calls(with_ones, 9))


def test_the_menu_time_follows_the_interval_of_arrival() -> None:
    scenario = scenario_from_dict(
        {
            "name": "menu",
            "duration": "2h",
            "interval": "1h",
            "arrivals": {"per_hour": 30},
            "ivr": {"menu_time": {"dist": "fixed", "value": "20s", "scale_by_interval": [1, 2.5]}},
            "departments": {"desk": {"agents": 50, "handle_time": "1m"}},
        }
    )
    for reference in (False, True):
        calls = _calls(scenario, 2, reference=reference)
        menu = calls.ended_at - calls.arrived_at - calls.talk_time
        expected = np.where(calls.arrived_at < 3600, 20.0, 50.0)
        assert len(calls) > 20
        np.testing.assert_allclose(menu, expected, atol=1e-6)


# --- precedence: group & reason > department & reason > reason > department ------------------------------

PRECEDENCE: dict[str, Any] = {
    "name": "precedence",
    "duration": "2h",
    "interval": "1h",
    "arrivals": {"per_hour": 60, "reasons": {"billing": 0.4, "disputes": 0.3, "refunds": 0.3}},
    "call_types": {
        "disputes": {"handle_time": "200s", "wrap_time": "20s"},
        "refunds": {"wrap_time": "25s"},
    },
    "departments": {
        "billing": {
            "resolves": ["billing", "disputes", "refunds"],
            "agents": 40,
            "handle_time": "100s",
            "wrap_time": "10s",
            "by_reason": {"disputes": {"handle_time": "300s"}},
        }
    },
}
GROUP: dict[str, Any] = {
    "agents": 40,
    "skills": {"billing": 1},
    "speed": {"billing": 2},
    "by_reason": {
        "disputes": {"wrap_time": "40s"},
        "refunds": {"handle_time": {"dist": "fixed", "value": "55s", "scale_by_interval": [1, 2]}},
    },
}


@pytest.mark.parametrize("reference", [False, True], ids=["engine", "reference"])
def test_department_and_reason_times_take_precedence_over_the_reason_and_the_department(
    reference: bool,
) -> None:
    calls = _calls(scenario_from_dict(PRECEDENCE), 4, reference=reference)
    expected = {"billing": (100.0, 10.0), "disputes": (300.0, 20.0), "refunds": (100.0, 25.0)}
    assert set(calls.reason) == set(expected)
    for reason, (talk, wrap) in expected.items():
        mine = calls[calls.reason == reason]
        assert (mine.talk_time == talk).all() and (mine.wrap_time == wrap).all(), reason


@pytest.mark.parametrize("reference", [False, True], ids=["engine", "reference"])
def test_a_groups_own_time_for_a_reason_wins_and_its_speed_does_not_apply_to_it(reference: bool) -> None:
    """Only the group's agents answer: billing at the department's time times speed 2; disputes at the
    department & reason's handle time times speed 2 and the group's own wrap; refunds at the group's own
    handle time (no speed; doubled in the second hour by its curve) and the reason's wrap."""
    data = {**PRECEDENCE, "agent_groups": {"flex": GROUP}}
    data["departments"] = {"billing": {**PRECEDENCE["departments"]["billing"], "agents": 0}}
    calls = _calls(scenario_from_dict(data), 4, reference=reference)
    second_hour = calls.arrived_at >= 3600
    expected_talk = calls.reason.map({"billing": 200.0, "disputes": 600.0, "refunds": 55.0}).astype(float)
    expected_talk[(calls.reason == "refunds") & second_hour] = 110.0
    expected_wrap = calls.reason.map({"billing": 10.0, "disputes": 40.0, "refunds": 25.0}).astype(float)
    assert (calls.outcome == "answered").all() and second_hour.any()
    np.testing.assert_array_equal(calls.talk_time, expected_talk)
    np.testing.assert_array_equal(calls.wrap_time, expected_wrap)


def test_a_redial_takes_the_patience_of_its_reason_at_the_interval_it_calls_again() -> None:
    """Nobody answers and everyone calls again 30 minutes after giving up: each attempt waits exactly its
    reason's patience, scaled for the interval of that attempt's arrival."""
    scenario = scenario_from_dict(
        {
            "name": "redials",
            "duration": "2h",
            "interval": "1h",
            "arrivals": {"per_hour": 60, "reasons": {"billing": 0.5, "disputes": 0.5}},
            "patience": "60s",
            "call_types": {
                "disputes": {"patience": {"dist": "fixed", "value": "30s", "scale_by_interval": [1, 4]}}
            },
            "redial": {"abandoned": {"probability": 1, "delay": "30m"}, "max_attempts": 2},
            "departments": {"desk": {"resolves": ["billing", "disputes"], "agents": 0, "handle_time": "1m"}},
        }
    )
    calls = _calls(scenario, 6)
    assert (calls.attempt == 2).any()
    second_hour = calls.arrived_at >= 3600
    expected = np.where(calls.reason == "billing", 60.0, np.where(second_hour, 120.0, 30.0))
    np.testing.assert_allclose(calls.wait_time, expected)


# --- validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"call_types": {"biling": {"wrap_time": "10s"}}}, "call_types.biling", "not a reason callers have"),
        (
            {"departments": {"billing": {"by_reason": {"vip": {"handle_time": "1m"}}}}},
            "departments.billing.by_reason.vip",
            "not a reason callers have",
        ),
        (
            {"departments": {"billing": {"handle_time": {"mean_by_interval": ["4m", "5m", "6m"]}}}},
            "departments.billing.handle_time.mean_by_interval",
            "needs 2 values",
        ),
        (
            {
                "departments": {
                    "billing": {
                        "handle_time": {"mean_by_interval": ["4m", "5m"], "scale_by_interval": [1, 2]}
                    }
                }
            },
            "departments.billing.handle_time",
            "at most one of mean_by_interval or scale_by_interval",
        ),
        (
            {
                "departments": {
                    "billing": {"listen_time": {"dist": "fixed", "value": "5s", "scale_by_interval": [1, 2]}}
                }
            },
            "departments.billing.listen_time.scale_by_interval",
            "allowed only on patience, handle_time and wrap_time",
        ),
        (
            {
                "departments": {
                    "technical": {"wrap_time": {"dist": "fixed", "value": 0, "mean_by_interval": [1, 2]}}
                }
            },
            "departments.technical.wrap_time.mean_by_interval",
            "mean is > 0",
        ),
        (
            {
                "call_types": {
                    "billing": {"patience": {"dist": "exponential", "mean": "1m", "scale_by_interval": [1]}}
                }
            },
            "call_types.billing.patience.scale_by_interval",
            "needs 2 values",
        ),
        ({"call_types": {"billing": {"patiense": "1m"}}}, "call_types.billing.patiense", ""),
    ],
)
def test_bad_call_types_and_curves_are_refused_at_their_path(
    changes: dict[str, Any], path: str, words: str
) -> None:
    problems = refusal(changes)
    assert path in paths(problems), problems
    assert any(words in problem.message for problem in problems if problem.path == path), problems


def test_a_group_by_reason_for_an_unknown_reason_is_refused() -> None:
    group = {"agents": 2, "skills": {"billing": 1}, "by_reason": {"disputes": {"wrap_time": "5s"}}}
    problems = refusal({"agent_groups": {"flex": group}})
    assert "agent_groups.flex.by_reason.disputes" in paths(problems)


# --- the README and the report ----------------------------------------------------------------------------


def test_the_readme_example_loads_and_means_what_it_says() -> None:
    """The YAML of the README's section, with arrivals and staffing around it, loads; its times resolve by
    the documented precedence."""
    from sim.model.call_types import work_spec
    from tests.conftest import ROOT, deep_merge

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Call types and times through the day", 1)[1]
    block = section.split("```yaml", 1)[1].split("```", 1)[0]
    around = {
        "name": "readme",
        "duration": "2h",
        "interval": "30m",
        "arrivals": {"per_hour": 60, "reasons": {"billing": 0.5, "disputes": 0.2, "technical": 0.3}},
        "departments": {
            "billing": {"resolves": ["billing", "disputes"], "agents": 5},
            "technical": {"agents": 3},
        },
        "agent_groups": {"generalists": {"agents": 2, "skills": {"billing": 1}}},
    }
    scenario = scenario_from_dict(deep_merge(around, yaml.safe_load(block)))
    _, spec, own = work_spec(scenario, "handle_time", "billing", "disputes", "generalists")
    assert own and spec.mean_value() == 480.0
    assert work_spec(scenario, "handle_time", "billing", "disputes")[1].mean_value() == 420.0
    assert work_spec(scenario, "wrap_time", "technical", "disputes")[1].mean_value() == 45.0
    assert work_spec(scenario, "handle_time", "technical", "disputes")[0] == "handle_time.reason.disputes"
    assert work_spec(scenario, "wrap_time", "billing", "billing")[0] == "wrap_time.billing"


def test_the_report_states_per_reason_times_and_curves_only_when_used() -> None:
    from sim.model.loading import load_scenario
    from sim.output.report_model import assumptions
    from tests.conftest import ROOT

    shipped = " ".join(assumptions(load_scenario(ROOT / "scenarios" / "call-types.yaml"), 1))
    assert "Callers about disputes: patience exponential, mean 60 s" in shipped
    assert "Agent group generalists, for disputes callers: handle time lognormal, mean 480 s" in shipped
    assert "departments.billing.handle_time (mean 200 s to 270 s)" in shipped
    plain = " ".join(assumptions(load_scenario(ROOT / "scenarios" / "small-centre.yaml"), 1))
    assert "Times through the day" not in plain and "Callers about" not in plain
