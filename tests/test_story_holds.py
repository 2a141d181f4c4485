"""`callsim trace` on holds, callbacks and redials: the exact story lines and timeline segments of tiny
deterministic scenarios (the hold scenarios of tests/test_holds.py, the trace builders of
tests/test_traces.py), and an ending sentence for every outcome of a busy random day."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from sim.analysis.tables import OUTCOMES, calls_table
from sim.engine.day import RunResult, simulate
from sim.model.durations import format_clock
from sim.model.loading import scenario_from_dict
from sim.output.story import tell
from sim.output.timeline import COLOURS, segments
from tests.test_holds import _one_call
from tests.test_traces import run_trace, support

AGENT = "support agent 1"
QUEUE = "support queue"


def story(result: RunResult, call_id: int = 1) -> list[tuple[float, str]]:
    """The story of a call as (seconds after the start, text) pairs."""
    lines = tell(result.events, result.agents, result.scenario, result.reason_names, call_id, result.ended_at)
    return [(round(line.at, 6), line.text) for line in lines]


def drawn(result: RunResult, call_id: int = 1) -> list[tuple[str, str, float, float]]:
    """The timeline segments of a call as (row, kind, start, end), times rounded."""
    found = segments(result.events, result.agents, result.scenario, call_id, result.ended_at)
    return [(s.row, s.kind, round(s.start, 6), round(s.end, 6)) for s in found]


def held_at(result: RunResult) -> float:
    """When the (only) hold began: a uniformly drawn point of the talk, so expected times are relative."""
    events = result.events
    return round(float(events.loc[events["event"] == "hold", "t"].iloc[0]), 6)


OPENING = [
    (0.0, "calls about support."),
    (0.0, "waits in the support queue."),
    (0.0, f"{AGENT} picks up at once."),
    (0.0, f"{AGENT} answers: the caller's first agent."),
]


def test_promise_kept(tmp_path: Path) -> None:
    # Talk 100 s, research 50 s within the 60 s promise: back after 50 s, the call ends at 150 s.
    result = _one_call(tmp_path, {})
    h = held_at(result)
    assert story(result) == [
        *OPENING,
        (h, f"{AGENT} puts the caller on hold, promising 1m."),
        (round(h + 50, 6), f"{AGENT} comes back with the answer after 50s on hold."),
        (150.0, f"{AGENT} resolves it. Resolved after 1 agent, 2m 30s."),
    ]


def test_promise_overrun_then_keep_holding(tmp_path: Path) -> None:
    # Research 150 s, promise 60 s: check back at +60 (10 s), hold on from +70, check back at +130, hold on
    # from +140, back at +170 (2m 50s on hold, check-backs included); talk ends at 100 + 150 + 20 = 270 s,
    # then 20 s of wrap-up.
    result = _one_call(
        tmp_path, {"departments": {"support": {"wrap_time": "20s", "hold": {"duration": "150s"}}}}
    )
    h = held_at(result)
    at = [round(h + offset, 6) for offset in (60, 70, 130, 140, 170)]
    assert story(result) == [
        *OPENING,
        (h, f"{AGENT} puts the caller on hold, promising 1m."),
        (at[0], f"the promise runs out: {AGENT} checks back (10s)."),
        (at[1], "the caller keeps holding."),
        (at[2], f"the promise runs out: {AGENT} checks back (10s)."),
        (at[3], "the caller keeps holding."),
        (at[4], f"{AGENT} comes back with the answer after 2m 50s on hold."),
        (270.0, f"{AGENT} resolves it. Resolved after 1 agent, 4m 30s."),
    ]
    # The timeline: talk and hold alternate on the agent's row (check-backs are talk), then the wrap-up.
    assert drawn(result) == [
        (AGENT, "talk", 0.0, h),
        (AGENT, "hold", h, at[0]),
        (AGENT, "talk", at[0], at[1]),
        (AGENT, "hold", at[1], at[2]),
        (AGENT, "talk", at[2], at[3]),
        (AGENT, "hold", at[3], at[4]),
        (AGENT, "talk", at[4], 270.0),
        (AGENT, "wrap-up", 270.0, 290.0),
    ]


def test_overrun_then_callback_dialled_and_answered(tmp_path: Path) -> None:
    # At the first check-back the caller takes a callback (+70 s) and hangs up; the agent wraps up (20 s),
    # then dials them (15 s) and serves the talk and research left: (100 - h) + 90 s, ending at 295 s.
    result = _one_call(
        tmp_path,
        {
            "departments": {
                "support": {"wrap_time": "20s", "hold": {"duration": "150s", "callback_share": 1.0}}
            },
            "callback": {"accept": 0.0, "dial_time": "15s", "answer_probability": 1.0},
        },
    )
    h = held_at(result)
    check, request, dial, answer = (round(h + offset, 6) for offset in (60, 70, 90, 105))
    assert story(result) == [
        *OPENING,
        (h, f"{AGENT} puts the caller on hold, promising 1m."),
        (check, f"the promise runs out: {AGENT} checks back (10s)."),
        (request, "takes a callback instead of holding, and hangs up."),
        (request, "the callback waits for an agent in the support queue."),
        (dial, f"{AGENT} dials the caller back, 20s after the request."),
        (answer, f"the caller answers the callback after 15s: {AGENT} again, the caller's second agent."),
        (295.0, f"{AGENT} resolves it. Resolved after 2 agents, 4m 55s."),
    ]
    # The agent's first bar ends when the caller takes the callback: wrap-up, then the dial-out; the
    # caller waits for the callback off the line meanwhile.
    assert drawn(result) == [
        (AGENT, "talk", 0.0, h),
        (AGENT, "hold", h, check),
        (AGENT, "talk", check, request),
        (AGENT, "wrap-up", request, dial),
        (QUEUE, "callback wait", request, dial),
        (AGENT, "dialling", dial, answer),
        (AGENT, "talk", answer, 295.0),
        (AGENT, "wrap-up", 295.0, 315.0),
    ]


def test_hung_up_on_hold_then_calls_again(tmp_path: Path) -> None:
    # Hold patience 30 s < research 50 s: the caller hangs up 30 s into the hold, and calls again 60 s later.
    result = _one_call(
        tmp_path,
        {
            "start": "09:00",
            "departments": {"support": {"hold": {"patience": "30s"}}},
            "redial": {"abandoned": {"probability": 1.0, "delay": "60s"}, "max_attempts": 2},
        },
    )
    h = held_at(result)
    assert story(result) == [
        *OPENING,
        (h, f"{AGENT} puts the caller on hold, promising 1m."),
        (round(h + 30, 6), "hangs up on hold after 30s: abandoned on hold."),
        (round(h + 90, 6), f"calls again at {format_clock(9 * 3600 + h + 90)} (call 2)."),
    ]
    assert story(result, 2)[0] == (round(h + 90, 6), "calls again (attempt 2; first call 1) about support.")
    assert drawn(result) == [(AGENT, "talk", 0.0, h), (AGENT, "hold", h, round(h + 30, 6))]


def test_virtual_hold_callback_missed_then_retried(tmp_path: Path) -> None:
    # One agent busy with call 1 until 100 s. Call 2 (1 s) is told 1m 40s, accepts a callback and keeps its
    # place; dialled at 100 s (15 s, no answer), queued again after 60 s, dialled at 175 s: no answer,
    # and with one retry allowed the callback is given up at 190 s.
    data = {
        **support(handle_time="100s"),
        "callback": {
            "offer_when_wait_over": "30s",
            "accept": 1.0,
            "dial_time": "15s",
            "answer_probability": 0.0,
            "retries": 1,
            "retry_delay": "60s",
        },
    }
    result = run_trace(tmp_path, data, [(0, ""), (1, "")])
    assert story(result, 2) == [
        (1.0, "calls about support."),
        (1.0, "waits in the support queue."),
        (1.0, "is offered a callback (estimated wait 1m 40s)."),
        (1.0, "accepts a callback and hangs up; keeps their place in the queue."),
        (1.0, "the callback waits for an agent in the support queue."),
        (100.0, f"{AGENT} dials the caller back, 1m 39s after the request."),
        (115.0, "no answer after 15s of ringing."),
        (175.0, "the callback waits for an agent again."),
        (175.0, f"{AGENT} dials the caller back again (try 2), 2m 54s after the request."),
        (190.0, "no answer after 15s of ringing."),
        (190.0, "the centre gives up calling back after 2 tries: callback failed."),
    ]
    assert drawn(result, 2) == [
        (QUEUE, "callback wait", 1.0, 100.0),
        (AGENT, "dialling", 100.0, 115.0),
        (QUEUE, "callback wait", 115.0, 175.0),
        (AGENT, "dialling", 175.0, 190.0),
    ]


def test_redial_after_abandoning_the_queue(tmp_path: Path) -> None:
    # Call 1 talks 0-100. Call 2 (10 s, patience 20 s) hangs up at 30 s and calls again at 90 s as call 3,
    # which waits until the agent is free at 100 s and talks to 200 s.
    data = {
        **support(handle_time="100s"),
        "start": "09:00",
        "patience": "20s",
        "redial": {"abandoned": {"probability": 1.0, "delay": "60s"}, "max_attempts": 2},
    }
    result = run_trace(tmp_path, data, [(0, ""), (10, "")])
    assert story(result, 2) == [
        (10.0, "calls about support."),
        (10.0, "waits in the support queue."),
        (30.0, "hangs up after 20s in the support queue: abandoned."),
        (90.0, "calls again at 09:01 (call 3)."),
    ]
    assert story(result, 3) == [
        (90.0, "calls again (attempt 2; first call 2) about support."),
        (90.0, "waits in the support queue."),
        (100.0, f"{AGENT} picks up after 10s in the queue."),
        (100.0, f"{AGENT} answers: the caller's first agent."),
        (200.0, f"{AGENT} resolves it. Resolved after 1 agent, 1m 50s."),
    ]


def test_calls_still_there_at_the_stop_say_where(tmp_path: Path) -> None:
    # No drain: the run stops at the close (3600 s) with call 1 talking and call 2 queued behind it.
    data = {**support(handle_time="100s"), "drain": 0}
    result = run_trace(tmp_path, data, [(3560, ""), (3570, "")])
    assert story(result, 1)[-1] == (3600.0, f"is still talking to {AGENT} when the run stops.")
    assert story(result, 2)[-1] == (3600.0, "is still waiting in the support queue when the run stops.")
    assert drawn(result, 2) == [(QUEUE, "queue", 3570.0, 3600.0)]


def _everything() -> dict[str, Any]:
    """A busy hour with every way a call can end: few lines, a menu that resolves and misroutes, no
    transfers allowed, impatient callers, holds with hold patience, callbacks rarely answered, no drain."""
    return {
        "name": "everything",
        "duration": "1h",
        "interval": "30m",
        "drain": "5m",
        "lines": 9,
        "arrivals": {"per_hour": 260, "reasons": {"billing": 0.6, "technical": 0.4}},
        "patience": {"dist": "exponential", "mean": "2m"},
        "ivr": {"menu_time": "10s", "accuracy": 0.7, "self_service": {"billing": 0.2}},
        "max_transfers": 0,
        "on_max_transfers": "hang_up",
        "callback": {"offer_when_wait_over": "60s", "accept": 0.5, "answer_probability": 0.3, "retries": 0},
        "redial": {
            "blocked": {"probability": 0.5, "delay": "2m"},
            "abandoned": {"probability": 0.5, "delay": "5m"},
        },
        "departments": {
            "billing": {
                "agents": 3,
                "handle_time": {"dist": "exponential", "mean": "3m"},
                "hold": {
                    "probability": 0.5,
                    "duration": {"dist": "exponential", "mean": "90s"},
                    "patience": {"dist": "exponential", "mean": "1m"},
                    "callback_share": 0.3,
                },
            },
            "technical": {
                "agents": 2,
                "handle_time": {"dist": "exponential", "mean": "4m"},
                "queue_capacity": 2,
                "when_full": "message",
            },
        },
    }


ENDINGS = {
    "answered": r"^\w+ agent \d+ resolves it\. Resolved after \d+ agents?, [\dhms ]+\.$",
    "abandoned": r"^hangs up after [\dhms ]+ (in the \w+ queue|while it rang): abandoned\.$",
    "blocked": r"^hears a busy signal: every line is taken\. Blocked\.$",
    "in_system": r"^is still .+ when the run stops\.$",
    "self_service": r"^the menu resolves it without an agent after [\dhms ]+: self-service\.$",
    "dropped": r"^\w+ agent \d+ cannot resolve a \w+ question; .+ gives up unresolved, .+: dropped\.$",
    "abandoned_on_hold": r"^hangs up on hold after [\dhms ]+: abandoned on hold\.$",
    "callback_failed": r"^the centre gives up calling back after \d+ tr(y|ies): callback failed\.$",
    "message": r"^nobody in \w+ is free and the queue was full; the caller left a message\.$",
}


def test_every_outcome_has_its_ending_sentence() -> None:
    result = simulate(scenario_from_dict(_everything()), seed=3)
    calls = calls_table(result)
    assert set(calls["outcome"].astype(str)) == set(OUTCOMES) == set(ENDINGS)
    redialled = set(result.events.loc[result.events["event"] == "redial", "detail"].astype(int))
    for call_id, outcome in zip(calls["call_id"], calls["outcome"].astype(str), strict=True):
        lines = story(result, int(call_id))
        if int(call_id) in redialled:
            assert re.fullmatch(r"calls again at \d\d:\d\d \(call \d+\)\.", lines.pop()[1])
        assert re.match(ENDINGS[outcome], lines[-1][1]), (call_id, outcome, lines[-1])
        assert all(re.search(pattern, text) is None for _, text in lines[:-1] for pattern in ENDINGS.values())


def test_segments_on_a_row_never_overlap() -> None:
    result = simulate(scenario_from_dict(_everything()), seed=3)
    calls = calls_table(result)
    for call_id, outcome, ended_at in zip(calls["call_id"], calls["outcome"], calls["ended_at"], strict=True):
        found = segments(result.events, result.agents, result.scenario, int(call_id), result.ended_at)
        assert all(s.kind in COLOURS and s.start < s.end <= result.ended_at for s in found)
        caller_side = [s for s in found if s.kind in ("menu", "queue", "callback wait")]
        assert all(s.end <= ended_at for s in caller_side if outcome != "in_system"), (call_id, found)
        assert outcome != "blocked" or not found
        for row in {s.row for s in found}:
            mine = [s for s in found if s.row == row]
            assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(mine)), (call_id, mine)
