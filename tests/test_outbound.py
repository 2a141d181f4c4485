"""Outbound dialling and blended agents (`sim.model.outbound`, `sim.engine.outbound`).

- The threshold policy against an independent plain-SimPy model written here (callers as processes waiting
  on `answered | timeout(patience)`, agents as processes pulling callers, and an idle agent dialling the
  list while more than `threshold` agents are idle): inbound service level, abandonment, outbound contacts
  per agent-hour and occupancy agree within Student-t tolerances from independent replications of each.
- Theory: with `threshold` >= agents nobody ever dials, so the inbound tables equal those of the scenario
  without `outbound` (common random numbers: the same callers, the same draws), and match Erlang A.
- The right-party share of dials against its binomial tolerance.
- Predictive dialling: a nuisance call only when every agent was busy, read from the event table.
- Bad `outbound` blocks are refused at their YAML paths; the reference model refuses outbound by name.

Tolerances as `tests/test_theory.py`: a two-sided false-alarm rate ALPHA (z = 4) per assertion, with the
Student-t quantile for the replications' degrees of freedom.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy
from scipy import stats

from sim.analysis import erlang
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import simulate
from sim.engine.reference import simulate_reference
from sim.model.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import ROOT
from tests.test_theory import ALPHA

AGENTS = 6
PER_HOUR = 60.0
HANDLE = 300.0  # 5 erlangs inbound on 6 agents
PATIENCE = 240.0
DIAL = 30.0
RIGHT_PARTY = 0.4
TALK = 180.0
THRESHOLD = 1
WARMUP = 3600.0
CLOSE = 13 * 3600.0
SL_THRESHOLD = 20.0
REPLICATIONS = 30


def blended(threshold: int = THRESHOLD, **outbound: Any) -> dict[str, Any]:
    """M/M/6+M inbound (60 calls/h of 5 min, patience 4 min) plus a list of exponential dials (30 s),
    right party 0.4, exponential talks (3 min), dialled while more than `threshold` agents are idle."""
    return {
        "name": "blended",
        "seed": 41,
        "duration": CLOSE,
        "warmup": WARMUP,
        "service_level": {"threshold": SL_THRESHOLD, "target": 0.8},
        "arrivals": {"per_hour": PER_HOUR},
        "patience": {"dist": "exponential", "mean": PATIENCE},
        "departments": {
            "desk": {"agents": AGENTS, "handle_time": {"dist": "exponential", "mean": HANDLE}},
        },
        "outbound": {
            "pool": "desk",
            "list": 100_000,
            "dial_time": {"dist": "exponential", "mean": DIAL},
            "right_party": RIGHT_PARTY,
            "talk_time": {"dist": "exponential", "mean": TALK},
            "threshold": threshold,
            **outbound,
        },
    }


# --- the independent reference: plain SimPy processes ---------------------------------------------------


class _Caller:
    """One inbound caller of the reference: answered (an event an agent succeeds) or gone."""

    def __init__(self, env: simpy.Environment, arrived_at: float) -> None:
        self.answered = env.event()
        self.arrived_at = arrived_at
        self.gone = False


OUTBOUND = "outbound"
"""What wakes an idle agent of the reference for a predictive line's right party (else: a `_Caller`)."""


