"""Routing policies and queue capacity (README, "Routing policies and queue capacity"), against theory:

- `agent_choice: random` on a pool of identical agents changes who answers and nothing else: the same
  calls table, agent ids apart;
- on two unequal agents (M/M/2 with heterogeneous servers), `random` and `in_order` give each agent the
  occupancy a numerically solved continuous-time Markov chain predicts (they differ only in where an arrival
  finding both idle goes, and that shows);
- a department with no queue (`queue_capacity: 0`) loses calls at Erlang B's rate, per department, and one
  with a capacity of N waiting callers is an M/M/c/K queue (blocking and mean wait);
- `call_choice: longest_waiting` and `weighted` take calls in the exact order their rules say on a small
  deterministic day where `preference` takes another; one agent on two queues waits as M/M/1 in arrival
  order under `longest_waiting` and as Cobham's non-preemptive priority queue under `preference`;
- a capacity never reached leaves the event log as it was;
- the fast engine and the reference model agree under the policies;
- bad policy settings are refused at their YAML path.

Tolerances: Student-t quantiles at tests/test_theory.py's false-alarm rate times replication standard errors.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.analysis import erlang
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.day import simulate
from sim.engine.reference import simulate_reference
from sim.experiments.runner import replicate
from sim.model.loading import ScenarioError, scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import deep_merge
from tests.test_theory import ALPHA


def _crit(n: int) -> float:
    return float(stats.t.isf(ALPHA / 2, n - 1))


def _within(samples: np.ndarray, expected: float) -> tuple[bool, str]:
    """Whether the mean of per-replication `samples` is within the t-interval of `expected`, and why not."""
    n = len(samples)
    mean, se = float(np.mean(samples)), float(np.std(samples, ddof=1) / math.sqrt(n))
    ok = abs(mean - expected) <= _crit(n) * se
    return ok, f"mean {mean:.5f} vs theory {expected:.5f} (se {se:.5f}, n {n})"


def _scenario(data: dict[str, Any], changes: dict[str, Any] | None = None) -> Scenario:
    return scenario_from_dict(deep_merge(data, changes or {}))


# --- a pool of identical agents: random choice changes who answers, nothing else ---------------------------

SYMMETRIC: dict[str, Any] = {
    "name": "symmetric",
    "duration": "6h",
    "interval": "1h",
    "arrivals": {"per_hour": 50},
    "patience": {"dist": "exponential", "mean": "3m"},
    "departments": {
        "support": {
            "agents": 4,
            "handle_time": {"dist": "exponential", "mean": "4m"},
            "wrap_time": {"dist": "exponential", "mean": "30s"},
        }
    },
}


def test_random_choice_on_identical_agents_changes_only_who_answers() -> None:
    """Handle and wrap times are drawn per call and patience per caller, so on identical agents the choice
    of agent cannot change any call's fate: the calls tables are equal but for the agent ids, which do
    differ (the random choice did something), and so are the summaries."""
    longest = simulate(_scenario(SYMMETRIC), seed=3)
    random = simulate(_scenario(SYMMETRIC, {"routing": {"agent_choice": "random"}}), seed=3)
    a, b = calls_table(longest), calls_table(random)
    assert (a["first_agent_id"] != b["first_agent_id"]).any()
    a, b = a.drop(columns="first_agent_id"), b.drop(columns="first_agent_id")
    assert a.equals(b)
    assert json.dumps(summary(longest), sort_keys=True, default=str) == json.dumps(
        summary(random), sort_keys=True, default=str
    )


def test_a_queue_capacity_never_reached_changes_nothing() -> None:
    """The capacity path (`sim.engine.policies`) with the longest-idle choice is today's path: with room for
    more callers than ever wait, the event log is today's, event for event."""
    today = simulate(_scenario(SYMMETRIC), seed=4)
    roomy = simulate(_scenario(SYMMETRIC, {"departments": {"support": {"queue_capacity": 100_000}}}), seed=4)
    assert today.events.equals(roomy.events)
    assert (roomy.events["event"] == "enqueue").sum() > 100


# --- two unequal agents: occupancy by agent against the chain ----------------------------------------------

