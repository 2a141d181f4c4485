"""The animated replay of a run (`callsim replay`): the floor's data against the event table, and the page in
a real headless Chromium (it loads offline, plays, seeks to the floor Python computes, and follows a caller
whose listed events are that caller's rows of the event table).

The data is checked three ways: an exact trace of a tiny deterministic day (one agent, two callers: every
state and wait known by hand), an independent replay of the event table row by row (each agent's state at
many instants, over shipped scenarios with holds, check-backs, callbacks, conference transfers and breaks),
and the visits table (`sim.analysis.tables`, a separate derivation) for who waits in which queue. The running
service level must end at the day's `service_level` from summary.json.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis.floor import (
    AGENT_STATES,
    CALLBACK,
    QUEUE,
    agent_segments,
    running_service_level,
    waits,
)
from sim.api import Day
from sim.cli.app import app
from sim.model.loading import scenario_from_dict
from sim.output.replay import Floor, read_floor, replay_data, replay_html, write_replay
from sim.output.story import tell
from tests.conftest import ROOT

runner = CliRunner()

# An agent's state from each of its events on, written out independently of `sim.analysis.floor`.
_AFTER = {
    "login": "idle", "back": "idle", "idle": "idle", "logout": "offline", "break": "on_break",
    "ring": "ringing", "callback_dial": "dialling", "answer": "talking", "unhold": "talking",
    "check_back": "talking", "conference_missed": "talking", "hold": "on_hold", "end": "wrap_up",
    "drop": "wrap_up", "abandon": "wrap_up", "abandon_on_hold": "wrap_up", "handover": "wrap_up",
    "callback_missed": "wrap_up", "callback_request": "wrap_up", "transfer": "wrap_up",
}  # fmt: skip


_WITH_A_CALLER = {"ringing", "talking", "on_hold", "wrap_up", "dialling", "transferring"}


def _states_by_replaying(
    events: pd.DataFrame, instants: list[float]
) -> dict[float, dict[int, tuple[str, int]]]:
    """Each agent's state and call at each instant, by walking the agents' rows one by one in log order."""
    rows = [
        (float(t), str(name), int(agent), int(call), float(detail))
        for t, name, agent, call, detail in zip(
            events["t"],
            events["event"].astype(str),
            events["agent_id"],
            events["call_id"],
            events["detail"],
            strict=True,
        )
        if agent >= 0 and str(name) in _AFTER
    ]
    following: dict[int, tuple[float, str] | None] = {}
    next_of: list[tuple[float, str] | None] = [None] * len(rows)
    for index in range(len(rows) - 1, -1, -1):  # each row's agent's next row
        t, name, agent, _, _ = rows[index]
        next_of[index] = following.get(agent)
        following[agent] = (t, name)
    changes: list[tuple[float, int, int, str, int]] = []  # (when, order, agent, state, call)
    for index, (t, name, agent, call, detail) in enumerate(rows):
        after = next_of[index]
        state = _AFTER[name]
        if name == "transfer" and after is not None and after[1] == "handover":
            state = "transferring"
        changes.append((t, 2 * index, agent, state, call if state in _WITH_A_CALLER else -1))
        holds_again = after is not None and after[1] in ("check_back", "unhold", "abandon_on_hold")
        if name == "check_back" and after is not None and holds_again and t + detail < after[0]:
            changes.append((t + detail, 2 * index + 1, agent, "on_hold", call))
    changes.sort()
    found: dict[float, dict[int, tuple[str, int]]] = {}
    now: dict[int, tuple[str, int]] = {}
    position = 0
    for at in sorted(instants):
        while position < len(changes) and changes[position][0] <= at:
            _, _, agent, state, call = changes[position]
            now[agent] = (state, call)
            position += 1
        found[at] = dict(now)
    return found


def _day(scenario: Any, seed: int) -> Day:
    """One simulated day (`sim.simulate` of a one-day scenario)."""
    day = sim.simulate(scenario, seed=seed)
    assert isinstance(day, Day)
    return day


def _instants(end: float, count: int, seed: int) -> list[float]:
    return sorted(np.random.default_rng(seed).uniform(0.0, end, count).round(3).tolist())


RARE = {
    "virtual-hold": {"ringing", "talking", "on_hold", "wrap_up", "dialling"},
    "reception-desk": {"talking", "transferring"},
    "breaks-and-shrinkage": {"talking", "on_break"},
    "cross-training": {"ringing", "talking", "wrap_up", "idle"},
}
"""The states each scenario of the row-by-row test must show (holds and dial-outs, conference transfers,
breaks, an agent group)."""


@pytest.mark.parametrize("name", sorted(RARE))
def test_agent_states_match_a_row_by_row_replay_of_the_events(name: str) -> None:
    # cross-training with its flex group staffed: agents of no home department
    overrides = ["agent_groups.flex.agents=3"] if name == "cross-training" else []
    day = _day(sim.load_scenario(ROOT / "scenarios" / f"{name}.yaml", overrides=overrides), seed=3)
    events = day.events
    segments = agent_segments(events)
    agent_ids = np.unique(events.loc[events["agent_id"] >= 0, "agent_id"].to_numpy())
    # instants anywhere, and in the middle of every kind of segment (so that rare states are met too)
    instants = _instants(float(events["t"].max()), 150, seed=len(name))
    middles = (segments.start_at[:-1] + segments.start_at[1:]) / 2
    same_agent = segments.agent_id[:-1] == segments.agent_id[1:]
    for state in np.unique(segments.state):
        picked = np.flatnonzero(same_agent & (segments.state[:-1] == state))[:20]
        instants += middles[picked].tolist()
    expected = _states_by_replaying(events, instants)
    seen: set[str] = set()
    for at in instants:
        states, calls = segments.at(agent_ids, at)
        got = {
            int(agent): (AGENT_STATES[state], int(call))
            for agent, state, call in zip(agent_ids, states, calls, strict=True)
        }
        want = {int(agent): expected[at].get(int(agent), ("offline", -1)) for agent in agent_ids}
        assert got == want, f"{name} at t={at}"
        seen |= {state for state, _ in got.values()}
    assert RARE[name] <= seen  # the instants did meet the states this scenario is chosen for


def _tiny(tmp_path: Path) -> Any:
    """One agent; callers at 0 s and 30 s; two 6 s rings; talk 2 min, wrap 30 s; nobody hangs up."""
    (tmp_path / "calls.csv").write_text("at,reason\n0,support\n30,support\n", encoding="utf-8")
    return scenario_from_dict(
        {
            "name": "tiny",
            "duration": "1h",
            "interval": "1h",
            "ring": {"cycle": "6s", "rings": 2},
            "service_level": {"threshold": "20s", "target": 0.8},
            "arrivals": {"trace": str(tmp_path / "calls.csv"), "reasons": {"support": 1.0}},
            "departments": {"support": {"agents": 1, "handle_time": "2m", "wrap_time": "30s"}},
        }
    )


def test_a_tiny_day_by_hand(tmp_path: Path) -> None:
    day = _day(_tiny(tmp_path), seed=1)
    segments = agent_segments(day.events)
    # call 1 rings 0-12 s, talks to 132 s, wrap-up to 162 s; call 2 (queued since 30 s) rings 162-174 ...
    expected = [
        (6.0, "ringing", 1), (100.0, "talking", 1), (140.0, "wrap_up", 1), (165.0, "ringing", 2),
        (200.0, "talking", 2), (300.0, "wrap_up", 2), (330.0, "idle", -1),
    ]  # fmt: skip
    for at, state, call in expected:
        states, calls = segments.at(np.array([0]), at)
        assert (AGENT_STATES[states[0]], int(calls[0])) == (state, call), at
    found = waits(day.events)
    assert found.call_id.tolist() == [2] and found.kind.tolist() == [QUEUE]
    assert (found.start_at[0], found.end_at[0]) == pytest.approx((30.0, 162.0))
    level = running_service_level(day.calls, day.events, 20.0, 0.0, 3600.0)
    # call 1 is answered in 12 s (a hit at 12 s); call 2's wait passes 20 s at 50 s (a miss then)
    assert np.isnan(level.at(5.0))
    assert level.at(20.0) == 1.0 and level.at(49.0) == 1.0 and level.at(51.0) == 0.5


@pytest.mark.parametrize("name", ["virtual-hold", "listening", "busy-day", "small-centre"])
def test_queues_match_the_visits_table_and_the_service_level_ends_at_the_summary(name: str) -> None:
    day = _day(ROOT / "scenarios" / f"{name}.yaml", seed=5)
    found = waits(day.events)
    visits = day.visits
    departments = found.departments
    end = float(day.scenario.duration)
    for at in _instants(end, 200, seed=7):
        for kind, callback in ((QUEUE, False), (CALLBACK, True)):
            mine = found.waiting_at(at) & (found.kind == kind)
            theirs = (
                (visits["callback"] == callback)
                & (visits["queued_at"] <= at)
                & (at < visits["queued_at"] + visits["wait_time"])
            )
            got = sorted(
                zip(
                    found.call_id[mine].tolist(),
                    [departments[d] for d in found.department[mine]],
                    strict=True,
                )
            )
            want = sorted(
                zip(
                    visits.loc[theirs, "call_id"].tolist(),
                    visits.loc[theirs, "department"].astype(str),
                    strict=True,
                )
            )
            assert got == want, f"{name} at t={at}, {'callbacks' if callback else 'queues'}"
    level = running_service_level(
        day.calls, day.events, day.scenario.service_level.threshold, day.scenario.warmup, day.result.ended_at
    )
    assert level.at(day.result.ended_at) == pytest.approx(day.summary["service_level"], abs=1e-12)
    assert np.all(np.diff(level.decided_at) >= 0) and len(level.hits_at) <= len(level.decided_at)
    scenario = day.scenario
    rings = running_service_level(
        day.calls,
        day.events,
        scenario.ring.cycle * scenario.service_level.rings,
        scenario.warmup,
        day.result.ended_at,
    )
    assert rings.at(day.result.ended_at) == pytest.approx(day.summary["answered_within_rings"], abs=1e-12)


def test_the_running_service_level_judges_each_call_by_its_departments_threshold() -> None:
    """With departments' own thresholds (billing 60 s, technical 10 s here, where the centre's is 20 s)
    the service level so far ends at the summary's, which judges each call by its first department's
    threshold; judged by the centre's one threshold it would not (the check can fail). The page is given
    each department's threshold for its waiting callers and the words for its headline."""
    from sim.analysis.thresholds import call_thresholds
    from sim.model.loading import load_scenario

    scenario = load_scenario(
        ROOT / "scenarios" / "small-centre.yaml",
        ["goals.departments.billing.threshold=60s", "goals.departments.technical.threshold=10s"],
    )
    day = _day(scenario, seed=5)
    ended_at = day.result.ended_at
    own = running_service_level(
        day.calls, day.events, call_thresholds(scenario, day.calls), scenario.warmup, ended_at
    )
    assert own.at(ended_at) == pytest.approx(day.summary["service_level"], abs=1e-12)
    centre = running_service_level(day.calls, day.events, 20.0, scenario.warmup, ended_at)
    assert centre.at(ended_at) != pytest.approx(day.summary["service_level"], abs=1e-6)
    data = replay_data(Floor(scenario, ended_at, day.events, day.agents, day.calls))
    thresholds = dict(zip(data["departments"], data["department_thresholds"], strict=True))
    assert thresholds["billing"] == 60.0 and thresholds["technical"] == 10.0
    assert data["threshold_words"] == "each department's own threshold"
    assert data["service"]["hits"] == pytest.approx(own.hits_at.tolist(), abs=1e-3)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Results folders (no report) of three shipped scenarios, each with its replay page."""
    made = {}
    for name in ("virtual-hold", "listening", "busy-day"):
        folder = tmp_path_factory.mktemp("replay") / name
        sim.write_results(_day(ROOT / "scenarios" / f"{name}.yaml", seed=2), folder, report=False)
        write_replay(folder)
        made[name] = folder
    return made


def test_the_command_writes_refuses_and_explains(folders: dict[str, Path], tmp_path: Path) -> None:
    folder = folders["virtual-hold"]
    again = runner.invoke(app, ["replay", str(folder)])
    assert again.exit_code == 2 and "already exists" in again.output and "--force" in again.output
    out = tmp_path / "floor.html"
    done = runner.invoke(app, ["replay", str(folder), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8") == (folder / "replay.html").read_text(encoding="utf-8")
    assert str(out) in done.output
    missing = runner.invoke(app, ["replay", str(tmp_path)])
    assert missing.exit_code == 2 and "not a callsim results folder" in missing.output
    ran = runner.invoke(
        app,
        ["run", str(ROOT / "scenarios" / "reception-desk.yaml"), "--replay", "--out", str(tmp_path / "run")],
    )
    assert ran.exit_code == 0, ran.output
    assert (tmp_path / "run" / "replay.html").stat().st_size > 0 and "replay: " in ran.output
    assert sim.replay(tmp_path / "run", tmp_path / "again.html").read_text(encoding="utf-8") == (
        tmp_path / "run" / "replay.html"
    ).read_text(encoding="utf-8")


def test_transfer_arrows_point_where_the_caller_queues_next(folders: dict[str, Path]) -> None:
    data = replay_data(read_floor(folders["listening"]))
    moments, departments = data["moments"], data["departments"]
    events = pd.read_parquet(folders["listening"] / "events.parquet")
    enqueues = events[events["event"] == "enqueue"]
    transfers = [i for i, code in enumerate(moments["event"]) if data["event_names"][code] == "transfer"]
    assert len(transfers) > 100
    for i in transfers:
        call, at = moments["call"][i], moments["t"][i]
        following = enqueues[(enqueues["call_id"] == call) & (enqueues["t"] >= at - 1e-3)]
        assert departments[moments["to"][i]] == str(following["department"].iloc[0]), call


def test_a_busy_day_stays_small(folders: dict[str, Path]) -> None:
    """A full busy day (thousands of calls, every call's rows and story embedded) stays under 2 MB."""
    floor = read_floor(folders["busy-day"])
    page = replay_html(floor)
    assert len(floor.calls) > 1500 and len(floor.events) > 10_000
    assert (folders["busy-day"] / "replay.html").stat().st_size == len(page.encode("utf-8")) < 2_000_000
    assert "http://" not in page and "https://" not in page  # nothing fetched from anywhere


# ---- in a browser ---------------------------------------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium executable on PATH (install it with `apt-get install -y chromium`)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="the test extra's playwright is not installed"
    )
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


