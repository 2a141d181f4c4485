"""`callsim trace` for trainers: the same caller under two policies (common random numbers), picking a
caller by what happened to them (checked against the event table, recomputed here), slide pictures, and
where the pictures go (never loose in the current folder)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.patches import Rectangle
from typer.testing import CliRunner

import sim
from sim.analysis.trace_picks import Criteria
from sim.cli.app import app
from sim.engine.day import RunResult, simulate
from sim.model.loading import load_scenario
from sim.output.story import spoken
from sim.output.timeline import segments
from sim.output.trace import pick
from sim.output.trace_pairs import TracedPair, labels, pair_figure, trace_pair
from sim.output.trace_picture import Panel, figure, round_ticks
from tests.conftest import ROOT
from tests.test_traces import run_trace, support

runner = CliRunner()
SMALL = ROOT / "scenarios" / "small-centre.yaml"
HOLDS = ROOT / "scenarios" / "virtual-hold.yaml"
MENU = ROOT / "scenarios" / "listening.yaml"
FEWER = "departments.billing.agents=6"
MORE = "departments.billing.agents=9"


# --- an independent reading of the event table ---------------------------------------------------------


def per_call(events: pd.DataFrame) -> dict[int, list[tuple[float, str, str, int, float]]]:
    """Each call's events in time order, as plain tuples (t, event, department, agent, detail)."""
    rows: dict[int, list[tuple[float, str, str, int, float]]] = {}
    for t, event, call, agent, department, detail in events.itertuples(index=False):
        if call >= 0:
            rows.setdefault(int(call), []).append((float(t), str(event), str(department), int(agent), detail))
    return rows


def arrivals(events: pd.DataFrame) -> dict[int, tuple[float, int]]:
    """Each call's arrival time and reason index, read off its `arrive` event."""
    rows = events[events["event"] == "arrive"]
    return {
        int(c): (float(t), int(r)) for c, t, r in zip(rows["call_id"], rows["t"], rows["detail"], strict=True)
    }


def live_waits(result: RunResult) -> dict[int, float]:
    """Each call's time waiting in queues on the line: enqueue until picked up, hung up in the queue, or
    gone off the line for a callback; a wait still open at the stop runs to the stop."""
    waits: dict[int, float] = {}
    for call, rows in per_call(result.events).items():
        total, since = 0.0, None
        for t, event, _, agent, detail in rows:
            if event == "enqueue":
                since = t
            elif since is not None and (
                event == "ring"
                or (event == "abandon" and agent < 0)
                or (event == "callback_request" and detail == 0.0)
            ):
                total, since = total + t - since, None
        if since is not None:
            total += result.ended_at - since
        waits[call] = total
    return waits


def satisfying(result: RunResult, what: str, value: float = 0.0) -> list[int]:
    """Call ids (in order of arrival) whose events show `what`, recomputed from the event table."""
    scenario, names = result.scenario, result.reason_names
    came = arrivals(result.events)
    waits = live_waits(result) if what == "waited-over" else {}
    found = []
    for call, rows in per_call(result.events).items():
        kinds = [row[1] for row in rows]
        reason = names[came[call][1]]
        if what == "callback-from-hold":
            hit = any(row[1] == "callback_request" and row[4] == 1.0 for row in rows)
        elif what == "abandoned-on-hold":
            hit = "abandon_on_hold" in kinds
        elif what == "misrouted":
            hit = any(row[1] == "ivr" and reason not in scenario.resolves(row[2]) for row in rows)
        elif what == "min-agents":
            hit = kinds.count("answer") >= value
        else:
            hit = waits[call] > value
        if hit:
            found.append(call)
    return sorted(found, key=lambda call: (came[call][0], call))


# --- one caller, two policies --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fewer_and_more() -> TracedPair:
    """Small centre with 6 billing agents (A) and 9 (B): a billing caller who waited over 2 minutes in A."""
    a = load_scenario(SMALL, [FEWER])
    b = load_scenario(SMALL, [FEWER, MORE])
    label_a, label_b = labels([FEWER], [MORE])
    return trace_pair(a, b, label_a, label_b, criteria=Criteria(waited_over_time=120.0, reason="billing"))


