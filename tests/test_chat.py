"""Chat departments (`channel: chat`): several chats in an agent's hands, each slowed by the number in hand.

Checked against exact statements and theory:
- one slot and no slow-down is a call answered without ringing, event for event (common random numbers:
  the same streams draw the same times), with shifts, breaks, wrap-up, patience and an agent group;
- k slots without slow-down, exponential work and patience, is M/M/(c k)+M: service level (first response
  within the threshold), abandonment, mean wait and slot use against Erlang A with c x k servers;
- one agent with two slots slowed to 1.5 with two in hand: the number in system is a birth-death chain
  whose departure rate is n mu / slowdown[n-1] with n in hand; mean wait (Little's law), service level,
  chat occupancy and slot use against its numerically solved stationary law;
- the desk never holds more than its slots, and an agent logs out or goes on a break with none in hand;
- bad `chat` blocks and what a chat department cannot have are refused at their YAML paths.

Tolerances as in tests/test_theory.py: |mean - theory| <= t quantile (false-alarm rate ALPHA) x the
replications' standard error, the start-up bias computed from the transient chain and required small.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

from sim.analysis import erlang
from sim.analysis.agent_time import chat_levels
from sim.analysis.summary import summary
from sim.analysis.tables import agent_levels, calls_table, visits_table
from sim.engine.day import simulate
from sim.engine.reference import simulate_reference
from sim.experiments.runner import parallel_map
from sim.model.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import ROOT
from tests.test_erlang import Model
from tests.test_theory import ALPHA, BIAS_SHARE, start_bias


def _crit(reps: int) -> float:
    return float(stats.t.isf(ALPHA / 2, reps - 1))


def desk(channel: str | None, **department: Any) -> dict[str, Any]:
    """A one-department day (`web`) as raw YAML data, voice or chat."""
    own: dict[str, Any] = {"agents": 3, "handle_time": {"dist": "exponential", "mean": "4m"}, **department}
    if channel is not None:
        own["channel"] = channel
    return {
        "name": "web-desk",
        "seed": 5,
        "duration": "8h",
        "arrivals": {"per_hour": 40},
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {"web": own},
    }


# --- one slot, no slow-down: a call without a ring -------------------------------------------------------


def _rich(channel: str | None, slots: int | None) -> Scenario:
    """Shifts with a break, agents rostered off mid-day, a cross-trained group, wrap-up, redials, per-interval
    arrivals: every path of an agent's day."""
    data = desk(channel, wrap_time={"dist": "exponential", "mean": "30s"})
    data["interval"] = "1h"
    data["arrivals"] = {"per_interval": [30, 50, 60, 40, 45, 70, 30, 20]}
    data["redial"] = {"abandoned": {"probability": 0.5, "delay": "5m"}}
    data["departments"]["web"]["agents"] = {
        "shifts": [
            {"start": "00:00", "end": "05:00", "count": 2, "breaks": [{"at": "02:00", "length": "15m"}]},
            {"start": "01:30", "end": "08:00", "count": 1},
        ]
    }
    data["agent_groups"] = {"flex": {"agents": [1, 1, 0, 0, 1, 1, 1, 0], "skills": {"web": 1}}}
    if slots is not None:
        data["departments"]["web"]["chat"] = {"slots": slots}
        data["agent_groups"]["flex"]["chat"] = {"slots": slots}
    return scenario_from_dict(data)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_slot_without_slowdown_is_a_call_answered_without_ringing(seed: int) -> None:
    voice, chat = simulate(_rich(None, None), seed), simulate(_rich("chat", 1), seed)
    assert len(voice.events) > 1000
    assert chat.events.equals(voice.events)  # every event, instant and detail: the same day
    assert calls_table(chat).equals(calls_table(voice))
    assert visits_table(chat).equals(visits_table(voice))
    # the default desk is one slot
    assert simulate(_rich("chat", None), seed).events.equals(voice.events)


# --- the desk's bookkeeping --------------------------------------------------------------------------------