class Page:
    """One replay page open in the browser, with what it logged and requested."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.callsimReplay && window.callsimReplay.ready")

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(message.text)

    def state(self) -> dict[str, Any]:
        return dict(self.page.evaluate("callsimReplay.state()"))

    def __call__(self, script: str) -> Any:
        return self.page.evaluate(script)


def _floor_at(folder: Path, at: float) -> tuple[dict[int, tuple[str, int]], list[tuple[int, str, str]]]:
    """What Python says the floor is at `at`: each agent's state and call, and who waits where."""
    events = pd.read_parquet(folder / "events.parquet")
    agents = pd.read_parquet(folder / "agents.parquet")["agent_id"].to_numpy()
    states, calls = agent_segments(events).at(agents, at)
    found = waits(events)
    waiting = found.waiting_at(at)
    return (
        {int(a): (AGENT_STATES[s], int(c)) for a, s, c in zip(agents, states, calls, strict=True)},
        sorted(
            (int(call), ("queue", "callback", "menu")[kind], found.departments[department])
            for call, kind, department in zip(
                found.call_id[waiting], found.kind[waiting], found.department[waiting], strict=True
            )
        ),
    )


@pytest.mark.browser
@pytest.mark.parametrize("name", ["virtual-hold", "listening", "busy-day"])
def test_the_page_loads_plays_and_seeks_offline(browser: Any, folders: dict[str, Path], name: str) -> None:
    folder = folders[name]
    page = Page(browser, folder / "replay.html")
    ended_at = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["ended_at"]
    assert page.state()["ended_at"] == pytest.approx(ended_at)
    page("callsimReplay.speed(600); callsimReplay.play()")
    page.page.wait_for_function("callsimReplay.state().t > 120")  # the clock runs
    page("callsimReplay.pause()")
    paused_at = page.state()["t"]
    assert page.state()["playing"] is False and page.state()["t"] == paused_at
    floor = read_floor(folder)
    threshold, warmup = floor.scenario.service_level.threshold, floor.scenario.warmup
    level = running_service_level(floor.calls, floor.events, threshold, warmup, floor.ended_at)
    visits = pd.read_parquet(folder / "visits.parquet")
    # instants at which callers wait (the middle of the longest waits), plus a few anywhere; none within
    # 10 ms of an event or a verdict (the page keeps instants to the millisecond)
    waited = visits[visits["wait_time"] > 1.0].nlargest(3, "wait_time")
    candidates = (waited["queued_at"] + waited["wait_time"] / 2).round(2).tolist()
    candidates += [1234.5, round(ended_at / 2, 2), round(ended_at - 1.0, 2)]
    times = np.concatenate((floor.events["t"].to_numpy(), level.decided_at))
    instants = [at for at in candidates if np.min(np.abs(times - at)) > 0.01]
    assert len(instants) >= 4
    for at in instants:
        page(f"callsimReplay.seek({at})")
        shown = page.state()
        assert shown["t"] == pytest.approx(at)
        agents, waiting = _floor_at(folder, at)
        assert {a["id"]: (a["state"], a["call"]) for a in shown["agents"]} == agents, at
        assert sorted((w["call"], w["kind"], w["department"]) for w in shown["waiting"]) == waiting, at
        assert shown["service_level"] == pytest.approx(level.at(at), abs=1e-12), at
    assert any(_floor_at(folder, at)[1] for at in instants)  # some instant had callers waiting
    assert page.problems == []
    assert page.requests == [(folder / "replay.html").resolve().as_uri()]


