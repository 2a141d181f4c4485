"""Every run leaves readable pictures, and each picture's data agrees with summary.json and the tables."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.analysis import metrics
from sim.output.plots import SPECS, figure_builders
from sim.output.plots_agents_data import staffing_series
from sim.output.plots_journeys import transfer_figure
from sim.output.plots_journeys_data import touched_shares, transfer_counts, transfer_inputs
from sim.output.plots_replications_data import running_means
from sim.output.plots_service import service_level_figure
from sim.output.plots_service_data import (
    answered_within,
    counted_offered,
    interval_rows,
    queue_series,
    service_level_inputs,
)
from sim.output.saved import load_run
from tests.report_runs import quiet_run, replicated_run, single_run

SINGLE = ["service_level", "volumes", "wait_cdf", "queue", "staffing", "transfers", "agents_touched"]


def _png_ok(path, min_width=600, min_height=300):
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width >= min_width and height >= min_height, (path, image.size)
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5, f"{path} looks blank"


def test_every_run_writes_every_plot_as_a_readable_png():
    folder = single_run()
    files = sorted(p.name for p in (folder / "plots").iterdir())
    assert files == sorted(SPECS[name].file for name in SINGLE)
    for name in files:
        _png_ok(folder / "plots" / name)


def test_replicated_run_adds_the_replications_plot():
    folder = replicated_run()
    assert (folder / "plots" / "replications.png").exists()
    _png_ok(folder / "plots" / "replications.png")


def test_every_figure_has_a_title_axis_labels_and_a_legend():
    run = load_run(replicated_run())
    for name, (build, _) in figure_builders(run).items():
        figure = build()
        assert figure._suptitle is not None and figure._suptitle.get_text(), name
        axes = [ax for ax in figure.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
        assert axes, name
        assert any(ax.get_legend() is not None for ax in axes) or name == "transfers", name
        for ax in axes:
            assert ax.get_xlabel() or name == "queue", name
        assert any(ax.get_ylabel() for ax in axes), name


def test_service_level_line_is_the_interval_table_with_the_target_line():
    run = load_run(single_run())
    figure = service_level_figure(service_level_inputs(run.intervals, run.departments, 0.8, 20.0, "test"))
    ax = figure.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    expected = interval_rows(run.intervals)["service_level"].to_numpy(dtype=float)
    assert len(expected) == 4
    np.testing.assert_allclose(lines["all calls"].get_ydata(), expected)
    assert set(run.departments) <= set(lines)
    assert np.allclose(lines["target 80%"].get_ydata(), 0.8)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[:2] == ["08:00", "08:30"]


def test_replicated_service_level_plot_has_a_confidence_band():
    run = load_run(replicated_run())
    figure = service_level_figure(service_level_inputs(run.intervals, run.departments, 0.8, 20.0, "test"))
    bands = [c for c in figure.axes[0].collections if c.get_label().startswith("95% confidence band")]
    assert len(bands) == 1


def test_wait_curve_at_the_threshold_is_the_service_level():
    run = load_run(single_run())
    offered = counted_offered(run.calls, run.scenario)
    summary = json.loads((run.folder / "summary.json").read_text())
    assert len(offered) == summary["offered"]
    at_threshold = answered_within(offered, np.array([run.scenario.service_level.threshold]))[0]
    assert at_threshold == pytest.approx(summary["service_level"])
    assert metrics.service_level(offered, 20.0) == pytest.approx(summary["service_level"])
    curve = answered_within(offered, np.linspace(0, 600, 50))
    assert np.all(np.diff(curve) >= 0)
    assert curve[-1] <= summary["answered"] / summary["offered"] + 1e-12


def test_queue_series_integrates_to_the_waiting_time():
    run = load_run(single_run())
    end = run.scenario.duration
    series = queue_series(run.visits, run.departments, end, run.ended_at, step=60.0)
    assert len(series) == 120
    for name in run.departments:
        mine = run.visits[run.visits["department"].astype(str) == name]
        left = (mine["queued_at"] + mine["wait_time"]).fillna(run.ended_at)
        waited = (left.clip(0, end) - mine["queued_at"].clip(0, end)).sum()
        assert (series[name] * 60.0).sum() == pytest.approx(waited)
        assert (series[name] >= -1e-12).all()
    assert series[run.departments].to_numpy().max() > 0


def test_staffing_series_matches_the_interval_table():
    run = load_run(single_run())
    for name in [*run.departments, "all"]:
        data = staffing_series(run.intervals, name)
        rows = interval_rows(run.intervals, name)
        assert len(data) == 4
        np.testing.assert_allclose(data["scheduled"], rows["agents_scheduled"])
        assert (data["busy"] <= data["logged_in"] + 1e-9).all()
        np.testing.assert_allclose(data["busy"], rows["occupancy"].fillna(0) * rows["agents_logged_in"])
    assert staffing_series(run.intervals, "billing")["scheduled"].tolist() == [3, 3, 3, 3]


def test_transfer_matrix_is_the_summary_s_and_agrees_with_the_event_log():
    run = load_run(single_run())
    matrix = transfer_counts(run.summary["transfer_matrix"], run.departments)
    counted = counted_offered(run.calls, run.scenario)["call_id"]
    log = pd.read_parquet(run.folder / "events.parquet", columns=["event", "call_id", "department", "detail"])
    transfers = log[log["event"].astype(str) == "transfer"]
    events = transfers[transfers["call_id"].isin(counted)]
    logged = Counter(
        (str(source), run.departments[int(target)])
        for source, target in zip(events["department"], events["detail"], strict=True)
    )
    assert sum(logged.values()) > 0, "the test scenario should transfer callers"
    for (source, target), count in logged.items():
        assert matrix.loc[source, target] == count
    assert int(matrix.to_numpy().sum()) == sum(logged.values())
    assert list(matrix.index) == list(matrix.columns) == run.departments
    for name, row in run.summary["by_department"].items():
        assert int(matrix.loc[name].sum()) == row["transfers_out"]
        assert int(matrix[name].sum()) == row["transfers_in"]
    figure = transfer_figure(transfer_inputs(matrix, "test"))
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert str(int(matrix.loc["billing", "technical"])) in texts


def test_no_transfers_gives_a_plain_notice():
    run = load_run(quiet_run())
    matrix = transfer_counts(run.summary["transfer_matrix"], run.departments)
    assert int(matrix.to_numpy().sum()) == 0
    figure = transfer_figure(transfer_inputs(matrix, "test"))
    assert any("no transfers in this run" in t.get_text() for t in figure.axes[0].texts)
    _, note = figure_builders(run)["transfers"]
    assert note == "No call was transferred in this run, so there is no transfer map to draw."
    empty = transfer_counts([], ["a", "b"])
    assert empty.shape == (2, 2) and int(empty.to_numpy().sum()) == 0


def test_agents_touched_bars_are_the_summary_shares():
    run = load_run(single_run())
    shares = touched_shares(run.summary)
    assert list(shares["agents"]) == ["1", "2", "3", "4", "5+"]
    assert shares["share"].tolist() == [run.summary["agents_touched"][k] for k in shares["agents"]]
    assert shares["share"].sum() == pytest.approx(1.0)
    assert shares["share"].iloc[1] > 0, "transfers should make some callers meet two agents"
    figure = figure_builders(run)["agents_touched"][0]()
    heights = [patch.get_height() for patch in figure.axes[0].patches]
    np.testing.assert_allclose(heights, shares["share"])
    from_calls = touched_shares({}, counted_offered(run.calls, run.scenario))
    np.testing.assert_allclose(from_calls["share"], shares["share"])


def test_running_means_end_at_the_summary_mean_and_ci():
    run = load_run(replicated_run())
    assert run.replications is not None and len(run.replications) == 3
    for key in ("service_level", "asa", "abandon_rate", "occupancy"):
        data = running_means(run.replications, key)
        assert data["mean"].iloc[-1] == pytest.approx(run.summary[key], rel=1e-5)
        half = (data["high"] - data["mean"]).iloc[-1]
        assert half == pytest.approx(run.summary["ci95"][key], rel=1e-4, abs=1e-9)
        assert math.isnan(data["high"].iloc[0])