def _in_hand(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event of an agent (in log order): the agent, the event, and its chats in hand after it."""
    events = result.events
    mine = events[events["agent_id"] >= 0]
    step = np.where(mine["event"] == "ring", 1, np.where(mine["event"] == "idle", -1, 0))
    agent = mine["agent_id"].to_numpy()
    count = np.zeros(len(mine), dtype=int)
    held: dict[int, int] = {}
    for row, (who, change) in enumerate(zip(agent.tolist(), step.tolist(), strict=True)):
        held[who] = held.get(who, 0) + change
        count[row] = held[who]
    return agent, mine["event"].astype(str).to_numpy(), count


def test_an_agent_never_holds_more_than_its_slots_and_leaves_with_empty_hands() -> None:
    data = desk("chat", chat={"slots": 3, "slowdown": [1.0, 1.2, 1.5]}, wrap_time="20s")
    data["interval"] = "1h"
    data["arrivals"] = {"per_interval": [60, 90, 120, 60, 40, 100, 80, 30]}
    data["departments"]["web"]["agents"] = {
        "shifts": [
            {"start": "00:00", "end": "05:00", "count": 2, "breaks": [{"at": "02:00", "length": "15m"}]},
            {"start": "03:30", "end": "08:00", "count": 2},
        ]
    }
    result = simulate(scenario_from_dict(data))
    agent, event, count = _in_hand(result)
    assert count.max() == 3 and count.min() == 0
    leaving = np.isin(event, ["logout", "break"])
    assert leaving.sum() >= 4 and (count[leaving] == 0).all()
    calls = calls_table(result)
    answered = calls[calls["outcome"] == "answered"]
    assert len(answered) > 300
    assert (answered["ring_time"] == 0).all()  # no ring: the first response is the answer
    # busy (at least one chat) and chats in hand, integrated over the day, against a walk over the events
    times = result.events.loc[result.events["agent_id"] >= 0, "t"].to_numpy()
    busy_walk = hand_walk = 0.0
    for who in np.unique(agent):
        mine = agent == who
        spans = np.diff(np.append(times[mine], result.ended_at))
        busy_walk += float((spans * (count[mine] > 0)).sum())
        hand_walk += float((spans * count[mine]).sum())
    edges = np.array([0.0, result.ended_at])
    _, _, busy = agent_levels(result, edges)
    _, in_hand = chat_levels(result, edges)
    assert busy.sum() == pytest.approx(busy_walk, rel=1e-9)
    assert in_hand.sum() == pytest.approx(hand_walk, rel=1e-9)
    assert hand_walk > 1.5 * busy_walk  # several chats at once, much of the time
    kpis = summary(result)
    web = kpis["by_department"]["web"]
    assert 0 < web["slot_use"] <= web["chat_occupancy"] <= 1
    assert web["occupancy"] == web["chat_occupancy"]
    assert kpis["slot_use"] == web["slot_use"] and kpis["chat_occupancy"] == web["chat_occupancy"]


def test_a_chat_alone_runs_at_its_own_pace_and_company_slows_it() -> None:
    """The talk logged is the wall time from answer to end; a chat that was alone all along took exactly its
    work (the handle time drawn for it), one that had company took longer by the slow-down."""

    def one_agent(chat: dict[str, Any]) -> Any:
        data = desk("chat", agents=1, chat=chat)
        data["arrivals"] = {"per_hour": 20}
        return calls_table(simulate(scenario_from_dict(data)))

    plain, slow = one_agent({"slots": 2}), one_agent({"slots": 2, "slowdown": [1.0, 2.0]})
    for calls in (plain, slow):
        done = calls[calls["outcome"] == "answered"]
        assert len(done) > 100
        assert np.allclose(done["ended_at"] - done["answered_at"], done["talk_time"], rtol=0, atol=1e-6)
    # the same contacts arrive (common random numbers); with company a chat takes up to twice its work
    assert (plain["arrived_at"] == slow["arrived_at"]).all()
    assert slow["talk_time"].sum() > 1.1 * plain["talk_time"].sum()


# --- k slots, no slow-down: Erlang A with c x k servers ----------------------------------------------------

AGENTS, SLOTS, PER_HOUR, HANDLE, PATIENCE, THRESHOLD = 3, 3, 75.0, 360.0, 180.0, 60.0
ERLANG_KPIS = ("service_level", "abandon_rate", "mean_wait", "p_wait")


def _pooled(hours: float, warmup: float) -> Scenario:
    data = desk(
        "chat", agents=AGENTS, chat={"slots": SLOTS}, handle_time={"dist": "exponential", "mean": HANDLE}
    )
    data.update(
        duration=f"{warmup + hours}h",
        warmup=f"{warmup}h",
        arrivals={"per_hour": PER_HOUR},
        patience={"dist": "exponential", "mean": PATIENCE},
        service_level={"threshold": THRESHOLD},
    )
    return scenario_from_dict(data)


def _kpis(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    kpis = summary(simulate(scenario, seed, replication))
    keys = (*ERLANG_KPIS, "slot_use", "chat_occupancy", "in_system")
    return {key: float(kpis[key]) for key in keys}


def _replicate(scenario: Scenario, reps: int, seed: int) -> dict[str, np.ndarray]:
    rows = list(parallel_map(_kpis, [(scenario, seed, r) for r in range(reps)], 2))
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def _check(name: str, values: np.ndarray, theory: float, bias: float = 0.0) -> None:
    se = values.std(ddof=1) / math.sqrt(len(values))
    crit = _crit(len(values))
    assert se > 0, f"{name}: no spread between replications"
    assert abs(bias) <= BIAS_SHARE * se, f"{name}: start-up bias {bias:.2e} against SE {se:.2e}"
    error = values.mean() - theory
    assert abs(error) <= crit * se, f"{name}: {values.mean():.5f} vs theory {theory:.5f} (SE {se:.5f})"


@pytest.mark.parametrize(
    ("reps", "hours", "seed"), [pytest.param(30, 30, 41), pytest.param(120, 60, 1041, marks=pytest.mark.slow)]
)
def test_slots_without_slowdown_are_erlang_a_with_agents_times_slots_servers(
    reps: int, hours: float, seed: int
) -> None:
    scenario = _pooled(hours, 1.0)
    servers = AGENTS * SLOTS
    theory = erlang.erlang_a_figures(PER_HOUR / 3600, HANDLE, PATIENCE, servers, THRESHOLD)
    model = Model(PER_HOUR / 3600, 1 / HANDLE, servers, 1 / PATIENCE)
    bias = start_bias(scenario, model)
    days = _replicate(scenario, reps, seed)
    assert (days["in_system"] == 0).all()
    for key in ERLANG_KPIS:
        _check(key, days[key], float(getattr(theory, key)), bias[key])
    _check("slot_use", days["slot_use"], theory.occupancy, bias["occupancy"])
    assert (days["chat_occupancy"] >= days["slot_use"]).all()  # an agent with a chat uses one slot or more


# --- one agent, two slots, a slow-down: a birth-death chain ------------------------------------------------

MU, LAMBDA, SLOWDOWN = 1 / 240.0, 1 / 240.0, (1.0, 1.5)


def _chain(size: int = 200) -> np.ndarray:
    """The generator of the number of chats in the system (in hand + waiting), truncated to `size` states:
    arrivals at rate lambda; with m = min(n, 2) in hand each finishes at mu / slowdown[m-1]."""
    q = np.zeros((size, size))
    for n in range(size - 1):
        q[n, n + 1] = LAMBDA
        in_hand = min(n + 1, 2)
        q[n + 1, n] = in_hand * MU / SLOWDOWN[in_hand - 1]
    np.fill_diagonal(q, -q.sum(axis=1))
    return q


def _stationary(q: np.ndarray) -> np.ndarray:
    """pi with pi Q = 0 and sum 1 (the balance equations with the last replaced by the normalisation)."""
    a = q.T.copy()
    a[-1] = 1.0
    b = np.zeros(len(q))
    b[-1] = 1.0
    return np.linalg.solve(a, b)


def _chain_figures(p: np.ndarray, threshold: float) -> dict[str, float]:
    """Per-chat figures for arrivals seeing law `p` (PASTA); FCFS: one arriving to n >= 2 waits n - 1
    phases at the full desk's rate 2 mu / 1.5."""
    n = np.arange(len(p))
    full_rate = 2 * MU / SLOWDOWN[1]
    queued = np.maximum(n - 1, 0)  # phases until a slot frees for it (0: answered at once)
    served_in_time = np.where(
        n < 2, 1.0, stats.gamma.cdf(threshold, np.maximum(queued, 1), scale=1 / full_rate)
    )
    waiting = float((np.maximum(n - 2, 0) * p).sum())
    return {
        "mean_wait": waiting / LAMBDA,  # Little's law on the waiting room
        "service_level": float((p * served_in_time).sum()),
        "chat_occupancy": float(p[n >= 1].sum()),
        "slot_use": float((np.minimum(n, 2) * p).sum()) / 2,
    }


def _slowed(hours: float, warmup: float) -> Scenario:
    data = desk(
        "chat",
        agents=1,
        chat={"slots": 2, "slowdown": list(SLOWDOWN)},
        handle_time={"dist": "exponential", "mean": 1 / MU},
    )
    data.update(duration=f"{warmup + hours}h", warmup=f"{warmup}h", arrivals={"per_hour": LAMBDA * 3600})
    data.pop("patience")
    data["service_level"] = {"threshold": THRESHOLD}
    return scenario_from_dict(data)


def _transient_bias(scenario: Scenario, q: np.ndarray) -> dict[str, float]:
    """Expected figures of a day started empty and counted from the warm-up, less the steady state (as
    `tests.test_theory.start_bias`)."""
    size = len(q)
    start = np.zeros(size)
    start[0] = 1.0
    warmup, span = scenario.warmup, scenario.duration - scenario.warmup
    at_warmup = start @ expm(q * warmup)
    augmented = np.zeros((2 * size, 2 * size))
    augmented[:size, :size] = q
    augmented[:size, size:] = np.eye(size)
    averaged = np.clip(at_warmup @ expm(augmented * span)[:size, size:] / span, 0.0, None)
    transient = _chain_figures(averaged / averaged.sum(), THRESHOLD)
    steady = _chain_figures(_stationary(q), THRESHOLD)
    return {key: transient[key] - steady[key] for key in steady}


@pytest.mark.parametrize(
    ("reps", "hours", "seed"),
    [pytest.param(30, 150, 51), pytest.param(120, 300, 1051, marks=pytest.mark.slow)],
)
def test_a_slowed_desk_follows_its_markov_chain(reps: int, hours: float, seed: int) -> None:
    q = _chain()
    p = _stationary(q)
    assert p[-20:].sum() < 1e-12  # the truncation loses nothing
    theory = _chain_figures(p, THRESHOLD)
    scenario = _slowed(hours, 8.0)
    bias = _transient_bias(scenario, q)
    days = _replicate(scenario, reps, seed)
    for key, value in theory.items():
        _check(key, days[key], value, bias[key])
    # the slow-down matters at this resolution: without it (M/M/2) the figures are visibly better
    plain = erlang.erlang_c_figures(LAMBDA, 1 / MU, 2, THRESHOLD)
    se = days["mean_wait"].std(ddof=1) / math.sqrt(reps)
    assert theory["mean_wait"] - plain.mean_wait > 2 * _crit(reps) * se


# --- refusals -----------------------------------------------------------------------------------------------


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"chat": {"slots": 3, "slowdown": [1.0, 1.2]}}, r"departments\.web\.chat", "one factor per number"),
        ({"chat": {"slots": 0}}, r"departments\.web\.chat\.slots", ""),
        ({"chat": {"slots": 2, "slowdown": [1.0, 0.5]}}, r"departments\.web\.chat\.slowdown", ""),
        ({"chat": {"slots": 2, "lanes": 3}}, r"departments\.web\.chat\.lanes", ""),
        (
            {"hold": {"probability": 0.2, "duration": "1m"}},
            r"departments\.web\.hold",
            "chat departments have no holds",
        ),
        ({"transfer": {}}, r"departments\.web\.transfer", "do not transfer"),
        ({"transfer_mode": "warm"}, r"departments\.web\.transfer_mode", "do not transfer"),
        ({"listen_time": "10s"}, r"departments\.web\.listen_time", "do not transfer"),
    ],
)
def test_a_bad_chat_department_is_refused_where_it_is_written(
    change: dict[str, Any], path: str, message: str
) -> None:
    text = _refused(desk("chat", **change))
    assert re.search(path, text), text
    assert message in text


