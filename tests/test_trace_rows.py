"""Trace rows that carry a call's own handle time and patience (`handle_time`, `patience` columns of an
arrival trace; an empty cell is drawn as usual), so that a real day replays call for call.

A small day replayed with given times gives exactly the outcomes worked out by hand, in the engine and in the
reference model; Poisson arrivals written to traces with exponential handle times and patience in their
columns (and deliberately wrong distributions in the scenario) agree with Erlang A; faults name the line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.analysis import erlang
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.day import simulate
from sim.engine.reference import simulate_reference
from sim.model import loading
from sim.model.loading import ScenarioError, load_scenario, read_trace_rows
from sim.model.traces import SMALL, read_trace_fast, read_trace_rows_fast
from tests.test_theory import ALPHA

START = 8 * 3600.0


def _write(folder: Path, trace: str, changes: dict[str, Any] | None = None) -> Path:
    (folder / "calls.csv").write_text(trace, encoding="utf-8")
    data: dict[str, Any] = {
        "name": "replayed",
        "start": "08:00",
        "duration": "1h",
        "arrivals": {"trace": "calls.csv"},
        "patience": 10,  # fixed 10 s for calls whose patience cell is empty
        "departments": {"billing": {"agents": 1, "handle_time": 77}},  # fixed 77 s where not given
        **(changes or {}),
    }
    path = folder / "day.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


REPLAY = """at,handle_time,patience
08:00:00,100,
08:00:10,50,30
08:00:20,,1000
08:00:30,1m,200
08:00:40,20,150
08:05:00,1m,5
08:05:10,30,
"""
# One agent, no ring, no wrap-up. By hand: call 1 talks 0-100 (its own 100 s). Call 2 (patience 30) gives
# up at 40. Call 3 has no handle time: the drawn 77 s, 100-177. Call 4 (patience 200) waited 147: talks its
# own 60 s, 177-237. Call 5 (patience 150) would wait 197: gives up at 190. Call 6 finds the agent idle at
# 300: talks 60 s, to 360. Call 7 has no patience: the drawn 10 s runs out at 320.
EXPECTED = [
    # outcome, answered_at, ended_at, wait_time, talk_time
    ("answered", 0.0, 100.0, 0.0, 100.0),
    ("abandoned", math.nan, 40.0, 30.0, 0.0),
    ("answered", 100.0, 177.0, 80.0, 77.0),
    ("answered", 177.0, 237.0, 147.0, 60.0),
    ("abandoned", math.nan, 190.0, 150.0, 0.0),
    ("answered", 300.0, 360.0, 0.0, 60.0),
    ("abandoned", math.nan, 320.0, 10.0, 0.0),
]


@pytest.mark.parametrize("model", [simulate, simulate_reference], ids=["engine", "reference"])
def test_a_replayed_day_uses_each_calls_own_handle_time_and_patience(tmp_path: Path, model: Any) -> None:
    scenario = load_scenario(_write(tmp_path, REPLAY))
    assert scenario.arrivals.trace_handle_times == (100.0, 50.0, None, 60.0, 20.0, 60.0, 30.0)
    assert scenario.arrivals.trace_patience == (None, 30.0, 1000.0, 200.0, 150.0, 5.0, None)
    calls = calls_table(model(scenario, seed=1))
    found = list(
        calls[["outcome", "answered_at", "ended_at", "wait_time", "talk_time"]].itertuples(
            index=False, name=None
        )
    )
    for row, expected in zip(found, EXPECTED, strict=True):
        assert str(row[0]) == expected[0]
        np.testing.assert_allclose(np.array(row[1:], dtype=float), expected[1:], atol=1e-9)


def test_a_transferred_caller_keeps_its_own_handle_time_for_the_first_leg_only(tmp_path: Path) -> None:
    """Billing sends every caller on to a technical department (fixed 40 s): the traced 100 s is billing's
    talk, the technical leg is drawn."""
    departments = {
        "billing": {"agents": 1, "handle_time": 77, "transfer": {"technical": 1.0}},
        "technical": {"agents": 1, "handle_time": 40, "resolves": ["billing"]},
    }
    changes = {"departments": departments, "arrivals": {"trace": "calls.csv", "reasons": {"billing": 1.0}}}
    path = _write(tmp_path, "at,handle_time\n08:00:00,100\n", changes)
    for model in (simulate, simulate_reference):
        calls = calls_table(model(load_scenario(path), seed=1))
        assert calls["talk_time"].tolist() == [140.0] and calls["ended_at"].tolist() == [140.0]


def test_a_trace_without_the_columns_replays_as_before(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, "at\n08:00:00\n08:00:10\n", {"patience": 1000}))
    assert scenario.arrivals.trace_handle_times is None and scenario.arrivals.trace_patience is None
    calls = calls_table(simulate(scenario, seed=1))
    assert calls["talk_time"].tolist() == [77.0, 77.0]


def test_empty_columns_change_nothing(tmp_path: Path) -> None:
    """Columns whose every cell is empty leave the scenario (and so its run) as without them."""
    plain = load_scenario(_write(tmp_path, "at,reason\n08:00:00,billing\n08:00:10,billing\n"))
    empty = load_scenario(
        _write(tmp_path, "at,reason,handle_time,patience\n08:00:00,billing,,\n08:00:10,billing,,\n")
    )
    assert plain == empty


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("08:00:20,ten,", "calls.csv line 4: handle_time 'ten': expected a duration"),
        ("08:00:20,30,-5", "calls.csv line 4: patience '-5'"),
        ("08:00:20,30,10:00", "calls.csv line 4: patience '10:00'"),
    ],
)
def test_a_faulty_cell_is_refused_with_its_line(tmp_path: Path, row: str, expected: str) -> None:
    trace = f"at,handle_time,patience\n08:00:00,1m,\n08:00:10,,2m\n{row}\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, trace))
    (problem,) = caught.value.problems
    assert problem.path == "arrivals.trace" and problem.message.startswith(expected), problem.message


def test_a_long_trace_with_the_columns_is_read_fast_as_the_careful_reader_reads_it(tmp_path: Path) -> None:
    """Past the fast reader's threshold, a trace with the columns is read in one vectorised pass to the same
    values as the careful reader's, bit for bit; a cell it is not sure of (a unit) sends it to the careful
    reader, which reads it too; a fault deep in the file is located by its line."""
    lines = SMALL + 500
    rows = [f"{i * 0.25:.2f},{i % 300 + 1}.{i % 7},{'' if i % 7 else i % 50 / 3:.4}" for i in range(lines)]
    path = tmp_path / "long.csv"
    path.write_text("at,handle_time,patience\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert read_trace_fast(path, START, 86400.0) is None  # the plain reader declines the columns
    fast = read_trace_rows_fast(path, START, 86400.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loading, "read_trace_fast", lambda *args: None)
        patch.setattr(loading, "read_trace_rows_fast", lambda *args: None)
        careful = read_trace_rows(path, START, 86400.0)
    assert fast is not None and fast == careful
    assert careful.handle_times is not None and careful.patience is not None
    assert careful.handle_times[:3] == (1.0, 2.1, 3.2) and careful.patience[:8] == (0.0, *[None] * 6, 2.333)
    rows[9000] = "2250.00,2m,"
    path.write_text("at,handle_time,patience\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert read_trace_rows_fast(path, START, 86400.0) is None
    assert read_trace_rows(path, START, 86400.0).handle_times[9000] == 120.0  # type: ignore[index]
    rows[9000] = "2250.00,soon,"
    path.write_text("at,handle_time,patience\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"long.csv line 9002: handle_time 'soon'"):
        read_trace_rows(path, START, 86400.0)


# --- Erlang A from traced calls ----------------------------------------------------------------------------

PER_HOUR, HANDLE, PATIENCE, AGENTS, THRESHOLD = 120.0, 240.0, 180.0, 10, 20.0
DAYS = 16


def _traced_day(folder: Path, seed: int) -> dict[str, Any]:
    """One day of Poisson arrivals written to a trace whose columns carry exponential handle times and
    patience; the scenario's own distributions (fixed 1 s) are what a run ignoring the columns would use."""
    rng = np.random.default_rng(seed)
    duration = 8 * 3600.0
    times = np.cumsum(rng.exponential(3600 / PER_HOUR, int(PER_HOUR * 9)))
    times = times[times < duration]
    handle = rng.exponential(HANDLE, len(times))
    patience = rng.exponential(PATIENCE, len(times))
    rows = "".join(f"{t:.3f},{h:.3f},{p:.3f}\n" for t, h, p in zip(times, handle, patience, strict=True))
    (folder / "calls.csv").write_text("at,handle_time,patience\n" + rows, encoding="utf-8")
    data = {
        "name": "traced-erlang-a",
        "duration": "8h",
        "warmup": "1h",
        "interval": "1h",
        "arrivals": {"trace": "calls.csv"},
        "patience": 1,
        "service_level": {"threshold": THRESHOLD},
        "departments": {"support": {"agents": AGENTS, "handle_time": 1}},
    }
    path = folder / "day.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return summary(simulate(load_scenario(path), seed=seed))


@pytest.mark.parametrize(
    ("kpi", "figure"), [("abandon_rate", "abandon_rate"), ("service_level", "service_level")]
)
def test_poisson_arrivals_with_exponential_times_in_the_trace_agree_with_erlang_a(
    tmp_path: Path, kpi: str, figure: str
) -> None:
    """M/M/10+M at 8 erlangs (abandonment 0.0595, SL(20 s) 0.804): the mean over days generated with
    different seeds is within a Student-t quantile (the suite's fixed false-alarm rate) of the replications'
    standard error from Erlang A."""
    days = np.array([_traced_day(tmp_path, seed)[kpi] for seed in range(1, DAYS + 1)])
    theory = float(
        getattr(erlang.erlang_a_figures(PER_HOUR / 3600, HANDLE, PATIENCE, AGENTS, THRESHOLD), figure)
    )
    se = days.std(ddof=1) / math.sqrt(DAYS)
    crit = float(stats.t.isf(ALPHA / 2, DAYS - 1))
    assert crit * se < 0.5 * abs(theory - (0.0 if kpi == "abandon_rate" else 1.0)), "too few days to resolve"
    assert abs(days.mean() - theory) <= crit * se, f"{kpi}: {days.mean():.4f} vs Erlang A {theory:.4f}"