@pytest.mark.browser
def test_a_followed_caller_lists_their_rows_of_the_event_table(
    browser: Any, folders: dict[str, Path]
) -> None:
    folder = folders["listening"]
    calls = pd.read_parquet(folder / "calls.parquet")
    events = pd.read_parquet(folder / "events.parquet")
    chosen = int(calls.sort_values(["agents_touched", "call_id"], ascending=[False, True])["call_id"].iloc[0])
    page = Page(browser, folder / "replay.html")
    page.page.click("text=follow the longest chain")  # the button a trainer clicks
    shown = page.state()
    assert shown["followed"] == chosen
    rows = events[events["call_id"] == chosen]
    listed = shown["followed_rows"]
    assert [row[1:4] for row in listed] == [
        [str(name), None if pd.isna(department) else str(department), int(agent)]
        for name, department, agent in zip(
            rows["event"].astype(str), rows["department"], rows["agent_id"], strict=True
        )
    ]
    assert [row[0] for row in listed] == pytest.approx(rows["t"].tolist(), abs=1e-3)
    assert [row[4] for row in listed] == pytest.approx(rows["detail"].tolist(), abs=1e-3)
    assert len(listed) >= 8 and shown["shown_rows"] == len(listed)  # a long chain, every row on screen
    saved = read_floor(folder)
    story = tell(
        events, saved.agents, saved.scenario, list(saved.scenario.reason_mix()), chosen, saved.ended_at
    )
    assert [text for _, text in shown["followed_story"]] == [line.text for line in story]
    assert shown["shown_story"] == len(story)
    # clicking a busy desk follows the caller at that desk
    page("callsimReplay.seek(callsimReplay.state().ended_at / 2)")
    desk = page.page.locator(".desk[data-call]").first
    call = int(desk.get_attribute("data-call"))
    desk.click()
    assert page.state()["followed"] == call
    assert page.problems == []


