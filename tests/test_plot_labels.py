"""Pictures name KPIs as the KPI registry does: every axis, title and legend that names a registered KPI
writes the registry's label and unit (`sim.analysis.kpis`), and a figure the run's KPIs give is read from
summary.json, not recomputed."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.analysis.kpis import kpi
from sim.experiments.sweep import DEFAULT_PLOTS
from sim.output.plots import SPECS, figure_builders
from sim.output.report_format import number
from sim.output.saved import load_run
from sim.output.sweep_plots import kpi_figure
from tests.report_runs import replicated_run, single_run

SHOWN = {"%", "s", "h"}
"""Units an axis label writes; counts, ratios and scores are named alone."""


def _registry_label(key: str) -> str:
    entry = kpi(key)
    return f"{entry.label} ({entry.unit})" if entry.unit in SHOWN else entry.label


def _sweep_summary(key: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"departments.a.agents": [3, 4, 5], key: [0.5, 0.6, 0.7], f"{key}_ci95": [0.1, 0.1, 0.1]}
    )


@pytest.mark.parametrize("key", [*DEFAULT_PLOTS, "mean_wait", "misroute_cost_hours", "offered", "aht"])
def test_sweep_plot_axis_is_the_registry_label_and_unit(key):
    figure = kpi_figure(_sweep_summary(key), ["departments.a.agents"], key, "departments.a.agents")
    axes = figure.axes[0]
    assert axes.get_ylabel() == _registry_label(key)
    assert axes.get_title().startswith(f"{kpi(key).label} vs departments.a.agents")
    plt.close(figure)


def test_sweep_plot_names_a_department_figure_with_its_department():
    key = "by_department.billing.asa"
    figure = kpi_figure(_sweep_summary(key), ["departments.a.agents"], key, "departments.a.agents")
    assert figure.axes[0].get_ylabel() == f"billing: {kpi(key).label} (s)"
    plt.close(figure)


def test_sweep_plot_of_a_key_outside_the_registry_keeps_the_key():
    figure = kpi_figure(
        _sweep_summary("agents_touched.2"),
        ["departments.a.agents"],
        "agents_touched.2",
        "departments.a.agents",
    )
    assert figure.axes[0].get_ylabel() == "agents_touched.2 (%)"  # a share of the distribution
    plt.close(figure)


def test_replications_panels_are_the_registry_kpis():
    run = load_run(replicated_run())
    build, _ = figure_builders(run)["replications"]
    figure = build()
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert titles == [kpi(key).label for key in ("service_level", "asa", "abandon_rate", "occupancy")]
    for ax, key in zip(figure.axes, ("service_level", "asa", "abandon_rate", "occupancy"), strict=True):
        assert ax.get_ylabel() == _registry_label(key)


def test_run_figures_name_the_service_level_and_counts_as_the_registry():
    run = load_run(single_run())
    builders = figure_builders(run)
    level = builders["service_level"][0]()
    assert level.axes[0].get_ylabel().startswith(_registry_label("service_level"))
    assert level._suptitle.get_text().startswith(kpi("service_level").label.capitalize() + " by interval")
    assert SPECS["service_level"].title == kpi("service_level").label.capitalize() + " by interval"
    volumes = builders["volumes"][0]()
    legend = [t.get_text() for t in volumes.axes[0].get_legend().get_texts()]
    assert legend[:3] == [kpi(key).label for key in ("offered", "answered", "abandoned")]
    touched = builders["agents_touched"][0]()
    assert touched._suptitle.get_text().startswith(kpi("mean_agents_touched").label.capitalize())
    waits = builders["wait_cdf"][0]()
    notes = [t.get_text() for t in waits.axes[0].texts]
    assert any(text.startswith(f"{kpi('service_level').label} ") for text in notes)


def test_staffing_panels_show_the_summary_occupancy_under_the_registry_label():
    run = load_run(single_run())
    figure = figure_builders(run)["staffing"][0]()
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    summary = run.summary
    assert titles[0] == f"{kpi('occupancy').label} {number(summary['occupancy'], '%')}"
    for name, title in zip(run.departments, titles[1:], strict=True):
        label = kpi(f"by_department.{name}.occupancy").label
        assert title == f"{name}: {label} {number(summary['by_department'][name]['occupancy'], '%')}"


def test_replicated_staffing_panels_carry_the_half_width():
    run = load_run(replicated_run())
    figure = figure_builders(run)["staffing"][0]()
    title = figure.axes[0].get_title()
    half = run.summary["ci95"]["occupancy"]
    assert np.isfinite(half) and half > 0
    assert title.endswith(f"± {number(half, '%')}")
