"""Exact event traces of tiny deterministic scenarios, each derived by hand from the README's model.

A trace is the list of `(t, event, call_id, agent_id, department)` rows of `result.events` (department None
where it does not apply). Arrivals are replayed from a CSV (`at,reason`, seconds after the start), and every
duration is fixed, so each instant below follows from the rules alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.tables import calls_table
from sim.engine.day import RunResult, simulate
from sim.model.loading import scenario_from_dict

Row = tuple[float, str, int, int, str | None]


def trace_of(result: RunResult) -> list[Row]:
    """The event table as `(t, event, call_id, agent_id, department)` tuples, in table order."""
    events = result.events
    return [
        (float(t), str(event), int(call), int(agent), None if pd.isna(department) else str(department))
        for t, event, call, agent, department in zip(
            events["t"],
            events["event"],
            events["call_id"],
            events["agent_id"],
            events["department"],
            strict=True,
        )
    ]


def run_trace(tmp_path: Path, data: dict[str, Any], calls: Sequence[tuple[float, str]]) -> RunResult:
    """Simulate `data` with arrivals replayed from a trace of `(seconds after start, reason)` rows."""
    path = tmp_path / "calls.csv"
    path.write_text("at,reason\n" + "".join(f"{at!r},{reason}\n" for at, reason in calls), encoding="utf-8")
    data = {**data, "arrivals": {**data.get("arrivals", {}), "trace": str(path)}}
    return simulate(scenario_from_dict(data))


def support(**department: Any) -> dict[str, Any]:
    """A one-department scenario (`support`, one hour, 30-minute intervals) with the given department keys."""
    return {
        "name": "trace",
        "duration": "1h",
        "interval": "30m",
        "departments": {"support": {"agents": 1, "handle_time": "30s", **department}},
    }


def outcomes(result: RunResult) -> dict[int, str]:
    """Each call's outcome by call id."""
    calls = calls_table(result)
    return dict(zip(calls["call_id"].astype(int), calls["outcome"].astype(str), strict=True))


S = "support"