HANDLE, SLOW, PER_HOUR, TRUNCATE = 240.0, 2.0, 14.0, 80
TWO_AGENTS: dict[str, Any] = {
    "name": "unequal",
    "duration": "120h",
    "interval": "1h",
    "warmup": "2h",
    "arrivals": {"per_hour": PER_HOUR},
    "departments": {"sales": {"handle_time": {"dist": "exponential", "mean": HANDLE}}},
    "agent_groups": {
        "fast": {"agents": 1, "skills": {"sales": 0}},
        "slow": {"agents": 1, "skills": {"sales": 0}, "speed": {"sales": SLOW}},
    },
}


def unequal_servers_occupancy(arrival: float, fast: float, slow: float, split: float) -> tuple[float, float]:
    """Occupancy of the fast and the slow agent of an M/M/2 queue with unequal service rates, an arrival
    that finds both idle going to the fast one with probability `split`: the stationary distribution of the
    chain on (fast busy, slow busy, callers waiting), waiting truncated at TRUNCATE."""
    states = [(0, 0, 0), (1, 0, 0), (0, 1, 0)] + [(1, 1, q) for q in range(TRUNCATE + 1)]
    index = {state: i for i, state in enumerate(states)}
    generator = np.zeros((len(states), len(states)))

    def rate(source: tuple[int, int, int], target: tuple[int, int, int], value: float) -> None:
        generator[index[source], index[target]] += value

    rate((0, 0, 0), (1, 0, 0), arrival * split)
    rate((0, 0, 0), (0, 1, 0), arrival * (1 - split))
    rate((1, 0, 0), (1, 1, 0), arrival)
    rate((1, 0, 0), (0, 0, 0), fast)
    rate((0, 1, 0), (1, 1, 0), arrival)
    rate((0, 1, 0), (0, 0, 0), slow)
    rate((1, 1, 0), (0, 1, 0), fast)
    rate((1, 1, 0), (1, 0, 0), slow)
    for q in range(TRUNCATE + 1):
        if q < TRUNCATE:
            rate((1, 1, q), (1, 1, q + 1), arrival)
        if q > 0:
            rate((1, 1, q), (1, 1, q - 1), fast + slow)  # whoever finishes takes the next caller
    np.fill_diagonal(generator, -generator.sum(axis=1))
    system = np.vstack([generator.T, np.ones(len(states))])
    right = np.zeros(len(states) + 1)
    right[-1] = 1.0
    pi = np.linalg.lstsq(system, right, rcond=None)[0]
    fast_busy = sum(p for state, p in zip(states, pi, strict=True) if state[0])
    slow_busy = sum(p for state, p in zip(states, pi, strict=True) if state[1])
    return fast_busy, slow_busy


@pytest.mark.parametrize(
    ("routing", "split"),
    [({"routing": {"agent_choice": "random"}}, 0.5), ({"routing": {"agent_choice": "in_order"}}, 1.0)],
    ids=["random", "in_order"],
)
def test_unequal_agents_are_as_busy_as_the_chain_says(routing: dict[str, Any], split: float) -> None:
    """`random` splits an arrival finding both idle evenly; `in_order` (here the groups' own order: fast,
    slow) gives it to the fast agent. The slow agent's occupancy under the other policy's split is refused
    too, so a swapped or ignored policy fails."""
    fast_theory, slow_theory = unequal_servers_occupancy(
        PER_HOUR / 3600, 1 / HANDLE, 1 / (HANDLE * SLOW), split
    )
    other = unequal_servers_occupancy(PER_HOUR / 3600, 1 / HANDLE, 1 / (HANDLE * SLOW), 1.5 - split)
    run = replicate(_scenario(TWO_AGENTS, routing), seed=11, reps=16, jobs=1)
    for group, theory in (("fast", fast_theory), ("slow", slow_theory)):
        samples = np.array([r.summary["by_group"][group]["occupancy"] for r in run.replications])
        ok, why = _within(samples, theory)
        assert ok, f"{group}: {why}"
    slow = np.array([r.summary["by_group"]["slow"]["occupancy"] for r in run.replications])
    assert not _within(slow, other[1])[0], "the other policy's chain fits as well: the test cannot tell them apart"