def test_the_same_caller_arrives_with_the_same_reason_and_patience_under_both(
    fewer_and_more: TracedPair,
) -> None:
    a, b = fewer_and_more.a.result, fewer_and_more.b.result
    # Every caller arrives at the same instant with the same reason under both policies (nobody redials here).
    assert arrivals(a.events) == arrivals(b.events) and len(arrivals(a.events)) > 900
    assert fewer_and_more.same_caller and fewer_and_more.a.call_id == fewer_and_more.b.call_id
    # Patience: a caller who hangs up in the queue on a first and only visit waited exactly their patience;
    # where that happens under both policies, the waits agree.
    gave_up_a, gave_up_b = _first_visit_abandons(a), _first_visit_abandons(b)
    both = gave_up_a.keys() & gave_up_b.keys()
    assert len(both) >= 10
    assert all(gave_up_a[call] == pytest.approx(gave_up_b[call], abs=1e-9) for call in both)
    told_a, told_b = fewer_and_more.a.facts, fewer_and_more.b.facts
    assert [told_a[key] for key in ("arrived", "reason", "patience")] == [
        told_b[key] for key in ("arrived", "reason", "patience")
    ]
    assert told_a["reason"] == "billing"


def _first_visit_abandons(result: RunResult) -> dict[int, float]:
    """Callers who hung up in their first queue without being picked up: their wait (= patience)."""
    out = {}
    for call, rows in per_call(result.events).items():
        kinds = [row[1] for row in rows]
        if kinds[:3] == ["arrive", "enqueue", "abandon"] and rows[2][3] < 0:
            out[call] = rows[2][4]
    return out


def test_more_agents_shorten_the_wait_and_the_telling_shows_it(fewer_and_more: TracedPair) -> None:
    a, b = fewer_and_more.a, fewer_and_more.b
    waits_a, waits_b = live_waits(a.result), live_waits(b.result)
    call = a.call_id
    assert waits_a[call] > 120.0  # picked for it
    assert waits_b[call] < waits_a[call]  # the same caller waits less with three more billing agents
    mean_a = sum(waits_a.values()) / len(waits_a)
    mean_b = sum(waits_b.values()) / len(waits_b)
    assert mean_b < mean_a  # and so do the callers on average (more agents never raise the mean wait)
    assert a.facts["waited in queues"] == spoken(waits_a[call])
    assert b.facts["waited in queues"] == spoken(waits_b[call])
    differing = re.search(r"^\* waited in queues +(\S+( \S+)?) +(\S+( \S+)?)$", fewer_and_more.text, re.M)
    assert differing is not None, fewer_and_more.text
    assert (differing.group(1), differing.group(3)) == (spoken(waits_a[call]), spoken(waits_b[call]))
    assert fewer_and_more.text.startswith(f"A: {FEWER}  |  B: {MORE}\n")
    assert f"| **waited in queues** | {spoken(waits_a[call])} | {spoken(waits_b[call])} |" in (
        fewer_and_more.markdown
    )


def test_a_change_in_who_calls_is_matched_by_arrival_time_and_said() -> None:
    traced = sim.trace(SMALL, ["arrivals.per_hour=150"], reason="billing", waited_over="1m")
    assert isinstance(traced, TracedPair)
    came_a, came_b = arrivals(traced.a.result.events), arrivals(traced.b.result.events)
    at, reason = came_a[traced.a.call_id]
    same_reason = {call: t for call, (t, r) in came_b.items() if r == reason}
    nearest = min(same_reason, key=lambda call: (abs(same_reason[call] - at), call))
    assert traced.b.call_id == nearest and not traced.same_caller
    assert "the change alters who calls" in traced.matched and "nearest in time" in traced.matched


# --- picking a caller by what happened ------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs() -> dict[str, RunResult]:
    return {
        "holds": simulate(load_scenario(HOLDS)),
        "menu": simulate(load_scenario(MENU)),
        "small": simulate(load_scenario(SMALL, [FEWER])),
    }


