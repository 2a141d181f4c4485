"""`callsim trace`: the story of one caller's journey and its timeline picture."""

from __future__ import annotations

import struct
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from sim.analysis.tables import calls_table
from sim.cli.app import app
from sim.engine.day import simulate
from sim.model.loading import scenario_from_dict
from sim.output.story import choose_call, ordinal, spoken, tell
from sim.output.timeline import segments
from tests.conftest import ROOT

runner = CliRunner()


def _bounced(tmp_path: Path) -> dict:
    """One technical caller, sent by the IVR to billing, then (agents routing wrongly first) on to sales."""
    (tmp_path / "calls.csv").write_text("at,reason\n0,technical\n", encoding="utf-8")
    return {
        "name": "bounced",
        "start": "09:00",
        "duration": "1h",
        "interval": "1h",
        "ring": {"cycle": "6s", "rings": 1},
        "arrivals": {
            "trace": str(tmp_path / "calls.csv"),
            "reasons": {"billing": 0.4, "technical": 0.3, "sales": 0.3},
        },
        "ivr": {"accuracy": 0.0, "menu_time": "20s"},
        "routing": {"listen_time": "30s", "accuracy": 0.0},
        "departments": {
            "billing": {"agents": 1, "handle_time": "2m"},
            "sales": {"agents": 1, "handle_time": "2m"},
            "technical": {"agents": 1, "handle_time": "5m"},
        },
    }


def test_story_tells_each_step_with_clock_and_ordinals(tmp_path: Path) -> None:
    scenario = scenario_from_dict(_bounced(tmp_path))
    result = simulate(scenario)
    lines = tell(result.events, result.agents, scenario, result.reason_names, 1)
    texts = [line.text for line in lines]
    # The IVR sends the technical caller to a wrong department; with routing accuracy 0 the first agent
    # sends it to the other wrong one, whose agent has only the right one left.
    assert texts[0] == "calls about technical."
    assert "a misroute" in texts[1] and texts[1].startswith("the menu (20s) sends them to ")
    answers = [t for t in texts if "answers: the caller's" in t]
    assert [a.split("the caller's ")[1] for a in answers] == ["first agent.", "second agent.", "third agent."]
    assert texts[-5].endswith(
        "the caller's second agent transfers them cold to technical (the right department)."
    )
    assert texts[-1] == "technical agent 1 resolves it. Resolved after 3 agents, 6m 38s."
    # Times: arrive 09:00:00, menu 20 s, ring 6 s, listen 30 s: first transfer at 09:00:56.
    first_transfer = next(line for line in lines if "transfers them" in line.text)
    assert first_transfer.at == 56.0


def test_timeline_segments_cover_the_journey(tmp_path: Path) -> None:
    scenario = scenario_from_dict(_bounced(tmp_path))
    result = simulate(scenario)
    found = segments(result.events, result.agents, scenario, 1, result.ended_at)
    # Menu 0-20 s; each agent lets it ring 6 s; the two misrouted agents listen 30 s and transfer; the
    # technical agent talks 5 minutes. No queue waits and no wrap-up: nothing else to draw.
    assert [(s.row, s.kind, s.start, s.end) for s in found] == [
        ("menu", "menu", 0.0, 20.0),
        ("sales agent 1", "ring", 20.0, 26.0),
        ("sales agent 1", "transfer", 26.0, 56.0),
        ("billing agent 1", "ring", 56.0, 62.0),
        ("billing agent 1", "transfer", 62.0, 92.0),
        ("technical agent 1", "ring", 92.0, 98.0),
        ("technical agent 1", "talk", 98.0, 398.0),
    ]


def _calls(*rows: tuple[int, int, float, float | None]) -> pd.DataFrame:
    """A calls table with only what choosing needs: (call_id, agents_touched, arrived_at, ended_at)."""
    ids, touched, arrived, ended = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "call_id": ids,
            "reason": ["billing"] * len(ids),
            "agents_touched": touched,
            "n_transfers": [0] * len(ids),
            "arrived_at": arrived,
            "ended_at": [float("nan") if e is None else e for e in ended],
        }
    )


def test_choose_call_prefers_the_longest_chain(tmp_path: Path) -> None:
    calls = calls_table(simulate(scenario_from_dict(_bounced(tmp_path))))
    assert choose_call(calls) == 1
    assert choose_call(calls, call_id=1) == 1
    # Most agents first; among equals the longest time in the system, then the lowest id.
    assert choose_call(_calls((1, 1, 0.0, 900.0), (2, 2, 0.0, 100.0), (3, 2, 50.0, 250.0))) == 3
    assert choose_call(_calls((4, 2, 0.0, 100.0), (2, 2, 10.0, 110.0))) == 2
    # A call still in the system at the stop has been there until the stop.
    still_there = _calls((1, 1, 0.0, 500.0), (2, 1, 3000.0, None))
    assert choose_call(still_there, stopped_at=3600.0) == 2
    assert choose_call(still_there, stopped_at=3400.0) == 1


def test_words() -> None:
    assert [ordinal(n) for n in (1, 4, 5, 11, 22)] == ["first", "fourth", "fifth", "11th", "22nd"]
    assert [spoken(s) for s in (35, 130, 3900)] == ["35s", "2m 10s", "1h 05m"]


def test_trace_command_prints_story_and_writes_png(tmp_path: Path) -> None:
    picture = tmp_path / "trace.png"
    outcome = runner.invoke(
        app,
        [
            "trace",
            str(ROOT / "scenarios" / "listening.yaml"),
            "--set",
            "duration=1h",
            "--set",
            "interval=30m",
            "--out",
            str(picture),
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    assert "answers: the caller's first agent" in outcome.output
    header = picture.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert width > 600 and height > 150


def test_trace_command_refuses_unknown_call_and_reason() -> None:
    path = str(ROOT / "scenarios" / "small-centre.yaml")
    missing = runner.invoke(
        app, ["trace", path, "--set", "duration=30m", "--set", "interval=30m", "--call", "999999"]
    )
    assert missing.exit_code == 2 and "no call 999999" in missing.output
    unknown = runner.invoke(app, ["trace", path, "--reason", "astrology"])
    assert unknown.exit_code == 2 and "no reason 'astrology'" in unknown.output
