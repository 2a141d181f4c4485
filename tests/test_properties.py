"""Properties that hold for every scenario (hypothesis generates small random centres), and metamorphic
relations between variants run with common random numbers.

Invariants: every offered call ends exactly one way; queue, answer and end times are ordered; an agent holds
one call at a time, only while logged in; occupancy lies in [0, 1]; visits are the calls that reached a
queue; the roster follows the plan (idle agents <= plan <= logged-in agents); no agent idles while a caller
it may take waits; a free agent chooses by preference, priority, then longest wait, and an arriving caller
goes to the longest-idle agent; the event table is in time order (xfail: a known 1-ulp bug).

Metamorphic relations, each claimed only where it is true:
- pathwise: in one first-come-first-served queue without abandonment, with handle and wrap times drawn per
  caller at arrival, adding an agent cannot make any caller wait longer (the Kiefer-Wolfowitz workload
  vector recursion is monotone, and c agents are c + 1 agents one of whom never becomes free);
- in expectation only (with abandonment, one caller's luck can be another's loss): more agents lower the
  mean wait, more patience lowers the abandonment rate. Tested on paired differences over replications
  (same seed and replication in both variants), requiring t < -Z.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import RunResult, simulate
from sim.model.loading import scenario_from_dict
from sim.model.staffing import count_at

Z = 4.0
PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same examples every run, so the suite is deterministic; set False to explore
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TERMINAL = ("block", "abandon", "end")

# --- random scenarios ---------------------------------------------------------------------------------------

durations = st.sampled_from([("1h", 3600), ("90m", 5400), ("2h", 7200)])
intervals = st.sampled_from([("30m", 1800), ("1h", 3600)])


def _distribution(draw: st.DrawFn, low: float, high: float) -> Any:
    """A random distribution spec with a mean between `low` and `high` seconds."""
    mean = draw(st.floats(low, high))
    kind = draw(
        st.sampled_from(["fixed", "exponential", "lognormal", "gamma", "uniform", "triangular", "bare"])
    )
    if kind == "bare":
        return f"{mean:.3f}s"
    if kind == "fixed":
        return {"dist": "fixed", "value": mean}
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind in ("lognormal", "gamma"):
        return {"dist": kind, "mean": mean, "cv": draw(st.floats(0.2, 1.5))}
    if kind == "uniform":
        return {"dist": "uniform", "low": mean / 2, "high": mean * 1.5}
    return {"dist": "triangular", "low": mean / 3, "mode": mean / 2, "high": mean * 13 / 6}


def _clock(seconds: float) -> str:
    """A clock label `HH:MM` for seconds after midnight (wrapping past midnight)."""
    minutes = int(seconds // 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _staffing(draw: st.DrawFn, start: float, duration: float, count: int) -> Any:
    """A constant, per-interval or shift staffing with at most 4 agents at a time per block."""
    kind = draw(st.sampled_from(["count", "per_interval", "shifts"]))
    if kind == "count":
        return draw(st.integers(0, 4))
    if kind == "per_interval":
        return {"per_interval": draw(st.lists(st.integers(0, 4), min_size=count, max_size=count))}
    shifts = []
    for _ in range(draw(st.integers(1, 3))):
        begin = start + 60 * draw(st.integers(-4, int(duration // 900) + 4)) * 15
        length = 900 * draw(st.integers(1, 16))
        shifts.append(
            {"start": _clock(begin), "end": _clock(begin + length), "count": draw(st.integers(1, 3))}
        )
    return {"shifts": shifts}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A small random centre: 1-3 departments, random staffing, distributions, patience, lines, rings,
    wrap-up, priorities, agent groups and overflow (no IVR, transfers, holds or callbacks)."""
    duration, seconds = draw(durations)
    interval, width = draw(intervals)
    count = math.ceil(seconds / width)
    start_label, start = draw(st.sampled_from([("08:00", 8 * 3600.0), ("23:00", 23 * 3600.0)]))
    names = [f"d{i}" for i in range(draw(st.integers(1, 3)))]
    weights = [draw(st.integers(1, 5)) for _ in names]
    data: dict[str, Any] = {
        "name": "prop",
        "seed": draw(st.integers(0, 2**32)),
        "start": start_label,
        "duration": duration,
        "interval": interval,
        "drain": "1h",
    }
    if draw(st.booleans()):
        data["arrivals"] = {"per_hour": draw(st.floats(5, 150))}
    else:
        data["arrivals"] = {"per_interval": draw(st.lists(st.floats(0, 60), min_size=count, max_size=count))}
    data["arrivals"]["reasons"] = {n: w / sum(weights) for n, w in zip(names, weights, strict=True)}
    if draw(st.booleans()):
        data["arrivals"]["priority"] = {draw(st.sampled_from(names)): 0}
    if draw(st.booleans()):
        data["patience"] = _distribution(draw, 5, 120)
    if draw(st.booleans()):
        data["lines"] = draw(st.integers(1, 12))
    if draw(st.booleans()):
        data["ring"] = {"cycle": draw(st.floats(1, 8)), "rings": draw(st.integers(0, 3))}
    groups: dict[str, Any] = {}
    for index in range(draw(st.integers(0, 2))):
        skills = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
        group: dict[str, Any] = {
            "agents": _staffing(draw, start, seconds, count),
            "skills": {skill: draw(st.integers(0, 2)) for skill in skills},
        }
        if draw(st.booleans()):
            group["speed"] = {skill: draw(st.floats(0.5, 2.0)) for skill in skills}
        groups[f"g{index}"] = group
    if groups:
        data["agent_groups"] = groups
    departments: dict[str, Any] = {}
    for name in names:
        department: dict[str, Any] = {
            "agents": _staffing(draw, start, seconds, count),
            "handle_time": _distribution(draw, 20, 300),
        }
        if draw(st.booleans()):
            department["wrap_time"] = _distribution(draw, 1, 30)
        targets = [other for other in [*names, *groups] if other != name]
        if targets and draw(st.booleans()):
            department["overflow"] = {
                "after": draw(st.floats(0, 120)),
                "to": draw(st.lists(st.sampled_from(targets), min_size=1, max_size=2, unique=True)),
            }
        departments[name] = department
    data["departments"] = departments
    return data