@pytest.mark.parametrize(("choice", "split"), [("random", 0.5), ("in_order", 1.0)])
def test_the_reference_model_keeps_unequal_agents_as_busy_as_the_chain_says(choice: str, split: float) -> None:
    """The same check on the reference model (its own implementation of the policies)."""
    scenario = _scenario(TWO_AGENTS, {"duration": "40h", "routing": {"agent_choice": choice}})
    theory = unequal_servers_occupancy(PER_HOUR / 3600, 1 / HANDLE, 1 / (HANDLE * SLOW), split)
    runs = [summary(simulate_reference(scenario, seed=13, replication=r)) for r in range(12)]
    for group, expected in zip(("fast", "slow"), theory, strict=True):
        ok, why = _within(np.array([run["by_group"][group]["occupancy"] for run in runs]), expected)
        assert ok, f"{group}: {why}"


# --- no queue: Erlang B per department; a capacity of N: M/M/c/K -------------------------------------------

NO_QUEUE: dict[str, Any] = {
    "name": "no-queue",
    "duration": "40h",
    "interval": "1h",
    "warmup": "1h",
    "arrivals": {"per_hour": 150, "reasons": {"sales": 0.6, "support": 0.4}},
    "departments": {
        "sales": {"agents": 5, "handle_time": {"dist": "exponential", "mean": "4m"}, "queue_capacity": 0},
        "support": {
            "agents": 3,
            "handle_time": {"dist": "exponential", "mean": "3m"},
            "queue_capacity": 0,
            "when_full": "message",
        },
    },
}


def test_a_department_without_a_queue_loses_calls_at_the_erlang_b_rate() -> None:
    """Per department, E[lost] = B(c, a) E[offered] (arrivals see time averages): the mean over replications
    of lost - B * offered is zero. sales loses its callers (blocked), support takes messages."""
    run = replicate(_scenario(NO_QUEUE), seed=5, reps=12, jobs=1)
    loads = {"sales": (5, 150 * 0.6 * 4 / 60), "support": (3, 150 * 0.4 * 3 / 60)}
    for name, (agents, load) in loads.items():
        theory = erlang.erlang_b(agents, load)
        figures = [r.summary["by_department"][name] for r in run.replications]
        offered = np.array([f["visits"] + f["blocked"] for f in figures], dtype=float)
        if name == "sales":
            lost = np.array([f["blocked"] for f in figures], dtype=float)
        else:
            assert all(f["blocked"] == 0 for f in figures)
            lost = np.array([r.summary["messages"] for r in run.replications], dtype=float)
            offered += lost
        ok, why = _within(lost - theory * offered, 0.0)
        assert ok, f"{name} (B = {theory:.4f}): {why}"
    assert all(r.summary["mean_wait"] == 0.0 for r in run.replications)  # nobody ever waits


def mmck(arrival: float, service: float, agents: int, capacity: int) -> tuple[float, float]:
    """Blocking probability and mean wait of admitted callers in M/M/c/K, K = agents + capacity."""
    k = agents + capacity
    weights = [1.0]
    for n in range(1, k + 1):
        weights.append(weights[-1] * arrival / (service * min(n, agents)))
    p = np.array(weights) / sum(weights)
    waiting = sum((n - agents) * p[n] for n in range(agents, k + 1))
    return float(p[k]), float(waiting / (arrival * (1 - p[k])))


def test_a_queue_of_capacity_n_is_m_m_c_k() -> None:
    """3 agents, at most 4 waiting, 2.7 erlangs: blocking (lost - P_K offered, mean zero) and the mean wait
    of the callers who got in (Little's law over the birth-death chain)."""
    data = deep_merge(
        SYMMETRIC,
        {
            "duration": "40h",
            "warmup": "1h",
            "arrivals": {"per_hour": 54},
            "departments": {
                "support": {
                    "agents": 3,
                    "handle_time": {"dist": "exponential", "mean": "3m"},
                    "wrap_time": 0,
                    "queue_capacity": 4,
                }
            },
        },
    )
    data.pop("patience")
    run = replicate(_scenario(data), seed=9, reps=12, jobs=1)
    blocking, wait = mmck(54 / 3600, 1 / 180.0, 3, 4)
    lost = np.array([r.summary["blocked"] for r in run.replications], dtype=float)
    offered = np.array([r.summary["offered"] for r in run.replications], dtype=float)
    ok, why = _within(lost - blocking * offered, 0.0)
    assert ok, f"blocking {blocking:.4f}: {why}"
    ok, why = _within(np.array([r.summary["mean_wait"] for r in run.replications]), wait)
    assert ok, f"mean wait: {why}"


