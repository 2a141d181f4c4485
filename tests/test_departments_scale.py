"""A centre's cost per call does not grow with its departments, agent groups or agents (issue 15), counted as
work rather than timed: lines of engine code run per call, which any per-call pass over every queue, pool,
agent or department would multiply. And the shortcuts that keep it flat give what the plain definitions give,
bit for bit (bench/bench_departments.py times the same centres)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import pytest

import sim.engine.centre
from sim.analysis.levels import integrate_levels
from sim.analysis.tables import _resolves, integrate_levels_by
from sim.engine.day import simulate
from sim.engine.routing import without
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario

ENGINE = str(Path(sim.engine.centre.__file__).resolve().parent)


def centre(departments: int, agents: int = 10, groups: bool = False, calls: int = 2000) -> Scenario:
    """`departments` queues at 8 erlangs each on `agents` agents each (0.8 an agent), patience 3 minutes;
    with `groups`, half of each department's agents are a cross-trained group serving it and the next."""
    names = [f"d{i}" for i in range(departments)]
    per_hour = 12.0 * agents * departments
    own = agents // 2 if groups else agents
    data: dict[str, Any] = {
        "name": f"scale-{departments}-{agents}",
        "seed": 3,
        "duration": f"{max(10, round(calls / per_hour * 60))}m",
        "interval": "1h",
        "arrivals": {"per_hour": per_hour, "reasons": {n: 1 / departments for n in names}},
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {
            n: {"agents": own, "handle_time": {"dist": "exponential", "mean": "4m"}} for n in names
        },
    }
    if groups:
        data["agent_groups"] = {
            f"g{i}": {"agents": agents - own, "skills": {names[i]: 1, names[(i + 1) % departments]: 2}}
            for i in range(departments)
        }
    return scenario_from_dict(data)


def misrouting(departments: int, calls: int = 2000) -> Scenario:
    """A poor menu in front of `departments` departments: misrouted callers are listened to and sent on, and
    callers who gave up call again through the menu."""
    names = [f"d{i}" for i in range(departments)]
    per_hour = 30.0 * departments
    return scenario_from_dict(
        {
            "name": f"misrouting-{departments}",
            "seed": 5,
            "duration": f"{max(1, round(calls / per_hour))}h",
            "interval": "1h",
            "arrivals": {"per_hour": per_hour, "reasons": {n: 1 / departments for n in names}},
            "patience": {"dist": "exponential", "mean": "4m"},
            "ivr": {"menu_time": "30s", "accuracy": 0.6},
            "routing": {
                "listen_time": "20s",
                "accuracy": {"base": 0.3, "max": 0.9, "scale": "30s"},
                "transfer_time": "5s",
            },
            "max_transfers": 4,
            "on_max_transfers": "escalate",
            "redial": {"abandoned": {"probability": 0.5, "delay": "5m"}, "max_attempts": 3},
            "departments": {
                n: {"agents": 3, "handle_time": {"dist": "exponential", "mean": "4m"}} for n in names
            },
        }
    )


