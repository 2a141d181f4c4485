"""The service pictures' two sides stay apart: `plots_service` draws without pandas or the scenario model (so
the report drawer need not import them), `plots_service_data` computes without matplotlib, and what passes
between them is plain values that pickle without naming any module of callsim or pandas."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from sim.output.plots_service_data import queue_inputs, service_level_inputs, volume_inputs, wait_inputs
from sim.output.saved import load_run
from tests.conftest import ROOT
from tests.report_runs import replicated_run, single_run

HEAVY_FOR_DRAWING = (
    "pandas",
    "pydantic",
    "scipy",
    "pyarrow",
    "sim.model.scenario",
    "sim.model.goals",
    "sim.model.loading",
    "sim.output.saved",
    "sim.analysis.metrics",
    "sim.analysis.tables",
    "sim.analysis.thresholds",
)


def loaded_after_import(module: str, watched: tuple[str, ...]) -> list[str]:
    """The `watched` modules in `sys.modules` after importing `module` in a fresh interpreter."""
    code = f"import json, sys, {module}; print(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_drawing_side_imports_neither_pandas_nor_the_scenario_model() -> None:
    assert loaded_after_import("sim.output.plots_service", HEAVY_FOR_DRAWING) == []


def test_the_data_side_imports_no_matplotlib() -> None:
    assert loaded_after_import("sim.output.plots_service_data", ("matplotlib",)) == []


def test_the_check_sees_a_heavy_import() -> None:
    """The check can fail: the data side does load pandas."""
    assert "pandas" in loaded_after_import("sim.output.plots_service_data", HEAVY_FOR_DRAWING)


PLAIN = (np.ndarray, float, int, bool, str, type(None))


def assert_plain(value: Any, where: str) -> None:
    """`value` is numbers, arrays and words, in lists, tuples and dicts (keyed by words): nothing that needs
    pandas, pydantic or a callsim class to rebuild."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), (where, key)
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
    else:
        assert type(value) in PLAIN, (where, type(value))
        if isinstance(value, np.ndarray):
            assert value.dtype != object, where


@pytest.mark.parametrize("folder", [single_run, replicated_run], ids=["single", "replicated"])
def test_every_input_is_plain_and_pickles_without_callsim_or_pandas(folder: Any) -> None:
    run = load_run(folder())
    scenario = run.scenario
    threshold = scenario.service_level.threshold
    inputs = {
        "service_level": service_level_inputs(
            run.intervals, run.departments, scenario.service_level.target, threshold, "test"
        ),
        "volumes": volume_inputs(run.intervals, "test", scenario),
        "wait": wait_inputs(run.calls, run.visits, scenario, "test", run.reps, run.summary.get("service_level")),
        "queue": queue_inputs(run.visits, scenario, run.ended_at, "test"),
    }
    for name, values in inputs.items():
        assert_plain(values, name)
        pickled = pickle.dumps(values)
        for module in (b"pandas", b"sim.", b"pydantic"):
            assert module not in pickled, (name, module)