def reference_day(seed: int, pace: float | None = None) -> dict[str, float]:
    """One day of the same threshold policy in plain SimPy, with its own random numbers: the inbound service
    level and abandonment (callers arriving in [warm-up, close)), outbound contacts per agent-hour and
    occupancy over [warm-up, close), and the nuisance rate. Progressive without `pace`; predictive with it:
    lines (processes) dialled while fewer than int(pace x (idle - threshold)) are in flight, a right party
    put through to the longest-idle agent or dropped with nobody idle."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    queue: deque[_Caller] = deque()
    idle: deque[simpy.Event] = deque()  # agents waiting for a caller, longest idle first
    counts = {"offered": 0, "within": 0, "abandoned": 0, "contacts": 0, "right_party": 0, "nuisance": 0}
    busy = [0.0]
    lines = [0]

    def dial_more() -> None:
        """Predictive: start lines until int(pace x (idle agents - threshold)) are in flight."""
        while pace is not None and env.now < CLOSE and lines[0] < int(pace * (len(idle) - THRESHOLD)):
            lines[0] += 1
            env.process(line(env))

    def line(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(rng.exponential(DIAL))
        lines[0] -= 1
        if rng.random() < RIGHT_PARTY:
            counted = env.now >= WARMUP
            counts["right_party"] += counted
            if idle:
                idle.popleft().succeed(OUTBOUND)
                counts["contacts"] += counted
            else:
                counts["nuisance"] += counted
        dial_more()

    def busy_for(start: float, length: float) -> None:
        """Add the part of a busy stretch inside the counted window."""
        busy[0] += max(0.0, min(start + length, CLOSE) - max(start, WARMUP))

    def caller(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        me = _Caller(env, env.now)
        counted = WARMUP <= env.now < CLOSE
        counts["offered"] += counted
        if idle:
            idle.popleft().succeed(me)
        else:
            queue.append(me)
        outcome = yield me.answered | env.timeout(rng.exponential(PATIENCE))
        if me.answered in outcome:
            counts["within"] += counted and env.now - me.arrived_at <= SL_THRESHOLD
        else:
            me.gone = True
            counts["abandoned"] += counted

    def arrivals(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.exponential(3600.0 / PER_HOUR))
            if env.now >= CLOSE:
                return
            env.process(caller(env))

    def agent(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        while True:
            while queue and queue[0].gone:
                queue.popleft()
            if queue:
                me = queue.popleft()
            elif pace is None and len(idle) + 1 > THRESHOLD and env.now < CLOSE:  # itself and the idle: dial
                started = env.now
                yield env.timeout(rng.exponential(DIAL))
                if rng.random() < RIGHT_PARTY:
                    counts["contacts"] += env.now >= WARMUP
                    yield env.timeout(rng.exponential(TALK))
                busy_for(started, env.now - started)
                continue
            else:
                wake = env.event()
                idle.append(wake)
                dial_more()
                me = yield wake
                if me is OUTBOUND:  # a predictive line's right party, put through
                    started = env.now
                    yield env.timeout(rng.exponential(TALK))
                    busy_for(started, env.now - started)
                    continue
            me.answered.succeed()
            started = env.now
            yield env.timeout(rng.exponential(HANDLE))
            busy_for(started, env.now - started)

    for _ in range(AGENTS):
        env.process(agent(env))
    env.process(arrivals(env))
    env.run(until=CLOSE + 6 * 3600.0)
    hours = AGENTS * (CLOSE - WARMUP) / 3600.0
    return {
        "service_level": counts["within"] / counts["offered"],
        "abandon_rate": counts["abandoned"] / counts["offered"],
        "outbound_contacts_per_agent_hour": counts["contacts"] / hours,
        "occupancy": busy[0] / (hours * 3600.0),
        "nuisance_rate": counts["nuisance"] / counts["right_party"] if counts["right_party"] else math.nan,
    }


def _agree(engine: np.ndarray, reference: np.ndarray, what: str) -> None:
    """Two independent samples of replication KPIs: |difference of means| <= crit x its standard error."""
    se = math.sqrt(engine.var(ddof=1) / len(engine) + reference.var(ddof=1) / len(reference))
    crit = stats.t.ppf(1 - ALPHA / 2, len(engine) + len(reference) - 2)
    gap = engine.mean() - reference.mean()
    assert se > 0, what
    assert abs(gap) <= crit * se, (
        f"{what}: engine {engine.mean():.4f}, reference {reference.mean():.4f}, SE {se:.4f}"
    )
    assert crit * se < 0.2 * abs(reference.mean()), f"{what}: the tolerance is too wide to see a 20% error"


def test_the_threshold_policy_matches_an_independent_plain_simpy_model() -> None:
    scenario = scenario_from_dict(blended())
    keys = ("service_level", "abandon_rate", "outbound_contacts_per_agent_hour", "occupancy")
    engine = np.array(
        [[summary(simulate(scenario, seed=41, replication=r))[k] for k in keys] for r in range(REPLICATIONS)]
    )
    reference = np.array([[reference_day(1000 + r)[k] for k in keys] for r in range(REPLICATIONS)])
    for index, key in enumerate(keys):
        _agree(engine[:, index], reference[:, index], key)
    # the policy matters: outbound work costs inbound service against the same desk without dialling
    alone = erlang.erlang_a_figures(PER_HOUR / 3600.0, HANDLE, PATIENCE, AGENTS, SL_THRESHOLD)
    assert engine[:, 0].mean() < alone.service_level - 0.05


@pytest.mark.slow
def test_the_predictive_dialler_matches_the_plain_simpy_model() -> None:
    """Predictive dialling at two lines per idle agent above the threshold: the nuisance rate, contacts per
    agent-hour, occupancy and inbound service against the reference's lines-as-processes (60 replications
    each; the nuisance rate, some 0.10, is resolved to 15%)."""
    scenario = scenario_from_dict(blended(mode="predictive", pace=2.0))
    keys = ("service_level", "abandon_rate", "outbound_contacts_per_agent_hour", "occupancy", "nuisance_rate")
    reps = 60
    engine = np.array(
        [[summary(simulate(scenario, seed=77, replication=r))[k] for k in keys] for r in range(reps)]
    )
    reference = np.array([[reference_day(5000 + r, pace=2.0)[k] for k in keys] for r in range(reps)])
    for index, key in enumerate(keys):
        _agree(engine[:, index], reference[:, index], key)


# --- theory: a threshold nobody reaches ------------------------------------------------------------------


def _without_outbound(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "outbound"}


@pytest.mark.parametrize("threshold", [AGENTS, AGENTS + 5])
def test_a_threshold_of_all_agents_never_dials_and_leaves_inbound_identical(threshold: int) -> None:
    with_list = scenario_from_dict(blended(threshold))
    alone = scenario_from_dict(_without_outbound(blended()))
    for replication in range(2):
        dialling = simulate(with_list, seed=7, replication=replication)
        plain = simulate(alone, seed=7, replication=replication)
        assert not dialling.events["event"].isin(["dial_out", "right_party", "no_answer"]).any()
        pd.testing.assert_frame_equal(calls_table(dialling), calls_table(plain))
        pd.testing.assert_frame_equal(visits_table(dialling), visits_table(plain))
        found, expected = summary(dialling), summary(plain)
        for key in ("service_level", "abandon_rate", "asa", "occupancy"):
            assert found[key] == expected[key], key
        assert found["outbound_dials"] == 0 and found["outbound_list_left"] == 100_000


def test_a_threshold_of_all_agents_gives_erlang_a() -> None:
    scenario = scenario_from_dict(blended(AGENTS))
    theory = erlang.erlang_a_figures(PER_HOUR / 3600.0, HANDLE, PATIENCE, AGENTS, SL_THRESHOLD)
    reps = 12
    found = np.array(
        [
            [summary(simulate(scenario, seed=3, replication=r))[k] for k in ("service_level", "abandon_rate")]
            for r in range(reps)
        ]
    )
    crit = stats.t.ppf(1 - ALPHA / 2, reps - 1)
    for index, expected in enumerate((theory.service_level, theory.abandon_rate)):
        column = found[:, index]
        se = column.std(ddof=1) / math.sqrt(reps)
        assert se > 0 and abs(column.mean() - expected) <= crit * se, (column.mean(), expected, se)


# --- right party, predictive nuisance calls ---------------------------------------------------------------


def test_the_right_party_share_of_dials_is_binomial() -> None:
    scenario = scenario_from_dict(blended(0))
    right = missed = 0
    for replication in range(3):
        events = simulate(scenario, seed=5, replication=replication).events
        right += int((events["event"] == "right_party").sum())
        missed += int((events["event"] == "no_answer").sum())
        over = int((events["event"] == "right_party").sum() + (events["event"] == "no_answer").sum())
        in_flight = int((events["event"] == "dial_out").sum()) - over  # dials not over when the run ended
        assert 0 <= in_flight <= AGENTS
    dials = right + missed
    assert dials > 2000
    se = math.sqrt(RIGHT_PARTY * (1 - RIGHT_PARTY) / dials)
    assert abs(right / dials - RIGHT_PARTY) <= stats.norm.isf(ALPHA / 2) * se


def _busy_agents_before(events: pd.DataFrame) -> np.ndarray:
    """Per event row, the agents busy just before it (ringing, talking, wrapping up, dialling or on an
    outbound contact), from the log in its order: +1 where a span starts, -1 where it ends."""
    kind = events["event"].astype(str).to_numpy()
    mine = events["agent_id"].to_numpy() >= 0
    step = np.where(mine & np.isin(kind, ["ring", "dial_out", "connect"]), 1, 0) - np.where(
        mine & np.isin(kind, ["idle", "outbound_done"]), 1, 0
    )
    return np.cumsum(step) - step


def test_predictive_nuisance_calls_happen_only_when_no_agent_is_free() -> None:
    data = blended(0, mode="predictive", pace=2.0)
    result = simulate(scenario_from_dict(data), seed=11)
    events = result.events
    kind = events["event"].astype(str).to_numpy()
    busy_before = _busy_agents_before(events)
    nuisance, connect = kind == "nuisance", kind == "connect"
    assert nuisance.sum() > 10 and connect.sum() > 100  # both happen: the check is not vacuous
    assert (busy_before[nuisance] == AGENTS).all()
    assert (busy_before[connect] < AGENTS).all()
    assert (events["agent_id"].to_numpy()[kind == "dial_out"] == -1).all()  # nobody reserved to dial
    found = summary(result)
    counted = events["t"].to_numpy() >= WARMUP
    assert found["nuisance_rate"] == pytest.approx(
        (nuisance & counted).sum() / ((kind == "right_party") & counted).sum()
    )
    assert found["outbound_contacts"] == int((connect & counted).sum())


def test_progressive_dialling_reserves_the_agent_and_never_drops_a_right_party() -> None:
    result = simulate(scenario_from_dict(blended(2, list=50, attempts=2)), seed=13)
    events = result.events
    kind = events["event"].astype(str).to_numpy()
    assert not (kind == "nuisance").any()
    assert (events["agent_id"].to_numpy()[kind == "dial_out"] >= 0).all()
    records = events["detail"].to_numpy()[kind == "dial_out"].astype(int)
    assert np.bincount(records).max() <= 2  # at most `attempts` dials per record
    reached = set(events["detail"].to_numpy()[kind == "right_party"].astype(int))
    assert len(reached) == (kind == "right_party").sum()  # a record reached is never dialled again
    found = summary(result)
    spent = {r for r in set(records) if np.count_nonzero(records == r) == 2 and r not in reached}
    assert found["outbound_list_left"] == 50 - len(reached) - len(spent)


# --- the shipped scenario, refusals -----------------------------------------------------------------------


def test_blended_desk_answers_its_question() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "blended-desk.yaml", [])
    found = summary(simulate(scenario))
    alone = summary(simulate(load_scenario(ROOT / "scenarios" / "blended-desk.yaml", ["outbound.list=0"])))
    assert found["outbound_contacts"] > 50 and found["outbound_list_left"] > 0
    assert found["service_level"] < alone["service_level"]
    assert found["occupancy"] > alone["occupancy"]


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pool": "nowhere"}, "outbound.pool: no department or agent group 'nowhere'"),
        ({"pace": 1.5}, "outbound.pace: pace is the predictive dialler's"),
        ({"right_party": 1.5}, "outbound.right_party"),
        ({"attempts": 0}, "outbound.attempts"),
        ({"mode": "preview"}, "outbound.mode"),
        ({"threshold": -1}, "outbound.threshold"),
        ({"lines": 3}, "outbound.lines"),
    ],
)
def test_a_bad_outbound_block_is_refused_where_it_is_written(change: dict[str, Any], message: str) -> None:
    data = blended()
    data["outbound"] = {**data["outbound"], **change}
    assert message in _refused(data)


def test_a_pool_without_voice_agents_is_refused() -> None:
    data = blended()
    data["departments"]["web"] = {"channel": "chat", "agents": 2, "handle_time": "5m"}
    data["arrivals"]["reasons"] = {"desk": 0.5, "web": 0.5}
    data["outbound"]["pool"] = "web"
    assert "outbound.pool: 'web' is a chat department" in _refused(data)
    data["departments"]["web"] = {"handle_time": "5m"}
    data["agent_groups"] = {"flex": {"agents": 1, "skills": {"web": 1}}}
    assert "outbound.pool: department 'web' has no agents of its own" in _refused(data)


def test_the_reference_model_refuses_outbound() -> None:
    scenario: Scenario = scenario_from_dict(blended())
    with pytest.raises(ValueError, match=r"outbound dialling \(outbound: pool desk\)"):
        simulate_reference(scenario)


def test_an_agent_takes_breaks_and_leaves_only_with_its_outbound_work_done() -> None:
    path = ROOT / "scenarios" / "breaks-and-shrinkage.yaml"
    pool = next(name for name, d in load_scenario(path, []).departments.items() if d.agents is not None)
    scenario = load_scenario(path, [f"outbound={{pool: {pool}, list: 400, threshold: 1, attempts: 2}}"])
    events = simulate(scenario).events
    kind = events["event"].astype(str).to_numpy()
    agent = events["agent_id"].to_numpy()
    assert (kind == "break").sum() > 10 and (kind == "dial_out").sum() > 100
    busy: dict[int, int] = {}
    faults = []
    for row in np.flatnonzero(agent >= 0):  # per agent: work starts only when free, and ends only when busy
        who, what = int(agent[row]), kind[row]
        if what in ("ring", "dial_out", "connect", "break", "logout") and busy.get(who, 0):
            faults.append((row, what))
        if what in ("idle", "outbound_done") and not busy.get(who, 0):
            faults.append((row, what))
        if what in ("ring", "dial_out", "connect"):
            busy[who] = 1
        elif what in ("idle", "outbound_done"):
            busy[who] = 0
    assert not faults, faults[:5]