def test_a_chat_desk_on_a_voice_department_is_refused() -> None:
    assert "departments.web.chat: a chat desk only on a chat department" in _refused(
        desk(None, chat={"slots": 2})
    )


def _two_channels() -> dict[str, Any]:
    data = desk("chat")
    data["arrivals"]["reasons"] = {"web": 0.5, "phone": 0.5}
    data["departments"]["phone"] = {"agents": 3, "handle_time": "4m"}
    return data


def test_a_desk_without_chats_and_overflows_across_channels_are_refused() -> None:
    data = _two_channels()
    data["agent_groups"] = {"blend": {"agents": 2, "skills": {"web": 1, "phone": 2}}}
    scenario_from_dict(data)  # blended agents are accepted (`tests/test_blended.py`)
    data["agent_groups"] = {"voicers": {"agents": 2, "skills": {"phone": 1}, "chat": {"slots": 2}}}
    assert "agent_groups.voicers.chat: a chat desk only for a group with chat departments" in _refused(data)
    data = _two_channels()
    data["departments"]["web"]["overflow"] = {"after": "30s", "to": ["phone"]}
    assert "departments.web.overflow.to[0]: a chat department overflows only to chat agents" in _refused(data)
    data = _two_channels()
    data["departments"]["phone"]["transfer"] = {"web": 0.1}
    assert "departments.phone.transfer.web: a caller cannot be transferred to chat department" in _refused(
        data
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lines", 10),
        ("ivr", {"menu_time": "20s"}),
        ("callback", {"offer_when_wait_over": "1m"}),
    ],
)
def test_voice_only_features_are_refused_beside_a_chat_department(field: str, value: Any) -> None:
    data = _two_channels()
    data[field] = value
    assert f"{field}: " in _refused(data)
    assert "not modelled yet with chat departments" in _refused(data)