def engine_lines_per_call(scenario: Scenario) -> float:
    """Lines of `sim/engine` code run while simulating the scenario, per call offered."""
    lines = 0

    def in_engine(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal lines
        if event == "line":
            lines += 1
        return in_engine

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        return in_engine if frame.f_code.co_filename.startswith(ENGINE) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = simulate(scenario)
    finally:
        sys.settrace(previous)
    return lines / result.calls_offered


def test_engine_work_per_call_is_flat_in_departments_groups_and_agents() -> None:
    small = engine_lines_per_call(centre(1))
    assert small > 100  # the count sees the engine at work
    # Measured: 175 lines a call for the small centre, 196 with 30 departments and groups, 176 with 300 agents.
    assert engine_lines_per_call(centre(30, groups=True)) < 1.2 * small
    assert engine_lines_per_call(centre(1, agents=300)) < 1.1 * small


def test_misrouted_callers_are_sent_on_without_a_pass_over_every_department() -> None:
    # Measured: 255 lines a call with 3 departments, 270 with 40 (426 when every misroute tested every
    # department for where the caller could go).
    few = engine_lines_per_call(misrouting(3))
    assert engine_lines_per_call(misrouting(40)) < 1.15 * few


def test_without_leaves_out_the_visited_departments_in_order() -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        count = int(rng.integers(1, 70))
        departments = sorted(rng.choice(count, size=int(rng.integers(0, count + 1)), replace=False).tolist())
        visited = sum(1 << d for d in rng.choice(count, size=int(rng.integers(0, 4))).tolist())
        expected = [d for d in departments if not visited >> d & 1]
        assert without(departments, visited & sum(1 << d for d in departments)) == expected


@pytest.mark.parametrize("size", [1, 7, 300, 70_000])
def test_levels_by_group_are_each_groups_levels_bit_for_bit(size: int) -> None:
    """Ties in time, times unknown (NaN), rows of groups past `size`, groups without rows, repeated edges, and
    both sorts of group key (radix below 65,536 groups, a plain stable sort above)."""
    rng = np.random.default_rng(size)
    for trial in range(40):
        rows = int(rng.integers(0, 400))
        group = (
            rng.integers(0, size + 2, size=rows)
            if size < 100
            else rng.integers(0, 9, size=rows) * (size // 8)
        )
        times = np.round(rng.uniform(0, 1000, size=rows), int(rng.integers(0, 3)))
        if trial % 4 == 0 and rows:
            times[rng.integers(0, rows, size=3)] = np.nan
        deltas = rng.choice([1.0, -1.0, 0.5, 3.25], size=rows) * rng.exponential(1.0, size=rows)
        edges = np.sort(np.r_[rng.uniform(-50, 1200, size=int(rng.integers(0, 12))), times[:2]])
        if trial % 5 == 0:
            edges = np.sort(np.r_[edges, edges[:2]])
        edges = edges[~np.isnan(edges)]
        by_group = integrate_levels_by(group, times, deltas, edges, size)
        assert by_group.shape == (size, max(len(edges) - 1, 0))
        for g in np.unique(np.r_[group[group < size], 0, size - 1]).tolist():
            alone = group == g
            expected = integrate_levels(times[alone], deltas[alone], edges)
            assert np.array_equal(by_group[g], expected, equal_nan=True)


def test_the_resolves_table_is_each_departments_reasons() -> None:
    scenario = scenario_from_dict(
        {
            "name": "resolving",
            "duration": "1h",
            "interval": "1h",
            "arrivals": {"per_hour": 30, "reasons": {"pay": 0.5, "fix": 0.3, "buy": 0.2}},
            "departments": {
                "billing": {"agents": 2, "handle_time": "2m", "resolves": ["pay", "buy"]},
                "technical": {"agents": 2, "handle_time": "2m", "resolves": ["fix"]},
                "front": {"agents": 2, "handle_time": "2m", "resolves": ["pay", "fix", "buy"]},
            },
        }
    )
    reasons, departments = ["pay", "fix", "buy"], ["billing", "technical", "front"]
    expected = [[r in scenario.resolves(d) for d in departments] + [False] for r in reasons]
    assert _resolves(scenario, reasons, departments).tolist() == expected


def test_scheduled_agents_for_every_pool_in_one_pass_are_the_per_pool_floats() -> None:
    """The interval table's scheduled agents come from one pass over all pools; each row must be exactly
    what the per-pool step-function integral gives (shifts that start and end inside intervals included)."""
    import numpy as np

    from sim.analysis.levels import scheduled_agents
    from sim.analysis.tables import scheduled_agents_by

    edges = np.arange(0.0, 8 * 1800.0 + 1, 1800.0)
    staffing = {
        "billing": [(0.0, 4), (2700.0, 7), (9000.0, 3)],
        "empty": [],
        "late": [(5000.5, 2), (14000.0, 0)],
        "flat": [(0.0, 10)],
    }
    together = scheduled_agents_by(staffing, edges)
    assert together.shape == (4, 8)
    for row, levels in zip(together, staffing.values(), strict=True):
        assert np.array_equal(row, scheduled_agents(levels, edges))
    assert together[0, 1] == (900 * 4 + 900 * 7) / 1800  # a change mid-interval is time-weighted
