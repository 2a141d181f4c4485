"""Shrinkage, breaks and absence (`sim.model.availability`, `sim.engine.breaks`) against exact cases and
queueing theory.

Method (as tests/test_theory.py): R independent replications; per KPI the mean over replications and its
standard error SE = sd / sqrt(R); |mean - theory| <= crit * SE with crit the Student-t quantile (R - 1 degrees
of freedom) of the two-sided false-alarm probability ALPHA = 2 * (1 - Phi(4)) ~ 6.3e-5 per assertion. Each
check also requires SE > 0 and crit * SE below a stated share of the theory value, so that a check that
could not see an error is refused rather than passed.

- Shrinkage: N rostered with shrinkage s are floor(N (1 - s)) available: the same sample path as that many
  agents without shrinkage (identical event log), and Erlang A with that many servers; utilisation is
  occupancy x available / rostered.
- Breaks: exact small cases (an idle agent goes at the break's time and is back after its length; a busy one
  after its call, back the length after it went; an agent on break when its shift ends goes home), and a day
  of staggered breaks against Erlang A with the reduced heads in the break windows; both in the fast engine
  and in the reference model (`sim/engine/reference_breaks.py`), which implements them apart. Mean patience equals mean
  handle time there, so the number in system is that of an M/M/infinity queue whatever the heads: it forgets
  any start as exp(-t / 3 min), and the windows skip the first 30 minutes after each change (10 mean handle
  times: residual bias ~ e^-10, and an agent busy at a break's time goes later than that with probability
  below e^-10 too).
- Absence: the absent share against p (binomial standard error), and the KPIs with absence against the exact
  mixture of Erlang A over the binomial number of agents present.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from sim.analysis import erlang
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.day import RunResult, simulate
from sim.engine.reference import simulate_reference
from sim.model.availability import pool_availability, thinned
from sim.model.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from sim.model.staffing import count_at
from sim.model.streams import Streams
from tests.conftest import ROOT

Z = 4.0
ALPHA = 2 * stats.norm.sf(Z)


def within_theory(values: list[float], theory: float, what: str, resolution: float) -> None:
    """The replications' mean agrees with theory within the Student-t tolerance of its standard error."""
    data = np.asarray(values, dtype=float)
    mean, se = float(data.mean()), float(data.std(ddof=1) / math.sqrt(len(data)))
    crit = float(stats.t.isf(ALPHA / 2, len(data) - 1))
    line = f"{what}: theory {theory:.5g}, mean {mean:.5g}, SE {se:.3g}, z {(mean - theory) / se:.2f}, crit {crit:.2f}"
    print(f"{line}, crit*SE/theory {crit * se / abs(theory):.3f}")
    assert se > 0, line
    assert crit * se <= resolution * abs(theory), f"too little simulated to see an error: {line}"
    assert abs(mean - theory) <= crit * se, line


def day(**changes: Any) -> dict[str, Any]:
    """A one-department day from 08:00 whose top-level keys and `billing` department `changes` replace."""
    department = {"agents": 1, "handle_time": 60.0}
    department.update(changes.pop("billing", {}))
    data: dict[str, Any] = {
        "name": "availability",
        "start": "08:00",
        "duration": "4h",
        "interval": "30m",
        "arrivals": {"per_hour": 0},
        "departments": {"billing": department},
    }
    data.update(changes)
    return data


def events_of(result: RunResult, *kinds: str) -> list[tuple[str, float]]:
    events = result.events
    rows = events[events["event"].isin(kinds)]
    return list(zip(rows["event"].astype(str), rows["t"].round(6), strict=True))


# --- shrinkage ----------------------------------------------------------------------------------------------


def test_shrinkage_is_the_same_day_as_the_available_agents_without_it() -> None:
    """13 rostered with 25% shrinkage are floor(9.75) = 9 available: the same event log as 9 agents."""
    shrunk = load_scenario(
        ROOT / "scenarios" / "erlang-a.yaml", ["duration=6h", "departments.support.agents=13", "shrinkage=0.25"]
    )
    plain = load_scenario(ROOT / "scenarios" / "erlang-a.yaml", ["duration=6h", "departments.support.agents=9"])
    a, b = simulate(shrunk, replication=2), simulate(plain, replication=2)
    assert a.staffing == {"support": [(0.0, 9)]} and a.rostered == {"support": [(0.0, 13)]}
    assert len(a.events) > 1000
    assert a.events.equals(b.events)
    assert calls_table(a).equals(calls_table(b))
    figures = summary(a)
    assert figures["paid_hours"] == pytest.approx(13 * 5.0)  # warm-up 1 h to close at 6 h
    assert figures["unavailable_hours"] == pytest.approx(4 * 5.0)
    assert figures["utilisation"] == pytest.approx(figures["occupancy"] * 9 / 13)
    assert "utilisation" not in summary(b)  # without availability settings the summary is as before