def test_a_group_serving_only_chat_departments_gets_its_own_desk_and_voice_is_unchanged() -> None:
    data = _two_channels()
    data["departments"]["web"].pop("agents")
    data["agent_groups"] = {"chatters": {"agents": 2, "skills": {"web": 1}, "chat": {"slots": 3}}}
    result = simulate(scenario_from_dict(data))
    kpis = summary(result)
    assert set(kpis["by_group"]["chatters"]) >= {"chat_occupancy", "slot_use"}
    assert "slot_use" not in kpis["by_department"]["phone"]
    _, _, count = _in_hand(result)
    assert count.max() == 3
    assert kpis["by_department"]["phone"]["answered"] > 0
    assert kpis["by_department"]["phone"]["occupancy"] <= 1


def test_the_reference_model_refuses_a_chat_department() -> None:
    with pytest.raises(ValueError, match=r"does not model chat departments \(web\)"):
        simulate_reference(scenario_from_dict(desk("chat")))


# --- the shipped scenario ----------------------------------------------------------------------------------


def test_the_chat_desk_scenario_answers_its_question() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "chat-desk.yaml")
    assert "three chats" in scenario.description
    kpis = summary(simulate(scenario))
    desk_ = kpis["by_department"]["chat"]
    assert kpis["offered"] > 500
    assert 0 < desk_["slot_use"] <= desk_["chat_occupancy"] <= 1
    assert 0 <= kpis["service_level"] <= 1