# --- the invariants ---------------------------------------------------------------------------------------


def check_calls_end_exactly_one_way(result: RunResult) -> None:
    """Outcome counts add up to the offered calls, and each finished call has exactly one terminal event
    (block, abandon or end) matching its outcome; calls still in the system have none."""
    events = result.events
    calls = calls_table(result)
    kpis = summary(result)
    assert kpis["offered"] == int((events["event"] == "arrive").sum()) == len(calls)
    assert kpis["answered"] + kpis["abandoned"] + kpis["blocked"] + kpis["in_system"] == kpis["offered"]
    assert set(calls["outcome"].astype(str)) <= {"answered", "abandoned", "blocked", "in_system"}
    terminal = events[events["event"].isin(TERMINAL)]
    per_call = terminal["call_id"].value_counts().reindex(calls["call_id"], fill_value=0).to_numpy()
    in_system = (calls["outcome"] == "in_system").to_numpy()
    assert np.all(per_call[in_system] == 0)
    assert np.all(per_call[~in_system] == 1)
    last = terminal.drop_duplicates("call_id", keep="last").set_index("call_id")["event"].astype(str)
    expected = {"end": "answered", "abandon": "abandoned", "block": "blocked"}
    finished = calls[~in_system].set_index("call_id")["outcome"].astype(str)
    assert finished.to_dict() == {call: expected[event] for call, event in last.items()}


