"""Sweeps (sim/experiments/sweep.py, sim/output/sweep_folder.py, sim/cli/sweep.py) and replications until a precision (sim/runner.replicate_until).

Exactness where the design promises it (identical tables whichever executor, common random numbers,
resumed = uninterrupted); statistics where it does not (metamorphic relations under common random numbers
are checked replication by replication where they hold pathwise, and by paired tests where they hold only
on average).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

import sim.cli.sweep as sweep_cli
import sim.experiments.sweep as sweep_module
import sim.output.sweep_folder as sweep_folder
from sim.analysis.confidence import half_width
from sim.cli.app import app
from sim.experiments.executors import ProcessExecutor, SerialExecutor
from sim.experiments.runner import replicate_until
from sim.experiments.sweep import plan_sweep
from sim.experiments.sweep_design import (
    SweepError,
    grid_design,
    lhs_design,
    parse_parameter,
    split_top_level,
)
from sim.model.loading import ScenarioError, load_scenario
from sim.output.sweep_folder import SweepLocked, folder_lock, read_rows, run_sweep
from tests.conftest import ROOT

runner = CliRunner()

SINGLE: dict[str, Any] = {
    "name": "single",
    "seed": 5,
    "duration": "2h",
    "interval": "30m",
    "ring": {"cycle": "6s", "rings": 1},
    "arrivals": {"per_hour": 100},
    "patience": {"dist": "exponential", "mean": "2m"},
    "departments": {
        "support": {
            "agents": 6,
            "handle_time": {"dist": "lognormal", "mean": "3m", "cv": 1.0},
            "wrap_time": "20s",
        }
    },
}


@pytest.fixture
def single(tmp_path: Path) -> Path:
    path = tmp_path / "single.yaml"
    path.write_text(yaml.safe_dump(SINGLE), encoding="utf-8")
    return path


def frame(folder: Path, name: str = "rows") -> pd.DataFrame:
    return pd.read_parquet(folder / f"{name}.parquet")


# --- parameters and designs ----------------------------------------------------------------------------------


def test_integer_ranges_are_inclusive_and_step():
    assert parse_parameter("departments.billing.agents=8:16").values == tuple(str(v) for v in range(8, 17))
    assert parse_parameter("a.b=8:16:2").values == ("8", "10", "12", "14", "16")
    assert parse_parameter("a.b=8:8").values == ("8",)


def test_lists_durations_and_flow_values():
    assert parse_parameter("patience.mean=2m,3m,5m").values == ("2m", "3m", "5m")
    staffing = parse_parameter("departments.x.agents={per_interval: [1, 2]},{per_interval: [3, 4]}")
    assert staffing.values == ("{per_interval: [1, 2]}", "{per_interval: [3, 4]}")
    assert split_top_level("[1, 2],'a,b',{c: 3}") == ["[1, 2]", "'a,b'", "{c: 3}"]
    assert parse_parameter("patience.mean=2m:5m:1m").values == ("120.0", "180.0", "240.0", "300.0")
    continuous = parse_parameter("patience.mean=2m:5m")
    assert continuous.continuous and (continuous.low, continuous.high) == (120.0, 300.0)
    assert parse_parameter("patience.dist=exponential").values == ("exponential",)


@pytest.mark.parametrize(
    "text",
    ["nothing", "=3", "a.b=", "a..b=1", "a.b=5:3", "a.b=1:4:0", "a.b=1,,2", "seed=1,2", "a.b=1m:2m:-1s"],
)
def test_malformed_parameters_are_refused(text):
    with pytest.raises(SweepError):
        parse_parameter(text)


def test_grid_is_the_full_factorial_in_order():
    points = grid_design([parse_parameter("a=1:2"), parse_parameter("b=x,y,z")])
    assert points == [{"a": a, "b": b} for a in ("1", "2") for b in ("x", "y", "z")]
    with pytest.raises(SweepError, match="continuous"):
        grid_design([parse_parameter("a=1.5:2.5")])


def test_latin_hypercube_uses_every_stratum_once():
    samples = 50
    parameters = [parse_parameter("a=0.0:1.0"), parse_parameter("b=10.0:20.0"), parse_parameter("c=1:5")]
    points = lhs_design(parameters, samples, seed=7)
    for key, low, high in (("a", 0.0, 1.0), ("b", 10.0, 20.0)):
        values = np.array([float(p[key]) for p in points])
        strata = np.floor((values - low) / (high - low) * samples).astype(int)
        assert sorted(strata) == list(range(samples))
    counts = pd.Series([p["c"] for p in points]).value_counts()
    assert set(counts.index) == {"1", "2", "3", "4", "5"} and (counts == 10).all()
    assert lhs_design(parameters, samples, seed=7) == points
    assert lhs_design(parameters, samples, seed=8) != points


# --- plans ---------------------------------------------------------------------------------------------------


def test_a_refused_point_is_recorded_not_fatal(single, tmp_path):
    plan = plan_sweep(single, ["departments.support.agents=-1,5"], reps=2)
    assert plan.points[0].scenario is None and "must be >= 0" in (plan.points[0].error or "")
    assert plan.points[1].scenario is not None
    outcome = run_sweep(plan, tmp_path / "out", SerialExecutor(), plots=())
    rows = outcome.rows
    assert rows["error"].notna().tolist() == [True, True, False, False]
    assert rows.loc[rows["point"] == 1, "offered"].gt(0).all()
    assert outcome.summary.loc[0, "reps"] == 0 and "must be >= 0" in outcome.summary.loc[0, "error"]
    assert outcome.complete


def test_a_key_refused_for_every_point_stops_the_sweep(single, tmp_path):
    with pytest.raises(ScenarioError, match="every point refused"):
        plan_sweep(single, ["departments.suport.agents=4:6"])
    result = runner.invoke(
        app, ["sweep", str(single), "--grid", "departments.suport.agents=4:6", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "departments.suport" in result.output
    assert not (tmp_path / "x").exists()


def test_the_fingerprint_keeps_the_order_of_departments(tmp_path):
    # the first department that resolves a reason takes the callers others cannot help: order is meaning
    def written(order: list[str]) -> Path:
        data = {**SINGLE, "arrivals": {"per_hour": 100, "reasons": {"support": 0.5, "sales": 0.5}}}
        departments = {
            "support": SINGLE["departments"]["support"],
            "sales": {"agents": 2, "handle_time": "2m"},
        }
        data["departments"] = {name: departments[name] for name in order}
        path = tmp_path / f"{'-'.join(order)}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def fingerprint(order: list[str]) -> str:
        return plan_sweep(written(order), ["departments.sales.agents=2,3"]).fingerprint

    assert fingerprint(["support", "sales"]) == fingerprint(["support", "sales"])
    assert fingerprint(["support", "sales"]) != fingerprint(["sales", "support"])


def test_design_options_are_checked(single):
    with pytest.raises(SweepError, match="--samples"):
        plan_sweep(single, ["patience.mean=1m:2m"], design="lhs")
    with pytest.raises(SweepError, match="more than once"):
        plan_sweep(single, ["patience.mean=1m,2m", "patience.mean=3m"])
    with pytest.raises(SweepError, match="grid or lhs"):
        plan_sweep(single, ["patience.mean=1m,2m"], design="random")


# --- running: identical tables, common random numbers --------------------------------------------------------


def test_sequential_and_local_parallel_tables_are_identical(single, tmp_path):
    grid = ["departments.support.agents=5:7", "patience.mean=1m,3m"]
    plan = plan_sweep(single, grid, reps=3)
    serial = run_sweep(plan, tmp_path / "serial", SerialExecutor(), plots=())
    pool = ProcessExecutor(2)
    try:
        run_sweep(plan, tmp_path / "parallel", pool, plots=())
    finally:
        pool.close()
    pd.testing.assert_frame_equal(frame(tmp_path / "serial"), frame(tmp_path / "parallel"))
    pd.testing.assert_frame_equal(
        frame(tmp_path / "serial", "summary"), frame(tmp_path / "parallel", "summary")
    )
    rows = serial.rows
    assert len(rows) == 6 * 3 and list(rows.columns[:6]) == [
        "point",
        "replication",
        "seed",
        "departments.support.agents",
        "patience.mean",
        "error",
    ]
    assert rows["patience.mean"].isin([60.0, 180.0]).all()  # durations in seconds, as everywhere inside
    csv = pd.read_csv(tmp_path / "serial" / "rows.csv")
    np.testing.assert_array_equal(csv["service_level"].to_numpy(), rows["service_level"].to_numpy())
    assert not list((tmp_path / "serial" / "parts").iterdir())


def test_summary_means_and_confidence_intervals(single, tmp_path):
    plan = plan_sweep(single, ["departments.support.agents=5,7"], reps=4)
    outcome = run_sweep(plan, tmp_path / "out", SerialExecutor(), plots=())
    for point in (0, 1):
        mine = outcome.rows[outcome.rows["point"] == point]
        row = outcome.summary.iloc[point]
        assert row["service_level"] == pytest.approx(mine["service_level"].mean(), rel=1e-12)
        assert row["service_level_ci95"] == pytest.approx(half_width(list(mine["service_level"])), rel=1e-9)
        assert row["reps"] == 4 and row["failed"] == 0


def test_every_point_of_every_grid_sees_the_same_callers(single, tmp_path):
    first = run_sweep(
        plan_sweep(single, ["departments.support.agents=4:6"], reps=3),
        tmp_path / "a",
        SerialExecutor(),
        plots=(),
    )
    second = run_sweep(
        plan_sweep(single, ["departments.support.agents=6:8"], reps=3),
        tmp_path / "b",
        SerialExecutor(),
        plots=(),
    )
    for rows in (first.rows, second.rows):
        arrivals = rows.pivot(index="replication", columns="point", values="arrivals")
        assert (arrivals.nunique(axis=1) == 1).all()  # the same callers at every point
        assert arrivals.iloc[:, 0].nunique() == 3  # and different callers in each replication
    kpis = [c for c in first.rows.columns if c not in ("point", "departments.support.agents")]
    six_a = first.rows[first.rows["departments.support.agents"] == 6][kpis].reset_index(drop=True)
    six_b = second.rows[second.rows["departments.support.agents"] == 6][kpis].reset_index(drop=True)
    pd.testing.assert_frame_equal(six_a, six_b)


def test_more_agents_never_lengthen_a_replication_waits(single, tmp_path):
    # Metamorphic, pathwise: with first-come-first-served queues and each caller's handle time and
    # patience attached to the caller (drawn at arrival), adding a server can only bring each caller's
    # start of service earlier (the coupling behind the monotonicity of G/G/c+G in c), so under common
    # random numbers every replication's waits and abandonment fall (weakly) as agents are added.
    plan = plan_sweep(single, ["departments.support.agents=3:8"], reps=8)
    rows = run_sweep(plan, tmp_path / "out", SerialExecutor(), plots=()).rows
    for key in ("mean_wait", "asa", "abandon_rate"):
        table = rows.pivot(index="replication", columns="departments.support.agents", values=key)
        assert (table.diff(axis=1).iloc[:, 1:] <= 1e-9).all().all(), key
    level = rows.pivot(index="replication", columns="departments.support.agents", values="service_level")
    assert (level.diff(axis=1).iloc[:, 1:] >= -1e-9).all().all()


def test_more_patience_fewer_abandons(single, tmp_path):
    # Not pathwise (a patient caller who now waits can push a later caller past their patience), but on
    # average: a one-sided paired t-test on the replication differences under common random numbers.
    plan = plan_sweep(single, ["patience.mean=1m,4m", "departments.support.agents=5"], reps=12)
    rows = run_sweep(plan, tmp_path / "out", SerialExecutor(), plots=()).rows
    table = rows.pivot(index="replication", columns="patience.mean", values="abandon_rate")
    differences = table[60.0] - table[240.0]
    test = stats.ttest_1samp(differences, 0.0, alternative="greater")
    assert test.pvalue < 1e-3, differences.describe()
    waits = rows.pivot(index="replication", columns="patience.mean", values="mean_wait")
    assert stats.ttest_1samp(waits[240.0] - waits[60.0], 0.0, alternative="greater").pvalue < 1e-3


# --- safe long runs ------------------------------------------------------------------------------------------


class Interrupt:
    """A progress callback that presses Ctrl-C after `after` rows."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.start: int | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.start is None:
            self.start = done
        elif done - self.start >= self.after:
            raise KeyboardInterrupt


