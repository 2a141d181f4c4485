"""Blended agents and channel priorities (`sim.model.blend`, `sim.engine.blend`).

Theory. Two agents serving a voice and a chat department (two chat slots, with and without a slow-down),
Poisson arrivals, exponential work and patience, voice ranked first (agents with chats drain while a call
waits) or chat ranked first: the continuous-time Markov chain of `tests/blend_chain.py` (queues truncated at
30, generator built with scipy.sparse, pi Q = 0 solved) gives each channel's abandonment, mean wait and
probability of waiting, and the group's occupancy, chat occupancy and slot use; R independent replications
are compared with it at the Student-t tolerance of `tests/test_theory.py` (alpha from Z = 4, crit from R - 1
degrees of freedom), never tuned. Start-up bias is bounded from the chain itself: the total-variation
distance between the law at the warm-up (from empty, `expm_multiply`) and pi, times each figure's range,
must stay below 0.2 SE. Calls are counted if they arrive after the warm-up and an hour before the close
(when arrivals stop, later calls would see a lighter desk); the group's time figures over the warm-up to the
close. A chain without the drain rule gives visibly different figures (the test can tell the rule).

Channel priority for voice and email (no chat): emails first is the non-preemptive priority M/M/c queue
with the classes swapped, Cobham's formula (as `tests/test_email.py` checks calls first).

Exact, with common random numbers: a blended group whose chat department receives nothing gives the voice
tables of the voice-only group (shifts, a break, agents rostered off, wrap-up, redials); an explicit default
channel priority gives the tables of none. From the event table of a rich blended day (shifts, breaks, an
email backlog) under several priorities: no agent ever holds a call or an email beside anything else, nor
more chats than its slots; agents go on a break or log out with empty hands; an agent with chats in hand
takes no chat while a contact of a channel ranked above chat waits in its queues; an email is taken only by
an agent with nothing in hand while no chat (or call) ranked before it waits.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.sparse.linalg import expm_multiply

from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import RunResult, simulate
from sim.engine.reference import simulate_reference
from sim.experiments.runner import parallel_map
from sim.experiments.week import simulate_week
from sim.model.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from tests.blend_chain import Chain, Desk, chain
from tests.conftest import ROOT
from tests.test_email import cobham
from tests.test_theory import ALPHA, BIAS_SHARE


def _crit(reps: int) -> float:
    return float(stats.t.isf(ALPHA / 2, reps - 1))


# --- the Markov chain of a small blended desk --------------------------------------------------------------

VOICE_PER_HOUR, CHAT_PER_HOUR = 10.0, 15.0
VOICE_HANDLE, CHAT_HANDLE = 240.0, 360.0
VOICE_PATIENCE, CHAT_PATIENCE = 180.0, 300.0
WARMUP_HOURS, TAIL_HOURS = 1.0, 1.0


def _desk(voice_first: bool, slowdown: tuple[float, float], drains: bool = True) -> Desk:
    return Desk(
        agents=2,
        slots=2,
        slowdown=slowdown,
        voice_rate=VOICE_PER_HOUR / 3600,
        chat_rate=CHAT_PER_HOUR / 3600,
        voice_service=1 / VOICE_HANDLE,
        chat_service=1 / CHAT_HANDLE,
        voice_patience=1 / VOICE_PATIENCE,
        chat_patience=1 / CHAT_PATIENCE,
        voice_first=voice_first,
        drains=drains,
    )


def _small(voice_first: bool, slowdown: tuple[float, float], hours: float) -> Scenario:
    total = VOICE_PER_HOUR + CHAT_PER_HOUR
    exponential = {"dist": "exponential"}
    return scenario_from_dict(
        {
            "name": "small-blend",
            "seed": 1,
            "duration": f"{WARMUP_HOURS + hours}h",
            "warmup": f"{WARMUP_HOURS}h",
            "arrivals": {
                "per_hour": total,
                "reasons": {"phone": VOICE_PER_HOUR / total, "web": CHAT_PER_HOUR / total},
            },
            "patience": {**exponential, "mean": VOICE_PATIENCE},
            "call_types": {"web": {"patience": {**exponential, "mean": CHAT_PATIENCE}}},
            "departments": {
                "phone": {"handle_time": {**exponential, "mean": VOICE_HANDLE}},
                "web": {"channel": "chat", "handle_time": {**exponential, "mean": CHAT_HANDLE}},
            },
            "agent_groups": {
                "floor": {
                    "agents": 2,
                    "skills": {"phone": 1, "web": 1},
                    "chat": {"slots": 2, "slowdown": list(slowdown)},
                    "channel_priority": ["voice", "chat"] if voice_first else ["chat", "voice"],
                }
            },
        }
    )


CHANNEL_KPIS = ("abandon_rate", "mean_wait", "p_wait")
GROUP_KPIS = ("occupancy", "chat_occupancy", "slot_use")


def _figures(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """Per channel, from the calls arriving after the warm-up and an hour before the close: abandonment,
    mean wait (until answered or given up) and P(wait > 0); and the group's time figures."""
    result = simulate(scenario, seed, replication)
    calls = calls_table(result)
    arrived = calls["arrived_at"].to_numpy()
    counted = calls[(arrived >= scenario.warmup) & (arrived < scenario.duration - TAIL_HOURS * 3600)]
    out: dict[str, float] = {}
    for channel, department in (("voice", "phone"), ("chat", "web")):
        mine = counted[counted["first_department"] == department]
        waits = mine["wait_time"].to_numpy(dtype=float)
        out[f"{channel}.abandon_rate"] = float((mine["outcome"] == "abandoned").mean())
        out[f"{channel}.mean_wait"] = float(waits.mean())
        out[f"{channel}.p_wait"] = float((waits > 1e-9).mean())
    group = summary(result)["by_group"]["floor"]
    out.update({f"floor.{key}": float(group[key]) for key in GROUP_KPIS})
    return out


