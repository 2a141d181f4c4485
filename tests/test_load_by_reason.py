"""The load model's service time and patience by reason and by interval (`sim.analysis.load`): what the Erlang
answers of `staff` and `erlang` columns start from must be the mean of the callers a department serves, not
its default handle time.

Checked against the simulation (each interval's mean handle + wrap time of the calls that arrived in it, over
replications, within a Student-t 99% interval of the replication means) and against hand computation (the
share-weighted patience), and the Erlang plans of a scenario without reasons of its own are unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis.load import department_times, queue_models
from sim.analysis.tables import calls_table
from sim.engine.day import simulate
from sim.experiments.staffing.start import erlang_plans
from sim.experiments.staffing.targets import Targets
from sim.model.loading import load_scenario
from sim.model.scenario import Scenario

from .conftest import ROOT

REPLICATIONS = 8


def desk(**changes: object) -> Scenario:
    """One department resolving two reasons: disputes take 6 min + 45 s notes wherever handled and give up
    sooner; the department's own (billing) handle time rises through the morning. Agents enough that
    nobody waits, so every caller's times are seen (no abandonment selects the answered)."""
    data: dict[str, object] = {
        "name": "desk",
        "seed": 7,
        "start": "08:00",
        "duration": "2h",
        "interval": "30m",
        "arrivals": {"per_interval": [120, 160, 200, 160], "reasons": {"billing": 0.6, "disputes": 0.4}},
        "patience": {"dist": "exponential", "mean": "3m"},
        "call_types": {
            "disputes": {
                "patience": {"dist": "exponential", "mean": "1m"},
                "handle_time": {"dist": "lognormal", "mean": "6m", "cv": 0.6},
                "wrap_time": "45s",
            }
        },
        "departments": {
            "desk": {
                "resolves": ["billing", "disputes"],
                "agents": 80,
                "handle_time": {
                    "dist": "exponential",
                    "mean": "4m",
                    "mean_by_interval": ["200s", "220s", "240s", "260s"],
                },
                "wrap_time": "20s",
            }
        },
    }
    data.update(changes)
    return Scenario.model_validate(data)


def test_mean_work_by_interval_matches_the_simulated_callers() -> None:
    scenario = desk()
    work, _ = department_times(scenario, "desk")
    by_replication = []
    for replication in range(REPLICATIONS):
        calls = calls_table(simulate(scenario, replication=replication))
        served = calls[calls["answered_at"].notna()]
        assert len(served) == len(calls)  # nobody waits: every caller's times are seen
        interval = np.minimum((served["arrived_at"].to_numpy() // scenario.interval).astype(int), 3)
        work_time = (served["talk_time"] + served["wrap_time"]).to_numpy()
        by_replication.append([work_time[interval == i].mean() for i in range(4)])
    means = np.array(by_replication)
    half = stats.t.ppf(0.995, REPLICATIONS - 1) * means.std(axis=0, ddof=1) / math.sqrt(REPLICATIONS)
    assert np.all(np.abs(means.mean(axis=0) - work) <= half), (means.mean(axis=0), work, half)
    # by hand: 0.6 x (the billing curve + 20 s) + 0.4 x (6 min + 45 s)
    expected = 0.6 * (np.array([200.0, 220.0, 240.0, 260.0]) + 20.0) + 0.4 * (360.0 + 45.0)
    assert work == pytest.approx(expected)


def test_patience_is_the_share_weighted_mean_of_each_reasons() -> None:
    _, patience = department_times(desk(), "desk")
    assert patience == pytest.approx(np.full(4, 0.6 * 180.0 + 0.4 * 60.0))


def test_reasons_counted_per_interval_weigh_their_own_interval() -> None:
    counts = {"billing": [100, 0, 50, 50], "disputes": [0, 100, 50, 0]}
    scenario = desk(arrivals={"per_interval_by_reason": counts})
    work, patience = department_times(scenario, "desk")
    billing = np.array([200.0, 220.0, 240.0, 260.0]) + 20.0
    assert work == pytest.approx([billing[0], 405.0, 0.5 * billing[2] + 0.5 * 405.0, billing[3]])
    assert patience == pytest.approx([180.0, 60.0, 120.0, 180.0])


def test_queue_model_adds_the_ring_to_the_service_time() -> None:
    scenario = desk(ring={"rings": 2, "cycle": "5s"})
    work, _ = department_times(scenario, "desk")
    assert queue_models(scenario)["desk"].services == pytest.approx(work + 10.0)


def test_a_scenario_without_reasons_of_its_own_keeps_its_erlang_plans() -> None:
    """The small centre's Erlang A and C answers, as computed from its departments' own times (by hand
    here: the department's handle + wrap mean and the scenario's patience, the same every interval)."""
    scenario = load_scenario(ROOT / "scenarios" / "small-centre.yaml")
    targets = Targets({"service_level": 0.8}, {"abandon_rate": 0.05})
    plan_a, plan_c = erlang_plans(scenario, targets)
    for name, model in queue_models(scenario).items():
        department = scenario.departments[name]
        service = scenario.ring_time + department.handle_time.mean_value() + department.wrap_time.mean_value()
        assert model.services == pytest.approx(np.full(scenario.interval_count, service), rel=0, abs=0)
        assert model.patiences == pytest.approx(
            np.full(scenario.interval_count, scenario.patience.mean_value()), rel=0, abs=0
        )
        assert len(plan_a[name]) == len(plan_c[name]) == scenario.interval_count


def test_call_types_raise_the_erlang_plan_where_disputes_take_longer() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "call-types.yaml")
    targets = Targets({"service_level": 0.8}, {"abandon_rate": 0.05})
    plan_a, _ = erlang_plans(scenario, targets)
    plain = scenario.model_copy(update={"call_types": None})
    plain_a, _ = erlang_plans(plain, targets)
    # disputes (20% of calls, all to billing) take 6 min + 45 s against billing's ~4 min + 20 s
    assert sum(plan_a["billing"]) > sum(plain_a["billing"])