def test_an_interrupted_sweep_keeps_its_rows_and_resume_completes_it(single, tmp_path):
    plan = plan_sweep(single, ["departments.support.agents=4:7"], reps=3)
    reference = run_sweep(plan, tmp_path / "reference", SerialExecutor(), plots=())
    folder = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, folder, SerialExecutor(), plots=(), on_progress=Interrupt(5), flush_seconds=0.0)
    kept = read_rows(folder)
    assert len(kept) == 5
    status = json.loads((folder / "sweep.json").read_text())
    assert status["status"] == "interrupted" and status["rows"]["ran"] == 5
    with pytest.raises(FileExistsError):
        run_sweep(plan, folder, SerialExecutor(), plots=())
    resumed = run_sweep(plan, folder, SerialExecutor(), resume=True, plots=())
    assert (resumed.ran, resumed.kept, resumed.complete) == (12 - 5, 5, True)
    pd.testing.assert_frame_equal(frame(folder), frame(tmp_path / "reference"))
    pd.testing.assert_frame_equal(frame(folder, "summary"), reference.summary)


def test_resume_refuses_another_sweep_and_force_replaces(single, tmp_path):
    folder = tmp_path / "out"
    run_sweep(plan_sweep(single, ["departments.support.agents=4:5"]), folder, SerialExecutor(), plots=())
    other = plan_sweep(single, ["departments.support.agents=4:6"])
    with pytest.raises(SweepError, match="another sweep"):
        run_sweep(other, folder, SerialExecutor(), resume=True, plots=())
    outcome = run_sweep(other, folder, SerialExecutor(), force=True, plots=())
    assert len(outcome.rows) == 3 and len(frame(folder)) == 3


