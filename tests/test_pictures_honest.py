"""Pictures and report text that never mislead, checked on shipped scenarios through what the reader sees:
the figures' artists (lines, step patches, legend and annotation texts), the report's HTML, the sweep's
pictures' data.

- `wait_cdf.png` reads, at the threshold, exactly the service levels of the report's tables, and no other
  curve in it can be read as a second `within 20 s` figure (it once showed 82% beside a KPI of 76.8%).
- `staffing.png` shows the logged-in line where it equals the scheduled one (it was drawn underneath).
- runs without transfers get no blank transfer map and no single 100% bar, but a sentence saying why.
- the report's scenario shows 08:00 and 4m, not 28800.0 and 240.0, and reads back to the same scenario; its
  KPI definitions show code, not backticks; its run facts have no empty header row.
- sweeps draw paired differences to a baseline (tight under common random numbers) and a response surface.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.patches import StepPatch
from scipy import stats

from sim.experiments.executors import SerialExecutor
from sim.experiments.runner import replicate
from sim.experiments.sweep import plan_sweep, run_plan, summarize
from sim.experiments.sweep_pairs import paired_differences
from sim.model.loading import load_scenario, scenario_from_dict
from sim.output.plots import SPECS, figure_builders, write_plots
from sim.output.plots_agents import staffing_figure
from sim.output.plots_agents_data import staffing_inputs
from sim.output.plots_service_data import interval_rows
from sim.output.report import render
from sim.output.results import write_run
from sim.output.saved import SavedRun, load_run
from sim.output.sweep_plots import baseline_text, can_draw_surface, kpi_figure, surface_figure
from tests.conftest import ROOT


def _saved(folder: Path, name: str, overrides: tuple[str, ...] = (), reps: int = 1) -> SavedRun:
    """A shipped scenario run and written without its report (the tests draw what they look at)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", list(overrides))
    return load_run(
        write_run(folder / name, replicate(scenario, None, reps, jobs=1), command=["test"], report=False)
    )


@pytest.fixture(scope="module")
def small_centre(tmp_path_factory: pytest.TempPathFactory) -> SavedRun:
    return _saved(tmp_path_factory.mktemp("honest"), "small-centre")


# --- the wait picture: one measure, equal to the tables -------------------------------------------------------


def _value_at(line: plt.Line2D, t: float) -> float:
    x, y = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
    return float(y[np.searchsorted(x, t, side="right") - 1])


@pytest.mark.parametrize(
    "name",
    [
        "small-centre",  # two departments, one staffed by shifts (the run where 82% stood beside 76.8%)
        "jackson",  # four departments, transfers between them, an hour of warm-up
        "virtual-hold",  # callbacks: a department's service level leaves them out
        "sales-no-queue",  # blocked callers count as not answered
    ],
)
def test_wait_picture_reads_the_tables_service_levels_and_nothing_else(name: str, tmp_path: Path) -> None:
    run = _saved(tmp_path, name)
    threshold = run.scenario.service_level.threshold
    ax = figure_builders(run)["wait_cdf"][0]().axes[0]
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    level = run.summary["service_level"]
    expected = {"all calls": level}
    if len(run.departments) > 1:
        expected |= {d: run.summary["by_department"][d]["service_level"] for d in run.departments}
    assert len(curves) == len(expected)
    for line in curves:
        owner = line.get_label().split(":")[0]
        value = expected.pop(owner)
        assert _value_at(line, threshold) == pytest.approx(value, abs=1e-12), owner
        assert line.get_label().startswith(f"{owner}: {100 * value:.1f}% within {threshold:g} s")
        ys = np.asarray(line.get_ydata(), dtype=float)
        assert np.all(np.diff(ys[~np.isnan(ys)]) >= -1e-12)  # a share answered within t never falls
    assert not expected
    notes = [text.get_text() for text in ax.texts]
    assert notes == [
        f"service level {100 * level:.1f}%\n(target {100 * run.scenario.service_level.target:.0f}%)"
    ]
    assert ax.get_ylabel() == "answered within t (% of offered calls)"
    assert "answered within t" in SPECS["wait_cdf"].caption and "service level" in SPECS["wait_cdf"].caption
    plt.close("all")


def test_replicated_wait_picture_is_replication_0s_and_says_so_beside_the_mean(tmp_path: Path) -> None:
    run = _saved(tmp_path, "small-centre", ("duration=2h",), reps=3)
    assert run.replications is not None
    first = run.replications.set_index("replication").loc[0]
    threshold = run.scenario.service_level.threshold
    ax = figure_builders(run)["wait_cdf"][0]().axes[0]
    curves = {line.get_label().split(":")[0]: line for line in ax.get_lines() if len(line.get_xdata()) > 2}
    assert _value_at(curves["all calls"], threshold) == pytest.approx(first["service_level"], abs=1e-6)
    for name in run.departments:
        key = f"by_department.{name}.service_level"
        assert _value_at(curves[name], threshold) == pytest.approx(first[key], abs=1e-6), name
    (note,) = [text.get_text() for text in ax.texts]
    mean = run.summary["service_level"]
    assert note == (
        f"service level {100 * first['service_level']:.1f}%\nin replication 0\n"
        f"(mean of 3: {100 * mean:.1f}%; target 80%)"
    )
    plt.close("all")