def test_shrinkage_rounds_down_and_varies_per_interval() -> None:
    """floor(rostered x (1 - s)) at every change of the level and every interval of a per-interval share."""
    scenario = scenario_from_dict(
        day(
            duration="2h",
            billing={
                "agents": {"shifts": [{"start": "08:00", "end": "09:00", "count": 10}, {"start": "08:30",
                                                                                        "end": "10:00",
                                                                                        "count": 4}]},
                "shrinkage": {"per_interval": [0.3, 0.0, 0.5, 0.15]},
            },
        )
    )
    plan = pool_availability(scenario, "billing", None)
    assert plan.rostered == [(0.0, 10), (1800.0, 14), (3600.0, 4)]
    # 10 x 0.7 = 7 (not 6.999...), 14 x 1, 4 x 0.5, 4 x 0.85 = 3.4 -> 3
    assert plan.available == [(0.0, 7), (1800.0, 14), (3600.0, 2), (5400.0, 3)]


def test_break_plans_of_night_shifts_and_agent_groups() -> None:
    """A night shift on at the start still takes its break; a group's own shrinkage beats the default; the
    break takes floor(count x (1 - s)) of the shift."""
    scenario = scenario_from_dict(
        day(
            start="00:00",
            duration="8h",
            shrinkage=0.2,
            billing={"agents": 2},
            agent_groups={"flex": {"skills": {"billing": 1}, "shrinkage": 0.5, "agents": {"shifts": [
                {"start": "22:00", "end": "06:00", "count": 5, "breaks": [{"at": "02:00", "length": "30m"}]},
                {"start": "05:00", "end": "13:00", "count": 4, "breaks": [{"at": "07:00", "length": "15m"}]},
            ]}}},
        )
    )
    billing, flex = pool_availability(scenario, "billing", None), pool_availability(scenario, "flex", None)
    assert billing.available == [(0.0, 1)]  # floor(2 x 0.8)
    assert flex.rostered == [(0.0, 5), (5 * 3600.0, 9), (6 * 3600.0, 4)]
    assert flex.available == [(0.0, 2), (5 * 3600.0, 4), (6 * 3600.0, 2)]
    assert [(plan.at, plan.count, plan.length) for plan in flex.breaks] == [(7200.0, 2, 1800.0),
                                                                           (25200.0, 2, 900.0)]


def test_shrinkage_against_erlang_a_with_the_available_heads() -> None:
    """M/M/9+M (13 rostered, 25% shrinkage) at 8 erlangs: Erlang A with 9 servers; utilisation 9/13 of it."""
    scenario = load_scenario(
        ROOT / "scenarios" / "erlang-a.yaml",
        ["duration=17h", "departments.support.agents=13", "departments.support.shrinkage=0.25"],
    )
    theory = erlang.erlang_a_figures(120 / 3600, 240.0, 180.0, 9, 20.0)
    runs = [summary(simulate(scenario, seed=401, replication=r)) for r in range(60)]
    for key, resolution in (("p_wait", 0.1), ("abandon_rate", 0.3), ("service_level", 0.05), ("occupancy", 0.02)):
        within_theory([run[key] for run in runs], getattr(theory, key), f"shrinkage {key}", resolution)
    within_theory([run["utilisation"] for run in runs], theory.occupancy * 9 / 13, "utilisation", 0.02)


# --- breaks: exact cases ------------------------------------------------------------------------------------


ENGINES = pytest.mark.parametrize("run", [simulate, simulate_reference], ids=["engine", "reference"])


