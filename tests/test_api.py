"""The Python API (`import sim`): the README's example runs; each function returns DataFrames, agrees with
the layers beneath it, and prints nothing; `import sim` stays light."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim
from sim.analysis.confidence import half_width
from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import simulate as engine_simulate
from sim.experiments.executors import SerialExecutor
from sim.experiments.sweep import plan_sweep
from sim.model.loading import resolved_dict
from sim.output.folders import ResultsExist
from sim.output.saved import load_run
from sim.output.sweep_folder import run_sweep
from tests.conftest import ROOT

HEADING = "## Python API"
SECTION_DRAFT = Path("/work/api-readme-section.md")
"""Where the section was drafted, read only while README.md lacks the heading."""

TINY: dict[str, Any] = {
    "name": "tiny",
    "seed": 5,
    "duration": "1h",
    "interval": "30m",
    "ring": {"cycle": "6s", "rings": 1},
    "arrivals": {"per_hour": 60},
    "patience": {"dist": "exponential", "mean": "2m"},
    "departments": {
        "support": {
            "agents": 3,
            "handle_time": {"dist": "lognormal", "mean": "3m", "cv": 1.0},
            "wrap_time": "20s",
        }
    },
}


def readme_example() -> str:
    """The ```python block of the README's "Python API" section (the draft, until the README has one)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if HEADING not in readme:
        if not SECTION_DRAFT.exists():
            pytest.fail(f"README.md has no {HEADING!r} section")
        readme = SECTION_DRAFT.read_text(encoding="utf-8")
    section = readme.split(HEADING, 1)[1]
    section = re.split(r"^## ", section, flags=re.MULTILINE)[0]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, f"no ```python block under {HEADING!r}"
    return found.group(1)


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    code = readme_example()
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code, "README.md (Python API)", "exec"), namespace)
    written = [path for path in (tmp_path / "results").iterdir() if not path.name.startswith(".")]
    assert written, "the example writes a results folder"
    assert all(load_run(path).summary for path in written)


def test_import_sim_loads_nothing_heavy() -> None:
    """The command line's start-up depends on it: the API's names are imported on first use."""
    probe = "import sys, sim; print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'simpy', 'numpy') if m in sys.modules))"
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert shown.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    assert set(sim.__all__) <= set(dir(sim))
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
    with pytest.raises(AttributeError, match="no_such_thing"):
        sim.no_such_thing  # noqa: B018


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY), encoding="utf-8")
    return path


def test_load_scenario_from_a_file_a_dict_or_a_scenario_with_overrides(tiny: Path) -> None:
    from_file = sim.load_scenario(tiny, overrides=["departments.support.agents=4"])
    from_dict = sim.load_scenario(TINY, overrides={"departments.support.agents": 4})
    from_scenario = sim.load_scenario(sim.load_scenario(TINY), overrides=["departments.support.agents=4"])
    assert from_file.departments["support"].agents.count == 4
    assert resolved_dict(from_file) == resolved_dict(from_dict) == resolved_dict(from_scenario)
    assert sim.load_scenario(from_file) is from_file
    with pytest.raises(sim.ScenarioError, match="agents"):
        sim.load_scenario(TINY, overrides={"departments.support.agents": -1})


