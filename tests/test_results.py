"""The results folder of the README: every file, the summary contract, atomic writing, no overwriting unasked."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from scipy import stats

import sim.output.folders
import sim.output.results
from sim.experiments.runner import Replicated, replicate
from sim.model.loading import load_scenario, scenario_from_dict
from sim.output.folders import ResultsExist
from sim.output.results import write_run
from tests.conftest import ROOT

DATA = Path(__file__).resolve().parent / "data"

ALWAYS = [
    "scenario.yaml",
    "meta.json",
    "summary.json",
    "intervals.csv",
    "calls.parquet",
    "visits.parquet",
    "events.parquet",
    "agents.parquet",
]
CONTRACT = [
    "offered",
    "answered",
    "abandoned",
    "blocked",
    "service_level",
    "answered_within_rings",
    "asa",
    "mean_wait",
    "p_wait",
    "abandon_rate",
    "block_rate",
    "occupancy",
    "aht",
    "by_department",
]
DEPARTMENT_CONTRACT = ["visits", "answered", "abandoned", "asa", "occupancy"]


@pytest.fixture(autouse=True)
def _no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plots and report.html that `write_run` may add are the report tests' business, and slow: skip them."""
    monkeypatch.setattr(sim.output.results, "begin_fill_report", lambda *args, **kwargs: lambda: None, raising=False)


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture(scope="module")
def run1() -> Replicated:
    """One replication of the tiny two-department scenario (one simulated hour)."""
    return replicate(load_scenario(DATA / "tiny.yaml"), reps=1)


@pytest.fixture(scope="module")
def run3() -> Replicated:
    """Three replications, in this process."""
    return replicate(load_scenario(DATA / "tiny.yaml"), seed=99, reps=3, jobs=1)


