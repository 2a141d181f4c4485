"""Weeks (`week:`): several days in order, day types, work carried over from one close to the next open.

Theory. A week of identical M/M/c days without carry-over is a set of independent M/M/c days, so each day's
service level must match Erlang C (Student-t tolerance from replications, as in tests/test_theory.py: a
two-sided false-alarm probability of 2(1 - Phi(4)) per assertion). Day types scale the Poisson arrival rate,
so Monday's offered count over Tuesday's estimates the ratio of the rates; with Poisson counts N1, N2 the
log of the ratio has standard error sqrt(1/N1 + 1/N2). Carry-over is checked as conservation, from the
event tables: what a close leaves is what the next open takes in, caller by caller.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import sim
from sim.analysis import erlang
from sim.analysis.tables import calls_table
from sim.cli.app import app
from sim.engine.day import RunResult, simulate
from sim.engine.reference import simulate_reference
from sim.experiments.week import WeekRun, replicate_week, simulate_week
from sim.model.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import ROOT

Z = 4.0
ALPHA = 2 * stats.norm.sf(Z)


def _scenario(extra: dict[str, Any] | None = None, **week: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "week-test",
        "seed": 11,
        "duration": "8h",
        "interval": "1h",
        "arrivals": {"per_hour": 70},
        "departments": {"support": {"agents": 5, "handle_time": {"dist": "exponential", "mean": "3m"}}},
        "service_level": {"threshold": "20s", "target": 0.8},
    }
    data.update(extra or {})
    if week:
        data["week"] = week
    return scenario_from_dict(data)


def _events_of(result: RunResult, event: str) -> pd.DataFrame:
    events = result.events
    return events[events["event"] == event]


# --- day types and the random streams ------------------------------------------------------------------------


def test_the_first_day_of_a_week_is_the_scenario_run_alone() -> None:
    # day 0 has a single day's streams: its tables are the scenario's, carry-over on or off
    alone = simulate(_scenario(), 11, 2)
    for carry in (True, False):
        days = [{"name": "Mon", "type": "normal"}, {"name": "Tue", "type": "normal"}]
        scenario = _scenario(day_types={"normal": {}}, days=days, carry_over=carry)
        week = simulate_week(scenario, 11, 2)
        pd.testing.assert_frame_equal(week.results[0].events, alone.events)
        assert week.results[0].carried_out == ()  # no callbacks, no redials: nothing to carry


def test_later_days_draw_their_own_numbers() -> None:
    scenario = _scenario(
        day_types={"normal": {}}, days=[{"name": "Mon", "type": "normal"}, {"name": "Tue", "type": "normal"}]
    )
    monday, tuesday = simulate_week(scenario).results
    assert not np.array_equal(calls_table(monday)["arrived_at"][:50], calls_table(tuesday)["arrived_at"][:50])


def test_day_types_apply_their_overrides() -> None:
    # Monday 150 calls an hour on 12 agents, Tuesday 100 on 8: the offered counts' ratio estimates 1.5
    scenario = _scenario(
        day_types={
            "peak": {"set": {"arrivals.per_hour": 150, "departments.support.agents": 12}},
            "normal": {"set": {"arrivals.per_hour": 100, "departments.support.agents": 8}},
        },
        days=[{"name": "Monday", "type": "peak"}, {"name": "Tuesday", "type": "normal"}],
        carry_over=False,
    )
    table = simulate_week(scenario).table
    monday, tuesday = table["offered"].iloc[0], table["offered"].iloc[1]
    log_ratio_se = math.sqrt(1 / monday + 1 / tuesday)
    assert abs(math.log(monday / tuesday) - math.log(1.5)) <= Z * log_ratio_se
    assert abs(math.log(1.5)) > 2 * Z * log_ratio_se  # the test can tell 1.5 from 1
    assert table["agent_hours"].tolist()[:2] == pytest.approx([12 * 8.0, 8 * 8.0])
    assert table["agent_hours"].iloc[2] == pytest.approx(20 * 8.0)  # the week's row adds the days'
    assert table["day"].tolist() == ["Monday", "Tuesday", "week"]


def test_identical_days_each_match_erlang_c() -> None:
    # M/M/5 at 3.5 erlangs, three identical days, no carry-over: each day is an M/M/c day of its own
    reps = 30
    scenario = _scenario(
        {"warmup": "1h", "duration": "16h"},
        day_types={"normal": {}},
        days=[{"name": name, "type": "normal"} for name in ("Mon", "Tue", "Wed")],
        carry_over=False,
    )
    theory = erlang.erlang_c_figures(70 / 3600, 180.0, 5, 20.0).service_level
    tables = replicate_week(scenario, seed=4, reps=reps, jobs=1).tables
    levels = np.array([table["service_level"].to_numpy()[:3] for table in tables])  # reps x days
    crit = stats.t.ppf(1 - ALPHA / 2, reps - 1)
    for day in range(3):
        values = levels[:, day]
        se = values.std(ddof=1) / math.sqrt(reps)
        assert se > 0
        assert abs(values.mean() - theory) <= crit * se, (day, values.mean(), theory, se)
        assert crit * se < 0.1 * theory  # resolution: an error of 10% would show
    # the week's service level is over all its calls: between the days' lowest and highest
    week = np.array([table["service_level"].iloc[3] for table in tables])
    assert np.all((week >= levels.min(axis=1) - 1e-12) & (week <= levels.max(axis=1) + 1e-12))


# --- carry-over ---------------------------------------------------------------------------------------------

_BUSY = {
    "arrivals": {"per_hour": 140, "reasons": {"billing": 0.5, "technical": 0.5}},
    "patience": {"dist": "exponential", "mean": "3m"},
    "callback": {
        "offer_when_wait_over": "1m",
        "accept": 0.6,
        "keep_place": False,
        "window": "8h",
        "dial_time": "15s",
        "answer_probability": 0.8,
        "retries": 1,
        "retry_delay": "10m",
    },
    "redial": {"abandoned": {"probability": 0.6, "delay": {"dist": "exponential", "mean": "30m"}}},
    "departments": {
        "support": {
            "agents": 9,
            "resolves": ["billing", "technical"],
            "handle_time": {"dist": "exponential", "mean": "4m"},
        }
    },
}
_DAYS = [{"name": name, "type": "normal"} for name in ("Mon", "Tue", "Wed")]


@pytest.fixture(scope="module")
def busy_week() -> WeekRun:
    return simulate_week(_scenario(_BUSY, day_types={"normal": {}}, days=_DAYS), seed=7)


def test_what_a_close_leaves_is_what_the_next_open_takes_in(busy_week: WeekRun) -> None:
    days = busy_week.results
    for before, after in itertools.pairwise(days):
        left = _events_of(before, "carry_out")
        brought = _events_of(after, "carry_in")
        assert (left["detail"] == 0.0).any() and (left["detail"] == 1.0).any()  # callbacks and redials
        # callbacks: the ones Monday never finished (in the system at its end, having asked for a callback)
        calls = calls_table(before)
        unfinished = calls[(calls["outcome"] == "in_system") & calls["callback_requested"]]
        assert sorted(unfinished["call_id"]) == sorted(left.loc[left["detail"] == 0.0, "call_id"])
        callbacks_in = brought[brought["t"] == 0.0]
        requests = _events_of(after, "callback_request")
        assert set(requests.loc[requests["t"] == 0.0, "call_id"]) == set(callbacks_in["call_id"])
        assert len(callbacks_in) == len(unfinished)
        # redials: every one due before the next close comes in
        redials = [w for w in before.carried_out if w.kind == "redial"]
        due_in_time = sum(1 for w in redials if w.due_at - before.scenario.duration < after.scenario.duration)
        assert len(brought) == len(unfinished) + due_in_time
        # each carried caller keeps their reason: yesterday's call id is the carry_in's detail
        yesterday = calls.set_index("call_id")["reason"]
        today = calls_table(after).set_index("call_id")["reason"]
        for new_id, old_id in zip(brought["call_id"], brought["detail"].astype(int), strict=True):
            assert today[new_id] == yesterday[old_id]
        assert set(brought["detail"].astype(int)) <= set(left["call_id"])
        # a carried redial calls at the open plus the part of its delay that ran past the close
        came_at = dict(zip(brought["detail"].astype(int), brought["t"], strict=True))
        for work in redials:
            if work.call_id in came_at:
                assert came_at[work.call_id] == pytest.approx(work.due_at - before.scenario.duration)


def test_carried_callbacks_show_their_age_and_go_first(busy_week: WeekRun) -> None:
    tuesday = busy_week.results[1]
    carried = set(_events_of(tuesday, "carry_in").query("t == 0")["call_id"])
    dials = _events_of(tuesday, "callback_dial")
    first_dials = dials[dials["call_id"].isin(carried)].drop_duplicates("call_id")
    assert len(first_dials) > 0
    # the dial-out counts the night: more than the 16 hours between the close and the next open
    assert (first_dials["detail"] > 16 * 3600).all()
    # they go first: the 9 agents idle at the open dial 9 of them at once (or all, if fewer), and no
    # agent answers one of Tuesday's own callers before every carried callback has been taken
    agents = busy_week.days[1].scenario.departments["support"].agents
    assert agents is not None and agents.count == 9
    assert int((first_dials["t"] == 0.0).sum()) == min(len(carried), 9)
    taken = _events_of(tuesday, "ring")
    own = taken[~taken["call_id"].isin(carried)]
    assert len(own) > 0 and first_dials["t"].max() <= own["t"].min()


def test_without_carry_over_nothing_is_carried() -> None:
    week = simulate_week(_scenario(_BUSY, day_types={"normal": {}}, days=_DAYS, carry_over=False), seed=7)
    for result in week.results:
        assert _events_of(result, "carry_out").empty and _events_of(result, "carry_in").empty
        assert result.carried_out == ()
        summary_calls = calls_table(result)
        assert not (summary_calls["outcome"] == "in_system").any()  # the evening serves every callback
    assert week.table["carried_in"].sum() == 0 and week.carried.empty


def test_the_last_day_keeps_its_leftovers(busy_week: WeekRun) -> None:
    assert busy_week.results[-1].carried_out == ()
    assert _events_of(busy_week.results[-1], "carry_out").empty


# --- errors, API, CLI, reference --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "path", "words"),
    [
        (
            {"day_types": {"normal": {}}, "days": [{"name": "Mon", "type": "peak"}]},
            "week.days.0.type",
            "unknown",
        ),
        (
            {
                "day_types": {"peak": {"set": {"arrivals.per_hourr": 150}}},
                "days": [{"name": "Mon", "type": "peak"}],
            },
            "week.day_types.peak.set.arrivals.per_hourr",
            "",
        ),
        (
            {
                "day_types": {"peak": {"set": {"arrivals.per_hour": -5}}},
                "days": [{"name": "Mon", "type": "peak"}],
            },
            "week.day_types.peak.set.arrivals.per_hour",
            "",
        ),
        (
            {"day_types": {"peak": {"set": {"duration.x": 1}}}, "days": [{"name": "Mon", "type": "peak"}]},
            "week.day_types.peak.set.duration",
            "not a mapping",
        ),
        ({"day_types": {"normal": {}}, "days": []}, "week.days", ""),
        (
            {
                "day_types": {"peak": {"set": {"week.carry_over": False}}},
                "days": [{"name": "M", "type": "peak"}],
            },
            "week.day_types.peak.set.week.carry_over",
            "share",
        ),
        (
            {
                "day_types": {"peak": {"set": {"service_level.threshold": "30s"}}},
                "days": [{"name": "Mon", "type": "peak"}],
            },
            "week.day_types.peak.set",
            "changes service_level",
        ),
        (
            {"day_types": {"normal": {}}, "days": [{"name": "Mon", "type": "normal"}] * 2},
            "week.days.1.name",
            "twice",
        ),
    ],
)
def test_bad_week_blocks_are_refused_at_their_path(week: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        _scenario(**week)
    paths = [problem.path for problem in refused.value.problems]
    assert path in paths, paths
    assert words in str(refused.value)


def test_the_api_runs_a_week_scenario_as_a_week() -> None:
    week = sim.simulate(ROOT / "scenarios" / "week.yaml")
    assert isinstance(week, WeekRun)
    assert week.table["day"].tolist() == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "week"]
    assert week.table["offered"].iloc[-1] == week.table["offered"].iloc[:-1].sum()


def test_the_reference_model_refuses_a_week() -> None:
    with pytest.raises(ValueError, match="week"):
        simulate_reference(load_scenario(ROOT / "scenarios" / "week.yaml"))


def test_callsim_run_writes_the_week_folder(tmp_path: Path) -> None:
    target = tmp_path / "week"
    done = CliRunner().invoke(
        app,
        ["run", str(ROOT / "scenarios" / "week.yaml"), "--out", str(target), "--reps", "2", "--jobs", "1"],
    )
    assert done.exit_code == 0, done.output
    assert "Monday" in done.output and "week" in done.output
    for name in ("week.csv", "replications.csv", "summary.json", "calls.parquet", "events.parquet",
                 "intervals.csv", "carry_over.csv", "report.html", "scenario.yaml", "meta.json"):  # fmt: skip
        assert (target / name).is_file(), name
    week = pd.read_csv(target / "week.csv")
    assert week["day"].tolist()[-1] == "week" and "service_level_ci95" in week.columns
    calls = pd.read_parquet(target / "calls.parquet")
    assert sorted(calls["day"].unique()) == [0, 1, 2, 3, 4]
    page = (target / "report.html").read_text(encoding="utf-8")
    assert "<h2>Week</h2>" in page and "Friday" in page
    carried = pd.read_csv(target / "carry_over.csv")
    events = pd.read_parquet(target / "events.parquet")
    assert len(carried) == int((events["event"] == "carry_out").sum())
    # `callsim report` rebuilds the week's page from the folder alone
    (target / "report.html").unlink()
    again = CliRunner().invoke(app, ["report", str(target)])
    assert again.exit_code == 0, again.output
    assert (target / "report.html").read_text(encoding="utf-8") == page
    # and `callsim rerun` runs the same weeks again, table for table
    rerun = CliRunner().invoke(app, ["rerun", str(target), "--out", str(tmp_path / "again"), "--jobs", "1"])
    assert rerun.exit_code == 0, rerun.output
    assert "identical" in rerun.output


# --- one day of a week for the single-day commands (--day) ------------------------------------------------


def test_one_day_picks_a_day_or_a_day_type() -> None:
    from sim.model.loading import one_day, week_day_types

    week = load_scenario(ROOT / "scenarios" / "week.yaml")
    types = week_day_types(week)
    assert one_day(week, "friday", "staff") == types["quiet"]  # a day's name, any case: its day type
    assert one_day(week, "Monday", "staff") == types["peak"]
    assert one_day(week, "normal", "staff") == types["normal"]  # a day type by its own name
    assert one_day(week, "Monday", "staff").week is None
    with pytest.raises(ScenarioError, match="works on one day: name it with --day"):
        one_day(week, None, "staff")
    with pytest.raises(ScenarioError, match="neither a day of the week"):
        one_day(week, "Sunday", "staff")
    single = load_scenario(ROOT / "scenarios" / "erlang-c.yaml")
    assert one_day(single, None, "staff") is single
    with pytest.raises(ScenarioError, match="describes one day, not a week"):
        one_day(single, "Monday", "staff")


def test_single_day_commands_refuse_a_week_without_a_day(tmp_path: Path) -> None:
    week = str(ROOT / "scenarios" / "week.yaml")
    runner = CliRunner()
    staff = runner.invoke(app, ["staff", week, "--out", str(tmp_path / "s")])
    assert staff.exit_code == 2 and "--day" in staff.output
    sweep = runner.invoke(
        app, ["sweep", week, "--grid", "departments.support.agents=8,9", "--out", str(tmp_path / "w")]
    )
    assert sweep.exit_code == 2 and "--set week=null" in sweep.output
    traced = runner.invoke(app, ["trace", week, "--day", "Friday", "--out", str(tmp_path / "t.png")])
    assert traced.exit_code == 0, traced.output
    assert (tmp_path / "t.png").is_file()
    assert not (tmp_path / "s").exists() and not (tmp_path / "w").exists()
