"""Agent schedules from a CSV (`agents: {file: agents.csv}`): one row per agent period, read at load time.

A row is a shift of `count` agents, so a CSV holding a `shifts:` list gives the same day to the bit; any
number of rows is taken (the staffing step function is a sweep, checked against counting the rows that
cover an instant); faults name the file, the line and what was expected; and loading needs no engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.engine.day import simulate
from sim.model.agent_schedules import MAX_AGENT_PERIODS, most_on_duty
from sim.model.loading import ScenarioError, load_scenario, resolved_dict, scenario_from_dict
from sim.model.staffing import count_at, staffing_levels
from tests.conftest import ROOT

SHIFTS = [
    {"start": "07:30", "end": "11:00", "count": 2},
    {"start": "08:00", "end": "12:15", "count": 1},
    {"start": "09:45:30", "end": "13:00", "count": 3},
    {"start": "12:00", "end": "16:00", "count": 2},
    {"start": "22:00", "end": "09:00", "count": 1},  # last night's shift, still on in the morning
]
DAY: dict[str, Any] = {
    "name": "schedules",
    "start": "08:00",
    "duration": "8h",
    "interval": "30m",
    "arrivals": {"per_hour": 90},
    "patience": {"dist": "exponential", "mean": "3m"},
    "departments": {"billing": {"handle_time": {"dist": "exponential", "mean": "4m"}}},
}


def _scenario_file(folder: Path, agents: Any, csv_text: str | None = None) -> Path:
    data = {**DAY, "departments": {"billing": {**DAY["departments"]["billing"], "agents": agents}}}
    if csv_text is not None:
        (folder / "agents.csv").write_text(csv_text, encoding="utf-8")
    path = folder / "day.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _problem(folder: Path, csv_text: str | None) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_scenario_file(folder, {"file": "agents.csv"}, csv_text))
    (problem,) = caught.value.problems
    assert problem.path == "departments.billing.agents.file"
    return problem.message


def test_a_csv_equal_to_a_shifts_list_gives_identical_tables(tmp_path: Path) -> None:
    rows = "\n".join(f"agent {i},{s['start']},{s['end']},{s['count']}" for i, s in enumerate(SHIFTS))
    from_csv = load_scenario(
        _scenario_file(tmp_path, {"file": "agents.csv"}, f"agent,start,end,count\n{rows}\n")
    )
    from_shifts = load_scenario(_scenario_file(tmp_path, {"shifts": SHIFTS}))
    agents_csv, agents_shifts = (
        from_csv.departments["billing"].agents,
        from_shifts.departments["billing"].agents,
    )
    assert agents_csv is not None and agents_shifts is not None
    assert staffing_levels(agents_csv, from_csv) == staffing_levels(agents_shifts, from_shifts)
    a, b = simulate(from_csv, seed=4), simulate(from_shifts, seed=4)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert len(a.events) > 500


def test_three_hundred_rows_are_taken_and_the_staffing_counts_the_rows_covering_each_instant(
    tmp_path: Path,
) -> None:
    """300 one-agent periods (some wrapping past midnight, some named twice around a break): the level in
    force at random instants equals the number of rows covering that instant, counted row by row."""
    rng = np.random.default_rng(5)
    starts = rng.uniform(0, 86400, 300).round()
    lengths = rng.uniform(600, 6 * 3600, 300).round()
    ends = (starts + lengths) % 86400
    text = "agent,start,end\n" + "".join(
        f"person {i // 2},{int(s)},{_clock(e)}\n" for i, (s, e) in enumerate(zip(starts, ends, strict=True))
    )
    scenario = load_scenario(_scenario_file(tmp_path, {"file": "agents.csv"}, text))
    agents = scenario.departments["billing"].agents
    assert agents is not None and agents.file is not None and len(agents.file.periods) == 300
    assert agents.file.periods[3].agent == "person 1"
    levels = staffing_levels(agents, scenario)
    for at in rng.uniform(0, scenario.duration, 200):
        clock = (scenario.start + at) % 86400
        covering = sum(1 for s, n in zip(starts, lengths, strict=True) if (clock - s) % 86400 < n)
        assert count_at(levels, at) == covering
    busiest = max(sum(1 for s, n in zip(starts, lengths, strict=True) if (t - s) % 86400 < n) for t in starts)
    assert most_on_duty([(p.start, p.end, p.count) for p in agents.file.periods]) == busiest


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def test_the_resolved_scenario_holds_the_rows_and_reloads_without_the_file(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario_file(tmp_path, {"file": "agents.csv"}, "start,end\n08:00,12:00\n"))
    (tmp_path / "agents.csv").unlink()
    again = scenario_from_dict(resolved_dict(scenario), base_dir=tmp_path)
    assert again == scenario
    agents = again.departments["billing"].agents
    assert agents is not None and agents.file is not None
    assert agents.file.source == "agents.csv" and agents.file.periods[0].count == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "agent,start,end\nann,08:00,12:00\nbob,08:00,25:00x\n",
            "agents.csv line 3: end '25:00x' is not a clock time",
        ),
        ("start,end\n08:00,12:00\n\n08:61,09:00\n", "agents.csv line 4: start '08:61' is not a clock time"),
        (
            "start,end,count\n08:00,12:00,two\n",
            "agents.csv line 2: count 'two' is not a whole number of agents",
        ),
        ("start,end,count\n08:00,12:00,-1\n", "agents.csv line 2: count '-1' is not a whole number"),
        ("start,end\n08:00,12:00,3\n", "agents.csv line 2: 3 cells; the header has 2"),
        ("agent,begin,end\nann,08:00,12:00\n", "agents.csv line 1: no 'start' column"),
        ("agent,start,end,skill\nann,08:00,12:00,x\n", "agents.csv line 1: unknown column 'skill'"),
        ("start,end\n", "agents.csv has no rows"),
        ("", "agents.csv is empty"),
    ],
)
def test_a_faulty_schedule_is_refused_with_file_line_and_what_was_expected(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert _problem(tmp_path, text).startswith(expected)


def test_a_missing_schedule_file_is_refused_at_its_path(tmp_path: Path) -> None:
    assert _problem(tmp_path, None).startswith("file not found:")


def test_a_file_and_a_count_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "agents.csv").write_text("start,end\n08:00,12:00\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="give exactly one of a count"):
        load_scenario(_scenario_file(tmp_path, {"file": "agents.csv", "count": 3}))


def test_too_many_rows_are_refused_at_the_first_row_beyond_the_limit(tmp_path: Path) -> None:
    text = "start,end\n" + "08:00,09:00\n" * (MAX_AGENT_PERIODS + 1)
    assert _problem(tmp_path, text) == (
        f"agents.csv line {MAX_AGENT_PERIODS + 2}: more than {MAX_AGENT_PERIODS} agent periods"
    )


def test_the_shipped_replay_day_reads_its_schedule_without_importing_the_engine() -> None:
    """`callsim validate` stays in sim/model: loading the shipped replay (its agent schedule and trace) does
    not import the engine or SimPy."""
    code = (
        "import sys\nfrom sim.model.loading import load_scenario\n"
        f"s = load_scenario({str(ROOT / 'scenarios' / 'replay-day.yaml')!r})\n"
        "print(len(s.departments['billing'].agents.file.periods), len(s.arrivals.trace_times))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sim.engine', 'simpy'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    periods, engine = done.stdout.splitlines()
    assert int(periods.split()[0]) >= 15 and int(periods.split()[1]) >= 200
    assert engine == "[]"