@pytest.mark.parametrize(
    ("run", "what", "value", "criteria"),
    [
        ("holds", "callback-from-hold", 0.0, Criteria(picks=("callback-from-hold",))),
        ("holds", "abandoned-on-hold", 0.0, Criteria(picks=("abandoned-on-hold",))),
        ("menu", "misrouted", 0.0, Criteria(picks=("misrouted",))),
        ("menu", "min-agents", 3, Criteria(min_agents=3)),
        ("small", "waited-over", 150.0, Criteria(waited_over_time=150.0)),
    ],
)
def test_each_pick_shows_a_caller_it_fits_and_counts_them_all(
    runs: dict[str, RunResult], run: str, what: str, value: float, criteria: Criteria
) -> None:
    result = runs[run]
    expected = satisfying(result, what, value)
    assert len(expected) >= 3  # the scenario has such callers to find
    chosen, note = pick(result, criteria=criteria)
    assert chosen == expected[0]
    total = len(arrivals(result.events))
    assert note.startswith(f"{len(expected):,} of {total:,} calls {criteria.describe()}; showing call ")
    assert note.endswith(f"call {chosen:,} (the first)")
    third, _ = pick(result, criteria=criteria, nth=3)
    assert third == expected[2]


def test_picks_combine_and_say_when_none_fit(runs: dict[str, RunResult]) -> None:
    result = runs["menu"]
    both = sorted(
        set(satisfying(result, "misrouted")) & set(satisfying(result, "min-agents", 4)),
        key=lambda call: (arrivals(result.events)[call][0], call),
    )
    chosen, note = pick(result, criteria=Criteria(picks=("misrouted",), min_agents=4))
    assert chosen == both[0]
    assert (
        note.startswith(f"{len(both):,} of ")
        and "misrouted by the phone menu and met at least 4 agents" in note
    )
    # --longest: among the callers picked, one who met the most agents (its telling says so).
    met = {call: [row[1] for row in rows].count("answer") for call, rows in per_call(result.events).items()}
    longest, said = pick(result, criteria=Criteria(picks=("misrouted",), min_agents=4), longest=True)
    assert met[longest] == max(met[call] for call in both) and said.endswith("(the longest chain)")
    with pytest.raises(ValueError, match=r"none of the [\d,]+ calls in this run met at least 40 agents"):
        pick(result, criteria=Criteria(min_agents=40))
    with pytest.raises(ValueError, match="no pick 'lost'; choose from callback-from-hold"):
        Criteria(picks=("lost",))


# --- pictures -------------------------------------------------------------------------------------------


def test_the_pair_picture_puts_a_above_b_and_names_the_change(fewer_and_more: TracedPair) -> None:
    drawing = pair_figure(fewer_and_more)
    try:
        axes = drawing.axes
        assert len(axes) == 2
        assert axes[0].get_title(loc="left").startswith(f"A: {FEWER}: call ")
        assert axes[1].get_title(loc="left").startswith(f"B: {MORE}: call ")
        assert axes[0].get_position().y0 > axes[1].get_position().y0  # A above B
        title = drawing.get_suptitle()
        assert title.startswith(f"A: {FEWER}  |  B: {MORE}")
    finally:
        plt.close(drawing)


def _missed_callback(tmp_path: Path) -> RunResult:
    """Call 2 asks for a callback at once (a queue wait of no time); both dial-outs go unanswered."""
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
    return run_trace(tmp_path, data, [(0, ""), (1, "")])