# --- staffing: logged in visible where it equals scheduled ------------------------------------------------------


def test_logged_in_line_shows_where_it_equals_scheduled(small_centre: SavedRun) -> None:
    run = small_centre
    figure = staffing_figure(staffing_inputs(run.intervals, run.departments, run.summary, "test"))
    ax = figure.axes[0]
    steps = {patch.get_label(): patch for patch in ax.patches if isinstance(patch, StepPatch)}
    rows = interval_rows(run.intervals)
    logged_in = steps["logged in (= scheduled in every interval)"]  # the legend says they coincide
    scheduled = steps["scheduled"]
    np.testing.assert_allclose(logged_in.get_data().values, rows["agents_logged_in"])
    np.testing.assert_allclose(scheduled.get_data().values, rows["agents_scheduled"])
    np.testing.assert_allclose(logged_in.get_data().values, scheduled.get_data().values)  # coincident here
    assert logged_in.get_visible() and scheduled.get_visible()
    assert logged_in.get_linewidth() >= scheduled.get_linewidth() + 2.5  # wide under thin dashes
    assert logged_in.get_zorder() < scheduled.get_zorder()
    assert scheduled.get_linestyle() == "--"
    # drawn, the logged-in colour (over the white above the busy bars) covers many pixels: it shows
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3].astype(float)
    alpha = logged_in.get_alpha()
    seen = 255 * (alpha * np.array(to_rgb(logged_in.get_edgecolor()[:3])) + (1 - alpha))
    assert (np.abs(pixels - seen).max(axis=2) < 12).sum() > 300
    plt.close(figure)


# --- runs without transfers: no blank canvas, no single bar --------------------------------------------------


def test_a_run_without_transfers_leaves_out_the_empty_pictures_and_says_why(
    small_centre: SavedRun, tmp_path: Path
) -> None:
    run = small_centre
    assert run.summary["transfers_per_call"] == 0 and run.summary["agents_touched"]["1"] == 1.0
    written = write_plots(run, tmp_path / "plots", processes=1)
    files = sorted(path.name for path in (tmp_path / "plots").iterdir())
    assert "transfers.png" not in files and "agents_touched.png" not in files
    assert {"service_level.png", "wait_cdf.png", "staffing.png"} <= set(files)
    notes = {plot.spec.name: plot.note for plot in written if not plot.drawn}
    assert notes == {
        "transfers": "No call was transferred in this run, so there is no transfer map to draw.",
        "agents_touched": "Every answered caller met exactly one agent (no call was transferred), so there "
        "is no spread of agents met to draw.",
    }
    page = render(run, written)
    for name, note in notes.items():
        figure = page.split(f'<figure id="plot-{name}">', 1)[1].split("</figure>", 1)[0]
        assert html.escape(note, quote=True) in figure and "<img" not in figure
    assert page.count("<img") == len(files)


# --- the report's text -----------------------------------------------------------------------------------------


def _section(page: str, key: str) -> str:
    return page.split(f'<section id="{key}">', 1)[1].split("</section>", 1)[0]


def test_report_scenario_shows_clock_times_and_durations_and_reads_back(small_centre: SavedRun) -> None:
    run = small_centre
    section = _section(render(run, []), "scenario")
    text = html.unescape(section.split("<pre>", 1)[1].split("</pre>", 1)[0])
    for shown in (
        "start: 08:00",
        "duration: 8h",
        "interval: 30m",
        "threshold: 20s",
        "mean: 4m",
        "- start: 08:00",
    ):
        assert shown in text, shown
    assert "28800" not in text and "240.0" not in text
    assert "per_hour: 120.0" in text and "target: 0.8" in text  # not times: as they were
    assert scenario_from_dict(yaml.safe_load(text)) == run.scenario


def test_report_definitions_set_code_as_code_and_run_facts_have_no_empty_header(
    small_centre: SavedRun,
) -> None:
    page = render(small_centre, [])
    definitions = _section(page, "definitions")
    assert "`" not in definitions
    assert definitions.count("<code>") > 5  # docstrings name other functions and keys
    facts = _section(page, "run")
    assert "<thead>" not in facts and "<th></th>" not in facts and "<th>" not in facts
    assert re.search(r"<tr><td>seed</td><td>1</td></tr>", facts)


# --- sweeps: paired differences and a response surface -------------------------------------------------------