def check_call_times_ordered(result: RunResult) -> None:
    """Per call: joined the queue <= answered <= ended; waits are >= 0; answered calls rang `ring_time`."""
    calls = calls_table(result).set_index("call_id")
    events = result.events
    queued = events[events["event"] == "enqueue"].drop_duplicates("call_id").set_index("call_id")["t"]
    assert calls.loc[calls["outcome"] == "answered", "answered_at"].notna().all()
    answered = calls[calls["answered_at"].notna()]
    assert np.all(queued[answered.index] <= answered["answered_at"])
    ended = answered[answered["ended_at"].notna()]
    assert np.all(ended["answered_at"] <= ended["ended_at"])
    finished = calls[calls["ended_at"].notna() & (calls["outcome"] != "blocked")]
    assert np.all(queued[finished.index] <= finished["ended_at"])
    blocked = calls[calls["outcome"] == "blocked"]
    assert np.array_equal(blocked["ended_at"], blocked["arrived_at"])
    assert np.all(calls["wait_time"].dropna() >= 0)
    ring_time = result.scenario.ring_time
    assert np.allclose(answered["ring_time"], ring_time, rtol=0, atol=1e-9)  # rounding of (t + ring) - t


def check_event_table_in_time_order(result: RunResult) -> None:
    """The event table is in time order, and no call is answered before it arrived."""
    assert np.all(np.diff(result.events["t"].to_numpy()) >= 0)
    calls = calls_table(result)
    answered = calls[calls["answered_at"].notna()]
    assert np.all(answered["arrived_at"] <= answered["answered_at"])


def check_agents_hold_one_call_at_a_time(result: RunResult) -> None:
    """Per agent: login, then rings and idles alternating with matching calls, logout only when free;
    answer/end/abandon-while-ringing only for the call in hand."""
    events = result.events
    mine = events[events["agent_id"] >= 0]
    for agent, rows in mine.groupby("agent_id", sort=True):
        logged_in, holding = False, -1
        for event, call in zip(rows["event"].astype(str), rows["call_id"], strict=True):
            if event == "login":
                assert not logged_in, f"agent {agent}: login while logged in"
                logged_in = True
            elif event == "logout":
                assert logged_in and holding < 0, f"agent {agent}: logout while off or holding {holding}"
                logged_in = False
            elif event == "ring":
                assert logged_in and holding < 0, (
                    f"agent {agent}: ring of {call} while off or holding {holding}"
                )
                holding = int(call)
            elif event == "idle":
                assert logged_in and holding == call, f"agent {agent}: idle from {call}, holding {holding}"
                holding = -1
            else:
                assert event in ("answer", "end", "abandon"), f"agent {agent}: unexpected {event}"
                assert logged_in and holding == call, f"agent {agent}: {event} of {call}, holding {holding}"


def check_occupancy(result: RunResult) -> None:
    """Occupancy per interval and department (and overall, per department and per group) is in [0, 1]."""
    table = interval_table(result)
    occupancy = table["occupancy"].dropna()
    assert ((occupancy >= 0) & (occupancy <= 1 + 1e-12)).all()
    kpis = summary(result)
    values = [kpis["occupancy"], *(d["occupancy"] for d in kpis["by_department"].values())]
    values += [g["occupancy"] for g in kpis.get("by_group", {}).values()]
    assert all(0 <= v <= 1 + 1e-12 for v in values if not math.isnan(v))


def check_visits(result: RunResult) -> None:
    """Without transfers, the queue visits are exactly the calls that were not blocked."""
    calls = calls_table(result)
    visits = visits_table(result)
    reached = calls.loc[calls["outcome"] != "blocked", "call_id"]
    assert len(visits) == len(reached)
    assert sorted(visits["call_id"]) == sorted(reached)
    kpis = summary(result)
    assert sum(d["visits"] for d in kpis["by_department"].values()) == len(reached)