def test_immediate_answer(tmp_path: Path) -> None:
    """A caller finding an idle agent is taken, rung and answered at once, and leaves after the handle time."""
    # One agent, logged in at 0. Call 1 at 5 s: queue, ring and answer at 5 (no rings); talks 30 s -> 35.
    result = run_trace(tmp_path, support(), [(5, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (5.0, "arrive", 1, -1, S),
        (5.0, "enqueue", 1, -1, S),
        (5.0, "ring", 1, 0, S),
        (5.0, "answer", 1, 0, S),
        (35.0, "end", 1, 0, S),
        (35.0, "idle", 1, 0, S),
    ]
    assert result.ended_at == 3600.0  # the day runs to its close, though its only caller left at 35 s


def test_queue_is_first_come_first_served(tmp_path: Path) -> None:
    """Two callers waiting for one agent are taken in arrival order."""
    # Call 1 at 0 is answered at once (to 30). Calls 2 (10 s) and 3 (20 s) wait; at 30 the agent takes
    # call 2 (the earlier), talks to 60, then call 3 to 90.
    result = run_trace(tmp_path, support(), [(0, ""), (10, ""), (20, "")])
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
        (30.0, "end", 1, 0, S),
        (30.0, "idle", 1, 0, S),
        (30.0, "ring", 2, 0, S),
        (30.0, "answer", 2, 0, S),
        (60.0, "end", 2, 0, S),
        (60.0, "idle", 2, 0, S),
        (60.0, "ring", 3, 0, S),
        (60.0, "answer", 3, 0, S),
        (90.0, "end", 3, 0, S),
        (90.0, "idle", 3, 0, S),
    ]
    ring_detail = result.events.loc[result.events["event"] == "ring", "detail"].tolist()
    assert ring_detail == [0.0, 20.0, 40.0]  # queue wait of each call


def test_abandonment_in_queue_at_exactly_the_patience(tmp_path: Path) -> None:
    """A queued caller hangs up exactly `patience` after joining; the next caller in line is served."""
    # Patience 20 s. Call 1 (0 s) talks to 30. Call 2 (5 s) would be next but hangs up at 5 + 20 = 25.
    # Call 3 (15 s, patience ends at 35) is taken when the agent frees at 30 and talks to 60.
    data = {**support(), "patience": "20s"}
    result = run_trace(tmp_path, data, [(0, ""), (5, ""), (15, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "arrive", 1, -1, S),
        (0.0, "enqueue", 1, -1, S),
        (0.0, "ring", 1, 0, S),
        (0.0, "answer", 1, 0, S),
        (5.0, "arrive", 2, -1, S),
        (5.0, "enqueue", 2, -1, S),
        (15.0, "arrive", 3, -1, S),
        (15.0, "enqueue", 3, -1, S),
        (25.0, "abandon", 2, -1, S),
        (30.0, "end", 1, 0, S),
        (30.0, "idle", 1, 0, S),
        (30.0, "ring", 3, 0, S),
        (30.0, "answer", 3, 0, S),
        (60.0, "end", 3, 0, S),
        (60.0, "idle", 3, 0, S),
    ]
    abandon = result.events[result.events["event"] == "abandon"]
    assert abandon["detail"].tolist() == [20.0]  # time waited
    assert outcomes(result) == {1: "answered", 2: "abandoned", 3: "answered"}


def test_abandonment_while_ringing(tmp_path: Path) -> None:
    """Patience covers the ring: a caller whose patience ends while the agent lets it ring hangs up then."""
    # Ring: 1 cycle of 6 s; patience 20 s. Call 1 (0 s) rings 0-6, talks 6-36. Call 2 (20 s) has until 40;
    # the agent takes it at 36, the ring would end at 42 > 40, so the caller hangs up at 40 (on agent 0),
    # and the agent is free at once (no wrap-up for an unanswered call).
    data = {**support(), "patience": "20s", "ring": {"cycle": "6s", "rings": 1}}
    result = run_trace(tmp_path, data, [(0, ""), (20, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "arrive", 1, -1, S),
        (0.0, "enqueue", 1, -1, S),
        (0.0, "ring", 1, 0, S),
        (6.0, "answer", 1, 0, S),
        (20.0, "arrive", 2, -1, S),
        (20.0, "enqueue", 2, -1, S),
        (36.0, "end", 1, 0, S),
        (36.0, "idle", 1, 0, S),
        (36.0, "ring", 2, 0, S),
        (40.0, "abandon", 2, 0, S),
        (40.0, "idle", 2, 0, S),
    ]
    calls = calls_table(result).set_index("call_id")
    assert calls.loc[1, "time_to_answer"] == 6.0  # wait 0 + ring 6
    assert calls.loc[2, "outcome"] == "abandoned" and bool(calls.loc[2, "abandoned_ringing"])


def test_busy_signal_when_lines_are_full(tmp_path: Path) -> None:
    """With every trunk line taken a caller is blocked, even with an agent free; a freed line admits again."""
    # One line, two agents. Call 1 (0 s) holds the line until it ends at 30. Call 2 (10 s) finds the line
    # taken: busy signal. Call 3 (40 s) gets the line and the longest-idle agent (1, idle since 0; agent 0
    # only since 30), talks to 70.
    data = {**support(agents=2), "lines": 1}
    result = run_trace(tmp_path, data, [(0, ""), (10, ""), (40, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "login", -1, 1, S),
        (0.0, "arrive", 1, -1, S),
        (0.0, "enqueue", 1, -1, S),
        (0.0, "ring", 1, 0, S),
        (0.0, "answer", 1, 0, S),
        (10.0, "arrive", 2, -1, S),
        (10.0, "block", 2, -1, S),
        (30.0, "end", 1, 0, S),
        (30.0, "idle", 1, 0, S),
        (40.0, "arrive", 3, -1, S),
        (40.0, "enqueue", 3, -1, S),
        (40.0, "ring", 3, 1, S),
        (40.0, "answer", 3, 1, S),
        (70.0, "end", 3, 1, S),
        (70.0, "idle", 3, 1, S),
    ]
    assert outcomes(result) == {1: "answered", 2: "blocked", 3: "answered"}


def test_wrap_up_delays_the_next_call(tmp_path: Path) -> None:
    """After-call work keeps the agent from the next caller, queued or arriving."""
    # Handle 30 s, wrap 5 s. Call 1 (0 s) talks to 30, wraps to 35. Call 2 (10 s) waits until 35, talks to
    # 65, wraps to 70. Call 3 arrives at 67 during that wrap-up and waits until 70; talks to 100, wraps to 105.
    data = support(wrap_time="5s")
    result = run_trace(tmp_path, data, [(0, ""), (10, ""), (67, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "arrive", 1, -1, S),
        (0.0, "enqueue", 1, -1, S),
        (0.0, "ring", 1, 0, S),
        (0.0, "answer", 1, 0, S),
        (10.0, "arrive", 2, -1, S),
        (10.0, "enqueue", 2, -1, S),
        (30.0, "end", 1, 0, S),
        (35.0, "idle", 1, 0, S),
        (35.0, "ring", 2, 0, S),
        (35.0, "answer", 2, 0, S),
        (65.0, "end", 2, 0, S),
        (67.0, "arrive", 3, -1, S),
        (67.0, "enqueue", 3, -1, S),
        (70.0, "idle", 2, 0, S),
        (70.0, "ring", 3, 0, S),
        (70.0, "answer", 3, 0, S),
        (100.0, "end", 3, 0, S),
        (105.0, "idle", 3, 0, S),
    ]
    idle_detail = result.events.loc[result.events["event"] == "idle", "detail"].tolist()
    assert idle_detail == [5.0, 5.0, 5.0]  # wrap time


def test_agent_rostered_off_mid_call_finishes_then_logs_out(tmp_path: Path) -> None:
    """Staffing 2 -> 1 at 30 min with both agents busy: one finishes its call and wrap-up, then logs out,
    leaving the waiting caller to the agent who stays."""
    # Handle 300 s, wrap 5 s. Call 1 (1700 s) -> agent 0 (both idle since 0: the first in line), talks to
    # 2000, wraps to 2005. Call 2 (1750 s) -> agent 1, talks to 2050, wraps to 2055. At 1800 the level drops
    # to 1 with both busy: the engine rosters off the agent logged in last (agent 1), who keeps working.
    # Call 3 (1900 s) waits for agent 0 (free at 2005), talks to 2305, wraps to 2310. Call 4 (2010 s) is
    # waiting when agent 1 finishes at 2055; agent 1 logs out instead of taking it, and agent 0 takes it at
    # 2310 (talks to 2610, wraps to 2615).
    data = support(agents={"per_interval": [2, 1]}, handle_time="300s", wrap_time="5s")
    result = run_trace(tmp_path, data, [(1700, ""), (1750, ""), (1900, ""), (2010, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "login", -1, 1, S),
        (1700.0, "arrive", 1, -1, S),
        (1700.0, "enqueue", 1, -1, S),
        (1700.0, "ring", 1, 0, S),
        (1700.0, "answer", 1, 0, S),
        (1750.0, "arrive", 2, -1, S),
        (1750.0, "enqueue", 2, -1, S),
        (1750.0, "ring", 2, 1, S),
        (1750.0, "answer", 2, 1, S),
        (1900.0, "arrive", 3, -1, S),
        (1900.0, "enqueue", 3, -1, S),
        (2000.0, "end", 1, 0, S),
        (2005.0, "idle", 1, 0, S),
        (2005.0, "ring", 3, 0, S),
        (2005.0, "answer", 3, 0, S),
        (2010.0, "arrive", 4, -1, S),
        (2010.0, "enqueue", 4, -1, S),
        (2050.0, "end", 2, 1, S),
        (2055.0, "idle", 2, 1, S),
        (2055.0, "logout", -1, 1, S),
        (2305.0, "end", 3, 0, S),
        (2310.0, "idle", 3, 0, S),
        (2310.0, "ring", 4, 0, S),
        (2310.0, "answer", 4, 0, S),
        (2610.0, "end", 4, 0, S),
        (2615.0, "idle", 4, 0, S),
    ]


def test_idle_agent_rostered_off_logs_out_at_once(tmp_path: Path) -> None:
    """Staffing 2 -> 1 with one agent idle: the idle one logs out at the change; the busy one stays."""
    # Call 1 (1700 s) -> agent 0, talks to 2000, wraps to 2005. At 1800 agent 1 is idle: logout at 1800.
    # Call 2 (1850 s) then waits for agent 0: taken at 2005, talks to 2305, wraps to 2310.
    data = support(agents={"per_interval": [2, 1]}, handle_time="300s", wrap_time="5s")
    result = run_trace(tmp_path, data, [(1700, ""), (1850, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "login", -1, 1, S),
        (1700.0, "arrive", 1, -1, S),
        (1700.0, "enqueue", 1, -1, S),
        (1700.0, "ring", 1, 0, S),
        (1700.0, "answer", 1, 0, S),
        (1800.0, "logout", -1, 1, S),
        (1850.0, "arrive", 2, -1, S),
        (1850.0, "enqueue", 2, -1, S),
        (2000.0, "end", 1, 0, S),
        (2005.0, "idle", 1, 0, S),
        (2005.0, "ring", 2, 0, S),
        (2005.0, "answer", 2, 0, S),
        (2305.0, "end", 2, 0, S),
        (2310.0, "idle", 2, 0, S),
    ]


def test_last_agent_rostered_off_leaves_the_queue_to_the_drain_limit(tmp_path: Path) -> None:
    """Staffing 1 -> 0: the agent finishes its call and wrap-up and logs out; the waiting caller is never
    taken, and is still in the system when the drain limit stops the day."""
    # Call 1 (1700 s) talks to 2000, wraps to 2005, then agent 0 logs out. Call 2 (1750 s) waits: nobody is on
    # duty after that, and the day is cut at 3600 + 600 (drain) = 4200 with call 2 still queued.
    data = {**support(agents={"per_interval": [1, 0]}, handle_time="300s", wrap_time="5s"), "drain": "10m"}
    result = run_trace(tmp_path, data, [(1700, ""), (1750, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (1700.0, "arrive", 1, -1, S),
        (1700.0, "enqueue", 1, -1, S),
        (1700.0, "ring", 1, 0, S),
        (1700.0, "answer", 1, 0, S),
        (1750.0, "arrive", 2, -1, S),
        (1750.0, "enqueue", 2, -1, S),
        (2000.0, "end", 1, 0, S),
        (2005.0, "idle", 1, 0, S),
        (2005.0, "logout", -1, 0, S),
    ]
    assert result.ended_at == 4200.0
    assert outcomes(result) == {1: "answered", 2: "in_system"}


def test_day_drains_after_close_until_the_drain_limit(tmp_path: Path) -> None:
    """Calls in the system at the close are served by the agents on duty; the drain limit cuts the rest."""
    # Day 3600 s, drain 100 s (hard stop at 3700), one agent, handle 60 s. Call 1 (3500) talks to 3560,
    # call 2 (3550) 3560-3620, call 3 (3590) 3620-3680, call 4 (3595) is answered at 3680 but would end at
    # 3740 > 3700: it is still in the system when the day is cut.
    data = {**support(handle_time="60s"), "drain": "100s"}
    result = run_trace(tmp_path, data, [(3500, ""), (3550, ""), (3590, ""), (3595, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (3500.0, "arrive", 1, -1, S),
        (3500.0, "enqueue", 1, -1, S),
        (3500.0, "ring", 1, 0, S),
        (3500.0, "answer", 1, 0, S),
        (3550.0, "arrive", 2, -1, S),
        (3550.0, "enqueue", 2, -1, S),
        (3560.0, "end", 1, 0, S),
        (3560.0, "idle", 1, 0, S),
        (3560.0, "ring", 2, 0, S),
        (3560.0, "answer", 2, 0, S),
        (3590.0, "arrive", 3, -1, S),
        (3590.0, "enqueue", 3, -1, S),
        (3595.0, "arrive", 4, -1, S),
        (3595.0, "enqueue", 4, -1, S),
        (3620.0, "end", 2, 0, S),
        (3620.0, "idle", 2, 0, S),
        (3620.0, "ring", 3, 0, S),
        (3620.0, "answer", 3, 0, S),
        (3680.0, "end", 3, 0, S),
        (3680.0, "idle", 3, 0, S),
        (3680.0, "ring", 4, 0, S),
        (3680.0, "answer", 4, 0, S),
    ]
    assert result.ended_at == 3700.0
    assert outcomes(result) == {1: "answered", 2: "answered", 3: "answered", 4: "in_system"}


def test_day_drains_completely_after_close(tmp_path: Path) -> None:
    """Without a binding drain limit, every call in the system at the close is served and the day ends
    when the last one is finished."""
    # As above with the default drain (4 h): call 4 talks 3680-3740 and the day ends at 3740.
    result = run_trace(tmp_path, support(handle_time="60s"), [(3500, ""), (3550, ""), (3590, ""), (3595, "")])
    assert trace_of(result)[-2:] == [(3740.0, "end", 4, 0, S), (3740.0, "idle", 4, 0, S)]
    assert result.ended_at == 3740.0
    assert set(outcomes(result).values()) == {"answered"}


def test_day_runs_until_the_close_even_when_the_last_call_is_done_early(tmp_path: Path) -> None:
    """The day lasts until `duration` (the close): staffing changes after the last call still happen."""
    # Staffing [2, 1]. Call 1 (5 s) talks 5-35 with agent 0. At 1800 agent 1 (idle) is rostered off and
    # logs out at once. The close is at 3600; nothing is in the system then, so the day ends there.
    data = support(agents={"per_interval": [2, 1]})
    result = run_trace(tmp_path, data, [(5, "")])
    assert trace_of(result) == [
        (0.0, "login", -1, 0, S),
        (0.0, "login", -1, 1, S),
        (5.0, "arrive", 1, -1, S),
        (5.0, "enqueue", 1, -1, S),
        (5.0, "ring", 1, 0, S),
        (5.0, "answer", 1, 0, S),
        (35.0, "end", 1, 0, S),
        (35.0, "idle", 1, 0, S),
        (1800.0, "logout", -1, 1, S),
    ]
    assert result.ended_at == 3600.0


def test_events_of_an_arrival_happen_at_its_instant(tmp_path: Path) -> None:
    """A caller arriving at 0.9 s is queued and answered at 0.9 s, not a rounding error earlier."""
    # Two agents, calls at 0.2 s and 0.9 s: each answered at once. The engine reaches 0.9 by waiting
    # 0.9 - 0.2 after 0.2, and 0.2 + (0.9 - 0.2) == 0.8999999999999999 in floating point.
    result = run_trace(tmp_path, support(agents=2), [(0.2, ""), (0.9, "")])
    assert trace_of(result)[6:10] == [
        (0.9, "arrive", 2, -1, S),
        (0.9, "enqueue", 2, -1, S),
        (0.9, "ring", 2, 1, S),
        (0.9, "answer", 2, 1, S),
    ]