@pytest.mark.browser
def test_slides_mode_enlarges_the_type_and_ticks_round_times(
    browser: Any, folders: dict[str, Path], tmp_path: Path
) -> None:
    """`--slides` opens the page in presentation mode (large type: the clock's rendered height grows), the
    `s` key toggles it, and the day strip carries ticks on round clock times."""
    folder = folders["listening"]
    written = write_replay(folder, tmp_path / "slides.html", slides=True)
    page = Page(browser, written)
    assert page.state()["slides"] is True
    big = page("document.getElementById('clock').getBoundingClientRect().height")
    page.page.keyboard.press("s")
    assert page.state()["slides"] is False
    small = page("document.getElementById('clock').getBoundingClientRect().height")
    assert big > 1.3 * small
    plain = Page(browser, write_replay(folder, tmp_path / "plain.html"))
    assert plain.state()["slides"] is False
    ticks = plain.state()["ticks"]  # clock instants (seconds after midnight) of the strip's ticks
    start = read_floor(folder).scenario.start
    assert len(ticks) >= 4 and ticks[0] >= start
    step = ticks[1] - ticks[0]
    assert step in (300, 600, 900, 1800, 3600, 7200, 10800, 21600)
    assert all(tick % step == 0 for tick in ticks)  # round clock times
    assert page.problems == [] and plain.problems == []