def test_simulate_returns_the_engines_tables_built_once(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = sim.load_scenario(TINY)
    day = sim.simulate(scenario, seed=3, replication=1)
    result = engine_simulate(scenario, 3, 1)
    pd.testing.assert_frame_equal(day.calls, calls_table(result))
    pd.testing.assert_frame_equal(day.visits, visits_table(result))
    pd.testing.assert_frame_equal(day.intervals, interval_table(result))
    pd.testing.assert_frame_equal(day.events, result.events)
    assert day.summary == summary(result)
    assert day.calls is day.calls and day.summary is day.summary  # computed once
    assert isinstance(day.agents, pd.DataFrame) and len(day.agents) == 3
    assert day.kpis["offered"] == day.summary["offered"] > 0
    assert capsys.readouterr() == ("", "")


def test_replicate_gives_a_row_per_replication_and_student_t_intervals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[tuple[int, int]] = []
    reps = sim.replicate(
        TINY, reps=4, seed=2, jobs=1, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert reps.kpis["replication"].tolist() == [0, 1, 2, 3]
    for replication in range(4):  # each row is that replication's day
        day = sim.simulate(TINY, seed=2, replication=replication)
        assert reps.kpis.loc[replication, "service_level"] == day.summary["service_level"]
    levels = reps.kpis["service_level"].tolist()
    row = reps.summary.loc["service_level"]
    assert row["n"] == 4
    assert row["mean"] == pytest.approx(sum(levels) / 4)
    assert row["half_width"] == pytest.approx(half_width(levels))
    assert row["low"] == pytest.approx(row["mean"] - row["half_width"])
    assert isinstance(reps.intervals, pd.DataFrame) and "service_level_ci95" in reps.intervals
    pd.testing.assert_frame_equal(reps.first.calls, sim.simulate(TINY, seed=2).calls)
    assert capsys.readouterr() == ("", "")


def test_sweep_rows_are_those_of_a_sweep_folder(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The library's rows, in memory, equal the rows the folder-writing sweep keeps (the CLI's path); a grid
    given as a mapping is the same as `--grid` texts."""
    seen: list[tuple[int, int]] = []
    result = sim.sweep(
        tiny,
        grid={"departments.support.agents": [3, 4], "patience.mean": "1m,2m"},
        reps=2,
        jobs=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert capsys.readouterr() == ("", "")
    assert seen[-1] == (8, 8)
    assert len(result.rows) == 8 and result.rows["error"].isna().all()
    assert result.parameters == ["departments.support.agents", "patience.mean"]
    plan = plan_sweep(tiny, ["departments.support.agents=3,4", "patience.mean=1m,2m"], reps=2)
    outcome = run_sweep(plan, tmp_path / "folder", SerialExecutor(), plots=())
    pd.testing.assert_frame_equal(result.rows, outcome.rows)
    pd.testing.assert_frame_equal(result.summary, outcome.summary)
    assert {"service_level", "service_level_ci95", "reps", "failed"} <= set(result.summary.columns)


def test_a_refused_point_is_a_row_with_its_error_and_the_others_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = sim.load_scenario(TINY)
    result = sim.sweep(scenario, grid={"departments.support.agents": [-1, 3]}, reps=2, jobs=1)
    failed = result.failed
    assert failed["point"].tolist() == [0, 0] and failed["error"].str.contains("agents").all()
    ran = result.rows[result.rows["point"] == 1]
    assert ran["error"].isna().all() and (ran["offered"] > 0).all()
    assert result.summary["reps"].tolist() == [0, 2]
    assert capsys.readouterr() == ("", "")


def test_compare_two_replications_under_common_random_numbers(tmp_path: Path) -> None:
    a = sim.replicate(TINY, reps=5, seed=1, jobs=1)
    b = sim.replicate(sim.load_scenario(TINY, {"departments.support.agents": 6}), reps=5, seed=1, jobs=1)
    comparison = sim.compare(a, b)
    assert comparison.test.kind == "paired"
    frame = comparison.frame.set_index("kpi")
    assert frame.loc["offered", "difference"] == 0  # the same callers on both sides
    assert frame.loc["service_level", "b"] == pytest.approx(b.summary.loc["service_level", "mean"])
    assert frame.loc["asa", "difference"] < 0
    itself = sim.compare(a, a).frame
    assert set(itself["verdict"]) <= {"no significant difference", "not tested"}
    # the same statistics on the same runs written as folders
    folder_a = sim.write_results(a, tmp_path / "a", report=False)
    folder_b = sim.write_results(b, tmp_path / "b", report=False)
    from_folders = sim.compare(folder_a, folder_b).frame.set_index("kpi")
    shared = frame.index.intersection(from_folders.index)
    assert len(shared) >= 10
    pd.testing.assert_series_equal(
        from_folders.loc[shared, "p_value"], frame.loc[shared, "p_value"], check_exact=False, rtol=1e-4
    )
    with pytest.raises(TypeError):
        sim.compare(a, folder_b)


def test_write_results_is_a_separate_step_that_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = sim.simulate(TINY, seed=4)
    folder = sim.write_results(day, tmp_path / "day", report=False)
    saved = load_run(folder)
    assert saved.meta["seed"] == 4 and saved.summary["offered"] == day.summary["offered"]
    assert len(saved.calls) == len(day.calls)
    with pytest.raises(ResultsExist):
        sim.write_results(day, tmp_path / "day", report=False)
    assert sim.write_results(day, tmp_path / "day", force=True, report=False) == folder
    grid = sim.sweep(TINY, grid={"departments.support.agents": [3, 4]}, reps=2, jobs=1)
    written = sim.write_results(grid, tmp_path / "sweep")
    pd.testing.assert_frame_equal(pd.read_parquet(written / "rows.parquet"), grid.rows)
    assert (written / "sweep.json").exists() and (written / "summary.csv").exists()
    assert capsys.readouterr() == ("", "")


def test_staff_hands_its_arguments_to_the_staffing_search(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.experiments.staffing as staffing

    calls: list[tuple[Any, ...]] = []

    def fake(scenario: Any, targets: Any, ceilings: Any, **options: Any) -> str:
        calls.append((scenario, targets, ceilings, options))
        return "plan"

    monkeypatch.setattr(staffing, "search", fake)
    answer = sim.staff(
        TINY, {"service_level": 0.8}, {"abandon_rate": 0.05}, reps=3, seed=2, jobs=1, only="support"
    )
    assert answer == "plan"
    scenario, targets, ceilings, options = calls[0]
    assert (
        scenario.name == "tiny" and targets == {"service_level": 0.8} and ceilings == {"abandon_rate": 0.05}
    )
    assert options == {"reps": 3, "seed": 2, "jobs": 1, "only": "support", "progress": None}


def test_staff_returns_the_searchs_plan_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[int, int]] = []
    plan = sim.staff(
        TINY,
        {"service_level": 0.8},
        {"abandon_rate": 0.05},
        reps=2,
        jobs=1,
        progress=lambda d, n: seen.append((d, n)),
    )
    assert isinstance(plan, sim.StaffingPlan)
    assert isinstance(plan.table, pd.DataFrame) and len(plan.table) > 0
    assert seen and seen[-1][0] == seen[-1][1]
    assert capsys.readouterr() == ("", "")


def test_a_latin_hypercube_sweep_samples_each_stratum_once() -> None:
    result = sim.sweep(TINY, grid={"patience.mean": "1m:3m"}, design="lhs", samples=4, reps=1, seed=7, jobs=1)
    values = sorted(result.summary["patience.mean"])
    assert len(values) == 4 and result.rows["error"].isna().all()
    strata = [int((v - 60.0) / 30.0) for v in values]  # 1m..3m cut into four 30 s strata
    assert strata == [0, 1, 2, 3]
    with pytest.raises(sim.SweepError, match="--samples"):
        sim.sweep(TINY, grid={"patience.mean": "1m:3m"}, design="lhs")