# --- which call a free agent takes: an exact order ---------------------------------------------------------

ORDER_DAY: dict[str, Any] = {
    "name": "order",
    "duration": "1h",
    "interval": "1h",
    "arrivals": {
        "trace_times": [0.0, 10.0, 20.0, 30.0],
        "trace_reasons": ["billing", "tech", "billing", "tech"],
        "reasons": {"billing": 0.5, "tech": 0.5},
    },
    "departments": {
        "billing": {"handle_time": 100},
        "tech": {"handle_time": 100, "call_weight": 2},
    },
    "agent_groups": {"desk": {"agents": 1, "skills": {"billing": 0, "tech": 1}}},
}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("preference", [1, 3, 2, 4]), ("longest_waiting", [1, 2, 3, 4]), ("weighted", [1, 2, 4, 3])],
)
def test_a_free_agent_takes_calls_in_the_order_its_rule_says(choice: str, expected: list[int]) -> None:
    """One agent preferring billing; billing calls 1 and 3, tech calls 2 and 4, ten seconds apart; each
    takes 100 s. At 100 s: preference takes billing's 3; longest_waiting tech's 2 (waited 90 s against 80);
    weighted tech's 2 too (90 x 2 against 80 x 1). At 200 s: longest_waiting takes 3 (180 s against 170),
    weighted 4 (170 x 2 against 180). Both models, and the group's own setting as the centre's."""
    for data in (
        deep_merge(ORDER_DAY, {"routing": {"call_choice": choice}}),
        deep_merge(ORDER_DAY, {"agent_groups": {"desk": {"call_choice": choice}}}),
    ):
        scenario = _scenario(data)
        for run in (simulate(scenario), simulate_reference(scenario)):
            events = run.events
            rings = events[events["event"] == "ring"]["call_id"].tolist()
            assert rings == expected, f"{choice}: {rings}"


def test_in_order_tries_the_listed_pools_first() -> None:
    """Calls arriving to idle agents of both pools: `in_order` with the slow group listed first sends the
    first caller to it, and the next (arriving while it is busy) to the fast one; longest-idle (both idle
    since the start: the first pool in today's order, fast) does the opposite."""
    data = deep_merge(TWO_AGENTS, {"duration": "1h", "warmup": 0})
    data["arrivals"] = {"trace_times": [0.0, 1.0]}
    order = {"departments": {"sales": {"agent_choice": "in_order", "agent_order": ["slow"]}}}
    for changes, first in (({}, "fast"), (order, "slow")):
        scenario = _scenario(data, changes)
        for run in (simulate(scenario), simulate_reference(scenario)):
            pools = dict(zip(run.agents["agent_id"], run.agents["pool"], strict=True))
            answers = run.events[run.events["event"] == "answer"]
            assert [pools[a] for a in answers["agent_id"]] == [first, "fast" if first == "slow" else "slow"]


def test_a_full_queue_is_told_in_the_story_and_counted() -> None:
    """One agent, no queue: the second caller arrives while the first talks and is turned away."""
    from sim.output.story import tell

    data = deep_merge(ORDER_DAY, {"departments": {"billing": {"queue_capacity": 0, "when_full": "message"}}})
    data["arrivals"] = {"trace_times": [0.0, 10.0], "trace_reasons": ["billing", "billing"]}
    data["arrivals"]["reasons"] = {"billing": 0.5, "tech": 0.5}
    for run in (simulate(_scenario(data)), simulate_reference(_scenario(data))):
        calls = calls_table(run)
        assert calls["outcome"].astype(str).tolist() == ["answered", "message"]
        figures = summary(run)
        assert figures["messages"] == 1 and figures["message_rate"] == 0.5
        lines = tell(run.events, run.agents, run.scenario, run.reason_names, 2)
        assert "the queue was full; the caller left a message" in lines[-1].text


ONE_AGENT_TWO_QUEUES: dict[str, Any] = {
    "name": "two-queues",
    "duration": "200h",
    "interval": "10h",
    "warmup": "2h",
    "arrivals": {"per_hour": 8, "reasons": {"first": 0.5, "second": 0.5}},
    "departments": {
        "first": {"handle_time": {"dist": "exponential", "mean": "4.5m"}},
        "second": {"handle_time": {"dist": "exponential", "mean": "4.5m"}},
    },
    "agent_groups": {"desk": {"agents": 1, "skills": {"first": 0, "second": 1}}},
}