@ENGINES
def test_an_idle_agent_goes_at_the_break_and_is_back_after_its_length(run: Any) -> None:
    scenario = scenario_from_dict(
        day(billing={"agents": {"shifts": [{"start": "08:00", "end": "11:00", "count": 1,
                                            "breaks": [{"at": "09:00", "length": "15m"}]}]}})
    )
    result = run(scenario)
    assert events_of(result, "login", "logout", "break", "back") == [
        ("login", 0.0), ("break", 3600.0), ("back", 4500.0), ("logout", 10800.0)
    ]
    figures = summary(result)
    assert figures["break_hours"] == pytest.approx(0.25)
    assert figures["agent_hours"] == pytest.approx(3.0 - 0.25)  # on break is not logged in
    assert figures["paid_hours"] == pytest.approx(3.0)


@ENGINES
def test_a_busy_agent_finishes_its_call_first_and_takes_the_whole_break(run: Any) -> None:
    """A call from 08:50 lasting 20 min: the agent goes at 09:10, is back at 09:25; a caller arriving at 09:15
    waits for it (answered at 09:25), since nobody else is on duty."""
    scenario = scenario_from_dict(
        day(
            arrivals={"trace_times": [3000.0, 4500.0], "trace_handle_times": [1200.0, 60.0]},
            billing={"agents": {"shifts": [{"start": "08:00", "end": "12:00", "count": 1,
                                            "breaks": [{"at": "09:00", "length": "15m"}]}]}},
        )
    )
    result = run(scenario)
    assert events_of(result, "break", "back") == [("break", 4200.0), ("back", 5100.0)]
    calls = calls_table(result).set_index("call_id")
    assert calls["answered_at"].tolist() == [3000.0, 5100.0]
    figures = summary(result)
    assert figures["break_hours"] == pytest.approx(0.25)
    assert figures["utilisation"] < figures["occupancy"]


@ENGINES
def test_an_agent_on_break_when_its_shift_ends_goes_home(run: Any) -> None:
    """Busy until 09:20, the agent's break (due 09:15) would run to 09:35, past the shift's end at 09:30: it is
    sent home at 09:30 (back and logout at once). A shift that starts as it ends keeps the level: no change."""
    shift = {"start": "08:00", "end": "09:30", "count": 1, "breaks": [{"at": "09:15", "length": "15m"}]}
    arrivals = {"trace_times": [3600.0], "trace_handle_times": [1200.0]}
    result = run(scenario_from_dict(day(arrivals=arrivals, billing={"agents": {"shifts": [shift]}})))
    assert events_of(result, "login", "logout", "break", "back") == [
        ("login", 0.0), ("break", 4800.0), ("back", 5400.0), ("logout", 5400.0)
    ]
    assert summary(result)["break_hours"] == pytest.approx(600 / 3600)
    relay = [shift, {"start": "09:30", "end": "12:00", "count": 1}]
    result = run(scenario_from_dict(day(arrivals=arrivals, billing={"agents": {"shifts": relay}})))
    assert events_of(result, "break", "back") == [("break", 4800.0), ("back", 5700.0)]


def test_the_reference_model_draws_the_same_absence_and_shrinkage() -> None:
    shrunk = scenario_from_dict(day(arrivals={"per_hour": 60}, billing={"agents": 5}, shrinkage=0.4,
                                    absence={"probability": 0.3}))
    fast, reference = simulate(shrunk, replication=1), simulate_reference(shrunk, replication=1)
    assert fast.staffing == reference.staffing and fast.absent == reference.absent
    assert fast.rostered == {"billing": [(0.0, 5)]}


# --- breaks: a day of staggered breaks against Erlang A ---------------------------------------------------

STAGGERED = day(
    duration="12h",
    arrivals={"per_hour": 70},
    patience={"dist": "exponential", "mean": "3m"},
    billing={
        "handle_time": {"dist": "exponential", "mean": "3m"},
        "agents": {"shifts": [
            {"start": "08:00", "end": "20:00", "count": 2, "breaks": [{"at": "10:00", "length": "2h"}]},
            {"start": "08:00", "end": "20:00", "count": 2, "breaks": [{"at": "12:00", "length": "2h"}]},
            {"start": "08:00", "end": "20:00", "count": 2, "breaks": [{"at": "14:00", "length": "2h"}]},
        ]},
    },
)
ON_BREAK = [(2.5, 4.0), (4.5, 6.0), (6.5, 8.0)]  # hours after 08:00: 4 agents on duty, from 30 min in
ALL_IN = [(0.5, 2.0), (8.5, 12.0)]  # 6 agents


