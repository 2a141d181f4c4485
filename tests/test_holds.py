"""Holds, callbacks and redials: exact traces of deterministic cases, properties over random days, and
metamorphic checks under common random numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.analysis.episodes import callback_table, hold_table
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.day import RunResult, simulate
from sim.model.loading import scenario_from_dict
from tests.conftest import deep_merge


def _trace(result: RunResult, events: tuple[str, ...] | None = None) -> list[tuple[float, str, int, int]]:
    frame = result.events
    rows = zip(frame["t"], frame["event"], frame["call_id"], frame["agent_id"], strict=True)
    return [
        (round(float(t), 6), str(e), int(c), int(a))
        for t, e, c, a in rows
        if events is None or str(e) in events
    ]


def _one_call(tmp_path: Path, changes: dict[str, Any]) -> RunResult:
    (tmp_path / "calls.csv").write_text("at\n0\n", encoding="utf-8")
    base = {
        "name": "hold",
        "duration": "1h",
        "interval": "1h",
        "arrivals": {"trace": str(tmp_path / "calls.csv")},
        "departments": {
            "support": {
                "agents": 1,
                "handle_time": "100s",
                "hold": {"probability": 1.0, "duration": "50s", "promise": "60s", "check_back_time": "10s"},
            }
        },
    }
    return simulate(scenario_from_dict(deep_merge(base, changes)))


HOLD_EVENTS = ("answer", "hold", "check_back", "unhold", "abandon_on_hold", "callback_request", "end", "idle")


def test_promise_kept(tmp_path: Path) -> None:
    # Research 50 s < promise 60 s: on hold at the split point, back after 50 s, talk resumes.
    result = _one_call(tmp_path, {})
    trace = _trace(result, HOLD_EVENTS)
    (_, _, _, _), (held_at, *_), (back_at, *_), (end_at, *_), _ = trace
    assert [e for _, e, _, _ in trace] == ["answer", "hold", "unhold", "end", "idle"]
    assert back_at - held_at == pytest.approx(50.0)
    assert end_at == pytest.approx(150.0)  # 100 s of talk + 50 s of hold
    holds = hold_table(result.events)
    assert holds["hold_time"].tolist() == pytest.approx([50.0]) and not holds["overrun"].any()
    call = calls_table(result).iloc[0]
    assert call["talk_time"] == pytest.approx(100.0) and call["hold_time"] == pytest.approx(50.0)


def test_overrun_then_keep_holding(tmp_path: Path) -> None:
    # Research 150 s, promise 60 s: check back at 60 s (10 s), hold on, check back at 130 s, back at 160 s.
    result = _one_call(tmp_path, {"departments": {"support": {"hold": {"duration": "150s"}}}})
    trace = _trace(result, HOLD_EVENTS)
    held_at = trace[1][0]
    assert [e for _, e, _, _ in trace] == [
        "answer",
        "hold",
        "check_back",
        "check_back",
        "unhold",
        "end",
        "idle",
    ]
    assert [round(t - held_at, 6) for t, *_ in trace[2:5]] == [60.0, 130.0, 170.0]
    holds = hold_table(result.events).iloc[0]
    assert holds["check_backs"] == 2 and holds["overrun"]
    assert holds["hold_time"] == pytest.approx(150.0) and holds["check_back_time"] == pytest.approx(20.0)
    assert trace[-2][0] == pytest.approx(100.0 + 150.0 + 20.0)  # talk + research + check-backs


def test_overrun_then_callback(tmp_path: Path) -> None:
    # At the first check-back the caller takes a callback: they hang up at hold + 70 s and the callback
    # queues; the agent (no wrap) is free at once and dials them back: the remaining talk + the 90 s of
    # research left, with no second hold (the research is what the callback waited for).
    result = _one_call(
        tmp_path,
        {
            "departments": {"support": {"hold": {"duration": "150s", "callback_share": 1.0}}},
            "callback": {"accept": 0.0, "dial_time": "15s", "answer_probability": 1.0},
        },
    )
    trace = _trace(result)
    names = [e for _, e, _, _ in trace if e not in ("login",)]
    assert names == [
        "arrive", "enqueue", "ring", "answer", "hold", "check_back", "callback_request", "callback_queue",
        "idle", "ring", "callback_dial", "answer", "end", "idle",
    ]  # fmt: skip
    held_at = next(t for t, e, _, _ in trace if e == "hold")
    request_at = next(t for t, e, _, _ in trace if e == "callback_request")
    assert request_at - held_at == pytest.approx(70.0)
    answer_again = [t for t, e, _, _ in trace if e == "answer"][1]
    end_at = next(t for t, e, _, _ in trace if e == "end")
    talked_before = held_at - 0.0
    assert end_at - answer_again == pytest.approx((100.0 - talked_before) + 90.0)
    call = calls_table(result).iloc[0]
    assert call["outcome"] == "answered" and call["via_callback"] and call["callback_requested"]
    callbacks = callback_table(result.events)
    assert callbacks["origin"].tolist() == ["hold"] and callbacks["reached"].tolist() == [True]


def test_callback_not_answered_then_retried(tmp_path: Path) -> None:
    # Two callers, one agent, virtual hold offered to the second (estimated wait 100 s > 30 s): it accepts,
    # keeps its place; the agent finishes call 1 at 100 s, dials call 2 (15 s): no answer; retried 60 s later
    # (answer_probability 0 means every dial fails: after 1 retry the callback is given up).
    (tmp_path / "calls.csv").write_text("at\n0\n1\n", encoding="utf-8")
    data = {
        "name": "callback",
        "duration": "1h",
        "interval": "1h",
        "arrivals": {"trace": str(tmp_path / "calls.csv")},
        "callback": {
            "offer_when_wait_over": "30s",
            "accept": 1.0,
            "dial_time": "15s",
            "answer_probability": 0.0,
            "retries": 1,
            "retry_delay": "60s",
        },
        "departments": {"support": {"agents": 1, "handle_time": "100s"}},
    }
    result = simulate(scenario_from_dict(data))
    assert _trace(result) == [
        (0.0, "login", -1, 0),
        (0.0, "arrive", 1, -1),
        (0.0, "enqueue", 1, -1),
        (0.0, "ring", 1, 0),
        (0.0, "answer", 1, 0),
        (1.0, "arrive", 2, -1),
        (1.0, "enqueue", 2, -1),
        (1.0, "callback_offer", 2, -1),
        (1.0, "callback_request", 2, -1),
        (1.0, "callback_queue", 2, -1),
        (100.0, "end", 1, 0),
        (100.0, "idle", 1, 0),
        (100.0, "ring", 2, 0),
        (100.0, "callback_dial", 2, 0),
        (115.0, "callback_missed", 2, 0),
        (115.0, "idle", 2, 0),
        (175.0, "callback_queue", 2, -1),
        (175.0, "ring", 2, 0),
        (175.0, "callback_dial", 2, 0),
        (190.0, "callback_missed", 2, 0),
        (190.0, "callback_failed", 2, 0),
        (190.0, "idle", 2, 0),
    ]
    kpis = summary(result)
    assert (
        kpis["callbacks_offered"] == 1 and kpis["callbacks_accepted"] == 1 and kpis["callbacks_failed"] == 1
    )
    assert kpis["abandoned"] == 0  # accepting a callback is not abandoning
    assert kpis["callback_answer_rate"] == 0.0 and kpis["mean_time_to_callback"] == pytest.approx(99.0)


def _busy_day(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "busy",
        "duration": "3h",
        "interval": "30m",
        "lines": 30,
        "arrivals": {"per_hour": 160, "reasons": {"billing": 0.6, "technical": 0.4}},
        "patience": {"dist": "exponential", "mean": "2m"},
        "redial": {
            "blocked": {"probability": 0.7, "delay": {"dist": "exponential", "mean": "3m"}},
            "abandoned": {"probability": 0.5, "delay": {"dist": "exponential", "mean": "10m"}},
        },
        "departments": {
            "billing": {
                "agents": 6,
                "handle_time": {"dist": "lognormal", "mean": "4m", "cv": 0.8},
                "hold": {
                    "probability": 0.3,
                    "max_holds": 2,
                    "duration": {"dist": "exponential", "mean": "80s"},
                    "promise": "60s",
                    "patience": {"dist": "exponential", "mean": "3m"},
                    "callback_share": 0.4,
                },
            },
            "technical": {
                "agents": 5,
                "handle_time": {"dist": "exponential", "mean": "5m"},
                "wrap_time": "20s",
            },
        },
    }
    return deep_merge(base, changes)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_call_lost_or_counted_twice_across_attempts_and_callbacks(seed: int) -> None:
    data = _busy_day(callback={"offer_when_wait_over": "45s", "accept": 0.6, "answer_probability": 0.7})
    result = simulate(scenario_from_dict(data), seed=seed)
    calls = calls_table(result)
    events = result.events
    kpis = summary(result)
    ends = ("answered", "abandoned", "blocked", "in_system", "dropped", "abandoned_on_hold")
    assert sum(kpis[k] for k in ends) + kpis["callbacks_failed"] == kpis["offered"] == len(calls)
    terminal = events[events["event"].isin(["block", "abandon", "end", "abandon_on_hold", "callback_failed"])]
    assert terminal["call_id"].is_unique  # each call ends once
    assert set(terminal["call_id"]) == set(calls["call_id"])  # the day drains: every call ended
    assert calls["call_id"].is_unique and kpis["unique_callers"] <= len(calls)
    redials = events[events["event"] == "redial"]
    previous = calls.set_index("call_id").loc[redials["detail"].astype(int)]
    assert previous["outcome"].isin(["blocked", "abandoned", "abandoned_on_hold"]).all()  # only those redial
    assert (calls["attempt"] <= 3).all()
    # A callback is never dialled before it was accepted.
    callbacks = callback_table(events)
    assert (
        callbacks["first_dial_at"].dropna()
        >= callbacks.loc[callbacks["first_dial_at"].notna(), "requested_at"]
    ).all()
    for call_id, mine in events[events["event"].isin(["callback_request", "callback_dial"])].groupby(
        "call_id"
    ):
        assert str(mine["event"].iloc[0]) == "callback_request", call_id


@pytest.mark.parametrize("seed", [4, 5])
def test_holds_stay_inside_their_conversation(seed: int) -> None:
    result = simulate(scenario_from_dict(_busy_day()), seed=seed)
    events = result.events
    holds = hold_table(events)
    assert len(holds) > 20
    answers = events[events["event"] == "answer"][["call_id", "agent_id", "t"]]
    closes = events[events["event"].isin(["end", "transfer", "abandon_on_hold", "callback_request"])]
    for hold in holds.itertuples(index=False):
        opened = answers[(answers["call_id"] == hold.call_id) & (answers["agent_id"] == hold.agent_id)]
        assert (opened["t"] <= hold.held_at).any()
        later = closes[(closes["call_id"] == hold.call_id) & (closes["t"] >= hold.ended_at)]
        assert len(later), f"hold of call {hold.call_id} ends after its conversation"
        assert hold.hold_time <= hold.ended_at - hold.held_at + 1e-9


def _paired(base: dict[str, Any], variant: dict[str, Any], key: str, reps: int = 8) -> np.ndarray:
    """Per replication, variant KPI minus base KPI (same seed and replication: common random numbers)."""
    one, two = scenario_from_dict(base), scenario_from_dict(variant)
    return np.array(
        [
            summary(simulate(two, replication=r))[key] - summary(simulate(one, replication=r))[key]
            for r in range(reps)
        ]
    )


def test_offering_callbacks_lowers_queue_abandonment() -> None:
    base = _busy_day(redial=None)
    offered = deep_merge(base, {"callback": {"offer_when_wait_over": "30s", "accept": 0.6}})
    differences = _paired(base, offered, "abandon_rate")
    # Callers who would have waited longest hang up instead of abandoning: a large, consistent effect.
    assert (differences < 0).all(), differences


def test_longer_promises_lower_overrun_rates() -> None:
    base = _busy_day()
    longer = deep_merge(base, {"departments": {"billing": {"hold": {"promise": "120s"}}}})
    differences = _paired(base, longer, "hold_overrun_rate")
    # Same callers and the same research times: a research time over 120 s is also over 60 s.
    assert (differences < 0).all(), differences


def test_talk_before_a_hold_the_caller_left_is_talk_time_and_aht_counts_holds(tmp_path: Path) -> None:
    # The caller hangs up 30 s into a hold: the talk before it is agent talk time all the same, and the
    # handle time of a call counts its holds (talk + hold + wrap-up).
    result = _one_call(
        tmp_path,
        {"departments": {"support": {"wrap_time": "5s", "hold": {"duration": "150s", "patience": "30s"}}}},
    )
    trace = _trace(result, HOLD_EVENTS)
    assert [e for _, e, _, _ in trace] == ["answer", "hold", "abandon_on_hold", "idle"]
    answered_at, held_at, left_at = (t for t, *_ in trace[:3])
    call = calls_table(result).iloc[0]
    assert call["outcome"] == "abandoned_on_hold"
    assert call["talk_time"] == pytest.approx(held_at - answered_at)
    assert call["hold_time"] == pytest.approx(left_at - held_at) == pytest.approx(30.0)
    promise_kept = summary(_one_call(tmp_path, {}))
    assert promise_kept["aht"] == pytest.approx(100.0 + 50.0)  # talk 100 s + hold 50 s, no wrap-up


def test_talk_before_a_hold_that_became_a_callback_is_talk_time(tmp_path: Path) -> None:
    result = _one_call(
        tmp_path,
        {
            "departments": {"support": {"hold": {"duration": "150s", "callback_share": 1.0}}},
            "callback": {"accept": 0.0, "dial_time": "15s", "answer_probability": 1.0},
        },
    )
    trace = _trace(result)
    answers = [t for t, e, _, _ in trace if e == "answer"]
    held_at = next(t for t, e, _, _ in trace if e == "hold")
    end_at = next(t for t, e, _, _ in trace if e == "end")
    call = calls_table(result).iloc[0]
    # First conversation: talk until the hold, plus the 10 s check-back; second: from the answer to the end.
    assert call["talk_time"] == pytest.approx((held_at - answers[0]) + 10.0 + (end_at - answers[1]))


def _window_case(tmp_path: Path, window: str) -> RunResult:
    # One agent busy with call 1 (0-100 s). Call 2 (t=1) is told 100 s and waits; call 3 (t=2) is told
    # 200 s, over 150 s, takes a callback after every live caller. With a 120 s window it is due 20 s
    # later (120 s less the 100 s the front of the queue takes to reach the one agent) and moves ahead.
    (tmp_path / "calls.csv").write_text("at\n0\n1\n2\n", encoding="utf-8")
    data = {
        "name": "window",
        "duration": "1h",
        "interval": "1h",
        "arrivals": {"trace": str(tmp_path / "calls.csv")},
        "callback": {
            "offer_when_wait_over": "150s",
            "accept": 1.0,
            "keep_place": False,
            "window": window,
            "dial_time": "0s",
            "answer_probability": 1.0,
        },
        "departments": {"support": {"agents": 1, "handle_time": "100s"}},
    }
    return simulate(scenario_from_dict(data))


def test_a_callback_is_moved_ahead_when_its_window_runs_out(tmp_path: Path) -> None:
    due = _window_case(tmp_path, "120s")
    trace = _trace(due, ("callback_request", "callback_due", "ring"))
    assert trace == [
        (0.0, "ring", 1, 0),
        (2.0, "callback_request", 3, -1),
        (22.0, "callback_due", 3, -1),
        (100.0, "ring", 3, 0),
        (200.0, "ring", 2, 0),
    ]
    assert summary(due)["callback_promise_kept"] == 1.0
    relaxed = _window_case(tmp_path, "2h")
    assert [c for _, e, c, _ in _trace(relaxed, ("ring",))] == [1, 2, 3]  # live callers first
    assert "callback_due" not in set(relaxed.events["event"].astype(str))


def test_a_callback_answered_is_not_a_first_contact_resolution(tmp_path: Path) -> None:
    result = _window_case(tmp_path, "2h")
    calls = calls_table(result).set_index("call_id")
    assert calls.loc[3, "outcome"] == "answered" and calls.loc[3, "agents_touched"] == 1
    assert calls.loc[3, "via_callback"]
    assert summary(result)["first_contact_resolution"] == pytest.approx(2 / 3)  # calls 1 and 2 only


def test_a_callback_window_is_kept_more_often_than_without_one() -> None:
    # Same callers: callbacks with a 5-minute window are first dialled within 5 minutes more often than the
    # same callbacks with a 2-hour window (which wait behind every live caller until the queue empties).
    base = _busy_day(
        redial=None, callback={"offer_when_wait_over": "60s", "accept": 0.6, "keep_place": False}
    )
    relaxed = scenario_from_dict(deep_merge(base, {"callback": {"window": "2h"}}))
    promised = scenario_from_dict(deep_merge(base, {"callback": {"window": "5m"}}))

    def within_five_minutes(scenario: Any, replication: int) -> float:
        callbacks = callback_table(simulate(scenario, replication=replication).events)
        return float((callbacks["time_to_callback"] <= 300.0 + 1e-9).mean())

    differences = np.array(
        [within_five_minutes(promised, r) - within_five_minutes(relaxed, r) for r in range(8)]
    )
    assert (differences > 0).all(), differences