def test_the_overload_check_counts_what_a_chat_desk_clears_at_once() -> None:
    """Without patience, a queue whose load reaches what the agents clear grows all day: a chat agent with
    slowdown [1, 1.25, 1.5] clears two chats' work at once (3 / 1.5), one with a single slot one."""
    from sim.analysis.stability import overloads

    busy = ["patience=null", "arrivals.per_hour=140"]  # 18.7 erlangs on 10 agents
    assert not overloads(load_scenario(ROOT / "scenarios" / "chat-desk.yaml", busy))
    single = load_scenario(ROOT / "scenarios" / "chat-desk.yaml", [*busy, "departments.chat.chat={slots: 1}"])
    assert overloads(single) and overloads(single)[0].where == "chat"
    assert load_scenario(ROOT / "scenarios" / "chat-desk.yaml").departments["chat"].chat.capacity() == 2.0  # type: ignore[union-attr]


def test_a_chat_holds_no_trunk_line_in_the_costs() -> None:
    data = _two_channels()
    data["costs"] = {"line_per_minute": 0.02, "waiting_minute": 0.1}
    result = simulate(scenario_from_dict(data))
    calls = calls_table(result)
    voice = calls[(calls["first_department"] == "phone") & (calls["outcome"] != "blocked")]
    held = (voice["ended_at"].fillna(result.ended_at) - voice["arrived_at"]).sum()
    costs = summary(result)["costs"]
    assert costs["line_hours"] == pytest.approx(held / 3600, rel=1e-12)
    assert len(calls) > 1.5 * len(voice)  # the chats were there, and hold no line