def check_staffing_follows_the_plan(result: RunResult) -> None:
    """While the run lasts, each pool has at least the planned agents logged in, and any extra ones are
    busy (rostered off mid-call): after every instant's events, idle agents <= plan <= logged-in agents."""
    events = result.events
    pool_of = dict(zip(result.agents["agent_id"], result.agents["pool"], strict=True))
    mine = events[events["agent_id"] >= 0]
    for pool, levels in result.staffing.items():
        rows = mine[mine["agent_id"].map(pool_of) == pool]
        logged_in: set[int] = set()
        busy: set[int] = set()
        instants = rows.groupby("t", sort=True)
        plan_times = [at for at, _ in levels if at < result.ended_at]
        checkpoints = sorted(set(rows["t"]) | set(plan_times))
        by_time = {t: group for t, group in instants}
        for t in checkpoints:
            group = by_time.get(t)
            if group is not None:
                for event, agent in zip(group["event"].astype(str), group["agent_id"], strict=True):
                    if event == "login":
                        logged_in.add(int(agent))
                    elif event == "logout":
                        logged_in.discard(int(agent))
                    elif event == "ring":
                        busy.add(int(agent))
                    elif event == "idle":
                        busy.discard(int(agent))
            plan = count_at(levels, t)
            idle = len(logged_in - busy)
            assert idle <= plan <= len(logged_in), (
                f"{pool} at {t}: plan {plan}, logged in {len(logged_in)}, idle {idle}"
            )


def _eligibility(result: RunResult) -> tuple[dict[str, dict[str, int]], dict[str, set[str]]]:
    """Per pool: the departments it serves with their preference, and those it backs up (overflow)."""
    scenario = result.scenario
    serves: dict[str, dict[str, int]] = {}
    for name, department in scenario.departments.items():
        if department.agents is not None:
            serves[name] = {name: 0}
    for name, group in scenario.agent_groups.items():
        serves[name] = dict(group.skills)
    backs: dict[str, set[str]] = {pool: set() for pool in serves}
    for name, department in scenario.departments.items():
        for target in department.overflow.to if department.overflow is not None else ():
            if target in backs and name not in serves[target]:
                backs[target].add(name)
    return serves, backs


def _visits_and_idle_spans(result: RunResult) -> tuple[pd.DataFrame, dict[int, list[tuple[float, float]]]]:
    """Each queue visit (department, priority, queued, overflowed, left) and each agent's idle spans."""
    events = result.events
    end = result.ended_at
    code = events["event"].astype(str).to_numpy()
    t = events["t"].to_numpy()
    call = events["call_id"].to_numpy()
    agent = events["agent_id"].to_numpy()
    department = events["department"].astype(object).to_numpy()
    detail = events["detail"].to_numpy()
    visits: dict[int, dict[str, Any]] = {}
    spans: dict[int, list[tuple[float, float]]] = {}
    idle_since: dict[int, float] = {}
    for i in range(len(events)):
        if code[i] == "enqueue":
            visits[int(call[i])] = {
                "department": department[i],
                "priority": int(detail[i]),
                "queued": t[i],
                "overflowed": math.inf,
                "left": end,
            }
        elif code[i] == "overflow":
            visits[int(call[i])]["overflowed"] = t[i]
        elif code[i] == "ring" or (code[i] == "abandon" and agent[i] < 0):
            visits[int(call[i])]["left"] = min(visits[int(call[i])]["left"], t[i])
        if agent[i] >= 0:
            a = int(agent[i])
            if code[i] in ("login", "idle"):
                idle_since[a] = t[i]
            elif code[i] in ("ring", "logout") and a in idle_since:
                spans.setdefault(a, []).append((idle_since.pop(a), t[i]))
    for a, since in idle_since.items():
        spans.setdefault(a, []).append((since, end))
    frame = pd.DataFrame.from_dict(visits, orient="index")
    return frame, spans