def test_resume_adds_replications(single, tmp_path):
    folder = tmp_path / "out"
    run_sweep(
        plan_sweep(single, ["departments.support.agents=4:5"], reps=2), folder, SerialExecutor(), plots=()
    )
    more = run_sweep(
        plan_sweep(single, ["departments.support.agents=4:5"], reps=4),
        folder,
        SerialExecutor(),
        resume=True,
        plots=(),
    )
    assert (more.ran, more.kept) == (4, 4)
    fresh = run_sweep(
        plan_sweep(single, ["departments.support.agents=4:5"], reps=4),
        tmp_path / "fresh",
        SerialExecutor(),
        plots=(),
    )
    pd.testing.assert_frame_equal(more.rows, fresh.rows)


def test_a_failing_task_is_recorded_and_retried_on_resume(single, tmp_path, monkeypatch):
    original = sweep_module.point_kpis

    def flaky(scenario, seed, replication):
        if replication == 1 and scenario.departments["support"].agents.count == 5:
            raise RuntimeError("worker lost")
        return original(scenario, seed, replication)

    monkeypatch.setattr(sweep_module, "point_kpis", flaky)
    plan = plan_sweep(single, ["departments.support.agents=4:6"], reps=2)
    folder = tmp_path / "out"
    outcome = run_sweep(plan, folder, SerialExecutor(), plots=())
    failed = outcome.rows[outcome.rows["error"].notna()]
    assert failed[["point", "replication"]].values.tolist() == [[1, 1]]
    assert failed["error"].iloc[0] == "RuntimeError: worker lost"
    assert outcome.failed == 1 and outcome.summary.loc[1, "reps"] == 1
    monkeypatch.setattr(sweep_module, "point_kpis", original)
    resumed = run_sweep(plan, folder, SerialExecutor(), resume=True, plots=())
    assert resumed.ran == 1 and resumed.failed == 0


