"""`callsim rerun`: a saved folder records enough to rerun it bit for bit, and a changed table is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from sim.cli.app import app
from sim.output.rerun import TABLES, differences, rerun_plan, version_changes
from tests.conftest import ROOT

SCENARIO = str(ROOT / "scenarios" / "virtual-hold.yaml")
OVERRIDES = ["--set", "seed=3", "--set", "callback.accept=0.4"]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-replication run with overrides (holds, callbacks, transfers), as a planner would leave it."""
    folder = tmp_path_factory.mktemp("original") / "run"
    result = CliRunner().invoke(
        app, ["run", SCENARIO, *OVERRIDES, "--reps", "2", "--jobs", "1", "--out", str(folder), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    return folder


def said(result: Result) -> str:
    """The command's output with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_rerun_reproduces_every_table(original: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    result = CliRunner().invoke(app, ["rerun", str(original), "--out", str(again), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "identical" in said(result)
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(original / name), pd.read_parquet(again / name))
    assert json.loads((original / "summary.json").read_text()) == json.loads(
        (again / "summary.json").read_text()
    )
    assert (original / "intervals.csv").read_text() == (again / "intervals.csv").read_text()
    assert (original / "replications.csv").read_text() == (again / "replications.csv").read_text()


def test_the_plan_is_the_resolved_scenario_with_its_overrides(original: Path) -> None:
    plan = rerun_plan(original)
    assert (plan.reps, plan.seed) == (2, 3)
    assert plan.scenario.callback is not None and plan.scenario.callback.accept == 0.4


def test_a_changed_table_is_named(original: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for path in original.iterdir():
        if path.is_file():
            (tampered / path.name).write_bytes(path.read_bytes())
    events = pd.read_parquet(tampered / "events.parquet")
    events.loc[len(events) // 2, "detail"] += 1e-9
    events.to_parquet(tampered / "events.parquet", index=False)
    result = CliRunner().invoke(
        app, ["rerun", str(tampered), "--out", str(tmp_path / "again"), "--jobs", "1"]
    )
    assert result.exit_code == 1
    assert "events.parquet: column 'detail' differs" in said(result)
    assert differences(original, tampered) == ["events.parquet: column 'detail' differs"]


def test_changed_versions_are_warned_about(original: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in original.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    meta = json.loads((copy / "meta.json").read_text())
    meta["versions"]["numpy"] = "0.0.1"
    meta["git_revision"] = "0123abc"
    (copy / "meta.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(app, ["rerun", str(copy), "--out", str(tmp_path / "again"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "numpy was 0.0.1 for the original run" in said(result)
    assert "callsim revision was 0123abc for the original run" in said(result)
    assert rerun_plan(copy).versions["callsim revision"] == "0123abc"
    assert version_changes({"callsim revision": "0123abc"}, {"callsim revision": "unknown"}) == {}
    assert version_changes({"numpy": "0.0.1", "simpy": "4.1.2"}, {"numpy": "2.0", "simpy": "4.1.2"}) == {
        "numpy": ("0.0.1", "2.0")
    }


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["rerun", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a callsim results folder" in said(result)


def test_rerun_never_overwrites(original: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["rerun", str(original), "--out", str(original)])
    assert result.exit_code == 2
    assert "--out must differ" in said(result)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    result = CliRunner().invoke(app, ["rerun", str(original), "--out", str(occupied)])
    assert result.exit_code == 2
    assert (occupied / "keep.txt").read_text() == "mine"