def _start_bias_bound(
    desk: Desk, built: Chain, p: np.ndarray, warmup: float, span: float
) -> dict[str, float]:
    """An upper bound on each figure's start-up bias over a counted span after the warm-up: the mean over it
    of the total-variation distance between the law from empty and pi (non-increasing: summed on a grid by
    its left ends), times the figure's range (a call's expected wait is at most its mean patience)."""
    start = np.zeros(len(p))
    start[built.states.index(((0, 2, 0, 0), 0, 0))] = 1.0
    law = expm_multiply(built.generator.T * warmup, start)
    step, elapsed, area = 1800.0, 0.0, 0.0
    while elapsed < span:
        distance = 0.5 * float(np.abs(law - p).sum())
        if distance < 1e-9:
            area += distance * (span - elapsed)
            break
        area += distance * step
        law = expm_multiply(built.generator.T * step, law)
        elapsed += step
    ranges = {
        "voice.abandon_rate": 1.0,
        "chat.abandon_rate": 1.0,
        "voice.mean_wait": 1 / desk.voice_patience,
        "chat.mean_wait": 1 / desk.chat_patience,
        "voice.p_wait": 1.0,
        "chat.p_wait": 1.0,
        "floor.occupancy": 1.0,
        "floor.chat_occupancy": 1.0,
        "floor.slot_use": 1.0,
    }
    return {key: area / span * value for key, value in ranges.items()}


CASES = [
    pytest.param(True, (1.0, 1.5), id="voice-first-slowed"),
    pytest.param(False, (1.0, 1.5), id="chat-first-slowed"),
    pytest.param(True, (1.0, 1.0), id="voice-first-no-slowdown"),
]


@pytest.mark.parametrize(("voice_first", "slowdown"), CASES)
@pytest.mark.parametrize(
    ("reps", "hours", "seed"),
    [pytest.param(30, 100, 61), pytest.param(120, 300, 1061, marks=pytest.mark.slow)],
)
def test_a_small_blended_desk_follows_its_markov_chain(
    voice_first: bool, slowdown: tuple[float, float], reps: int, hours: float, seed: int
) -> None:
    desk = _desk(voice_first, slowdown)
    built = chain(desk)
    p = built.stationary()
    assert built.edge_mass(p) < 1e-12  # the truncation loses nothing
    theory = built.figures(p)
    bias = _start_bias_bound(desk, built, p, WARMUP_HOURS * 3600, (hours - TAIL_HOURS) * 3600)
    scenario = _small(voice_first, slowdown, hours)
    rows = list(parallel_map(_figures, [(scenario, seed, r) for r in range(reps)], 2))
    crit = _crit(reps)
    ses = {}
    for key, expected in theory.items():
        values = np.array([row[key] for row in rows])
        se = ses[key] = values.std(ddof=1) / math.sqrt(reps)
        assert se > 0, f"{key}: no spread between replications"
        assert bias[key] <= BIAS_SHARE * se, f"{key}: start-up bias up to {bias[key]:.2e} against SE {se:.2e}"
        assert abs(values.mean() - expected) <= crit * se, (
            f"{key}: {values.mean():.5f} vs chain {expected:.5f} (SE {se:.5f}, crit {crit:.2f})"
        )
    if voice_first:  # the test sees the drain rule: without it the chain's figures are visibly different
        other = chain(_desk(voice_first, slowdown, drains=False))
        undrained = other.figures(other.stationary())
        assert max(abs(undrained[key] - theory[key]) / (crit * ses[key]) for key in theory) > 2