def check_no_agent_idles_while_an_eligible_caller_waits(result: RunResult) -> None:
    """Work conservation: no idle agent ever coexists (for a positive time) with a waiting caller it may
    take (its own skills from joining the queue; a backed-up department's from the overflow)."""
    visits, spans = _visits_and_idle_spans(result)
    if visits.empty:
        return
    serves, backs = _eligibility(result)
    pool_of = dict(zip(result.agents["agent_id"], result.agents["pool"], strict=True))
    for agent, agent_spans in spans.items():
        pool = pool_of[agent]
        served = visits["department"].isin(list(serves[pool]))
        backed = visits["department"].isin(list(backs[pool]))
        eligible_from = np.where(served, visits["queued"], np.where(backed, visits["overflowed"], math.inf))
        left = visits["left"].to_numpy()
        for start, stop in agent_spans:
            overlap = np.minimum(stop, left) - np.maximum(start, eligible_from)
            assert not np.any(overlap > 0), (
                f"agent {agent} ({pool}) idle over [{start}, {stop}) while calls "
                f"{list(visits.index[overlap > 0])} waited"
            )


def _choice_key(
    visit: pd.Series, at: float, served: dict[str, int], backed: set[str]
) -> tuple[float, float, float] | None:
    """How a free agent ranks a waiting visit at time `at`: (preference, priority, queued at), overflowed
    visits after every own skill; None if the agent may not take it (yet)."""
    if visit["department"] in served:
        return (served[visit["department"]], visit["priority"], visit["queued"])
    if visit["department"] in backed and visit["overflowed"] < at:
        return (math.inf, visit["priority"], visit["queued"])
    return None


def check_agents_choose_by_preference_priority_and_wait(result: RunResult) -> None:
    """A free agent takes, among the callers it may take, the best by (preference, priority, queued at),
    overflowed callers after its own skills; an arriving (or newly overflowed) caller goes to the eligible
    agent idle longest."""
    visits, spans = _visits_and_idle_spans(result)
    if visits.empty:
        return
    serves, backs = _eligibility(result)
    pool_of = dict(zip(result.agents["agent_id"], result.agents["pool"], strict=True))
    events = result.events
    rings = events[events["event"] == "ring"]
    for t, call, agent in zip(rings["t"], rings["call_id"], rings["agent_id"], strict=True):
        pool = pool_of[int(agent)]
        chosen = visits.loc[int(call)]
        handed = t == chosen["queued"] or (t == chosen["overflowed"] and chosen["department"] in backs[pool])
        if handed:  # an idle agent was handed the call: the longest idle among those who may take it
            backups = t == chosen["overflowed"] and chosen["department"] in backs[pool]
            since = [s for s, e in spans[int(agent)] if e == t]
            assert since, f"agent {agent} rang call {call} at {t} without being idle"
            for other, other_spans in spans.items():
                other_pool = pool_of[other]
                may = chosen["department"] in (backs[other_pool] if backups else serves[other_pool])
                if other != agent and may:
                    for s, e in other_spans:
                        if s <= t < e:
                            assert since[-1] <= s, (
                                f"call {call} at {t}: agent {agent} idle since {since[-1]}, agent {other} since {s}"
                            )
            continue

        mine = _choice_key(chosen, math.inf, serves[pool], backs[pool])
        assert mine is not None, f"agent {agent} ({pool}) took call {call} it may not take"
        waiting = visits[(visits["queued"] < t) & (visits["left"] > t)]
        for other, row in waiting.iterrows():
            theirs = _choice_key(row, t, serves[pool], backs[pool])
            assert theirs is None or mine <= theirs, (
                f"at {t} agent {agent} took call {call} {mine} over {other} {theirs}"
            )


@PROPERTY_SETTINGS
@given(scenarios())
def test_invariants_hold_for_random_centres(data: dict[str, Any]) -> None:
    result = simulate(scenario_from_dict(data))
    check_calls_end_exactly_one_way(result)
    check_call_times_ordered(result)
    check_agents_hold_one_call_at_a_time(result)
    check_occupancy(result)
    check_visits(result)
    check_staffing_follows_the_plan(result)
    check_no_agent_idles_while_an_eligible_caller_waits(result)
    check_agents_choose_by_preference_priority_and_wait(result)


