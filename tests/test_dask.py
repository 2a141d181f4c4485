"""The same sweep on a Dask distributed cluster (a local one on loopback) gives the same tables."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.experiments.executors as executors
from sim.cli.app import app
from sim.experiments.executors import DaskExecutor, ExecutorError, SerialExecutor
from sim.experiments.staffing import Targets, search_staffing
from sim.experiments.sweep import plan_sweep
from sim.output.sweep_folder import run_sweep
from tests.conftest import ROOT

distributed = pytest.importorskip("dask.distributed")

SCENARIO = ROOT / "scenarios" / "small-centre.yaml"
GRID = ["departments.billing.agents=8:10", "patience.mean=2m,4m"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as local:
        yield local.scheduler_address


def test_dask_sweep_table_is_identical_to_the_sequential_one(cluster, tmp_path):
    plan = plan_sweep(SCENARIO, GRID, reps=2)
    run_sweep(plan, tmp_path / "serial", SerialExecutor(), plots=())
    executor = DaskExecutor(cluster)
    try:
        assert executor.workers == 2
        outcome = run_sweep(plan, tmp_path / "dask", executor, plots=())
    finally:
        executor.close()
    assert outcome.complete and outcome.failed == 0
    for name in ("rows", "summary"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "serial" / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "dask" / f"{name}.parquet"),
        )


def test_sweep_command_with_dask(cluster, tmp_path):
    folder = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["sweep", str(SCENARIO), "--grid", GRID[0], "--reps", "2", "--dask", cluster, "--out", str(folder)],
    )
    assert result.exit_code == 0, result.output
    assert "2 Dask workers" in result.output
    rows = pd.read_parquet(folder / "rows.parquet")
    assert len(rows) == 6 and rows["error"].isna().all()


def test_dask_staffing_search_matches_the_local_one(cluster):
    scenario = ROOT / "scenarios" / "erlang-a.yaml"
    overrides = ["duration=3h", "warmup=0s", "interval=1h"]
    targets = Targets({"service_level": 0.8}, {"abandon_rate": 0.06})
    local = search_staffing(
        scenario, targets, reps=4, confirm_reps=4, executor=SerialExecutor(), overrides=overrides
    )
    executor = DaskExecutor(cluster)
    try:
        remote = search_staffing(
            scenario, targets, reps=4, confirm_reps=4, executor=executor, overrides=overrides
        )
    finally:
        executor.close()
    assert remote.plan == local.plan
    pd.testing.assert_frame_equal(remote.table, local.table)


def test_a_cluster_with_other_versions_is_refused(cluster, monkeypatch):
    # the workers import their own callsim; here it claims another version
    monkeypatch.setattr(executors.sim, "__version__", "0.0-other")
    with pytest.raises(ExecutorError, match="other versions"):
        DaskExecutor(cluster)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 2.0)
    with pytest.raises(ExecutorError, match="cannot connect"):
        DaskExecutor("tcp://127.0.0.1:9")
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            str(SCENARIO),
            "--grid",
            GRID[0],
            "--dask",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2 and "cannot connect" in result.output