@pytest.mark.parametrize("choice", ["preference", "longest_waiting"])
def test_one_agent_on_two_queues_waits_as_the_queueing_formulas_say(choice: str) -> None:
    """One agent, two queues of Poisson callers (4 an hour each), exponential 4.5-minute calls (load 0.6).
    Taking the longest-waiting caller across both queues is one M/M/1 queue in arrival order: both
    departments wait rho / (mu - lambda) = 405 s on average. Taking `first` before `second` (preference)
    is a non-preemptive priority queue: Cobham's formula, R / (1 - rho_1) = 231 s and
    R / ((1 - rho_1)(1 - rho)) = 579 s, R = lambda E[S^2] / 2."""
    run = replicate(_scenario(ONE_AGENT_TWO_QUEUES, {"routing": {"call_choice": choice}}), 17, 12, 1)
    arrival, service = 8 / 3600, 1 / 270.0
    rho, rho_first = arrival / service, arrival / 2 / service
    residual = arrival * 2 / service**2 / 2
    if choice == "longest_waiting":
        expected = {"first": rho / (service - arrival), "second": rho / (service - arrival)}
    else:
        expected = {
            "first": residual / (1 - rho_first),
            "second": residual / ((1 - rho_first) * (1 - rho)),
        }
    for name, theory in expected.items():
        samples = np.array([r.summary["by_department"][name]["mean_wait"] for r in run.replications])
        ok, why = _within(samples, theory)
        assert ok, f"{choice}, {name}: {why}"


# --- the two models agree under the policies ---------------------------------------------------------------


def test_reference_model_agrees_on_a_no_queue_department() -> None:
    """The reference model's blocking at a queue of capacity 0 (lost) is Erlang B's too."""
    data = deep_merge(NO_QUEUE, {"duration": "20h"})
    scenario = _scenario(data)
    theory = erlang.erlang_b(5, 150 * 0.6 * 4 / 60)
    residuals = []
    for replication in range(6):
        figures = summary(simulate_reference(scenario, seed=21, replication=replication))["by_department"]["sales"]
        residuals.append(figures["blocked"] - theory * (figures["visits"] + figures["blocked"]))
    ok, why = _within(np.array(residuals), 0.0)
    assert ok, why


# --- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"departments": {"tech": {"agent_order": ["desk"]}}}, "departments.tech.agent_order", "in_order"),
        (
            {"routing": {"agent_choice": "in_order"}, "departments": {"tech": {"agent_order": ["nobody"]}}},
            "departments.tech.agent_order[0]",
            "is not a pool serving 'tech' (pools: desk)",
        ),
        (
            {"routing": {"agent_choice": "in_order"}, "departments": {"tech": {"agent_order": ["tech"]}}},
            "departments.tech.agent_order[0]",
            "no agents of its own",
        ),
        (
            {
                "routing": {"agent_choice": "in_order"},
                "agent_groups": {"other": {"agents": 1, "skills": {"billing": 0}}},
                "departments": {"tech": {"agent_order": ["other"]}},
            },
            "departments.tech.agent_order[0]",
            "does not serve 'tech'",
        ),
        (
            {"routing": {"agent_choice": "in_order"}, "departments": {"tech": {"agent_order": ["desk", "desk"]}}},
            "departments.tech.agent_order[1]",
            "listed twice",
        ),
        ({"departments": {"tech": {"call_weight": 0}}}, "departments.tech.call_weight", "> 0"),
        ({"departments": {"tech": {"when_full": "message"}}}, "departments.tech.when_full", "queue_capacity"),
        ({"departments": {"tech": {"queue_capacity": -1}}}, "departments.tech.queue_capacity", ""),
        ({"routing": {"agent_choice": "fastest"}}, "routing.agent_choice", "longest_idle"),
        ({"agent_groups": {"desk": {"call_choice": "newest"}}}, "agent_groups.desk.call_choice", "preference"),
    ],
)
def test_bad_policy_settings_are_refused_at_their_path(changes: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        _scenario(ORDER_DAY, changes)
    found = {problem.path: problem.message for problem in caught.value.problems}
    assert path in found, found
    assert words in found[path]
