"""Staffing: `staffing_levels` for constants, per-interval counts and shifts, and the plan as the engine
applies it (agents scheduled and logged in per interval)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.intervals import interval_table
from sim.analysis.tables import agent_seconds, interval_edges
from sim.engine.day import RunResult, simulate
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario
from sim.model.staffing import count_at, staffing_levels


def scenario_with(agents: Any, start: str = "08:00", duration: str = "8h", interval: str = "1h") -> Scenario:
    """A one-department scenario whose agents are staffed as `agents`."""
    return scenario_from_dict(
        {
            "name": "roster",
            "start": start,
            "duration": duration,
            "interval": interval,
            "arrivals": {"per_hour": 10},
            "departments": {"support": {"agents": agents, "handle_time": "1m"}},
        }
    )


def levels_of(agents: Any, **kwargs: str) -> list[tuple[float, int]]:
    """The staffing step function of `agents` in a scenario built by `scenario_with`."""
    scenario = scenario_with(agents, **kwargs)
    staffing = scenario.departments["support"].agents
    assert staffing is not None
    return staffing_levels(staffing, scenario)


def shift(start: str, end: str, count: int) -> dict[str, Any]:
    """A shift block."""
    return {"start": start, "end": end, "count": count}


def test_constant_staffing_is_one_level() -> None:
    assert levels_of(4) == [(0.0, 4)]


def test_per_interval_staffing_changes_at_interval_starts_and_merges_repeats() -> None:
    # 30-minute intervals over 2 h: 2, 2, 3, 0 -> a change at 0 (2), 3600 (3) and 5400 (0).
    levels = levels_of({"per_interval": [2, 2, 3, 0]}, duration="2h", interval="30m")
    assert levels == [(0.0, 2), (3600.0, 3), (5400.0, 0)]


def test_overlapping_shifts_add_up() -> None:
    # Day 08:00-16:00. 08-12 x 6 and 10-16 x 4: 6 until 10:00 (7200 s), 10 until 12:00 (14400 s), then 4.
    # The 16:00 end is the close itself: no change inside the day.
    levels = levels_of({"shifts": [shift("08:00", "12:00", 6), shift("10:00", "16:00", 4)]})
    assert levels == [(0.0, 6), (7200.0, 10), (14400.0, 4)]


def test_shift_crossing_midnight() -> None:
    # Day 20:00-04:00. 23:00-02:00 (end before start: past midnight) x 3: on from 3 h to 6 h after the start.
    levels = levels_of({"shifts": [shift("23:00", "02:00", 3)]}, start="20:00")
    assert levels == [(0.0, 0), (10800.0, 3), (21600.0, 0)]


def test_shift_starting_before_the_day_is_on_at_the_start() -> None:
    # Day from 08:00. 07:00-10:00 x 3 is already on at the start, until 2 h in; 09:00-17:00 x 2 adds from 1 h
    # and outlasts the day (17:00 is after the 16:00 close).
    levels = levels_of({"shifts": [shift("07:00", "10:00", 3), shift("09:00", "17:00", 2)]})
    assert levels == [(0.0, 3), (3600.0, 5), (7200.0, 2)]


def test_shift_entirely_outside_the_day_adds_nobody() -> None:
    # 05:00-07:00 ends before the 08:00 start; 18:00-20:00 starts after the 16:00 close.
    levels = levels_of(
        {"shifts": [shift("05:00", "07:00", 3), shift("18:00", "20:00", 2), shift("09:00", "10:00", 1)]}
    )
    assert levels == [(0.0, 0), (3600.0, 1), (7200.0, 0)]


def test_shift_after_midnight_in_a_day_crossing_midnight() -> None:
    # Day 20:00-04:00. 20:00-00:00 x 3 (on from 0 to 4 h) and 01:00-04:00 x 2 (on from 5 h to the close).
    levels = levels_of({"shifts": [shift("20:00", "00:00", 3), shift("01:00", "04:00", 2)]}, start="20:00")
    assert levels == [(0.0, 3), (14400.0, 0), (18000.0, 2)]


def test_count_at_reads_the_step_function() -> None:
    levels = [(0.0, 6), (7200.0, 10), (14400.0, 4)]
    instants = (0.0, 7199.0, 7200.0, 14399.9, 14400.0, 99999.0)
    assert [count_at(levels, t) for t in instants] == [6, 6, 10, 10, 4, 4]


def _run_with_late_call(tmp_path: Path, data: dict[str, Any]) -> RunResult:
    """Run `data` with a single 1-second call at the last second of the day (so the day runs to the close;
    see the xfail test below), keeping the agents idle otherwise."""
    path = tmp_path / "calls.csv"
    duration = scenario_from_dict({**data, "arrivals": {"per_hour": 1}}).duration
    path.write_text(f"at,reason\n{duration - 1:g},\n", encoding="utf-8")
    return simulate(scenario_from_dict({**data, "arrivals": {"trace": str(path)}}))


def _shift_day() -> dict[str, Any]:
    # Day 08:00-09:30, 30-minute intervals. Shifts 08:00-08:45 x 2 and 08:30-09:30 x 1 plus the group's
    # per-interval [1, 0, 2]. Department levels: 2 on [0, 1800), 3 on [1800, 2700), 1 on [2700, 5400):
    # agent-seconds per interval 3600, 2700 + 900 = 3600, 1800 -> mean agents 2, 2, 1.
    return {
        "name": "plan",
        "start": "08:00",
        "duration": "90m",
        "interval": "30m",
        "departments": {
            "support": {
                "agents": {"shifts": [shift("08:00", "08:45", 2), shift("08:30", "09:30", 1)]},
                "handle_time": "1s",
            }
        },
        "agent_groups": {"flex": {"agents": {"per_interval": [1, 0, 2]}, "skills": {"support": 1}}},
    }


def test_agents_scheduled_per_interval_equal_the_plan(tmp_path: Path) -> None:
    result = _run_with_late_call(tmp_path, _shift_day())
    assert result.staffing == {
        "support": [(0.0, 2), (1800.0, 3), (2700.0, 1)],
        "flex": [(0.0, 1), (1800.0, 0), (3600.0, 2)],
    }
    table = interval_table(result)
    support = table[table["department"] == "support"]
    everyone = table[table["department"] == "all"]
    assert support["agents_scheduled"].tolist() == [2.0, 2.0, 1.0]
    assert everyone["agents_scheduled"].tolist() == [3.0, 2.0, 3.0]


def test_logged_in_agent_seconds_match_the_plan_when_agents_are_idle(tmp_path: Path) -> None:
    result = _run_with_late_call(tmp_path, _shift_day())
    seconds = agent_seconds(result, interval_edges(result)).set_index(["pool", "interval"])
    assert seconds.loc["support", "logged_in_seconds"].tolist() == [3600.0, 3600.0, 1800.0]
    assert seconds.loc["flex", "logged_in_seconds"].tolist() == [1800.0, 0.0, 3600.0]
    table = interval_table(result)
    assert table.loc[table["department"] == "support", "agents_logged_in"].tolist() == [2.0, 2.0, 1.0]
    assert table.loc[table["department"] == "all", "agents_logged_in"].tolist() == [3.0, 2.0, 3.0]
    assert np.array_equal(
        table["agents_logged_in"].to_numpy(), table["agents_scheduled"].to_numpy()
    )  # the plan, interval by interval


def test_logged_in_agent_seconds_match_the_plan_on_a_day_without_calls() -> None:
    data = {**_shift_day(), "arrivals": {"per_hour": 0}}
    result = simulate(scenario_from_dict(data))
    table = interval_table(result)
    assert table.loc[table["department"] == "all", "agents_logged_in"].tolist() == [3.0, 2.0, 3.0]