def test_the_page_judges_waits_by_each_departments_threshold(browser: Any, tmp_path: Path) -> None:
    """A centre whose departments have their own thresholds: the page says so in its legend and headline,
    and colours each waiting caller by the threshold of the department it waits for, with no script
    error. Technical's 1-second threshold makes almost every technical caller late (past it), while
    billing's hour keeps its callers on time."""
    folder = tmp_path / "own"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(ROOT / "scenarios" / "small-centre.yaml"),
            "--set",
            "goals.departments.billing.threshold=1h",
            "--set",
            "goals.departments.technical.threshold=1s",
            "--out",
            str(folder),
            "--quiet",
            "--replay",
        ],
    )
    assert result.exit_code == 0, result.output
    page = Page(browser, folder / "replay.html")
    assert "under the department's threshold" in page("document.getElementById('legend').textContent")
    floor = read_floor(folder)
    found = waits(floor.events)
    queued = found.kind == QUEUE
    # the instant at which most callers wait in a queue
    starts = found.start_at[queued]
    counts = [int((found.waiting_at(at) & queued).sum()) for at in starts]
    busiest = float(starts[int(np.argmax(counts))]) + 5.0
    page(f"callsimReplay.seek({busiest})")
    chips = page(
        "Array.from(document.querySelectorAll('.chip')).map((c) => [c.dataset.call, c.className])"
    )
    department_of = {
        int(call): found.departments[department]
        for call, department in zip(found.call_id[queued], found.department[queued], strict=True)
    }
    late = {department_of.get(int(call), "") for call, kind in chips if "late" in kind or "bad" in kind}
    on_time = {department_of.get(int(call), "") for call, kind in chips if kind.strip() == "chip"}
    assert "technical" in late and "billing" not in late
    assert "technical" not in on_time
    assert "each department's own threshold" in page("document.getElementById('st-sl').textContent")
    assert page.problems == []