def read_json(path: Path) -> Any:
    """JSON that must be standard: NaN or Infinity in the file fails the test."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{path.name} holds the non-JSON constant {constant}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_every_documented_file_is_written(run1: Replicated, tmp_path: Path) -> None:
    target = write_run(tmp_path / "run", run1)
    assert target == tmp_path / "run"
    assert set(ALWAYS) <= names(target)
    assert "replications.csv" not in names(target)  # only with --reps
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left beside it


def test_releasing_the_event_log_writes_the_same_folder_and_keeps_the_run_facts(tmp_path: Path) -> None:
    kept = write_run(tmp_path / "kept", replicate(load_scenario(DATA / "tiny.yaml"), reps=1))
    run = replicate(load_scenario(DATA / "tiny.yaml"), reps=1)
    offered = run.first.calls_offered
    released = write_run(tmp_path / "released", run, release_events=True)
    for name in ("calls.parquet", "events.parquet", "visits.parquet", "agents.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(released / name), pd.read_parquet(kept / name))
    assert (released / "summary.json").read_bytes() == (kept / "summary.json").read_bytes()
    assert len(run.first.events) == 0 and list(run.first.events.columns) == list(
        pd.read_parquet(kept / "events.parquet").columns
    )
    assert run.first.calls_offered == offered > 0 and run.calls_offered == offered


def test_large_tables_are_written_a_slice_at_a_time_to_the_same_table(
    run1: Replicated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = run1.first.events
    monkeypatch.setattr(sim.output.folders, "PARQUET_SLICE", max(len(events) // 7, 1))
    sim.output.results.write_parquet(events, tmp_path / "sliced.parquet")
    events.to_parquet(tmp_path / "whole.parquet", index=False)
    sliced = pd.read_parquet(tmp_path / "sliced.parquet")
    pd.testing.assert_frame_equal(sliced, pd.read_parquet(tmp_path / "whole.parquet"))
    assert len(sliced) == len(events) > 7
    assert pq.ParquetFile(tmp_path / "sliced.parquet").num_row_groups >= 7


def test_float_columns_are_stored_plain_and_the_rest_with_a_dictionary(
    run1: Replicated, tmp_path: Path
) -> None:
    """Floats hardly repeat: a dictionary for them is built only to be given up (the writing's slowest
    part), so they are written plain; ids, codes and names keep theirs. The table read back is the same."""
    calls = sim.output.results.calls_table(run1.first)
    sim.output.results.write_parquet(calls, tmp_path / "calls.parquet")
    calls.to_parquet(tmp_path / "default.parquet", index=False)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "calls.parquet"), pd.read_parquet(tmp_path / "default.parquet")
    )
    chunks = pq.ParquetFile(tmp_path / "calls.parquet").metadata.row_group(0)
    encodings = {
        chunks.column(i).path_in_schema: chunks.column(i).encodings for i in range(chunks.num_columns)
    }
    assert all("RLE_DICTIONARY" not in encodings[name] for name in ("arrived_at", "wait_time", "talk_time"))
    assert all("RLE_DICTIONARY" in encodings[name] for name in ("call_id", "outcome", "reason"))


def test_replicated_run_adds_replications_csv(run3: Replicated, tmp_path: Path) -> None:
    target = write_run(tmp_path / "run", run3)
    assert {*ALWAYS, "replications.csv"} <= names(target)


def test_summary_has_the_contract_keys(run1: Replicated, tmp_path: Path) -> None:
    summary = read_json(write_run(tmp_path / "run", run1) / "summary.json")
    assert set(CONTRACT) <= set(summary)
    assert set(summary["by_department"]) == {"billing", "technical"}
    for name, department in summary["by_department"].items():
        assert set(DEPARTMENT_CONTRACT) <= set(department), name
    assert "ci95" not in summary and "reps" not in summary
    assert summary == json.loads(json.dumps(sim.output.results.clean_json(run1.summary)))


def test_summary_counts_add_up_with_the_tables(run1: Replicated, tmp_path: Path) -> None:
    target = write_run(tmp_path / "run", run1)
    summary = read_json(target / "summary.json")
    calls = pd.read_parquet(target / "calls.parquet")
    visits = pd.read_parquet(target / "visits.parquet")
    assert summary["offered"] > 0
    assert len(calls) == summary["arrivals"]  # one row per call
    assert (calls["outcome"] == "answered").sum() == summary["answered"]
    assert len(visits) == sum(d["visits"] for d in summary["by_department"].values())  # one row per visit


def test_nan_is_written_as_null(run1: Replicated, tmp_path: Path) -> None:
    replication = run1.replications[0]
    summary = {**replication.summary, "asa": math.nan, "aht": np.float64("inf")}
    summary["by_department"] = {
        name: {**row, "asa": np.float64("nan")} for name, row in replication.summary["by_department"].items()
    }
    broken = dataclasses.replace(run1, replications=[dataclasses.replace(replication, summary=summary)])
    written = read_json(write_run(tmp_path / "run", broken) / "summary.json")
    assert written["asa"] is None and written["aht"] is None
    assert all(row["asa"] is None for row in written["by_department"].values())
    assert written["offered"] == replication.summary["offered"]


def test_replicated_summary_has_means_ci95_and_reps(run3: Replicated, tmp_path: Path) -> None:
    target = write_run(tmp_path / "run", run3)
    summary = read_json(target / "summary.json")
    table = pd.read_csv(target / "replications.csv")
    assert summary["reps"] == 3
    assert table["replication"].tolist() == [0, 1, 2]
    assert set(CONTRACT) - {"by_department"} <= set(summary["ci95"])
    assert "by_department.billing.asa" in table.columns
    for key in ("offered", "service_level", "asa", "occupancy"):
        values = table[key].to_numpy(dtype=float)
        assert summary[key] == pytest.approx(values.mean(), rel=1e-5)  # the csv holds 6 digits
        # half-width of the 95% Student-t interval over 3 replications
        half = stats.t.ppf(0.975, 2) * values.std(ddof=1) / math.sqrt(3)
        assert summary["ci95"][key] == pytest.approx(half, rel=1e-4, abs=1e-9), key
    assert len({float(v) for v in table["offered"]}) > 1  # replications really are different days


def test_intervals_csv_has_each_interval_and_department(run1: Replicated, tmp_path: Path) -> None:
    intervals = pd.read_csv(write_run(tmp_path / "run", run1) / "intervals.csv")
    documented = [
        "start",
        "department",
        "offered",
        "answered",
        "abandoned",
        "blocked",
        "service_level",
        "asa",
        "mean_wait",
        "p90_wait",
        "abandon_rate",
        "occupancy",
        "agents_scheduled",
        "agents_logged_in",
        "met_target",
    ]
    assert set(documented) <= set(intervals.columns)
    assert len(intervals) == 2 * 3  # two intervals x (all, billing, technical)
    assert sorted(set(intervals["department"])) == ["all", "billing", "technical"]
    assert sorted(set(intervals["start"])) == ["09:00", "09:30"]  # clock times from start 09:00
    everyone = intervals[intervals["department"] == "all"]
    assert everyone["offered"].sum() == run1.summary["offered"]
    # technical has [1, 2] agents per interval
    technical = intervals[intervals["department"] == "technical"].sort_values("start")
    assert technical["agents_scheduled"].tolist() == [1, 2]


def test_parquet_tables_have_the_documented_columns(run1: Replicated, tmp_path: Path) -> None:
    target = write_run(tmp_path / "run", run1)
    events = pd.read_parquet(target / "events.parquet")
    assert list(events.columns) == ["t", "event", "call_id", "agent_id", "department", "detail"]
    assert events["t"].is_monotonic_increasing
    agents = pd.read_parquet(target / "agents.parquet")
    assert {"pool", "number"} <= set(agents.columns)
    calls = pd.read_parquet(target / "calls.parquet")
    documented = ["reason", "arrived_at", "answered_at", "ended_at", "outcome", "wait_time", "ring_time"]
    assert {*documented, "talk_time", "wrap_time"} <= set(calls.columns)
    assert calls["call_id"].is_unique


@pytest.mark.parametrize("path", [DATA / "tiny.yaml", DATA / "with-files.yaml"], ids=lambda p: p.stem)
def test_scenario_yaml_reloads_to_the_same_scenario(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    run = replicate(scenario, reps=1)
    target = write_run(tmp_path / "run", run)
    assert load_scenario(target / "scenario.yaml") == scenario
    # in seconds, every default filled in
    resolved = yaml.safe_load((target / "scenario.yaml").read_text(encoding="utf-8"))
    assert resolved["duration"] == scenario.duration and isinstance(resolved["duration"], float)
    assert resolved["drain"] == 4 * 3600.0 and "ring" in resolved and "service_level" in resolved


def test_meta_records_seed_versions_and_git_revision(run3: Replicated, tmp_path: Path) -> None:
    meta = read_json(write_run(tmp_path / "run", run3, command=["callsim", "run", "x"]) / "meta.json")
    assert meta["seed"] == 99
    assert meta["reps"] == 3
    assert meta["command"] == ["callsim", "run", "x"]
    assert meta["wall_time"] > 0
    import numpy
    import pandas
    import simpy

    versions = meta["versions"]
    assert versions["numpy"] == numpy.__version__
    assert versions["pandas"] == pandas.__version__
    assert versions["simpy"] == simpy.__version__
    assert versions["callsim"] == sim.__version__
    assert versions["python"].count(".") == 2
    git = shutil.which("git")
    head = (
        subprocess.run(
            [git, "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        if git
        else ""
    )
    if head:
        assert meta["git_revision"] in (head, f"{head}+dirty")
    else:
        assert meta["git_revision"] == "unknown"


def test_a_prefetched_git_revision_is_the_one_found_now_and_is_taken_once() -> None:
    """`callsim run` starts git before simulating; meta.json takes that answer, which is the revision a
    fresh look finds, and the next look is fresh again."""
    from sim.experiments import provenance

    fresh = provenance.git_revision()
    provenance.prefetch_git_revision()
    assert len(provenance._PREFETCHED) == 1
    assert provenance.git_revision() == fresh
    assert provenance._PREFETCHED == []


def test_meta_seed_is_the_scenarios_when_not_given(run1: Replicated, tmp_path: Path) -> None:
    meta = read_json(write_run(tmp_path / "run", run1) / "meta.json")
    assert meta["seed"] == load_scenario(DATA / "tiny.yaml").seed == 2
    assert meta["reps"] == 1


def test_a_departments_service_level_counts_its_blocked_callers_as_misses() -> None:
    from sim.analysis.intervals import interval_table
    from sim.analysis.summary import summary
    from sim.engine.day import simulate

    scenario = load_scenario(ROOT / "scenarios" / "erlang-b.yaml", ["duration=4h"])
    result = simulate(scenario)
    kpis = summary(result)
    (name,) = scenario.departments
    department = kpis["by_department"][name]
    assert department["blocked"] == kpis["blocked"] > 0
    # One department, no transfers: its figures are the centre's, blocked callers included.
    assert department["service_level"] == pytest.approx(kpis["service_level"])
    assert department["abandon_rate"] == pytest.approx(kpis["abandon_rate"])
    rows = interval_table(result)
    mine = rows[rows["department"] == name]
    in_time = (mine["service_level"] * mine["offered"]).sum()
    assert in_time / mine["offered"].sum() == pytest.approx(department["service_level"])


# --- never overwrite unasked; never leave half a folder ---------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_non_empty_folder_is_not_overwritten_without_force(
    run1: Replicated, run3: Replicated, tmp_path: Path
) -> None:
    target = write_run(tmp_path / "run", run1)
    before = snapshot(target)
    with pytest.raises(ResultsExist, match="--force"):
        write_run(target, run3)
    assert snapshot(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_foreign_file_in_the_folder_also_blocks_writing(run1: Replicated, tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ResultsExist):
        write_run(target, run1)
    assert snapshot(target) == {"notes.txt": b"mine"}


def test_a_file_in_the_way_is_refused_even_with_force(run1: Replicated, tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ResultsExist):
        write_run(target, run1, force=True)
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_an_empty_folder_is_used(run1: Replicated, tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    write_run(target, run1)
    assert set(ALWAYS) <= names(target)


def test_force_replaces_the_whole_folder(run1: Replicated, run3: Replicated, tmp_path: Path) -> None:
    target = write_run(tmp_path / "run", run3)
    (target / "stale.txt").write_text("old", encoding="utf-8")
    write_run(target, run1, force=True)
    assert set(ALWAYS) <= names(target)
    assert not {"replications.csv", "stale.txt"} & names(target)  # the old folder is gone, not merged
    assert read_json(target / "meta.json")["reps"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no trash or staging folder left


def test_parent_folders_are_created(run1: Replicated, tmp_path: Path) -> None:
    target = write_run(tmp_path / "a" / "b" / "run", run1)
    assert (target / "summary.json").is_file()


@pytest.mark.parametrize(
    "error", [RuntimeError("disk on fire"), KeyboardInterrupt()], ids=["error", "ctrl-c"]
)
def test_failure_while_writing_leaves_nothing_behind(
    run1: Replicated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    staged: list[list[str]] = []

    def explode(*args: object, **kwargs: object) -> None:
        # at this point scenario.yaml, meta.json, calls and events are written into a staging sibling
        staged.append(sorted(p.name for p in tmp_path.iterdir()))
        raise error

    monkeypatch.setattr(sim.output.results, "visits_table", explode)
    with pytest.raises(type(error)):
        write_run(tmp_path / "run", run1)
    assert len(staged) == 1 and len(staged[0]) == 1
    assert staged[0][0].endswith(".partial")  # written into a temporary sibling, not the target
    assert list(tmp_path.iterdir()) == []  # no target, no staging folder


def test_failure_while_replacing_keeps_the_old_results(
    run1: Replicated, run3: Replicated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write_run(tmp_path / "run", run3)
    before = snapshot(target)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sim.output.results, "write_json", explode)
    with pytest.raises(RuntimeError):
        write_run(target, run1, force=True)
    assert snapshot(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_run_that_took_the_folder_meanwhile_is_not_overwritten(
    run1: Replicated, run3: Replicated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two runs aimed at one folder (or started in the same second): the one finishing second finds the
    # folder taken at the rename and settles beside it; neither run's results are lost.
    target = tmp_path / "run"
    real = sim.output.results.write_json
    other: dict[str, dict[str, bytes]] = {}
    started: list[bool] = []

    def meanwhile(path: Path, value: Any) -> None:
        if not started:
            started.append(True)
            other["files"] = snapshot(write_run(target, run3))  # another run finishes first
        real(path, value)

    monkeypatch.setattr(sim.output.results, "write_json", meanwhile)
    written = write_run(target, run1)
    assert written == tmp_path / "run-2"
    assert snapshot(target) == other["files"]
    assert read_json(written / "meta.json")["reps"] == 1 and read_json(target / "meta.json")["reps"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run-2"]


def test_a_resolved_summary_scenario_matches_the_run(run1: Replicated, tmp_path: Path) -> None:
    """The folder describes the run it holds: its scenario, seed and replication count agree."""
    target = write_run(tmp_path / "run", run1)
    meta = read_json(target / "meta.json")
    scenario = scenario_from_dict(yaml.safe_load((target / "scenario.yaml").read_text(encoding="utf-8")))
    assert (meta["scenario"], meta["seed"]) == (scenario.name, run1.seed)


def test_meta_records_a_precision_goal_and_whether_it_was_met(tmp_path: Path) -> None:
    from sim.experiments.runner import replicate_until

    scenario = load_scenario(ROOT / "scenarios" / "small-centre.yaml", ["duration=1h"])
    run = replicate_until(scenario, {"service_level": 1e-6}, reps=2, max_reps=3, jobs=1)
    meta = read_json(write_run(tmp_path / "run", run) / "meta.json")
    precision = meta["precision"]
    assert precision["targets"] == {"service_level": 1e-6} and precision["met"] is False
    assert precision["reps"] == meta["reps"] == 3 and precision["half_widths"]["service_level"] > 1e-6
    plain = read_json(write_run(tmp_path / "plain", replicate(scenario, reps=2, jobs=1)) / "meta.json")
    assert "precision" not in plain


def test_the_results_csv_is_what_pandas_writes_to_six_digits(tmp_path: Path) -> None:
    """`folders.csv_text` formats the float columns itself (faster): the text is `to_csv` with
    `float_format="%.6g"` to the byte, on every shipped day's interval table (two replications: the
    half-width columns too) and on a frame of awkward values (missing, infinite, signed zero, tiny and huge
    numbers, quotes and commas, categories, nullable integers and floats, 32-bit floats)."""
    from sim.experiments.runner import replicate
    from sim.model.loading import load_scenario
    from sim.output.folders import csv_text

    awkward = pd.DataFrame(
        {
            "x": [0.1, np.nan, np.inf, -np.inf, -0.0, 1e-300, 123456789.0, 0.8000000001, 2.5],
            "n": range(9),
            "flag": [True, False] * 4 + [True],
            "text": ["x", "y,z", 'q"r', "", None, "a", "b", "c", "d"],
            "kind": pd.Categorical(list("abcabcabc")),
            "single": np.array([1.5, 0.1, 3e38, 1e-40, 7, 8, 9, 10, 11], dtype=np.float32),
            "count": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9], dtype="Int64"),
            "share": pd.array([0.5, None, 3, 4, 5, 6, 7, 8, 9], dtype="Float64"),
        }
    )
    frames = [awkward]
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        if scenario.week is None:
            frames.append(replicate(scenario, 2, 2, 1).intervals)
    assert len(frames) > 20
    for frame in frames:
        assert csv_text(frame) == frame.to_csv(index=False, float_format="%.6g")