def _start_and_stop(args: list[str], folder: Path, how: signal.Signals) -> int:
    """Start a sweep in its own process group, send `how` once a part is on disk, return the exit status."""
    process = subprocess.Popen(
        args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((folder / "parts").glob("part-*.parquet")):
        assert process.poll() is None, "the sweep ended before it could be stopped"
        time.sleep(0.05)
    os.killpg(process.pid, how)
    return process.wait(timeout=60)


def test_a_terminated_or_killed_sweep_resumes_to_the_same_table(tmp_path):
    """SIGTERM: the sweep folds what it finished into the tables and exits 130. SIGKILL (no chance to clean
    up): the parts written so far survive. Either way --resume completes the table, identical to a run
    that was never stopped."""
    scenario = ROOT / "scenarios" / "small-centre.yaml"
    grid = "departments.billing.agents=6:13"
    reps = 30  # points long enough (a second or so) that each run is stopped with points still to run
    rows = 8 * reps
    folder = tmp_path / "stopped"
    args = [
        sys.executable,
        str(ROOT / "cli.py"),
        "sweep",
        str(scenario),
        "--grid",
        grid,
        "--reps",
        str(reps),
        "--jobs",
        "1",
        "--quiet",
        "--out",
        str(folder),
    ]
    assert _start_and_stop(args, folder, signal.SIGTERM) == 130
    status = json.loads((folder / "sweep.json").read_text())
    first = len(frame(folder))
    assert status["status"] == "interrupted" and 0 < first < rows and status["rows"]["ran"] == first
    assert _start_and_stop([*args, "--resume"], folder, signal.SIGKILL) == -signal.SIGKILL
    second = len(read_rows(folder))
    assert first < second < rows
    done = subprocess.run([*args, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((folder / "sweep.json").read_text())["rows"]["kept"] == second
    reference = run_sweep(
        plan_sweep(scenario, [grid], reps=reps), tmp_path / "reference", SerialExecutor(), plots=()
    )
    pd.testing.assert_frame_equal(frame(folder), reference.rows)


def test_one_sweep_at_a_time_per_folder(single, tmp_path):
    plan = plan_sweep(single, ["departments.support.agents=4:5"])
    folder = tmp_path / "out"
    with folder_lock(folder), pytest.raises(SweepLocked):
        run_sweep(plan, folder, SerialExecutor(), plots=())
    assert run_sweep(plan, folder, SerialExecutor(), plots=()).complete


# --- the command ---------------------------------------------------------------------------------------------


def test_sweep_command_writes_tables_and_plots(single, tmp_path):
    folder = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "sweep",
            str(single),
            "--grid",
            "departments.support.agents=4:6",
            "--grid",
            "patience.mean=1m,3m",
            "--reps",
            "2",
            "--jobs",
            "1",
            "--out",
            str(folder),
            "--plot",
            "service_level",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("rows.parquet", "rows.csv", "summary.parquet", "summary.csv", "sweep.json"):
        assert (folder / name).exists(), name
    plots = sorted(p.name for p in (folder / "plots").iterdir())
    assert plots == [
        "service_level-difference-vs-departments.support.agents.png",  # paired differences to point 0
        "service_level-difference-vs-patience.mean.png",
        "service_level-surface.png",  # two numeric parameters: a response surface
        "service_level-vs-departments.support.agents.png",
        "service_level-vs-patience.mean.png",
    ]
    assert (folder / "plots" / plots[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status = json.loads((folder / "sweep.json").read_text())
    assert status["status"] == "complete" and status["rows"] == {
        "total": 12,
        "kept": 0,
        "ran": 12,
        "failed": 0,
    }
    again = runner.invoke(
        app, ["sweep", str(single), "--grid", "departments.support.agents=4:6", "--out", str(folder)]
    )
    assert again.exit_code == 2 and "--resume" in again.output


def test_latin_hypercube_sweep(single, tmp_path):
    plan = plan_sweep(
        single, ["patience.mean=1m:5m", "departments.support.agents=4:8"], design="lhs", samples=6, reps=2
    )
    outcome = run_sweep(plan, tmp_path / "out", SerialExecutor(), plots=("service_level",))
    assert len(outcome.rows) == 12 and outcome.rows["error"].isna().all()
    assert outcome.summary["patience.mean"].between(60, 300).all()
    assert len(outcome.plots) == 5  # per parameter: means and paired differences; and the surface


# --- replications until a precision --------------------------------------------------------------------------


def test_until_ci_reaches_the_half_width_and_does_not_depend_on_jobs(single):
    scenario = load_scenario(single)
    goal = 0.04
    first = replicate_until(scenario, {"service_level": goal}, jobs=1)
    assert first.precision["met"] and len(first.replications) >= 10
    assert first.summary["ci95"]["service_level"] <= goal
    second = replicate_until(scenario, {"service_level": goal}, jobs=2)
    assert len(second.replications) == len(first.replications)
    assert second.summary["service_level"] == first.summary["service_level"]


def test_until_ci_stops_at_the_cap_and_refuses_unknown_kpis(single):
    scenario = load_scenario(single)
    capped = replicate_until(scenario, {"asa": 0.0}, max_reps=12, jobs=1)
    assert not capped.precision["met"] and len(capped.replications) == 12
    with pytest.raises(ValueError, match="not a numeric KPI"):
        replicate_until(scenario, {"no_such_kpi": 0.1}, jobs=1)


def test_until_ci_on_the_command_line(single, tmp_path):
    result = runner.invoke(
        app,
        [
            "run",
            str(single),
            "--until-ci",
            "by_department.support.service_level=0.05",
            "--jobs",
            "1",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "precision reached after" in result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["ci95"]["by_department"]["support"]["service_level"] <= 0.05
    bad = runner.invoke(
        app, ["run", str(single), "--until-ci", "service_level", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2
    unknown = runner.invoke(app, ["run", str(single), "--until-ci", "nope=1", "--out", str(tmp_path / "y")])
    assert unknown.exit_code == 2 and "not a numeric KPI" in unknown.output


def test_resuming_rows_of_another_callsim_revision_is_warned_about(tmp_path: Path) -> None:
    from sim.experiments.provenance import git_revision
    from sim.output.sweep_folder import revision_change

    (tmp_path / "sweep.json").write_text(json.dumps({"git_revision": "0123abc"}))
    message = revision_change(tmp_path)
    assert message is not None and "0123abc" in message and git_revision() in message
    (tmp_path / "sweep.json").write_text(json.dumps({"git_revision": git_revision()}))
    assert revision_change(tmp_path) is None


# --- audit fixes: --plot names, late stops, fewer replications, units ---------------------------------------


def test_unknown_plot_names_are_refused_before_any_point_runs(single, tmp_path, monkeypatch):
    ran: list[int] = []
    original = sweep_module.point_kpis

    def counted(scenario, seed, replication):
        ran.append(replication)
        return original(scenario, seed, replication)

    monkeypatch.setattr(sweep_module, "point_kpis", counted)
    folder = tmp_path / "out"
    grid = ["sweep", str(single), "--grid", "departments.support.agents=5,6", "--reps", "2", "--jobs", "1"]
    result = runner.invoke(
        app, [*grid, "--out", str(folder), "--plot", "nosuch", "--plot", "by_department.suport.asa"]
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "nosuch" in text and "no such KPI" in text
    assert "did you mean by_department.support.asa" in text  # the typo, with its correction
    assert "service_level" in text and "abandon_rate" in text  # valid names listed
    assert ran == [] and not folder.exists()
    fine = runner.invoke(
        app,
        [
            *grid,
            "--out",
            str(folder),
            "--plot",
            "by_department.support.asa",
            "--plot",
            "common_chains.support",
        ],
    )
    assert fine.exit_code == 0, fine.output
    assert len(ran) == 4
    assert sorted(p.name for p in (folder / "plots").iterdir()) == [
        "by_department.support.asa-difference-vs-departments.support.agents.png",  # paired, to point 0
        "by_department.support.asa-vs-departments.support.agents.png",
        "common_chains.support-difference-vs-departments.support.agents.png",
        "common_chains.support-vs-departments.support.agents.png",
    ]


def test_kpi_names_are_the_columns_a_sweep_writes(single, tmp_path):
    plan = plan_sweep(single, ["departments.support.agents=4,6"], reps=2)
    names, open_ = sweep_module.kpi_names(plan)
    rows = run_sweep(plan, tmp_path / "out", SerialExecutor(), plots=()).rows
    columns = sweep_module.kpi_columns(rows, plan.keys)
    assert open_ == ["common_chains"]  # keys named after what happened (the chains of departments seen)
    assert set(names) == {c for c in columns if not c.startswith("common_chains.")}
    assert {"service_level", "asa", "by_department.support.asa", "experience.mean"} <= set(names)


def test_a_stop_while_plotting_is_recorded_as_interrupted(single, tmp_path, monkeypatch):
    """All rows done, then a stop while the plots are drawn (the instant a late SIGTERM lands in):
    sweep.json says interrupted, with the counts of the table; --resume completes it."""

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_folder, "_write_plots", stopped)
    plan = plan_sweep(single, ["departments.support.agents=5,6"], reps=2)
    folder = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, folder, SerialExecutor(), plots=("service_level",))
    state = json.loads((folder / "sweep.json").read_text())
    assert state["status"] == "interrupted"
    assert state["rows"] == {"total": 4, "kept": 0, "ran": 4, "failed": 0}
    assert len(frame(folder)) == 4 and len(frame(folder, "summary")) == 2
    args = ["sweep", str(single), "--grid", "departments.support.agents=5,6", "--reps", "2", "--jobs", "1"]
    args += ["--out", str(tmp_path / "cli")]
    result = runner.invoke(app, args)  # the same through the command: exit 130
    assert result.exit_code == 130 and "4 of 4 row(s) kept" in " ".join(result.output.split())
    assert json.loads((tmp_path / "cli" / "sweep.json").read_text())["status"] == "interrupted"
    monkeypatch.undo()
    resumed = run_sweep(plan, folder, SerialExecutor(), resume=True, plots=("service_level",))
    assert resumed.complete and (resumed.ran, resumed.kept) == (0, 4) and resumed.plots
    assert json.loads((folder / "sweep.json").read_text())["status"] == "complete"


def test_a_stop_after_the_sweeps_last_write_is_recorded_as_interrupted(single, tmp_path, monkeypatch):
    """A stop that lands after run_sweep wrote `complete` (or before it wrote anything) still leaves
    sweep.json agreeing with the exit status 130."""
    original = sweep_folder._finish

    def finish_then_stop(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_folder, "_finish", finish_then_stop)
    folder = tmp_path / "out"
    args = [
        "sweep",
        str(single),
        "--grid",
        "departments.support.agents=5,6",
        "--jobs",
        "1",
        "--out",
        str(folder),
    ]
    result = runner.invoke(app, [*args, "--reps", "2"])
    assert result.exit_code == 130, result.output
    state = json.loads((folder / "sweep.json").read_text())
    assert state["status"] == "interrupted" and state["rows"] == {
        "total": 4,
        "kept": 0,
        "ran": 4,
        "failed": 0,
    }
    monkeypatch.undo()
    assert runner.invoke(app, [*args, "--reps", "2", "--resume"]).exit_code == 0
    assert json.loads((folder / "sweep.json").read_text())["status"] == "complete"

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_folder, "prepare_folder", stopped)  # a resume stopped before it starts
    result = runner.invoke(app, [*args, "--reps", "3", "--resume"])
    assert result.exit_code == 130, result.output
    state = json.loads((folder / "sweep.json").read_text())
    assert state["status"] == "interrupted" and state["reps"] == 3
    assert state["rows"] == {"total": 6, "kept": 4, "ran": 0, "failed": 0}


def test_resuming_with_fewer_replications_than_the_folder_holds_is_refused(single, tmp_path):
    folder = tmp_path / "out"
    grid = ["departments.support.agents=5,6"]
    run_sweep(plan_sweep(single, grid, reps=3), folder, SerialExecutor(), plots=())
    before = frame(folder)
    with pytest.raises(SweepError, match=r"holds replications 0\.\.2 .*--reps 3 or more"):
        run_sweep(plan_sweep(single, grid, reps=2), folder, SerialExecutor(), resume=True, plots=())
    args = ["sweep", str(single), "--grid", grid[0], "--jobs", "1", "--out", str(folder), "--resume"]
    result = runner.invoke(app, [*args, "--reps", "2"])
    assert result.exit_code == 2 and "--reps 3 or more" in " ".join(result.output.split())
    pd.testing.assert_frame_equal(frame(folder), before)
    state = json.loads((folder / "sweep.json").read_text())
    assert state["reps"] == 3 and state["rows"]["total"] == len(before) == 6
    # an interrupted sweep counts what it holds: point 0 reached replication 2 before the stop
    other = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(
            plan_sweep(single, grid, reps=3), other, SerialExecutor(), plots=(), on_progress=Interrupt(3)
        )
    assert read_rows(other)["replication"].max() == 2
    with pytest.raises(SweepError, match="--reps 3 or more"):
        run_sweep(plan_sweep(single, grid, reps=2), other, SerialExecutor(), resume=True, plots=())
    more = run_sweep(plan_sweep(single, grid, reps=4), other, SerialExecutor(), resume=True, plots=())
    state = json.loads((other / "sweep.json").read_text())
    assert state["reps"] == 4 and state["rows"]["total"] == len(more.rows) == 8
    assert (more.summary["reps"] == 4).all()


def test_console_half_widths_carry_the_unit():
    row = pd.Series({"service_level": 0.762, "service_level_ci95": 0.937, "asa": 8.6, "asa_ci95": 40.7})
    assert sweep_cli._with_ci(row, "service_level", "%") == "76.2% ± 93.7%"
    assert sweep_cli._with_ci(row, "asa", "s") == "8.6s ± 40.7s"


def test_durations_among_the_swept_parameters(single):
    plan = plan_sweep(single, ["departments.support.agents=5,6", "patience.mean=1m,3m", "ring.rings=1,2"])
    assert plan.durations == {"patience.mean"}
    assert plan_sweep(single, ["patience.mean=60,180"]).durations == {"patience.mean"}  # bare seconds too


# --- array-job shards ------------------------------------------------------------------------------------

SHARDED = [
    "sweep",
    str(ROOT / "scenarios" / "small-centre.yaml"),
    *("--grid", "departments.billing.agents=8,10", "--grid", "patience.mean=2m,4m"),
    *("--reps", "3", "--set", "duration=2h", "--quiet"),
]
"""Two departments (so the rows' chains of departments differ from row to row), 4 points x 3 replications."""


def test_shards_merge_to_the_tables_of_one_run_byte_for_byte(tmp_path):
    """Shards run one job each; the whole sweep on two worker processes (rows finishing in any order): the
    merged tables are the same files."""
    whole = runner.invoke(app, [*SHARDED, "--jobs", "2", "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    held = []
    for index in (1, 2, 3):
        shard = runner.invoke(
            app, [*SHARDED, "--jobs", "1", "--shard", f"{index}/3", "--out", str(tmp_path / f"s{index}")]
        )
        assert shard.exit_code == 0, shard.output
        rows = read_rows(tmp_path / f"s{index}")
        assert len(rows) == 4 and not (tmp_path / f"s{index}" / "plots").exists()
        held.append(set(zip(rows["point"], rows["replication"], strict=True)))
    assert set.union(*held) == {(p, r) for p in range(4) for r in range(3)}
    assert sum(len(h) for h in held) == 12  # disjoint shares
    merged = runner.invoke(
        app,
        [
            "sweep-merge",
            *(str(tmp_path / f"s{i}") for i in (3, 1, 2)),
            "--out",
            str(tmp_path / "merged"),
            "--quiet",
        ],
    )
    assert merged.exit_code == 0, merged.output
    for name in ("rows.parquet", "rows.csv", "summary.parquet", "summary.csv"):
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    chains = [c for c in frame(tmp_path / "merged").columns if c.startswith("common_chains.")]
    assert len(chains) >= 2  # the column order held although rows name different chains
    status = json.loads((tmp_path / "merged" / "sweep.json").read_text())
    assert status["status"] == "complete" and len(status["merged_from"]) == 3 and "shard" not in status


def test_a_merge_refuses_what_is_not_the_complete_shards_of_one_sweep(tmp_path):
    for index in (1, 2):
        args = [*SHARDED, "--jobs", "1", "--shard", f"{index}/2", "--out", str(tmp_path / f"s{index}")]
        assert runner.invoke(app, args).exit_code == 0
    other = [*SHARDED, "--seed", "9", "--jobs", "1", "--shard", "2/2", "--out", str(tmp_path / "other")]
    assert runner.invoke(app, other).exit_code == 0

    def merge(*names: str) -> str:
        result = runner.invoke(
            app, ["sweep-merge", *(str(tmp_path / n) for n in names), "--out", str(tmp_path / "m")]
        )
        assert result.exit_code == 2, result.output
        assert not (tmp_path / "m").exists()
        return " ".join(result.output.split())

    assert "shard(s) 2 missing" in merge("s1")
    assert "given twice" in merge("s1", "s1", "s2")
    assert "another sweep" in merge("s1", "other")
    assert "no readable sweep.json" in merge("s1", "s2", "s1/parts")
    plain = tmp_path / "plain"  # a sweep folder made without --shard
    plain.mkdir()
    status = json.loads((tmp_path / "s1" / "sweep.json").read_text())
    (plain / "sweep.json").write_text(json.dumps({k: v for k, v in status.items() if k != "shard"}))
    assert "not a shard" in merge("s1", "s2", "plain")
    # a shard resumed under another share is refused; a bad --shard is refused before anything runs
    again = runner.invoke(
        app, [*SHARDED, "--jobs", "1", "--shard", "1/2", "--resume", "--out", str(tmp_path / "s2")]
    )
    assert again.exit_code == 2 and "another shard" in " ".join(again.output.split())
    for text in ("0/2", "3/2", "two", "1-2"):
        with pytest.raises(SweepError, match="--shard"):
            sweep_module.parse_shard(text)
    stopped = json.loads((tmp_path / "s2" / "sweep.json").read_text())
    (tmp_path / "s2" / "sweep.json").write_text(json.dumps({**stopped, "status": "interrupted"}))
    assert "is interrupted: complete it with the same command and --resume" in merge("s1", "s2")
    alone = runner.invoke(app, [*SHARDED, "--shard", "1/2"])
    assert alone.exit_code == 2 and "--shard needs --out" in " ".join(alone.output.split())
