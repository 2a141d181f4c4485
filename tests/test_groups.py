"""Agent groups, overflow and priorities: exact traces of tiny deterministic cases, a one-skill group
against the same agents declared as the department's own, and the pooling gain (paired, same seed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.day import simulate
from sim.model.loading import scenario_from_dict
from tests.test_reproducibility import same_values
from tests.test_traces import run_trace, trace_of

B, T = "billing", "technical"
Z = 4.0  # paired-difference t statistics must clear this (false alarm ~ 1e-4 or less per check)


def two_departments(departments: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A one-hour scenario with billing and technical callers (reasons always given by the trace)."""
    return {
        "name": "groups",
        "duration": "1h",
        "interval": "30m",
        "arrivals": {"reasons": {B: 0.5, T: 0.5}, **extra.pop("arrivals", {})},
        "departments": departments,
        **extra,
    }


def test_preference_beats_longer_wait(tmp_path: Path) -> None:
    """A free cross-trained agent takes its preferred skill's caller before one who has waited longer."""
    # One flex agent (billing 1, technical 2), handle 60 s. Technical call 1 (0 s) talks to 60. Technical
    # call 2 waits from 10 s, billing call 3 from 20 s; at 60 the agent takes billing (preference 1) first,
    # to 120, then technical call 2, to 180.
    data = two_departments(
        {B: {"handle_time": "60s"}, T: {"handle_time": "60s"}},
        agent_groups={"flex": {"agents": 1, "skills": {B: 1, T: 2}}},
    )
    result = run_trace(tmp_path, data, [(0, T), (10, T), (20, B)])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, None),
        (0.0, "arrive", 1, -1, T),
        (0.0, "enqueue", 1, -1, T),
        (0.0, "ring", 1, 0, T),
        (0.0, "answer", 1, 0, T),
        (10.0, "arrive", 2, -1, T),
        (10.0, "enqueue", 2, -1, T),
        (20.0, "arrive", 3, -1, B),
        (20.0, "enqueue", 3, -1, B),
        (60.0, "end", 1, 0, T),
        (60.0, "idle", 1, 0, T),
        (60.0, "ring", 3, 0, B),
        (60.0, "answer", 3, 0, B),
        (120.0, "end", 3, 0, B),
        (120.0, "idle", 3, 0, B),
        (120.0, "ring", 2, 0, T),
        (120.0, "answer", 2, 0, T),
        (180.0, "end", 2, 0, T),
        (180.0, "idle", 2, 0, T),
    ]


def test_equal_preference_takes_the_longest_wait(tmp_path: Path) -> None:
    """With equal preferences (and priorities) the free agent takes whoever has waited longest."""
    # As above with billing 1, technical 1: at 60 technical call 2 (waiting since 10) goes before billing
    # call 3 (since 20).
    data = two_departments(
        {B: {"handle_time": "60s"}, T: {"handle_time": "60s"}},
        agent_groups={"flex": {"agents": 1, "skills": {B: 1, T: 1}}},
    )
    result = run_trace(tmp_path, data, [(0, T), (10, T), (20, B)])
    rings = [(t, call) for t, event, call, _, _ in trace_of(result) if event == "ring"]
    assert rings == [(0.0, 1), (60.0, 2), (120.0, 3)]