def window_figures(result: RunResult, windows: list[tuple[float, float]]) -> dict[str, float]:
    """P(wait), abandonment and service level (20 s) of the calls arriving in the windows (hours)."""
    calls = calls_table(result)
    hours = calls["arrived_at"].to_numpy() / 3600
    inside = np.zeros(len(calls), dtype=bool)
    for begin, end in windows:
        inside |= (hours >= begin) & (hours < end)
    rows = calls[inside]
    answered = rows["outcome"] == "answered"
    return {
        "p_wait": float((rows["wait_time"] > 0).mean()),
        "abandon_rate": float((rows["outcome"] == "abandoned").mean()),
        "service_level": float((answered & (rows["time_to_answer"] <= 20.0)).mean()),
    }


@pytest.mark.parametrize(("run", "reps"), [(simulate, 80), (simulate_reference, 40)], ids=["engine", "reference"])
def test_staggered_breaks_against_erlang_a_with_the_heads_left(run: Any, reps: int) -> None:
    scenario = scenario_from_dict(STAGGERED)
    runs = [run(scenario, seed=501, replication=r) for r in range(reps)]
    for windows, heads in ((ON_BREAK, 4), (ALL_IN, 6)):
        theory = erlang.erlang_a_figures(70 / 3600, 180.0, 180.0, heads, 20.0)
        figures = [window_figures(run, windows) for run in runs]
        for key, resolution in (("p_wait", 0.25), ("abandon_rate", 0.5), ("service_level", 0.1)):
            within_theory([f[key] for f in figures], getattr(theory, key), f"{heads} heads {key}", resolution)
    totals = [summary(run) for run in runs[:3]]
    for whole in totals:  # every agent takes its whole break: 6 agents x 2 h
        assert whole["break_hours"] == pytest.approx(12.0)
        assert whole["utilisation"] == pytest.approx(
            whole["occupancy"] * whole["agent_hours"] / (whole["agent_hours"] + 12.0)
        )


# --- absence ------------------------------------------------------------------------------------------------


def test_the_absent_share_is_the_probability() -> None:
    """Over 4000 days, the share of rostered agents absent against p, shifts and per-interval heads alike."""
    p = 0.12
    for agents, heads in (
        ({"shifts": [{"start": "08:00", "end": "10:00", "count": 5}, {"start": "09:00", "end": "12:00",
                                                                       "count": 7}]}, 12),
        ({"per_interval": [3, 8, 8, 2, 0, 5, 6, 1]}, 8),
    ):
        scenario = scenario_from_dict(day(billing={"agents": agents}, absence={"probability": p}))
        absent = []
        for replication in range(4000):
            plan = pool_availability(scenario, "billing", Streams(77, replication))
            absent.append(plan.absent)
            assert all(count >= 0 for _, count in plan.available)
        share = np.asarray(absent) / heads
        se = math.sqrt(p * (1 - p) / (heads * len(share)))
        crit = float(stats.norm.isf(ALPHA / 2))
        assert abs(share.mean() - p) <= crit * se, (share.mean(), p, se)


def test_absence_thins_per_interval_heads_consistently() -> None:
    """Heads are stacked: the present count of an interval is the present heads among its first `count`."""
    scenario = scenario_from_dict(
        day(billing={"agents": {"per_interval": [3, 8, 8, 2, 0, 5, 6, 1]}}, absence={"probability": 0.5})
    )
    for replication in range(50):
        plan = pool_availability(scenario, "billing", Streams(5, replication))
        counts = [count_at(plan.available, i * 1800.0) for i in range(8)]
        rostered = [3, 8, 8, 2, 0, 5, 6, 1]
        assert all(c <= r for c, r in zip(counts, rostered, strict=True))
        assert counts[1] == counts[2] == 8 - plan.absent  # the day's busiest intervals: every head
        for (a, r), (b, q) in itertools.pairwise(zip(counts, rostered, strict=True)):
            if r <= q:  # the first r heads are among the first q: as many present or more
                assert a <= b


