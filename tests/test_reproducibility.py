"""Reproducibility and common random numbers: same seed and replication give the same tables; replications
differ; worker count does not matter; variants share every stream they can."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.arrivals import draw_callers
from sim.engine.day import RunResult, simulate
from sim.experiments.runner import replicate
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario
from sim.model.streams import Streams
from tests.conftest import deep_merge

BASE: dict[str, Any] = {
    "name": "crn",
    "seed": 5,
    "duration": "3h",
    "interval": "30m",
    "lines": 14,
    "ring": {"cycle": "4s", "rings": 1},
    "patience": {"dist": "exponential", "mean": "2m"},
    "arrivals": {"per_hour": 150, "reasons": {"billing": 0.6, "technical": 0.4}},
    "departments": {
        "billing": {
            "agents": 5,
            "handle_time": {"dist": "lognormal", "mean": "3m", "cv": 0.7},
            "wrap_time": {"dist": "uniform", "low": "5s", "high": "25s"},
        },
        "technical": {
            "agents": {"per_interval": [3, 4, 4, 3, 3, 2]},
            "handle_time": {"dist": "gamma", "mean": "4m", "cv": 0.5},
        },
    },
}


def variant(**changes: Any) -> Scenario:
    """The base scenario with `changes` merged in (dotted keys not supported; pass nested mappings)."""
    return scenario_from_dict(deep_merge(BASE, changes))


def test_same_seed_and_replication_give_identical_tables() -> None:
    scenario = variant()
    first, second = simulate(scenario, replication=3), simulate(scenario, replication=3)
    assert len(first.events) > 1000
    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.agents, second.agents)
    pd.testing.assert_frame_equal(calls_table(first), calls_table(second))


def test_scenario_seed_is_the_default_seed() -> None:
    scenario = variant()
    pd.testing.assert_frame_equal(simulate(scenario).events, simulate(scenario, seed=5).events)


def test_different_replications_and_seeds_differ() -> None:
    scenario = variant()
    base = simulate(scenario, replication=0).events
    arrivals = base.loc[base["event"] == "arrive", "t"].to_numpy()
    for other in (simulate(scenario, replication=1).events, simulate(scenario, seed=6).events):
        assert not base.equals(other)
        other_arrivals = other.loc[other["event"] == "arrive", "t"].to_numpy()
        common = min(len(arrivals), len(other_arrivals))
        assert not np.any(arrivals[:common] == other_arrivals[:common])  # continuous draws: no coincidences


def same_values(a: Any, b: Any) -> bool:
    """Exact equality that treats NaN as equal to NaN (nested dicts and lists)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def test_replicate_does_not_depend_on_the_number_of_workers() -> None:
    scenario = variant(duration="1h", interval="30m", departments={"technical": {"agents": 3}})
    serial = replicate(scenario, reps=3, jobs=1)
    parallel = replicate(scenario, reps=3, jobs=2)
    assert [r.replication for r in parallel.replications] == [0, 1, 2]
    for one, two in zip(serial.replications, parallel.replications, strict=True):
        assert same_values(one.summary, two.summary)
        pd.testing.assert_frame_equal(one.intervals, two.intervals)
    assert same_values(serial.summary, parallel.summary)
    assert not same_values(serial.replications[1].summary, serial.replications[2].summary)
    # Replication r of the runner is replication r of `simulate`.
    assert same_values(serial.replications[2].summary, summary(simulate(scenario, replication=2)))


def _arrive_rows(result: RunResult) -> pd.DataFrame:
    events = result.events
    return events.loc[events["event"] == "arrive", ["t", "call_id", "department", "detail"]].reset_index(
        drop=True
    )


def _talk_times(result: RunResult) -> pd.Series:
    """Talk time (the handle time drawn for the call) of each answered call, by call id."""
    events = result.events
    ends = events[events["event"] == "end"]
    return pd.Series(ends["detail"].to_numpy(), index=ends["call_id"].to_numpy()).sort_index()


@pytest.mark.parametrize("replication", [0, 1])
def test_more_agents_leave_every_caller_unchanged(replication: int) -> None:
    """Billing 5 -> 7 agents: the same callers arrive at the same instants with the same reasons, patience
    and handle times; only what happens to them changes."""
    base_scenario = variant()
    more_scenario = variant(departments={"billing": {"agents": 7}})
    base, more = (
        simulate(base_scenario, replication=replication),
        simulate(more_scenario, replication=replication),
    )
    pd.testing.assert_frame_equal(_arrive_rows(base), _arrive_rows(more))
    assert not base.events.equals(more.events)  # the variants really differ downstream
    streams = Streams(base_scenario.seed, replication)
    drawn, drawn_more = draw_callers(base_scenario, streams), draw_callers(more_scenario, streams)
    for field in ("arrived_at", "reason", "patience"):
        np.testing.assert_array_equal(getattr(drawn, field), getattr(drawn_more, field))
    # The engine uses those draws: arrival instants and reasons as logged, patience as the wait of every
    # caller who hung up in the queue (float rounding of (queued + patience) - queued aside).
    arrive = _arrive_rows(base)
    np.testing.assert_array_equal(arrive["t"].to_numpy(), drawn.arrived_at)
    np.testing.assert_array_equal(arrive["detail"].to_numpy(), drawn.reason.astype(float))
    for result in (base, more):
        events = result.events
        queue_abandons = events[(events["event"] == "abandon") & (events["agent_id"] < 0)]
        assert len(queue_abandons) > 10
        patience = drawn.patience[queue_abandons["call_id"].to_numpy() - 1]
        np.testing.assert_allclose(queue_abandons["detail"].to_numpy(), patience, rtol=1e-12, atol=1e-9)
    base_talk, more_talk = _talk_times(base), _talk_times(more)
    both = base_talk.index.intersection(more_talk.index)
    assert len(both) > 200
    np.testing.assert_array_equal(base_talk[both].to_numpy(), more_talk[both].to_numpy())


def test_a_different_arrival_rate_still_shares_the_other_streams() -> None:
    """150 -> 225 calls/h (constant rate): the unit-exponential steps are shared, so each arrival instant
    scales by 150/225; call i keeps its reason, patience and handle time."""
    base_scenario = variant()
    busier_scenario = variant(arrivals={"per_hour": 225})
    streams = Streams(base_scenario.seed, 0)
    base, busier = draw_callers(base_scenario, streams), draw_callers(busier_scenario, streams)
    n = len(base)
    assert len(busier) > n > 300
    np.testing.assert_allclose(busier.arrived_at[:n], base.arrived_at * 150 / 225, rtol=1e-12)
    np.testing.assert_array_equal(busier.reason[:n], base.reason)
    np.testing.assert_array_equal(busier.patience[:n], base.patience)
    base_talk = _talk_times(simulate(base_scenario))
    busier_talk = _talk_times(simulate(busier_scenario))
    both = base_talk.index.intersection(busier_talk.index)
    assert len(both) > 200
    np.testing.assert_array_equal(base_talk[both].to_numpy(), busier_talk[both].to_numpy())
