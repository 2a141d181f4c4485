"""The staffing search (sim/experiments/staffing/): its pieces exactly, its answers against Erlang A and against a
confirmation run with other seeds, statistically."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from sim.analysis import erlang
from sim.analysis.intervals import interval_table
from sim.analysis.load import department_shares, ring_survival
from sim.cli.app import app
from sim.engine.day import simulate
from sim.experiments.executors import ProcessExecutor, SerialExecutor
from sim.experiments.staffing import (
    FIGURES,
    StaffingError,
    Targets,
    department_figures,
    erlang_plans,
    parse_targets,
    plan_overrides,
    plan_yaml,
    search,
    search_staffing,
    staff_erlang_a,
    with_plan,
)
from sim.experiments.staffing.searcher import _Bracket
from sim.model.loading import load_scenario, scenario_from_dict
from sim.model.variants import truncated
from tests.conftest import ROOT, deep_merge

runner = CliRunner()

SINGLE_QUEUE: dict[str, Any] = {
    "name": "single-queue",
    "seed": 3,
    "duration": "4h",
    "interval": "1h",
    "arrivals": {"per_interval": [60, 120, 180, 90]},
    "patience": {"dist": "exponential", "mean": "3m"},
    "departments": {"support": {"agents": 10, "handle_time": {"dist": "exponential", "mean": "4m"}}},
}
TARGETS = Targets({"service_level": 0.8}, {"abandon_rate": 0.05})


def write(tmp_path: Path, data: dict[str, Any], name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# --- the pieces ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "overrides"),
    [
        ("small-centre.yaml", []),
        ("busy-day.yaml", ["lines=25"]),  # blocked callers count against their department
        ("cross-training.yaml", []),
        ("listening.yaml", []),  # transfers: a caller visits several queues
        ("erlang-a.yaml", ["duration=5h"]),  # a warm-up hour
    ],
)
def test_department_figures_are_the_interval_table_rows(path, overrides):
    result = simulate(load_scenario(ROOT / "scenarios" / path, overrides), replication=1)
    table = interval_table(result)
    expected = table[table["kind"] == "department"][["interval", "department", *FIGURES]]
    expected = expected.assign(department=expected["department"].astype(str)).reset_index(drop=True)
    mine = department_figures(result)
    assert mine[["interval", "department"]].equals(expected[["interval", "department"]])
    np.testing.assert_allclose(
        mine[list(FIGURES)].to_numpy(float),
        expected[list(FIGURES)].to_numpy(float),
        rtol=1e-12,
        equal_nan=True,
    )
    if path == "busy-day.yaml":
        assert table["blocked"].sum() > 0


def test_a_cut_day_shares_its_callers_with_the_full_day():
    scenario = load_scenario(ROOT / "scenarios" / "busy-day.yaml")
    full = department_figures(simulate(scenario, replication=2))
    for keep in (2, 7):
        cut = truncated(scenario, keep)
        assert cut.interval_count == keep and cut.duration == keep * scenario.interval
        assert len(cut.arrivals.per_interval or ()) == keep
        short = department_figures(simulate(cut, replication=2))
        early = full[full["interval"] < keep - 1].reset_index(drop=True)
        pd.testing.assert_frame_equal(short[short["interval"] < keep - 1].reset_index(drop=True), early)


def test_targets_from_the_command_line():
    scenario = scenario_from_dict(SINGLE_QUEUE)
    targets = parse_targets(["service_level=0.8"], ["abandon_rate=5%", "asa=30s"], scenario)
    assert targets.floors == {"service_level": 0.8}
    assert targets.ceilings == {"abandon_rate": 0.05, "asa": 30.0}
    assert parse_targets([], [], scenario).floors == {"service_level": scenario.service_level.target}
    for bad in (["service_level"], ["service_level=1.5"], ["occupancy=0.8"], ["asa=soon"]):
        with pytest.raises(StaffingError):
            parse_targets(bad, [], scenario)
    with pytest.raises(StaffingError):
        parse_targets([], ["service_level=0.8"], scenario)
    assert targets.met({"service_level": 0.8, "abandon_rate": 0.05, "asa": 30.0})
    assert not targets.met({"service_level": 0.79, "abandon_rate": 0.0, "asa": 0.0})
    assert targets.met({"service_level": math.nan, "abandon_rate": math.nan})  # no calls, nothing missed
    assert targets.shortfall({"service_level": 0.72, "abandon_rate": 0.05, "asa": 33.0}) == pytest.approx(0.1)


@pytest.mark.parametrize("per_hour", [5, 30, 120, 600])
@pytest.mark.parametrize("patience", [30.0, 180.0, math.inf])
@pytest.mark.parametrize("max_abandon", [0.03, 1.0])
def test_erlang_a_from_a_lower_bound_is_erlang_a(per_hour, patience, max_abandon):
    arguments = (per_hour / 3600, 240.0, patience, 20.0, 0.8, max_abandon)
    assert staff_erlang_a(*arguments) == erlang.staff_erlang_a(*arguments)


def test_erlang_starting_points_per_interval():
    scenario = scenario_from_dict(SINGLE_QUEUE)
    plan_a, plan_c = erlang_plans(scenario, TARGETS)
    assert plan_a["support"] == [
        erlang.staff_erlang_a(n / 3600, 240, 180, 20, 0.8, 0.05) for n in (60, 120, 180, 90)
    ]
    assert plan_c["support"] == [erlang.staff_erlang_c(n / 3600, 240, 20, 0.8) for n in (60, 120, 180, 90)]
    # a ring makes the agent busy longer and lets callers hang up while it rings: more agents
    ringing = scenario_from_dict(deep_merge(SINGLE_QUEUE, {"ring": {"cycle": "6s", "rings": 2}}))
    rung, _ = erlang_plans(ringing, TARGETS)
    assert all(r >= a for r, a in zip(rung["support"], plan_a["support"], strict=True))
    assert rung["support"] != plan_a["support"]


def test_ring_survival_uses_the_patience_distribution():
    def with_patience(patience: dict[str, Any]) -> Any:
        data = deep_merge(SINGLE_QUEUE, {"ring": {"cycle": "6s", "rings": 2}})
        data["patience"] = patience
        return scenario_from_dict(data)

    assert ring_survival(with_patience({"dist": "exponential", "mean": "3m"})) == pytest.approx(
        math.exp(-12 / 180)
    )
    assert ring_survival(with_patience({"dist": "fixed", "value": "10s"})) == 0.0
    spread = ring_survival(with_patience({"dist": "lognormal", "mean": "3m", "cv": 1.0}))
    # P(lognormal with mean 180 s and cv 1 > 12 s), from its log-space parameters; 100,000 draws
    sigma = math.sqrt(math.log(2.0))
    mu = math.log(180.0) - sigma**2 / 2
    exact = 1 - stats.norm.cdf((math.log(12.0) - mu) / sigma)
    assert spread == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 100_000) + 1e-9)
    assert ring_survival(scenario_from_dict(SINGLE_QUEUE)) == 1.0


def test_department_shares_follow_reasons_self_service_and_transfer_networks():
    small = load_scenario(ROOT / "scenarios" / "small-centre.yaml")
    assert department_shares(small) == pytest.approx({"billing": 0.6, "technical": 0.4})
    network = scenario_from_dict(
        {
            "name": "network",
            "duration": "1h",
            "arrivals": {"per_hour": 60, "reasons": {"a": 0.5, "b": 0.5}},
            "ivr": {"self_service": {"a": 0.2}},
            "departments": {
                "a": {"agents": 2, "handle_time": "1m", "transfer": {"b": 0.5}},
                "b": {"agents": 2, "handle_time": "1m", "transfer": {}},
            },
        }
    )
    # a: 0.5 * (1 - 0.2) = 0.4; b: 0.5 + 0.4 * 0.5 = 0.7
    assert department_shares(network) == pytest.approx({"a": 0.4, "b": 0.7})


class Oracle:
    """A monotone 'simulation': acceptable from `needed` agents up (None: never)."""

    def __init__(self, needed: int | None) -> None:
        self.needed = needed
        self.tried: list[int] = []

    def search(self, start: int, cap: int) -> tuple[int, bool]:
        bracket = _Bracket(start, cap)
        count = start
        for _ in range(100):
            self.tried.append(count)
            ok = self.needed is not None and count >= self.needed
            shortfall = 0.0 if ok else (0.5 if self.needed is None else 0.1 * (self.needed - count))
            count = bracket.next(count, ok, shortfall)
            if bracket.settled:
                return count, bracket.reached
        raise AssertionError("the search did not settle")


@pytest.mark.parametrize("start", [0, 1, 5, 9, 10, 11, 14, 30])
def test_the_bracket_finds_the_fewest_acceptable_count(start):
    oracle = Oracle(10)
    assert oracle.search(start, 60) == (10, True)
    assert len(oracle.tried) <= 2 * math.ceil(math.log2(abs(start - 10) + 2)) + 2


def test_the_bracket_settles_at_zero_and_gives_up_at_the_cap():
    assert Oracle(0).search(3, 20) == (0, True)
    oracle = Oracle(None)  # adding agents never helps: the fewest of the least-bad counts
    count, reached = oracle.search(4, 12)
    assert not reached and count == 4 and max(oracle.tried) == 12


def test_plan_yaml_is_the_scenario_staffing_and_its_overrides_apply():
    plan = {"support": [7, 11, 15, 9]}
    text = plan_yaml(plan, "a header\nsecond line")
    assert text.startswith("# a header\n# second line\n")
    merged = deep_merge(SINGLE_QUEUE, yaml.safe_load(text))
    assert scenario_from_dict(merged).departments["support"].agents.per_interval == (7, 11, 15, 9)
    applied = scenario_from_dict(SINGLE_QUEUE, overrides=plan_overrides(plan))
    assert applied.departments["support"].agents.per_interval == (7, 11, 15, 9)


# --- the search ----------------------------------------------------------------------------------------------


def _standard_error(half_width: float, reps: int) -> float:
    return half_width / stats.t.ppf(0.975, reps - 1)


def check_confirmation(table: pd.DataFrame, search_reps: int, confirm_reps: int, z: float = 3.5) -> None:
    """Every interval meets the targets in the confirmation run, up to z standard errors of the difference
    between two independent estimates: the search accepted each count only when its own estimate met the
    target, so a confirmation estimate further below than that is not noise (P < ~1e-3 per check)."""
    for _, row in table.iterrows():
        for key, sign, goal in (("service_level", 1.0, 0.8), ("abandon_rate", -1.0, 0.05)):
            spread = math.hypot(
                _standard_error(row[f"search_{key}_ci95"], search_reps),
                _standard_error(row[f"confirm_{key}_ci95"], confirm_reps),
            )
            assert sign * (row[f"confirm_{key}"] - goal) >= -z * spread, (row["start"], key, row.to_dict())


def test_single_queue_staffing_matches_erlang_a_and_is_confirmed(tmp_path):
    path = write(tmp_path, SINGLE_QUEUE)
    pool = ProcessExecutor(2)
    try:
        result = search_staffing(path, TARGETS, reps=20, confirm_reps=40, executor=pool)
    finally:
        pool.close()
    table = result.table
    assert (table["simulated"] - table["erlang_a"]).abs().max() <= 1, table
    assert table["search_met"].all() and not result.unreachable
    check_confirmation(table, 20, 40)
    assert result.confirm_seed != result.seed
    hours = result.hours()
    assert hours["simulated"]["total"] == pytest.approx(sum(result.plan["support"]))  # 1 h intervals
    assert hours["erlang_a"]["total"] == sum(result.erlang_a["support"])


def test_fewer_agents_than_the_plan_miss_the_targets(tmp_path):
    """The plan is the fewest the search saw meet the targets: in every interval one agent fewer was judged
    and missed (there, or in the interval before, whose waiting callers it serves), unless the end-game check
    had just lowered that interval by one on more replications (it lowers each interval at most once); and no
    count below the plan passed the check."""
    path = write(tmp_path, SINGLE_QUEUE)
    result = search_staffing(path, TARGETS, reps=10, confirm_reps=4, executor=SerialExecutor())
    plan = result.plan["support"]
    steps = result.steps
    check = steps[steps["stage"] == "check"]
    for index, count in enumerate(plan):
        if count == 0:
            continue
        here = steps["interval"] == index
        fewer = steps[here & (steps["agents"] == count - 1)]
        lowered = check[(check["interval"] == index) & (check["agents"] == count) & check["acceptable"]]
        assert len(lowered) or (len(fewer) and not fewer["acceptable"].any()), (index, count, steps)
        assert not check[(check["interval"] == index) & (check["agents"] < count)]["acceptable"].any()
    assert len(check) and check["reps"].min() >= 10


def test_staff_command_writes_the_plan_folder(tmp_path):
    path = write(
        tmp_path, deep_merge(SINGLE_QUEUE, {"duration": "2h", "arrivals": {"per_interval": [60, 120]}})
    )
    folder = tmp_path / "plan"
    arguments = [
        "staff",
        str(path),
        "--target",
        "service_level=0.8",
        "--max",
        "abandon_rate=0.05",
        "--reps",
        "6",
        "--confirm-reps",
        "6",
        "--jobs",
        "1",
        "--out",
        str(folder),
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    for name in ("staffing.yaml", "plan.csv", "search.csv", "summary.json", "meta.json"):
        assert (folder / name).exists(), name
    staffing = yaml.safe_load((folder / "staffing.yaml").read_text())
    counts = staffing["departments"]["support"]["agents"]["per_interval"]
    assert len(counts) == 2 and all(isinstance(c, int) for c in counts)
    assert "Erlang A" in result.output and "agent-hours" in result.output
    # not a terminal: a line per finished stage instead of a bar
    stages = [line for line in result.output.splitlines() if line.startswith("staffing: ") and "(" in line]
    assert [s.split(" (")[0] for s in stages][:3] == [
        "staffing: searched every interval from Erlang A",
        "staffing: checked the end game on more replications",
        "staffing: confirmed with another seed",
    ]
    plan = pd.read_csv(folder / "plan.csv")
    assert plan["simulated"].tolist() == counts
    assert runner.invoke(app, arguments).exit_code == 2  # the folder is never overwritten unasked
    bad = runner.invoke(app, ["staff", str(path), "--max", "occupancy=0.9", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "occupancy" in bad.output


def test_warm_up_intervals_keep_erlang_a(tmp_path):
    data = deep_merge(
        SINGLE_QUEUE, {"warmup": "1h", "duration": "3h", "arrivals": {"per_interval": [120, 120, 120]}}
    )
    result = search_staffing(
        write(tmp_path, data), TARGETS, reps=4, confirm_reps=4, executor=SerialExecutor()
    )
    assert result.plan["support"][0] == result.erlang_a["support"][0] > 0
    assert result.steps["interval"].min() == 1


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_single_queue_staffing_within_one_agent_of_erlang_a_over_seeds(tmp_path, seed):
    data = deep_merge(
        SINGLE_QUEUE, {"duration": "6h", "arrivals": {"per_interval": [60, 120, 180, 240, 150, 90]}}
    )
    path = write(tmp_path, data)
    pool = ProcessExecutor(2)
    try:
        result = search_staffing(path, TARGETS, seed=seed, reps=20, confirm_reps=40, executor=pool)
    finally:
        pool.close()
    assert (result.table["simulated"] - result.table["erlang_a"]).abs().max() <= 1, result.table
    check_confirmation(result.table, 20, 40)


def test_a_verdict_within_noise_of_the_target_is_decided_on_more_replications(tmp_path):
    # erlang-a's second hour: 10 agents give 5.95% abandonment exactly (M/M/10+M), just over a 5% ceiling;
    # on the search's 20 replications the sample can say otherwise, so that verdict takes more of them.
    scenario = ROOT / "scenarios" / "erlang-a.yaml"
    targets = parse_targets([], ["abandon_rate=0.05"], load_scenario(scenario))
    result = search_staffing(
        scenario, targets, reps=20, confirm_reps=4, executor=SerialExecutor(), overrides=["duration=2h"]
    )
    steps = result.steps
    assert steps["reps"].isin([20, 40, 80]).all()
    unclear = steps[steps["reps"] > 20]
    assert len(unclear), steps  # some verdict was within noise and took more replications
    for row in unclear.itertuples():
        # only verdicts that were unclear on fewer replications are refined
        assert abs(row.abandon_rate - 0.05) < 0.03, row
    assert result.plan["support"][1] == 11  # the exact answer (Erlang A: 5.95% at 10, under 5% at 11)


# --- the library entry point: only, progress, monotonicity --------------------------------------------------

TWO_QUEUES: dict[str, Any] = {
    "name": "two-queues",
    "seed": 5,
    "duration": "3h",
    "interval": "1h",
    "arrivals": {"per_interval": [60, 120, 90], "reasons": {"billing": 0.6, "technical": 0.4}},
    "patience": {"dist": "exponential", "mean": "3m"},
    "departments": {
        "billing": {
            "resolves": ["billing"],
            "agents": 6,
            "handle_time": {"dist": "exponential", "mean": "4m"},
        },
        "technical": {
            "resolves": ["technical"],
            "agents": {"per_interval": [3, 4, 5]},
            "handle_time": {"dist": "exponential", "mean": "5m"},
        },
    },
}


def test_a_plan_scenario_is_the_one_its_overrides_give():
    plan = {"support": [7, 11, 15, 9]}
    base = scenario_from_dict(SINGLE_QUEUE)
    assert with_plan(base, plan) == scenario_from_dict(SINGLE_QUEUE, overrides=plan_overrides(plan))


def test_only_replans_one_department_and_leaves_the_others_as_they_are(tmp_path):
    base = scenario_from_dict(TWO_QUEUES)
    result = search(
        base, {"service_level": 0.8}, {"abandon_rate": 0.05}, reps=4, confirm_reps=4, jobs=1, only="billing"
    )
    assert list(result.plan) == ["billing"] and result.only == "billing"
    assert set(result.table["department"]) == {"billing"}
    assert set(result.steps["department"]) == {"billing"}
    planned = with_plan(base, result.plan)
    assert planned.departments["technical"] == base.departments["technical"]
    assert planned.departments["billing"].agents.per_interval == tuple(result.plan["billing"])
    with pytest.raises(StaffingError, match="nowhere"):
        search(base, None, None, reps=4, jobs=1, only="nowhere")
    path = write(tmp_path, TWO_QUEUES)
    folder = tmp_path / "plan"
    arguments = [
        "staff",
        str(path),
        "--only",
        "technical",
        "--reps",
        "4",
        "--confirm-reps",
        "4",
        "--jobs",
        "1",
    ]
    ran = runner.invoke(app, [*arguments, "--out", str(folder)])
    assert ran.exit_code == 0, ran.output
    staffing = yaml.safe_load((folder / "staffing.yaml").read_text())
    assert list(staffing["departments"]) == ["technical"]
    assert "technical only" in (folder / "staffing.yaml").read_text()
    ran = runner.invoke(app, ["staff", str(path), "--only", "sales", "--out", str(tmp_path / "x")])
    assert ran.exit_code == 2 and "sales" in ran.output


def test_progress_is_reported_monotone_to_the_end():
    calls: list[tuple[int, int, str]] = []
    pairs: list[tuple[int, int]] = []
    base = scenario_from_dict(SINGLE_QUEUE)
    search(
        base, TARGETS, None, reps=4, confirm_reps=4, jobs=1, progress=lambda d, t, s: calls.append((d, t, s))
    )
    search(base, TARGETS, None, reps=4, confirm_reps=4, jobs=1, progress=lambda d, t: pairs.append((d, t)))
    assert calls and [(d, t) for d, t, _ in calls] == pairs  # the same reports, with or without the stage
    done = [d for d, _, _ in calls]
    totals = {t for _, t, _ in calls}
    assert len(totals) == 1 and done == sorted(done) and done[0] == 0
    assert calls[-1][0] == calls[-1][1]
    stages = list(dict.fromkeys(s for _, _, s in calls))
    assert stages == ["search", "check", "confirmation", "done"]


def test_more_calls_never_lower_the_plan():
    """A metamorphic relation: every interval's calls doubled (the same seeds), no interval needs fewer agents."""
    base = scenario_from_dict(SINGLE_QUEUE)
    busier = scenario_from_dict(
        deep_merge(SINGLE_QUEUE, {"arrivals": {"per_interval": [120, 240, 360, 180]}})
    )
    quiet = search(base, TARGETS, None, reps=6, confirm_reps=2, jobs=1)
    busy = search(busier, TARGETS, None, reps=6, confirm_reps=2, jobs=1)
    assert all(b >= q for b, q in zip(busy.plan["support"], quiet.plan["support"], strict=True)), (
        busy.plan,
        quiet.plan,
    )
    assert busy.hours()["simulated"]["total"] > quiet.hours()["simulated"]["total"]