def test_arriving_call_goes_to_the_longest_idle_agent(tmp_path: Path) -> None:
    """An arriving caller goes to the agent idle longest, across the department's pool and groups."""
    # Billing has its own agent 0; technical its own agent 1; flex agent 2 (billing only). Handle 30 s.
    # Call 1 (0 s): agents 0 and 2 both idle since 0 -> the first listed pool (billing's own), to 30.
    # Call 2 (40 s): agent 0 idle since 30, agent 2 since 0 -> agent 2, to 70.
    # Call 3 (100 s): agent 0 idle since 30, agent 2 since 70 -> agent 0, to 130.
    data = two_departments(
        {B: {"agents": 1, "handle_time": "30s"}, T: {"agents": 1, "handle_time": "60s"}},
        agent_groups={"flex": {"agents": 1, "skills": {B: 1}}},
    )
    result = run_trace(tmp_path, data, [(0, B), (40, B), (100, B)])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, B),
        (0.0, "login", -1, 1, T),
        (0.0, "login", -1, 2, None),
        (0.0, "arrive", 1, -1, B),
        (0.0, "enqueue", 1, -1, B),
        (0.0, "ring", 1, 0, B),
        (0.0, "answer", 1, 0, B),
        (30.0, "end", 1, 0, B),
        (30.0, "idle", 1, 0, B),
        (40.0, "arrive", 2, -1, B),
        (40.0, "enqueue", 2, -1, B),
        (40.0, "ring", 2, 2, B),
        (40.0, "answer", 2, 2, B),
        (70.0, "end", 2, 2, B),
        (70.0, "idle", 2, 2, B),
        (100.0, "arrive", 3, -1, B),
        (100.0, "enqueue", 3, -1, B),
        (100.0, "ring", 3, 0, B),
        (100.0, "answer", 3, 0, B),
        (130.0, "end", 3, 0, B),
        (130.0, "idle", 3, 0, B),
    ]


def _overflow_centre(**billing: Any) -> dict[str, Any]:
    """Billing: one own agent (0), overflow to flex after 60 s. Flex: one agent (1), technical only."""
    return two_departments(
        {
            B: {"agents": 1, "handle_time": "300s", "overflow": {"after": "60s", "to": ["flex"]}, **billing},
            T: {"handle_time": "100s"},
        },
        agent_groups={"flex": {"agents": 1, "skills": {T: 1}}},
    )


def test_overflow_makes_a_call_eligible_exactly_after_the_wait(tmp_path: Path) -> None:
    """An idle back-up agent does not take the call before `after`; at `after` the call overflows and the
    back-up takes it at once."""
    # Billing call 1 (0 s) keeps agent 0 busy to 300. Billing call 2 queues at 10 while flex agent 1 is idle;
    # at 10 + 60 = 70 it overflows and agent 1 takes it (300 s, to 370).
    result = run_trace(tmp_path, _overflow_centre(), [(0, B), (10, B)])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, B),
        (0.0, "login", -1, 1, None),
        (0.0, "arrive", 1, -1, B),
        (0.0, "enqueue", 1, -1, B),
        (0.0, "ring", 1, 0, B),
        (0.0, "answer", 1, 0, B),
        (10.0, "arrive", 2, -1, B),
        (10.0, "enqueue", 2, -1, B),
        (70.0, "overflow", 2, -1, B),
        (70.0, "ring", 2, 1, B),
        (70.0, "answer", 2, 1, B),
        (300.0, "end", 1, 0, B),
        (300.0, "idle", 1, 0, B),
        (370.0, "end", 2, 1, B),
        (370.0, "idle", 2, 1, B),
    ]
    kpis = summary(result)
    assert kpis["by_department"][B]["answered_by_own_agents"] == 0.5
    assert kpis["by_group"]["flex"]["handled"] == {B: 1}


def test_back_up_agents_serve_their_own_skill_first(tmp_path: Path) -> None:
    """A back-up agent takes a caller of its own skill before an overflowed one who has waited longer."""
    # Agent 0 busy with billing call 1 (0-300). Flex agent 1 takes technical call 2 at 1 (100 s, to 101).
    # Billing call 3 queues at 10, overflows at 70. Technical call 4 queues at 80. At 101 agent 1 takes its
    # own skill's call 4 (to 201), then the overflowed call 3 (201-501).
    result = run_trace(tmp_path, _overflow_centre(), [(0, B), (1, T), (10, B), (80, T)])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, B),
        (0.0, "login", -1, 1, None),
        (0.0, "arrive", 1, -1, B),
        (0.0, "enqueue", 1, -1, B),
        (0.0, "ring", 1, 0, B),
        (0.0, "answer", 1, 0, B),
        (1.0, "arrive", 2, -1, T),
        (1.0, "enqueue", 2, -1, T),
        (1.0, "ring", 2, 1, T),
        (1.0, "answer", 2, 1, T),
        (10.0, "arrive", 3, -1, B),
        (10.0, "enqueue", 3, -1, B),
        (70.0, "overflow", 3, -1, B),
        (80.0, "arrive", 4, -1, T),
        (80.0, "enqueue", 4, -1, T),
        (101.0, "end", 2, 1, T),
        (101.0, "idle", 2, 1, T),
        (101.0, "ring", 4, 1, T),
        (101.0, "answer", 4, 1, T),
        (201.0, "end", 4, 1, T),
        (201.0, "idle", 4, 1, T),
        (201.0, "ring", 3, 1, B),
        (201.0, "answer", 3, 1, B),
        (300.0, "end", 1, 0, B),
        (300.0, "idle", 1, 0, B),
        (501.0, "end", 3, 1, B),
        (501.0, "idle", 3, 1, B),
    ]