@PROPERTY_SETTINGS
@given(scenarios())
def test_event_table_is_in_time_order(data: dict[str, Any]) -> None:
    check_event_table_in_time_order(simulate(scenario_from_dict(data)))


# --- metamorphic: adding an agent, pathwise ---------------------------------------------------------------


@st.composite
def fcfs_queues(draw: st.DrawFn) -> dict[str, Any]:
    """One department, first come first served, no patience, no lines, constant staffing."""
    data: dict[str, Any] = {
        "name": "fcfs",
        "seed": draw(st.integers(0, 2**32)),
        "duration": draw(st.sampled_from(["1h", "2h"])),
        "interval": "30m",
        "arrivals": {"per_hour": draw(st.floats(10, 120))},
        "departments": {
            "support": {"agents": draw(st.integers(1, 4)), "handle_time": _distribution(draw, 20, 300)}
        },
    }
    if draw(st.booleans()):
        data["departments"]["support"]["wrap_time"] = _distribution(draw, 1, 30)
    if draw(st.booleans()):
        data["ring"] = {"cycle": draw(st.floats(1, 8)), "rings": draw(st.integers(0, 3))}
    return data


def _queue_waits(result: RunResult) -> pd.Series:
    """Queue wait of each call an agent took (the ring event's detail), by call id."""
    events = result.events
    rings = events[events["event"] == "ring"]
    return pd.Series(rings["detail"].to_numpy(), index=rings["call_id"].to_numpy())


@PROPERTY_SETTINGS
@given(fcfs_queues())
def test_adding_an_agent_never_makes_any_caller_wait_longer_in_a_fcfs_queue(data: dict[str, Any]) -> None:
    base = simulate(scenario_from_dict(data))
    data["departments"]["support"]["agents"] += 1
    more = simulate(scenario_from_dict(data))
    base_waits, more_waits = _queue_waits(base), _queue_waits(more)
    assert set(base_waits.index) <= set(more_waits.index)  # whoever was taken is taken with one more agent
    both = more_waits[base_waits.index]
    assert np.all(both.to_numpy() <= base_waits.to_numpy() + 1e-9), (base_waits - both).min()


# --- metamorphic: in expectation, paired over replications --------------------------------------------------


def _erlang_a(agents: int, patience: str) -> dict[str, Any]:
    return {
        "name": "erlang-a",
        "seed": 3,
        "duration": "8h",
        "interval": "1h",
        "patience": {"dist": "exponential", "mean": patience},
        "arrivals": {"per_hour": 95},
        "departments": {"support": {"agents": agents, "handle_time": {"dist": "exponential", "mean": "3m"}}},
    }


def _paired_t(base: dict[str, Any], variant: dict[str, Any], key: str, reps: int = 8) -> tuple[float, float]:
    """Mean and t statistic of the paired differences variant - base of a KPI over replications."""
    base_scenario, variant_scenario = scenario_from_dict(base), scenario_from_dict(variant)
    differences = np.array(
        [
            summary(simulate(variant_scenario, replication=r))[key]
            - summary(simulate(base_scenario, replication=r))[key]
            for r in range(reps)
        ]
    )
    return float(differences.mean()), float(differences.mean() / (differences.std(ddof=1) / math.sqrt(reps)))


def test_more_agents_lower_the_mean_wait() -> None:
    mean, t = _paired_t(_erlang_a(5, "2m"), _erlang_a(6, "2m"), "mean_wait")
    assert t < -Z, f"6 - 5 agents: mean wait {mean:+.3g} s, t = {t:.2f}"


def test_more_patience_lowers_the_abandonment_rate() -> None:
    mean, t = _paired_t(_erlang_a(5, "1m"), _erlang_a(5, "3m"), "abandon_rate")
    assert t < -Z, f"patience 3 min - 1 min: abandonment {mean:+.3g}, t = {t:.2f}"