# --- exact traces ------------------------------------------------------------------------------------------


def _traced(times: list[float], agents: int, chat: dict[str, Any]) -> Any:
    data = desk("chat", agents=agents, chat=chat, handle_time="100s")
    data["arrivals"] = {"trace_times": times}
    data.pop("patience")
    return simulate(scenario_from_dict(data))


def test_an_arriving_chat_goes_to_the_agent_with_the_fewest_in_hand() -> None:
    """Two agents, four chats a second apart: the least loaded agent takes each (ties: the one at that
    number longest), so they alternate, where longest-idle alone would give the first agent all three of
    its slots first."""
    result = _traced([1.0, 2.0, 3.0, 4.0, 5.0], 2, {"slots": 3})
    rings = result.events[result.events["event"] == "ring"]
    assert rings["agent_id"].tolist() == [0, 1, 0, 1, 0]
    assert (rings["detail"] == 0).all()


def test_a_slowed_desk_by_hand() -> None:
    """One agent, two slots, slowdown [1, 2], chats of 100 s of work at t = 1, 2, 3. Chat 1 runs alone for
    1 s, then both at half pace: chat 1 has 99 s of work left, done at 2 + 198 = 200, when chat 3 (waiting
    since 3) is taken; chat 2 has 1 s left at half pace, done at 202; chat 3 did 1 s of work by then and
    finishes alone at 202 + 99 = 301."""
    result = _traced([1.0, 2.0, 3.0], 1, {"slots": 2, "slowdown": [1.0, 2.0]})
    calls = calls_table(result)
    assert calls["answered_at"].tolist() == pytest.approx([1.0, 2.0, 200.0])
    assert calls["ended_at"].tolist() == pytest.approx([200.0, 202.0, 301.0])
    assert calls["talk_time"].tolist() == pytest.approx([199.0, 200.0, 101.0])
    assert calls["wait_time"].tolist() == pytest.approx([0.0, 0.0, 197.0])
    kpis = summary(result)
    # 1 s with one chat, 198 + 2 with two, 99 with one: busy 300 s; chats in hand 1 + 2 x 200 + 99 = 500 s
    logged = kpis["agent_hours"] * 3600
    assert kpis["chat_occupancy"] == pytest.approx(300.0 / logged)
    assert kpis["slot_use"] == pytest.approx(500.0 / (2 * logged))


def test_the_story_tells_a_chat_as_a_chat() -> None:
    from sim.output.story import tell

    result = _traced([1.0, 2.0, 3.0], 1, {"slots": 2})
    lines = [
        line.text for line in tell(result.events, result.agents, result.scenario, result.reason_names, 3)
    ]
    assert lines[0] == "starts a chat about web."
    assert (
        "web agent 1 takes the chat after 1m 38s in the queue, beside 1 other, and responds: the contact's "
        "first agent." in lines  # a desk of 2 slots: the other slot still holds a chat
    )
    assert not any("rings" in line or "picks up" in line for line in lines)


def test_chat_patience_and_times_by_reason_come_from_call_types() -> None:
    """Chat visitors' patience per reason (`call_types`), as callers': with the web visitors patient for
    a minute on average and the phone callers never giving up, only chats are abandoned; the chats' own
    handle time for the reason is the one their agents work."""
    data = _two_channels()
    data.pop("patience")
    data["call_types"] = {
        "web": {"patience": {"dist": "exponential", "mean": "1m"}, "handle_time": "10m"},
    }
    data["departments"]["web"]["agents"] = 1
    data["departments"]["web"]["chat"] = {"slots": 2}
    calls = calls_table(simulate(scenario_from_dict(data)))
    abandoned = calls[calls["outcome"] == "abandoned"]
    assert len(abandoned) > 10 and (abandoned["first_department"] == "web").all()
    served = calls[(calls["outcome"] == "answered") & (calls["first_department"] == "web")]
    assert served["talk_time"].tolist() == pytest.approx([600.0] * len(served))