def test_call_answered_before_overflow_does_not_overflow(tmp_path: Path) -> None:
    """A call its own agents take before `after` is never offered to the back-ups."""
    # Handle 50 s: billing call 1 (0-50), call 2 queued at 10 is taken by agent 0 at 50 < 70.
    result = run_trace(tmp_path, _overflow_centre(handle_time="50s"), [(0, B), (10, B)])
    events = [event for _, event, _, _, _ in trace_of(result)]
    assert "overflow" not in events
    assert [(t, call, agent) for t, event, call, agent, _ in trace_of(result) if event == "ring"] == [
        (0.0, 1, 0),
        (50.0, 2, 0),
    ]


def test_priority_caller_queued_later_is_answered_first(tmp_path: Path) -> None:
    """A vip (priority 0) caller who joins the queue later is answered before the regular ones."""
    # One agent resolving both reasons, handle 60 s. Regular call 1 (0 s) talks to 60. Regular call 2 waits
    # from 10, vip call 3 from 20; at 60 the agent takes vip call 3 (to 120), then call 2 (to 180).
    data = {
        "name": "priority",
        "duration": "1h",
        "interval": "30m",
        "arrivals": {"reasons": {"regular": 0.8, "vip": 0.2}, "priority": {"vip": 0}},
        "departments": {"support": {"resolves": ["regular", "vip"], "agents": 1, "handle_time": "60s"}},
    }
    result = run_trace(tmp_path, data, [(0, "regular"), (10, "regular"), (20, "vip")])
    S = "support"
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "arrive", 1, -1, S),
        (0.0, "enqueue", 1, -1, S),
        (0.0, "ring", 1, 0, S),
        (0.0, "answer", 1, 0, S),
        (10.0, "arrive", 2, -1, S),
        (10.0, "enqueue", 2, -1, S),
        (20.0, "arrive", 3, -1, S),
        (20.0, "enqueue", 3, -1, S),
        (60.0, "end", 1, 0, S),
        (60.0, "idle", 1, 0, S),
        (60.0, "ring", 3, 0, S),
        (60.0, "answer", 3, 0, S),
        (120.0, "end", 3, 0, S),
        (120.0, "idle", 3, 0, S),
        (120.0, "ring", 2, 0, S),
        (120.0, "answer", 2, 0, S),
        (180.0, "end", 2, 0, S),
        (180.0, "idle", 2, 0, S),
    ]
    enqueue = result.events[result.events["event"] == "enqueue"]
    assert enqueue["detail"].tolist() == [1.0, 1.0, 0.0]  # unlisted reasons: priority 1


def test_back_up_agent_respects_priority_among_overflowed_calls(tmp_path: Path) -> None:
    """Among the calls overflowed to it, a back-up agent takes the higher priority first, as own agents do."""
    # Billing (resolves billing and vip) has agent 0, busy with call 1 from 0 to 1000. Flex agent 1
    # (technical only) is busy with technical call 2 from 1 to 301. Regular billing call 3 queues at 10
    # (overflows at 70), vip call 4 at 20 (overflows at 80). At 301 agent 1 takes the vip call 4
    # (1000 s, to 1301); at 1000 agent 0 takes call 3 (to 2000).
    data = two_departments(
        {
            B: {
                "resolves": [B, "vip"],
                "agents": 1,
                "handle_time": "1000s",
                "overflow": {"after": "60s", "to": ["flex"]},
            },
            T: {"handle_time": "300s"},
        },
        arrivals={"reasons": {B: 0.4, "vip": 0.2, T: 0.4}, "priority": {"vip": 0}},
        agent_groups={"flex": {"agents": 1, "skills": {T: 1}}},
    )
    result = run_trace(tmp_path, data, [(0, B), (1, T), (10, B), (20, "vip")])
    assert [row for row in trace_of(result) if row[1] in ("overflow", "ring")] == [
        (0.0, "ring", 1, 0, B),
        (1.0, "ring", 2, 1, T),
        (70.0, "overflow", 3, -1, B),
        (80.0, "overflow", 4, -1, B),
        (301.0, "ring", 4, 1, B),
        (1000.0, "ring", 3, 0, B),
    ]


