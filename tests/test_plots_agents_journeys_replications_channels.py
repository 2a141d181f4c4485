"""The staffing, journeys, replications and channel pictures are drawn without pandas: their drawing modules
(`plots_agents`, `plots_journeys`, `plots_replications`, `plots_channels`) import neither pandas nor the
scenario model, their data modules (`*_data`) import no matplotlib, and what the data side hands over is
plain values that a process without pandas unpickles and draws into the very same PNG."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.analysis.thresholds import channel_threshold_words
from sim.experiments.runner import replicate
from sim.model.loading import load_scenario
from sim.output.plots_agents import staffing_figure
from sim.output.plots_agents_data import staffing_inputs
from sim.output.plots_channels import backlog_figure, channel_figure
from sim.output.plots_channels_data import backlog_inputs, channel_inputs
from sim.output.plots_journeys import touched_figure, transfer_figure
from sim.output.plots_journeys_data import touched_inputs, touched_shares, transfer_counts, transfer_inputs
from sim.output.plots_replications import replications_figure
from sim.output.plots_replications_data import replications_inputs
from sim.output.plots_style import save_figure
from sim.output.results import write_run
from sim.output.saved import SavedRun, load_run
from tests.conftest import ROOT
from tests.report_runs import replicated_run

DRAWING = ("plots_agents", "plots_journeys", "plots_replications", "plots_channels")
HEAVY = ("pandas", "pydantic", "scipy", "pyarrow")
"""What a drawing module must not import (nor, below, the scenario model and the analysis but its KPIs)."""


def _imported(module: str) -> list[str]:
    """The modules a fresh interpreter has imported after importing `module` (from this tree)."""
    root = Path(__file__).resolve().parents[1]
    script = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"},
    )
    return done.stdout.split()


@pytest.mark.parametrize("name", DRAWING)
def test_a_drawing_module_imports_no_pandas_nor_the_scenario_model(name: str) -> None:
    imported = _imported(f"sim.output.{name}")
    assert [m for m in HEAVY if m in imported] == []
    forbidden = [
        m
        for m in imported
        if m in ("sim.model.scenario", "sim.model.goals", "sim.model.loading", "sim.output.saved")
        or (m.startswith("sim.analysis.") and m != "sim.analysis.kpis")
    ]
    assert forbidden == []


@pytest.mark.parametrize("name", DRAWING)
def test_a_data_module_imports_no_matplotlib(name: str) -> None:
    assert "matplotlib" not in _imported(f"sim.output.{name}_data")


def _plain(value: Any, where: str) -> None:
    """Fail unless `value` is made of numpy arrays (of numbers or booleans), numbers, booleans, words, None,
    and lists, tuples and dicts of those."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            _plain(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _plain(item, f"{where}[{index}]")
    elif isinstance(value, np.ndarray):
        assert value.dtype.kind in "biuf", (where, value.dtype)
    else:
        assert value is None or type(value) in (bool, int, float, str), (where, type(value))


@pytest.fixture(scope="module")
def channels_run(tmp_path_factory: pytest.TempPathFactory) -> SavedRun:
    """Every channel on one floor (email backlog, agent groups), three hours, two replications."""
    scenario = load_scenario(ROOT / "scenarios" / "all-channels.yaml", ["duration=3h"])
    folder = tmp_path_factory.mktemp("channels") / "run"
    return load_run(write_run(folder, replicate(scenario, None, 2, jobs=1), command=["test"], report=False))


def test_the_inputs_are_plain_values_a_process_without_pandas_draws_alike(
    channels_run: SavedRun, tmp_path: Path
) -> None:
    run, channels = load_run(replicated_run()), channels_run
    matrix = transfer_counts(run.summary["transfer_matrix"], run.departments)
    assert int(matrix.to_numpy().sum()) > 0  # a map, not the notice
    assert run.replications is not None and channels.replications is not None
    scenario = channels.scenario
    staffing = staffing_inputs(
        channels.intervals, [*channels.departments, *(scenario.agent_groups or {})], channels.summary, "s"
    )
    touched = touched_inputs(touched_shares(run.summary, run.calls), run.summary.get("mean_agents_touched"), "t")
    words = {name: channel_threshold_words(scenario, name) for name in ("voice", "chat")}
    level = scenario.service_level
    each_channel = channel_inputs(channels.intervals, level.target, level.threshold, "c", words)
    backlog = backlog_inputs(channels.intervals, "e", channels.summary.get("email_backlog_at_open"))
    pictures: dict[str, tuple[Any, Any]] = {
        "staffing": (staffing_figure, staffing),
        "transfers": (transfer_figure, transfer_inputs(matrix, "j")),
        "agents_touched": (touched_figure, touched),
        "replications": (replications_figure, replications_inputs(run.replications, "r")),
        "channels": (channel_figure, each_channel),
        "email_backlog": (backlog_figure, backlog),
    }
    assert len(staffing["panels"]) > 1 and each_channel["lines"] and backlog["lines"]
    assert backlog["handled"] is not None
    handed = {}
    for name, (figure, inputs) in pictures.items():
        _plain(inputs, name)
        save_figure(figure(inputs), tmp_path / f"{name}.png")
        handed[name] = (figure.__module__, figure.__name__, inputs)
    (tmp_path / "inputs.pickle").write_bytes(pickle.dumps(handed))
    script = (
        "import importlib, pickle, sys; from pathlib import Path; from sim.output.plots_style import save_figure\n"
        f"folder = Path({str(tmp_path)!r}); handed = pickle.loads((folder / 'inputs.pickle').read_bytes())\n"
        "for name, (module, figure, inputs) in handed.items():\n"
        "    drawn = getattr(importlib.import_module(module), figure)(inputs)\n"
        "    save_figure(drawn, folder / f'{name}.again.png')\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"},
    )
    assert done.stdout.strip() == "[]"
    for name in pictures:
        assert (tmp_path / f"{name}.again.png").read_bytes() == (tmp_path / f"{name}.png").read_bytes(), name


def test_a_kpi_the_replications_table_lacks_leaves_its_panel_empty() -> None:
    table = pd.DataFrame({"replication": [0, 1, 2], "service_level": [0.7, 0.8, 0.9], "occupancy": [0.5, 0.6, 0.7]})
    inputs = replications_inputs(table, "r")
    assert [panel is not None for panel in inputs["panels"]] == [True, False, False, True]
    first = inputs["panels"][0]
    assert first is not None and first["key"] == "service_level"
    np.testing.assert_allclose(first["means"], [0.7, 0.75, 0.8])
    figure = replications_figure(inputs)
    assert [ax.get_visible() for ax in figure.axes] == [True, False, False, True]