def test_a_named_agent_of_a_schedule_is_absent_from_all_its_rows() -> None:
    """replay-day's billing CSV names each agent on several rows (either side of breaks): over 2000 days each
    name is in all its rows or none, and the share of names absent is p (binomial standard error)."""
    scenario = load_scenario(ROOT / "scenarios" / "replay-day.yaml", ["absence.probability=0.2"])
    staffing = scenario.departments["billing"].agents
    assert staffing is not None and staffing.file is not None
    rows = staffing.file.periods
    names = sorted({row.agent for row in rows})
    assert len(names) < len(rows)  # some agent has several rows
    absent = []
    for replication in range(2000):
        present, missing = thinned(staffing, 0.2, Streams(9, replication).generator("absence.billing"))
        assert present.file is not None
        kept = {name: {new.count == old.count for old, new in zip(rows, present.file.periods, strict=True)
                       if old.agent == name} for name in names}
        assert all(len(flags) == 1 for flags in kept.values())  # all rows or none
        assert missing == sum(not flags.pop() for flags in kept.values())
        absent.append(missing / len(names))
    se = math.sqrt(0.2 * 0.8 / (len(names) * len(absent)))
    assert abs(float(np.mean(absent)) - 0.2) <= float(stats.norm.isf(ALPHA / 2)) * se


def present_mixture(rostered: int, p: float, key: str) -> float:
    """E[KPI] over the binomial number of agents present: sum_k P(k present) x Erlang A with k servers."""
    total = 0.0
    for k in range(rostered + 1):
        weight = float(stats.binom.pmf(k, rostered, 1 - p))
        if k == 0:
            value = {"p_wait": 1.0, "abandon_rate": 1.0, "service_level": 0.0}[key]
        else:
            value = getattr(erlang.erlang_a_figures(120 / 3600, 240.0, 180.0, k, 20.0), key)
        total += weight * value
    return total


def test_absence_against_the_mixture_of_erlang_a_over_the_agents_present() -> None:
    scenario: Scenario = load_scenario(
        ROOT / "scenarios" / "erlang-a.yaml",
        ["duration=5h", "departments.support.agents=12", "absence.probability=0.15"],
    )
    runs = [summary(simulate(scenario, seed=601, replication=r)) for r in range(200)]
    within_theory([run["absent_agents"] for run in runs], 12 * 0.15, "absent agents", 0.5)
    for key, resolution in (("p_wait", 0.25), ("abandon_rate", 0.6), ("service_level", 0.15)):
        within_theory([run[key] for run in runs], present_mixture(12, 0.15, key), f"absence {key}", resolution)


# --- validation ---------------------------------------------------------------------------------------------


def refused(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    return [str(problem) for problem in caught.value.problems]


def test_faults_are_refused_at_their_yaml_path() -> None:
    shift = {"start": "08:00", "end": "12:00", "count": 2}
    outside = refused(day(billing={"agents": {"shifts": [{**shift, "breaks": [{"at": "11:50", "length": "15m"}]}]}}))
    assert outside == [
        "departments.billing.agents.shifts[0].breaks[0]: the break (11:50 for 900s) must lie inside the shift "
        "08:00-12:00"
    ]
    overlapping = refused(day(billing={"agents": {"shifts": [{**shift, "breaks": [
        {"at": "09:00", "length": "30m"}, {"at": "09:20", "length": "5m"}]}]}}))
    assert len(overlapping) == 1 and overlapping[0].startswith("departments.billing.agents.shifts[0].breaks[1]: overlaps")
    assert any(p.startswith("departments.billing.shrinkage: must be < 1") for p in refused(day(billing={"shrinkage": 1.0})))
    assert refused(day(billing={"shrinkage": {"per_interval": [0.1]}})) == [
        "departments.billing.shrinkage.per_interval: needs 8 shares (one per interval), got 1"
    ]
    assert any(p.startswith("shrinkage: must be >= 0") for p in refused(day(shrinkage=-0.1)))
    assert refused(day(absence={"probability": 1.5})) == ["absence.probability: must be <= 1"]
    groups = day(agent_groups={"flex": {"agents": 2, "skills": {"billing": 1}, "shrinkage": 0.99999}})
    assert scenario_from_dict(groups).agent_groups["flex"].shrinkage == 0.99999


def test_a_pool_shrunk_to_nobody_is_still_paid() -> None:
    """Two rostered billing agents at 60% shrinkage leave none available (floor(0.8) = 0): nobody logs in,
    yet both are paid for the 4-hour day (unavailable time is paid time), and utilisation is 0."""
    found = summary(simulate(scenario_from_dict(day(billing={"agents": 2, "shrinkage": 0.6}))))
    assert found["unavailable_hours"] == pytest.approx(8.0)
    assert found["paid_hours"] == pytest.approx(8.0)
    assert found["utilisation"] == 0.0