def test_paired_differences_are_the_replications_differences_with_student_t_intervals() -> None:
    rows = pd.DataFrame(
        {
            "point": [0, 0, 0, 1, 1, 1, 2, 2, 2],
            "replication": [0, 1, 2] * 3,
            "seed": [7] * 9,
            "agents": [4, 4, 4, 5, 5, 5, 6, 6, 6],
            "error": [None] * 8 + ["refused"],
            "service_level": [0.50, 0.70, 0.60, 0.56, 0.75, 0.67, 0.9, 0.9, math.nan],
        }
    )
    table = paired_differences(rows, ["agents"], ["service_level"]).set_index("point")
    assert table.loc[0, "service_level"] == 0.0 and table.loc[0, "service_level_ci95"] == 0.0
    differences = np.array([0.06, 0.05, 0.07])
    assert table.loc[1, "service_level"] == pytest.approx(differences.mean())
    t = stats.t.ppf(0.975, 2)
    assert table.loc[1, "service_level_ci95"] == pytest.approx(t * differences.std(ddof=1) / math.sqrt(3))
    assert table.loc[2, "pairs"] == 2  # the failed replication has no pair
    assert table.loc[2, "service_level"] == pytest.approx(np.mean([0.4, 0.2]))


@pytest.fixture(scope="module")
def sweep_tables() -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    plan = plan_sweep(
        ROOT / "scenarios" / "erlang-c.yaml",
        ["departments.support.agents=9:11", "arrivals.per_hour=100,110"],
        reps=6,
        overrides=["duration=3h"],
    )
    rows = run_plan(plan, SerialExecutor())
    return rows, summarize(plan, rows), plan.keys


def test_paired_intervals_are_tighter_than_unpaired_ones_under_common_random_numbers(sweep_tables) -> None:
    """Var(B - A) = Var A + Var B - 2 Cov(A, B): replication r of every point sees the same callers, so the
    points' KPIs are positively correlated and the paired half-width is below the unpaired one,
    sqrt(h_A^2 + h_B^2) (both Student t on the same n). The paired half-width is t * sd(differences) / sqrt(n),
    recomputed here from the rows."""
    rows, summary, keys = sweep_tables
    differences = paired_differences(rows, keys, ["service_level", "asa"]).set_index("point")
    means = summary.set_index("point")
    n = rows["replication"].nunique()
    for point in differences.index[1:]:
        mine = rows[rows["point"] == point].set_index("replication")["service_level"]
        base = rows[rows["point"] == 0].set_index("replication")["service_level"]
        change = (mine - base).to_numpy()
        assert differences.loc[point, "service_level"] == pytest.approx(change.mean())
        half = stats.t.ppf(0.975, n - 1) * change.std(ddof=1) / math.sqrt(n)
        assert differences.loc[point, "service_level_ci95"] == pytest.approx(half)
        unpaired = math.hypot(means.loc[point, "service_level_ci95"], means.loc[0, "service_level_ci95"])
        assert differences.loc[point, "service_level_ci95"] < unpaired, point
    neighbour = 2  # one agent more, the same callers: the closest pair
    assert means.loc[neighbour, keys].tolist() == [10, 100.0]
    unpaired = math.hypot(means.loc[neighbour, "asa_ci95"], means.loc[0, "asa_ci95"])
    assert differences.loc[neighbour, "asa_ci95"] < unpaired


def test_sweep_difference_and_surface_pictures_draw_those_figures(sweep_tables) -> None:
    rows, summary, keys = sweep_tables
    differences = paired_differences(rows, keys, ["service_level"])
    baseline = baseline_text(differences, keys)
    assert baseline == "point 0: departments.support.agents=9, arrivals.per_hour=100"
    figure = kpi_figure(differences, keys, "service_level", keys[0], baseline=baseline)
    ax = figure.axes[0]
    assert ax.get_ylabel() == "service level minus baseline (percentage points)"
    assert "paired 95% CI" in ax.get_title() and baseline in ax.get_title()
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert np.allclose(lines["baseline"].get_ydata(), 0.0)
    first = differences[differences["arrivals.per_hour"] == 100.0].sort_values(keys[0])
    np.testing.assert_allclose(lines["arrivals.per_hour=100"].get_ydata(), 100 * first["service_level"])
    assert can_draw_surface(summary, keys, "service_level")
    surface = surface_figure(summary, keys, "service_level")
    ax = surface.axes[0]
    scatter = next(c for c in ax.collections if c.get_label() == "sweep points")
    np.testing.assert_allclose(np.asarray(scatter.get_offsets()), summary[keys].to_numpy(dtype=float))
    labels = sorted(text.get_text() for text in ax.texts if "%" not in text.get_text())
    assert labels == sorted(f"{100 * value:.3g}" for value in summary["service_level"])
    assert surface.axes[1].get_ylabel() == "service level (%)"  # the colour bar
    assert not can_draw_surface(summary[summary[keys[1]] == 100.0], keys, "service_level")  # one line
    plt.close("all")