def test_speed_factor_multiplies_the_handle_time(tmp_path: Path) -> None:
    """A group agent talks `speed` times the department's handle time on that skill (wrap unchanged)."""
    # Flex (speed technical 1.2), handle 100 s, wrap 10 s. Technical call 1 (0 s): talks 120 s, wraps to 130.
    # Billing call 2 (200 s): speed 1 -> talks 100 s (to 300), wraps to 310.
    data = two_departments(
        {B: {"handle_time": "100s", "wrap_time": "10s"}, T: {"handle_time": "100s", "wrap_time": "10s"}},
        agent_groups={"flex": {"agents": 1, "skills": {B: 1, T: 1}, "speed": {T: 1.2}}},
    )
    result = run_trace(tmp_path, data, [(0, T), (200, B)])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, None),
        (0.0, "arrive", 1, -1, T),
        (0.0, "enqueue", 1, -1, T),
        (0.0, "ring", 1, 0, T),
        (0.0, "answer", 1, 0, T),
        (120.0, "end", 1, 0, T),
        (130.0, "idle", 1, 0, T),
        (200.0, "arrive", 2, -1, B),
        (200.0, "enqueue", 2, -1, B),
        (200.0, "ring", 2, 0, B),
        (200.0, "answer", 2, 0, B),
        (300.0, "end", 2, 0, B),
        (310.0, "idle", 2, 0, B),
    ]
    calls = calls_table(result).set_index("call_id")
    assert calls.loc[1, "talk_time"] == pytest.approx(120.0) and calls.loc[2, "talk_time"] == 100.0


# --- a one-skill group is the department's own agents -----------------------------------------------------


def _busy_centre(billing_as_group: bool) -> dict[str, Any]:
    """Two departments with patience, rings, wrap and per-interval staffing; billing's agents are either
    its own or a group with the single skill billing."""
    billing_agents = {"per_interval": [3, 4, 2, 3]}
    data: dict[str, Any] = {
        "name": "one-skill",
        "seed": 7,
        "duration": "2h",
        "interval": "30m",
        "lines": 6,
        "ring": {"cycle": "5s", "rings": 1},
        "patience": {"dist": "exponential", "mean": "90s"},
        "arrivals": {"per_hour": 90, "reasons": {B: 0.55, T: 0.45}},
        "departments": {
            B: {"handle_time": {"dist": "lognormal", "mean": "3m", "cv": 0.8}, "wrap_time": "20s"},
            T: {"agents": 3, "handle_time": {"dist": "exponential", "mean": "4m"}},
        },
    }
    if billing_as_group:
        data["agent_groups"] = {"billing_team": {"agents": billing_agents, "skills": {B: 1}}}
    else:
        data["departments"][B]["agents"] = billing_agents
    return data


def _without(kpis: dict[str, Any], *paths: str) -> dict[str, Any]:
    """A deep copy of `kpis` without the dotted `paths`."""
    out = {k: _without(v) if isinstance(v, dict) else v for k, v in kpis.items()}
    for path in paths:
        *parents, last = path.split(".")
        node = out
        for key in parents:
            node = node[key]
        del node[last]
    return out


