"""Staffing cross-trained groups by simulation (`sim.experiments.staffing.groups`): against a brute-force
optimum over every plan of a small centre judged on the same simulated days, against Erlang A for a
department alone, and against the separate-queues answer it starts from."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pytest

from sim.experiments.executors import SerialExecutor
from sim.experiments.staffing.groups import DayJudge, plan_cost, search_groups, wages, with_pools
from sim.experiments.staffing.start import staff_erlang_a
from sim.experiments.staffing.targets import StaffingError, Targets
from sim.model.loading import load_scenario
from sim.model.rates import interval_widths
from sim.model.scenario import Scenario

TARGETS = Targets({"service_level": 0.8}, {"abandon_rate": 0.1})


def two_desks(flex_wage: float = 26.0, duration: str = "1h", warmup: str = "0s") -> Scenario:
    """Billing and technical, 60 calls an hour each, 4-minute exponential handle times, 3-minute patience,
    no ring; a flex group taking both; specialists paid 20 an hour, flex agents `flex_wage`."""
    return Scenario.model_validate(
        {
            "name": "two-desks",
            "seed": 5,
            "duration": duration,
            "warmup": warmup,
            "interval": "1h",
            "arrivals": {"per_hour": 120, "reasons": {"billing": 0.5, "technical": 0.5}},
            "patience": {"dist": "exponential", "mean": "3m"},
            "departments": {
                "billing": {"agents": 6, "handle_time": {"dist": "exponential", "mean": "4m"}},
                "technical": {"agents": 6, "handle_time": {"dist": "exponential", "mean": "4m"}},
            },
            "agent_groups": {"flex": {"agents": 0, "skills": {"billing": 1, "technical": 1}}},
            "costs": {"wage_per_hour": 20.0, "by_pool": {"flex": {"wage_per_hour": flex_wage}}},
        }
    )


@pytest.mark.slow
def test_the_search_finds_the_brute_force_optimum_of_a_small_centre() -> None:
    """Every plan with at most 9 specialists and 5 flex agents, judged by the same judge (same seed and replications), gives
    the least feasible cost; the search's plan is feasible, costs no more than the separate queues, and is
    within one agent-hour's wage of the optimum (a descent, not an exhaustive search)."""
    scenario = two_desks()
    answer = search_groups(scenario, TARGETS, reps=6, executor=SerialExecutor())
    judge = DayJudge(scenario, TARGETS, scenario.seed, 6, SerialExecutor())
    widths = interval_widths(scenario)
    wage = wages(scenario, ["billing", "technical", "flex"])
    best = np.inf
    for flex, billing in product(range(0, 6), range(0, 10)):
        for technical in range(0, 10):  # the fewest technical agents that make this (flex, billing) work
            plan = {"billing": [billing], "technical": [technical], "flex": [flex]}
            if judge(plan)[0].all():
                best = min(best, plan_cost(plan, widths, wage))
                break
    found = answer.cost(answer.plan)
    assert judge(answer.plan)[0].all()
    assert found <= answer.cost(answer.separate)
    assert best <= found <= best + max(wage.values()) + 1e-9, (answer.plan, found, best)


def test_cheap_cross_training_replaces_specialists_and_dear_does_not() -> None:
    cheap = search_groups(two_desks(flex_wage=15.0), TARGETS, reps=6, executor=SerialExecutor())
    assert cheap.plan["flex"][0] > 0  # cheaper than a specialist and pooled: taken
    assert cheap.cost(cheap.plan) < cheap.cost(cheap.separate)
    dear = search_groups(two_desks(flex_wage=45.0), TARGETS, reps=6, executor=SerialExecutor())
    assert dear.plan["flex"] == [0]  # dearer than the two specialists it would replace: never taken
    assert dear.plan == dear.separate


@pytest.mark.slow
def test_a_department_alone_is_staffed_as_erlang_a_says() -> None:
    """Without cross-training (flex dearer than two specialists), each department alone is an M/M/c+M queue:
    after an hour's warm-up, the simulated answer is Erlang A's (within one agent: 20 replications judge a
    mean, and Erlang A's count is the first to clear the target)."""
    scenario = two_desks(flex_wage=100.0, duration="3h", warmup="1h")
    answer = search_groups(scenario, TARGETS, reps=20, executor=SerialExecutor())
    expected = staff_erlang_a(60 / 3600.0, 240.0, 180.0, 20.0, 0.8, 0.1)
    for name in ("billing", "technical"):
        assert all(abs(count - expected) <= 1 for count in answer.plan[name][1:]), (answer.plan, expected)