def test_slides_draw_large_type_round_ticks_and_every_segment(tmp_path: Path) -> None:
    result = _missed_callback(tmp_path)
    every = segments(result.events, result.agents, result.scenario, 2, result.ended_at, every=True)
    plain = segments(result.events, result.agents, result.scenario, 2, result.ended_at)
    assert ("support queue", "queue", 1.0, 1.0) in [(s.row, s.kind, s.start, s.end) for s in every]
    assert [s.kind for s in every].count("missed dial") == 2  # each unanswered dial-out is its own kind
    assert all(s.end > s.start for s in plain) and "missed dial" not in {s.kind for s in plain}
    slide = figure([Panel("call 2", every)], result.scenario.start, "a failed callback", slides=True)
    page = figure([Panel("call 2", plain)], result.scenario.start, "a failed callback")
    try:
        slide_axes, page_axes = slide.axes[0], page.axes[0]
        slide_size = float(slide_axes.get_xticklabels()[0].get_fontsize())
        assert slide_size > float(page_axes.get_xticklabels()[0].get_fontsize())
        assert slide.get_suptitle() == "a failed callback"
        bars = {
            patch.get_gid(): patch.get_width() for patch in slide_axes.patches if isinstance(patch, Rectangle)
        }
        span = 190.0 - 1.0
        assert bars["queue: 0s"] >= 0.005 * span  # a wait of no time is still a visible sliver
        # Ticks on round clock times: whole minutes for a span of some three minutes.
        ticks = slide_axes.get_xticks()
        assert len(ticks) >= 3 and all((result.scenario.start + t) % 60 == 0 for t in ticks)
    finally:
        plt.close(slide)
        plt.close(page)


def test_round_ticks_land_on_round_clock_times() -> None:
    # 09:00 start; from 09:03:10 to 10:12:00 (69 minutes): 15-minute ticks at 09:15, 09:30, ... 10:00.
    ticks = round_ticks(190.0, 4320.0, 9 * 3600.0, 7)
    assert ticks == [900.0, 1800.0, 2700.0, 3600.0]
    # 30 seconds of a call: every 5 seconds on the clock, with a start that is not round itself.
    assert round_ticks(12.5, 42.5, 0.0, 7)[:2] == [15.0, 20.0]


# --- the command -----------------------------------------------------------------------------------------


def test_trace_writes_nothing_loose_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = runner.invoke(
        app,
        ["trace", str(HOLDS), "--pick", "callback-from-hold", "--set-b", MORE.replace("9", "8"), "--slides"],
    )
    assert outcome.exit_code == 0, outcome.output
    # Only the results folder appears here, as for `callsim run`: the picture and story are inside it.
    assert [p.name for p in tmp_path.iterdir()] == ["results"]
    (folder,) = (tmp_path / "results").iterdir()
    assert re.fullmatch(r"virtual-hold-trace-\d{8}-\d{6}", folder.name)
    assert sorted(p.name for p in folder.iterdir()) == ["story.md", "timeline.png"]
    assert (folder / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expected = satisfying(simulate(load_scenario(HOLDS)), "callback-from-hold")
    flat = " ".join(outcome.output.split())
    assert f"In A, {len(expected):,} of " in flat and f"showing call {expected[0]:,} (the first)" in flat
    assert "timeline: results/virtual-hold-trace-" in flat


def test_trace_command_refuses_clearly() -> None:
    path = str(SMALL)
    short = ["--set", "duration=1h", "--set", "interval=30m"]
    none = runner.invoke(app, ["trace", path, *short, "--pick", "abandoned-on-hold"])
    assert none.exit_code == 2
    assert re.search(r"none of the [\d,]+ calls in this run hung up on hold", " ".join(none.output.split()))
    both = runner.invoke(app, ["trace", path, *short, "--call", "3", "--pick", "misrouted"])
    assert both.exit_code == 2 and "--call names the caller" in " ".join(both.output.split())
    bad = runner.invoke(app, ["trace", path, *short, "--waited-over", "a while"])
    assert bad.exit_code == 2 and "--waited-over: expected a duration" in " ".join(bad.output.split())
    same = runner.invoke(app, ["trace", path, *short, "--set-b", "seed=1"])
    assert same.exit_code == 2 and "the change leaves the scenario as it was" in " ".join(same.output.split())


def test_python_trace_takes_the_same_choices(tmp_path: Path) -> None:
    one = sim.trace(HOLDS, pick="abandoned-on-hold", nth=2, picture=tmp_path / "one.png", slides=True)
    assert not isinstance(one, TracedPair)
    assert one.call_id == satisfying(one.result, "abandoned-on-hold")[1]  # type: ignore[arg-type]
    assert "(the second)" in one.note and (tmp_path / "one.png").exists()