@pytest.mark.parametrize("replication", [0, 1])
def test_one_skill_group_equals_the_departments_own_agents(replication: int) -> None:
    own = simulate(scenario_from_dict(_busy_centre(False)), replication=replication)
    group = simulate(scenario_from_dict(_busy_centre(True)), replication=replication)
    own_kpis, group_kpis = summary(own), summary(group)
    assert own_kpis["abandoned"] > 0 and own_kpis["blocked"] > 0  # the comparison exercises every ending
    # What legitimately differs: who the agents belong to.
    assert group_kpis["by_group"]["billing_team"]["occupancy"] == own_kpis["by_department"][B]["occupancy"]
    assert math.isnan(group_kpis["by_department"][B]["occupancy"])
    assert own_kpis["by_department"][B]["answered_by_own_agents"] == 1.0
    assert group_kpis["by_department"][B]["answered_by_own_agents"] == 0.0
    differs = (f"by_department.{B}.occupancy", f"by_department.{B}.answered_by_own_agents")
    assert same_values(_without(own_kpis, *differs), _without(group_kpis, *differs, "by_group"))
    columns = [c for c in calls_table(own).columns if c != "first_agent_id"]
    pd.testing.assert_frame_equal(calls_table(own)[columns], calls_table(group)[columns])


# --- pooling ----------------------------------------------------------------------------------------------


def _split_or_pooled(pooled: bool) -> dict[str, Any]:
    """Billing and technical, 30 calls/h each, exponential 5 min: 4 + 4 own agents, or one group of 8."""
    departments = {
        B: {"handle_time": {"dist": "exponential", "mean": "5m"}},
        T: {"handle_time": {"dist": "exponential", "mean": "5m"}},
    }
    data: dict[str, Any] = {
        "name": "pooling",
        "seed": 11,
        "duration": "8h",
        "interval": "1h",
        "arrivals": {"per_hour": 60, "reasons": {B: 0.5, T: 0.5}},
        "departments": departments,
    }
    if pooled:
        data["agent_groups"] = {"everyone": {"agents": 8, "skills": {B: 1, T: 1}}}
    else:
        departments[B]["agents"] = 4
        departments[T]["agents"] = 4
    return data


def test_pooled_group_waits_less_than_split_departments() -> None:
    """Same callers (same seed and replication), same agent count: pooling lowers the mean wait.

    Claim in expectation (one M/M/8 at 60/h against two M/M/4 at 30/h each, 62.5 % load): the paired
    difference pooled - split over replications must be negative with t < -Z (about -8 expected)."""
    split = scenario_from_dict(_split_or_pooled(False))
    pooled = scenario_from_dict(_split_or_pooled(True))
    differences = np.array(
        [
            summary(simulate(pooled, replication=r))["mean_wait"]
            - summary(simulate(split, replication=r))["mean_wait"]
            for r in range(10)
        ]
    )
    t = differences.mean() / (differences.std(ddof=1) / math.sqrt(len(differences)))
    assert t < -Z, f"pooled - split mean wait: {differences.mean():.3g} s, t = {t:.2f}"


def test_interval_table_has_group_rows_that_add_up_to_the_summary() -> None:
    from sim.analysis.intervals import interval_table
    from sim.model.loading import load_scenario
    from tests.conftest import ROOT

    overrides = [
        "duration=2h",
        "departments.billing.agents=5",
        "departments.technical.agents=6",
        "agent_groups.flex.agents=5",
    ]
    result = simulate(load_scenario(ROOT / "scenarios" / "cross-training.yaml", overrides))
    table = interval_table(result)
    kpis = summary(result)
    assert set(table["kind"]) == {"all", "department", "group"}
    groups = table[table["kind"] == "group"]
    assert list(groups["department"].unique()) == ["flex"] and len(groups) == 4
    handled = kpis["by_group"]["flex"]["handled"]
    assert handled["billing"] > 0 and handled["technical"] > 0
    for skill, count in handled.items():
        assert int(groups[f"handled_{skill}"].sum()) == count
    assert (groups["agents_scheduled"] == 5).all()
    assert ((groups["occupancy"] > 0) & (groups["occupancy"] <= 1)).all()
    departments = table[table["kind"] == "department"]
    own = departments["answered_by_own_agents"].dropna()
    assert len(own) and ((own >= 0) & (own <= 1)).all() and (own < 1).any()  # flex agents answer some
    for name in ("billing", "technical"):
        mine = departments[departments["department"] == name]
        share = kpis["by_department"][name]["answered_by_own_agents"]
        assert (mine["answered_by_own_agents"] * mine["answered"]).sum() == pytest.approx(
            share * mine["answered"].sum()
        )