# --- channel priority without chat: emails first is Cobham's formula with the classes swapped -----------------

PRIORITY_AGENTS, PRIORITY_HANDLE, PRIORITY_PER_HOUR = 3, 240.0, 31.5
PRIORITY_TAIL = 3 * 3600.0


def _emails_first(hours: float, warmup: float) -> Scenario:
    exponential = {"dist": "exponential", "mean": PRIORITY_HANDLE}
    return scenario_from_dict(
        {
            "name": "emails-first",
            "seed": 3,
            "duration": f"{warmup + hours}h",
            "warmup": f"{warmup}h",
            "arrivals": {"per_hour": PRIORITY_PER_HOUR, "reasons": {"phone": 0.5, "mail": 0.5}},
            "departments": {
                "phone": {"resolves": ["phone"], "handle_time": exponential},
                "email": {
                    "channel": "email",
                    "resolves": ["mail"],
                    "handle_time": exponential,
                    "email": {"due": "1000h"},
                },
            },
            "agent_groups": {
                "blend": {
                    "agents": PRIORITY_AGENTS,
                    "skills": {"phone": 1, "email": 1},
                    "channel_priority": ["email", "voice"],
                }
            },
        }
    )


def _mean_waits(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """Per class, the mean wait of the items arriving after the warm-up and before the tail."""
    calls = calls_table(simulate(scenario, seed, replication))
    arrived = calls["arrived_at"].to_numpy()
    counted = calls[(arrived >= scenario.warmup) & (arrived < scenario.duration - PRIORITY_TAIL)]
    return {
        "calls": float(counted.loc[counted["first_department"] == "phone", "wait_time"].mean()),
        "emails": float(counted.loc[counted["first_department"] == "email", "wait_time"].mean()),
        "unanswered": float((counted["outcome"] != "answered").sum()),
    }


@pytest.mark.parametrize(
    ("reps", "hours", "seed"), [pytest.param(24, 60, 13), pytest.param(80, 200, 1013, marks=pytest.mark.slow)]
)
def test_emails_ranked_first_wait_as_the_high_class_of_a_priority_queue(
    reps: int, hours: float, seed: int
) -> None:
    scenario = _emails_first(hours, 3.0)
    rows = list(parallel_map(_mean_waits, [(scenario, seed, r) for r in range(reps)], 2))
    lam = PRIORITY_PER_HOUR / 3600
    emails, calls = cobham([lam * 0.5, lam * 0.5], 1 / PRIORITY_HANDLE, PRIORITY_AGENTS)
    assert calls > 3 * emails  # the classes are told apart
    crit = _crit(reps)
    for name, expected in (("emails", emails), ("calls", calls)):
        values = np.array([row[name] for row in rows])
        se = values.std(ddof=1) / math.sqrt(reps)
        assert se > 0
        assert abs(values.mean() - expected) <= crit * se, (
            f"{name}: {values.mean():.1f} s vs Cobham {expected:.1f} s (SE {se:.1f})"
        )
    assert all(row["unanswered"] == 0 for row in rows)


# --- exact identities with common random numbers ----------------------------------------------------------


def _rich(blended: bool) -> Scenario:
    """A voice desk with shifts and a break, agents rostered off mid-day, wrap-up and redials, served by a
    group; `blended`: the group also serves a chat department no contact reaches."""
    data: dict[str, Any] = {
        "name": "rich",
        "seed": 5,
        "duration": "8h",
        "interval": "1h",
        "arrivals": {"per_interval": [30, 50, 60, 40, 45, 70, 30, 20]},
        "patience": {"dist": "exponential", "mean": "3m"},
        "redial": {"abandoned": {"probability": 0.5, "delay": "5m"}},
        "departments": {
            "phone": {
                "handle_time": {"dist": "exponential", "mean": "4m"},
                "wrap_time": {"dist": "exponential", "mean": "30s"},
            }
        },
        "agent_groups": {
            "floor": {
                "agents": {
                    "shifts": [
                        {
                            "start": "00:00",
                            "end": "05:00",
                            "count": 2,
                            "breaks": [{"at": "02:00", "length": "15m"}],
                        },
                        {"start": "01:30", "end": "08:00", "count": 2},
                    ]
                },
                "skills": {"phone": 1},
            }
        },
    }
    if blended:
        data["arrivals"]["reasons"] = {"phone": 1.0, "web": 0.0}
        data["departments"]["web"] = {"channel": "chat", "handle_time": "5m"}
        data["agent_groups"]["floor"]["skills"]["web"] = 1
        data["agent_groups"]["floor"]["chat"] = {"slots": 3, "slowdown": [1.0, 1.2, 1.5]}
    return scenario_from_dict(data)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_blended_group_without_chats_answers_calls_as_the_voice_group(seed: int) -> None:
    voice, blended = simulate(_rich(False), seed), simulate(_rich(True), seed)
    assert len(voice.events) > 1000
    assert (blended.events["event"] == "break").sum() == 2
    assert _plain(calls_table(blended)).equals(_plain(calls_table(voice)))
    assert _plain(visits_table(blended)).equals(_plain(visits_table(voice)))
    columns = ["t", "event", "call_id", "agent_id", "department", "detail"]
    assert _plain(blended.events[columns]).equals(_plain(voice.events[columns]))  # every event of the day


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """The table with categorical columns as plain objects (the blended day knows one department more)."""
    return table.astype({name: object for name, kind in table.dtypes.items() if kind == "category"})


def _all_channels() -> dict[str, Any]:
    """Voice, chat and email departments (an email backlog at the open), a blended group with shifts and a
    break, a voice-only group beside it; raw YAML data."""
    return {
        "name": "all-channels-day",
        "seed": 9,
        "duration": "8h",
        "arrivals": {"per_hour": 60, "reasons": {"phone": 0.4, "web": 0.4, "mail": 0.2}},
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {
            "phone": {"handle_time": {"dist": "exponential", "mean": "4m"}, "wrap_time": "20s"},
            "web": {
                "channel": "chat",
                "handle_time": {"dist": "exponential", "mean": "6m"},
                "wrap_time": "30s",
            },
            "mail": {
                "channel": "email",
                "handle_time": {"dist": "exponential", "mean": "5m"},
                "email": {"backlog": 30, "due": "4h"},
            },
        },
        "agent_groups": {
            "floor": {
                "agents": {
                    "shifts": [
                        {
                            "start": "00:00",
                            "end": "05:00",
                            "count": 3,
                            "breaks": [{"at": "02:00", "length": "15m"}],
                        },
                        {"start": "02:00", "end": "08:00", "count": 3},
                    ]
                },
                "skills": {"phone": 1, "web": 1, "mail": 1},
                "chat": {"slots": 3, "slowdown": [1.0, 1.25, 1.5625]},
            },
            "phones": {"agents": 1, "skills": {"phone": 1}},
        },
    }


def _with_priority(data: dict[str, Any], group: list[str] | None, centre: list[str] | None) -> Scenario:
    data = {
        **data,
        "agent_groups": {name: dict(group_data) for name, group_data in data["agent_groups"].items()},
    }
    if group is not None:
        data["agent_groups"]["floor"]["channel_priority"] = group
    if centre is not None:
        data["routing"] = {"channel_priority": centre}
    return scenario_from_dict(data)


def test_the_default_channel_priority_written_out_changes_nothing() -> None:
    plain = simulate(_with_priority(_all_channels(), None, None))
    for group, centre in ((["voice", "chat", "email"], None), (None, ["voice", "chat", "email"])):
        written = simulate(_with_priority(_all_channels(), group, centre))
        assert written.events.equals(plain.events)
    email = load_scenario(ROOT / "scenarios" / "email-backlog.yaml")
    explicit = email.model_copy(
        update={
            "agent_groups": {
                name: group.model_copy(update={"channel_priority": ("voice", "email")})
                if name == "blended"
                else group
                for name, group in email.agent_groups.items()
            }
        }
    )
    assert simulate(explicit).events.equals(simulate(email).events)


# --- bookkeeping from the event table ----------------------------------------------------------------------


def _held(result: RunResult) -> pd.DataFrame:
    """Per agent event in log order: the agent, event, department's channel and what the agent then holds
    (calls or emails, chats)."""
    events = result.events
    channel = {
        name: (department.channel or "voice") for name, department in result.scenario.departments.items()
    }
    mine = events[events["agent_id"] >= 0].copy()
    kind = mine["department"].astype(object).map(channel).fillna("")
    ring, idle = mine["event"] == "ring", mine["event"] == "idle"
    step = np.where(ring, 1, np.where(idle, -1, 0))
    mine["channel"] = kind
    mine["whole"] = (
        pd.Series(np.where(kind != "chat", step, 0), index=mine.index).groupby(mine["agent_id"]).cumsum()
    )
    mine["chats"] = (
        pd.Series(np.where(kind == "chat", step, 0), index=mine.index).groupby(mine["agent_id"]).cumsum()
    )
    return mine


def _waiting_at(result: RunResult, departments: list[str], at: np.ndarray) -> np.ndarray:
    """How many contacts of `departments` are in their queues at each instant (strictly between joining and
    leaving the queue, so a contact taken at that instant does not count; an email never taken leaves at
    the close)."""
    visits = visits_table(result)
    mine = visits[visits["department"].isin(departments)]
    joined = mine["queued_at"].to_numpy(dtype=float)
    left = joined + mine["wait_time"].to_numpy(dtype=float)
    left = np.where(np.isnan(left), result.scenario.duration, left)  # emails left are taken off at the close
    return ((joined[None, :] < at[:, None]) & (at[:, None] < left[None, :])).sum(axis=1)


ORDERS = [
    ["voice", "chat", "email"],
    ["chat", "voice", "email"],
    ["email", "chat", "voice"],
    ["voice", "email", "chat"],
]


@pytest.fixture(scope="module", params=[0, 1, 2, 3], ids=["-".join(order) for order in ORDERS])
def ranked_day(request: pytest.FixtureRequest) -> tuple[list[str], RunResult]:
    order = ORDERS[request.param]
    return order, simulate(_with_priority(_all_channels(), order, None))


def test_an_agent_holds_a_call_or_an_email_alone_and_never_more_chats_than_its_slots(
    ranked_day: tuple[list[str], RunResult],
) -> None:
    _, result = ranked_day
    held = _held(result)
    floor = set(result.agents.loc[result.agents["pool"] == "floor", "agent_id"])
    blended = held[held["agent_id"].isin(floor)]
    assert blended["chats"].max() == 3  # the desk is used to the full
    assert set(blended["whole"]) <= {0, 1}
    assert not ((blended["whole"] > 0) & (blended["chats"] > 0)).any()
    gone = blended[blended["event"].isin(["break", "logout"])]
    assert len(gone) >= 3 and (gone["whole"] == 0).all() and (gone["chats"] == 0).all()
    assert (held["chats"] >= 0).all() and (held["whole"] >= 0).all()


def test_agents_with_chats_take_none_while_a_contact_ranked_above_chat_waits(
    ranked_day: tuple[list[str], RunResult],
) -> None:
    order, result = ranked_day
    held = _held(result)
    floor = set(result.agents.loc[result.agents["pool"] == "floor", "agent_id"])
    rings = held[(held["event"] == "ring") & held["agent_id"].isin(floor)]
    names = {"voice": "phone", "chat": "web", "email": "mail"}
    above = [names[channel] for channel in order[: order.index("chat")]]
    chats_beside = rings[(rings["channel"] == "chat") & (rings["chats"] > 1)]
    assert len(chats_beside) > 20
    if above:
        assert (_waiting_at(result, above, chats_beside["t"].to_numpy()) == 0).all()
    # a call or an email only with nothing else in hand, and none while a channel ranked before it waits
    for channel in ("voice", "email"):
        taken = rings[rings["channel"] == channel]
        assert len(taken) > 20 and (taken["chats"] == 0).all()
        before = [names[other] for other in order[: order.index(channel)]]
        if before:
            assert (_waiting_at(result, before, taken["t"].to_numpy()) == 0).all(), (channel, before)


@pytest.mark.parametrize(("seed", "slots", "order"), [(1, 2, 0), (2, 3, 1), (3, 1, 2), (4, 4, 3)])
def test_the_rules_hold_when_the_roster_sends_agents_off_and_keeps_them_on(
    seed: int, slots: int, order: int
) -> None:
    data = _all_channels()
    data["interval"] = "30m"
    data["agent_groups"]["floor"]["agents"] = [6, 2, 5, 1, 6, 0, 4, 2, 6, 3, 5, 1, 6, 2, 4, 3]
    data["agent_groups"]["floor"]["chat"] = {"slots": slots}
    result = simulate(_with_priority(data, ORDERS[order], None), seed)
    held = _held(result)
    assert set(held["whole"]) <= {0, 1} and held["chats"].max() <= slots and held["chats"].min() >= 0
    assert not ((held["whole"] > 0) & (held["chats"] > 0)).any()
    gone = held[held["event"].isin(["logout", "break"])]
    assert len(gone) > 10 and (gone["whole"] == 0).all() and (gone["chats"] == 0).all()
    calls = calls_table(result)
    still_in = calls[calls["outcome"] == "in_system"]
    emails = {
        name for name, department in result.scenario.departments.items() if department.channel == "email"
    }
    # every call and chat ended: only emails are left at the close, as many as the backlog says
    assert len(still_in) == summary(result)["email_backlog_at_close"]
    assert still_in["first_department"].astype(object).isin(emails).all()


def test_a_chat_and_email_group_works_email_only_with_empty_hands_and_no_chat_waiting() -> None:
    data = _all_channels()
    data["arrivals"] = {"per_hour": 40, "reasons": {"web": 0.7, "mail": 0.3}}
    data["departments"] = {name: data["departments"][name] for name in ("web", "mail")}
    data["agent_groups"] = {"floor": {**data["agent_groups"]["floor"], "skills": {"web": 1, "mail": 1}}}
    result = simulate(scenario_from_dict(data))
    held = _held(result)
    emails = held[(held["event"] == "ring") & (held["channel"] == "email")]
    assert len(emails) > 50
    assert (emails["chats"] == 1 - 1).all()  # the agent held nothing else when it took the email
    assert (_waiting_at(result, ["web"], emails["t"].to_numpy()) == 0).all()
    answered = held[(held["event"] == "answer") & (held["channel"] == "email")]
    assert np.allclose(answered["t"].to_numpy(), emails["t"].to_numpy())  # answered at once, no ring


def test_a_week_carries_the_emails_a_blended_team_leaves_and_its_rules_hold_every_day() -> None:
    data = _all_channels()
    data["departments"]["mail"]["email"] = {"backlog": 120, "due": "24h"}
    data["week"] = {
        "day_types": {"normal": {}},
        "days": [{"name": d, "type": "normal"} for d in ("mon", "tue")],
    }
    monday, tuesday = simulate_week(scenario_from_dict(data), seed=3).results
    left = int(summary(monday)["email_backlog_at_close"])
    assert left > 0 and summary(tuesday)["email_backlog_at_open"] == left
    for day in (monday, tuesday):
        held = _held(day)
        assert set(held["whole"]) <= {0, 1} and held["chats"].max() <= 3
        assert not ((held["whole"] > 0) & (held["chats"] > 0)).any()


# --- the figures of a blended pool ---------------------------------------------------------------------------


def test_a_blended_pools_chat_figures_count_chats_and_its_occupancy_everything() -> None:
    result = simulate(_with_priority(_all_channels(), None, None))
    group = summary(result)["by_group"]["floor"]
    held = _held(result)
    floor = set(result.agents.loc[result.agents["pool"] == "floor", "agent_id"])
    # an independent sweep over the event table: chat-seconds in hand, and seconds with any chat in hand
    chat_seconds = any_chat = anything = logged = 0.0
    for _, rows in held[held["agent_id"].isin(floor)].groupby("agent_id"):
        t = rows["t"].to_numpy()
        spans = np.diff(np.append(t, result.scenario.duration).clip(max=result.scenario.duration))
        chats, whole = rows["chats"].to_numpy(), rows["whole"].to_numpy()
        on = np.cumsum(
            np.where(
                rows["event"].isin(["login", "back"]),
                1,
                np.where(rows["event"].isin(["logout", "break"]), -1, 0),
            )
        )
        chat_seconds += float((chats * spans).sum())
        any_chat += float(((chats > 0) * spans).sum())
        anything += float((((chats > 0) | (whole > 0)) * spans).sum())
        logged += float(((on > 0) * spans).sum())
    assert group["slot_use"] == pytest.approx(chat_seconds / (3 * logged), rel=1e-9)
    assert group["chat_occupancy"] == pytest.approx(any_chat / logged, rel=1e-9)
    assert group["occupancy"] == pytest.approx(anything / logged, rel=1e-9)
    assert group["occupancy"] > group["chat_occupancy"] + 0.1  # calls and emails are busy time, not chat time


# --- refusals ---------------------------------------------------------------------------------------------------


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    return str(caught.value)


def _changed(path: str, value: Any) -> dict[str, Any]:
    data = _all_channels()
    data["agent_groups"] = {name: dict(group) for name, group in data["agent_groups"].items()}
    data["departments"] = {name: dict(department) for name, department in data["departments"].items()}
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "where", "message"),
    [
        (
            "agent_groups.floor.channel_priority",
            ["voice", "chat"],
            r"agent_groups\.floor\.channel_priority:",
            "leaves out email",
        ),
        (
            "agent_groups.floor.channel_priority",
            ["voice", "chat", "email", "chat"],
            r"agent_groups\.floor\.channel_priority\[3\]",
            "chat is listed twice",
        ),
        (
            "agent_groups.phones.channel_priority",
            ["chat", "voice"],
            r"agent_groups\.phones\.channel_priority\[0\]",
            "serves no chat department",
        ),
        (
            "agent_groups.floor.channel_priority",
            ["voice", "fax", "chat"],
            r"agent_groups\.floor\.channel_priority",
            "voice",
        ),
        ("routing.channel_priority", ["chat", "voice"], r"routing\.channel_priority:", "leaves out email"),
        (
            "routing.channel_priority",
            ["chat", "voice", "email", "voice"],
            r"routing\.channel_priority\[3\]",
            "voice is listed twice",
        ),
        ("routing.call_choice", "longest_waiting", r"routing\.call_choice:", "blended group 'floor'"),
        (
            "agent_groups.floor.call_choice",
            "weighted",
            r"agent_groups\.floor\.call_choice:",
            "other call choices are not modelled",
        ),
        (
            "departments.web.agent_choice",
            "random",
            r"departments\.web\.agent_choice:",
            "fewest chats in hand",
        ),
        (
            "departments.phone.overflow",
            {"after": "30s", "to": ["floor"]},
            r"departments\.phone\.overflow\.to\[0\]",
            "overflow to blended group 'floor'",
        ),
        (
            "agent_groups.phones.chat",
            {"slots": 2},
            r"agent_groups\.phones\.chat:",
            "a chat desk only for a group with chat departments",
        ),
        (
            "outbound",
            {"pool": "floor", "list": 10, "dial_time": "20s", "right_party": 0.5, "talk_time": "3m"},
            r"outbound\.pool",
            "serves chat departments",
        ),
    ],
)
def test_what_blending_cannot_mean_is_refused_where_it_is_written(
    path: str, value: Any, where: str, message: str
) -> None:
    text = _refused(_changed(path, value))
    assert re.search(where, text), text
    assert message in text, text


def test_a_group_mixing_voice_chat_and_email_is_accepted() -> None:
    scenario = scenario_from_dict(_all_channels())
    assert set(scenario.agent_groups["floor"].skills) == {"phone", "web", "mail"}


def test_the_reference_model_refuses_blended_agents_by_name() -> None:
    with pytest.raises(
        ValueError,
        match=r"does not model blended agents \(agent groups serving chat and another channel: floor\)",
    ):
        simulate_reference(scenario_from_dict(_all_channels()))