def test_a_stated_confidence_never_costs_less() -> None:
    """The one-sided 95% bound is never above the mean on the same simulated days, so the plan judged by it
    costs at least the plain one; with `days_met` every cell of the answer met the goals on that share."""
    scenario = two_desks(flex_wage=21.0, duration="2h")
    plain = search_groups(scenario, TARGETS, reps=8, executor=SerialExecutor())
    sure = Targets(TARGETS.floors, TARGETS.ceilings, confidence=0.95)
    bounded = search_groups(scenario, sure, reps=8, executor=SerialExecutor())
    assert bounded.cost(bounded.plan) >= plain.cost(plain.plan)
    often = Targets(TARGETS.floors, TARGETS.ceilings, days_met=0.9)
    daily = search_groups(scenario, often, reps=8, executor=SerialExecutor())
    shares = [cell["met_share"] for cell in daily.figures.cells() if cell["offered"] > 0]
    assert min(shares) >= 0.9 - 1e-9


def test_with_pools_staffs_departments_and_groups_per_interval() -> None:
    scenario = with_pools(two_desks(duration="2h"), {"billing": [3, 4], "flex": [1, 2]})
    assert scenario.departments["billing"].agents.per_interval == (3, 4)
    assert scenario.agent_groups["flex"].agents.per_interval == (1, 2)
    assert scenario.departments["technical"].agents.count == 6  # not in the plan: as it was


def test_a_scenario_without_groups_is_refused() -> None:
    root = Path(__file__).resolve().parent.parent
    with pytest.raises(StaffingError, match="no agent groups"):
        search_groups(load_scenario(root / "scenarios" / "erlang-a.yaml"), TARGETS, reps=2)


def _write(scenario: Scenario, folder: Path) -> Path:
    import yaml

    from sim.model.loading import resolved_dict

    path = folder / "two-desks.yaml"
    path.write_text(yaml.safe_dump(resolved_dict(scenario), sort_keys=False), encoding="utf-8")
    return path


def test_staff_groups_command_writes_the_three_answers(tmp_path: Path) -> None:
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from sim.cli.app import app

    scenario = _write(two_desks(flex_wage=15.0, duration="2h"), tmp_path)
    out = tmp_path / "plan"
    done = CliRunner().invoke(
        app, ["staff", str(scenario), "--groups", "--reps", "3", "--jobs", "1", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "separate queues (simulated)" in done.output and "fully pooled (Erlang A bound)" in done.output
    plan = pd.read_csv(out / "plan.csv")
    assert list(plan.columns) == [
        "interval", "start", "billing", "technical", "flex",
        "billing_separate", "technical_separate", "flex_separate", "fully_pooled",
    ]  # fmt: skip
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    answers = summary["answers"]
    assert answers["cross_trained"]["cost"] <= answers["separate_queues"]["cost"]
    # cost by hand from the written plan: 20 a specialist-hour, 15 a flex-hour, one-hour intervals
    by_hand = 20.0 * (plan["billing"] + plan["technical"]).sum() + 15.0 * plan["flex"].sum()
    assert answers["cross_trained"]["cost"] == pytest.approx(by_hand)
    assert (plan["flex_separate"] == 0).all()
    figures = pd.read_csv(out / "figures.csv")
    assert figures["met"].all() == (summary["cells_met"] == summary["cells"])
    refused = CliRunner().invoke(
        app, ["staff", str(scenario), "--groups", "--only", "billing", "--out", str(tmp_path / "x")]
    )  # the groups' plan is every pool's
    assert refused.exit_code == 2 and "--only" in refused.output


def test_python_api_staffs_groups() -> None:
    import sim

    answer = sim.staff_groups(
        two_desks(flex_wage=45.0), {"service_level": 0.8}, ["abandon_rate=0.1"], reps=3, jobs=1
    )
    assert isinstance(answer, sim.GroupPlan)
    assert answer.plan["flex"] == [0] and answer.plan == answer.separate
