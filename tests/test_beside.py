"""A simulation run beside (`sim/experiments/beside.py`): replication 0 simulated by a forked process while
`callsim run` imports the rest. Its tables are `simulate`'s, event for event, on every shipped day; a forked
process that fails or is stopped leaves the simulation to the caller (`result` is None), and a run's
folder is the same whichever process simulated it. The Parquet files encoded ahead
(`sim.output.results.EncodedTables`) are the bytes `write_parquet` writes."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import sim.experiments.beside as beside_module
import sim.experiments.processes as processes
from sim.engine.day import RunResult, simulate
from sim.experiments.beside import SimulationBeside
from sim.experiments.runner import replicate
from sim.model.loading import load_scenario
from sim.model.scenario import Scenario
from sim.output.folders import write_parquet
from sim.output.results import EncodedTables
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the simulation beside is a forked process")

DAYS = sorted(path for path in (ROOT / "scenarios").glob("*.yaml") if load_scenario(path).week is None)


def _beside(scenario: Scenario, seed: int | None = None) -> SimulationBeside:
    started = SimulationBeside.start(scenario, seed)
    if started is None:
        pytest.skip("one core: runs simulate in-process")
    return started


def _same_run(beside: RunResult, here: RunResult) -> None:
    pd.testing.assert_frame_equal(beside.events, here.events, check_exact=True)
    pd.testing.assert_frame_equal(beside.agents, here.agents, check_exact=True)
    for name in (
        "seed",
        "replication",
        "staffing",
        "ended_at",
        "reason_names",
        "busyness",
        "rostered",
        "absent",
    ):
        assert getattr(beside, name) == getattr(here, name), name
    assert beside.scenario is here.scenario


@pytest.mark.parametrize("path", DAYS, ids=[path.stem for path in DAYS])
def test_the_simulation_beside_is_the_simulation_here(path: Path) -> None:
    scenario = load_scenario(path)
    result = _beside(scenario, 7).result()
    assert result is not None
    _same_run(result, simulate(scenario, 7, 0))
    assert result.wall_time > 0


def test_a_failing_simulation_beside_leaves_it_to_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked process inherits the failure; it sends nothing and exits, and `result` says None, so the
    caller simulates here and meets the error itself."""

    def fails(*_: object, **__: object) -> None:
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(beside_module, "simulate_day", fails)
    beside = _beside(load_scenario(ROOT / "scenarios" / "small-centre.yaml"))
    assert beside.result() is None
    assert beside.result() is None  # asked again: still nothing, and nothing to wait for


def test_a_stopped_simulation_beside_is_reaped() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "small-centre.yaml", ["duration=2000h"])
    beside = _beside(scenario)
    pid = beside._pid
    beside.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more
    assert beside.result() is None


def test_replicate_takes_replication_zero_from_beside_only_if_it_is_the_same_run() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "small-centre.yaml", ["duration=2h"])
    first = simulate(scenario, 3, 0)
    given = replicate(scenario, 3, 2, 1, first=first)
    assert given.first is first
    alone = replicate(scenario, 3, 2, 1)
    assert given.summary == alone.summary
    with pytest.raises(ValueError, match="replication 0"):
        replicate(scenario, 4, 1, 1, first=first)  # another seed's


def test_the_late_tables_encoded_ahead_are_the_files_written_otherwise(tmp_path: Path) -> None:
    result = simulate(load_scenario(ROOT / "scenarios" / "busy-day.yaml"), 2, 0)
    ahead, plain = tmp_path / "ahead", tmp_path / "plain"
    ahead.mkdir()
    plain.mkdir()
    EncodedTables(result).write(ahead, list(EncodedTables.TABLES))
    EncodedTables(result, ahead=False).write(plain, list(EncodedTables.TABLES))
    write_parquet(result.events, tmp_path / "events.parquet")
    for name in EncodedTables.TABLES:
        assert (ahead / name).read_bytes() == (plain / name).read_bytes()
    assert (ahead / "events.parquet").read_bytes() == (tmp_path / "events.parquet").read_bytes()
    assert len(pd.read_parquet(ahead / "events.parquet")) == len(result.events) > 1000


def test_a_runs_folder_is_the_same_whichever_process_simulated_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`callsim run` with the simulation beside, and with it here (one core, as `start` then says; the
    report is then drawn in-process too): every table, the summary and the pictures are the same files."""
    from typer.testing import CliRunner

    from sim.cli.app import app

    def run(folder: Path) -> None:
        done = CliRunner().invoke(
            app, ["run", str(ROOT / "scenarios" / "busy-day.yaml"), "--quiet", "--out", str(folder)]
        )
        assert done.exit_code == 0, done.output

    if SimulationBeside.start(load_scenario(ROOT / "scenarios" / "erlang-b.yaml")) is None:
        pytest.skip("one core: runs simulate in-process")
    run(tmp_path / "beside")
    monkeypatch.setattr(processes, "cores", lambda: 1)  # one core: simulated (and drawn) in-process
    assert SimulationBeside.start(load_scenario(ROOT / "scenarios" / "erlang-b.yaml")) is None
    run(tmp_path / "here")
    names = [
        *("calls.parquet", "visits.parquet", "events.parquet", "agents.parquet"),
        *("intervals.csv", "summary.json", "scenario.yaml"),
    ]
    names += [f"plots/{path.name}" for path in sorted((tmp_path / "here" / "plots").glob("*.png"))]
    assert len(names) > 9
    for name in names:
        assert (tmp_path / "beside" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name
