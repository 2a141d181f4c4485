"""A sweep's pictures: bands clipped to what a KPI can be, units on the axes, one line per combination of the
other parameters (moved here from tests/test_sweep.py with the sweep plots' labels now the KPI registry's)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sim.output.sweep_plots import kpi_figure


def test_sweep_plots_clip_shares_and_label_units():
    keys = ["departments.support.agents", "patience.mean"]
    summary = pd.DataFrame(
        {
            "departments.support.agents": [5, 6, 5, 6],
            "patience.mean": [60.0, 60.0, 180.0, 180.0],
            "service_level": [0.95, 0.98, 0.04, 0.5],
            "service_level_ci95": [0.3, 0.2, 0.3, 0.1],
            "asa": [5.0, 2.0, 30.0, 10.0],
            "asa_ci95": [20.0, 10.0, 5.0, 40.0],
            "offered": [100.0, 100.0, 100.0, 100.0],
            "offered_ci95": [5.0, 5.0, 5.0, 5.0],
        }
    )

    def band_limits(figure):
        values = [p.vertices[:, 1] for c in figure.axes[0].collections for p in c.get_paths()]
        return min(v.min() for v in values), max(v.max() for v in values)

    level = kpi_figure(summary, keys, "service_level", "patience.mean", seconds={"patience.mean"})
    axes = level.axes[0]
    assert axes.get_ylabel() == "service level (%)" and axes.get_xlabel() == "patience.mean (s)"
    low, high = band_limits(level)
    assert low == pytest.approx(0.0) and high == pytest.approx(100.0)  # 4% - 30% and 95% + 30%, clipped
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        "departments.support.agents=5",
        "departments.support.agents=6",
    ]
    scattered = kpi_figure(summary, keys, "service_level", "patience.mean", lhs=True)
    low, high = band_limits(scattered)
    assert low == pytest.approx(0.0) and high == pytest.approx(100.0)
    wait = kpi_figure(summary, keys, "asa", "departments.support.agents", seconds={"patience.mean"})
    axes = wait.axes[0]
    assert axes.get_ylabel() == "average speed of answer (s)"
    assert axes.get_xlabel() == "departments.support.agents"
    assert band_limits(wait)[0] == pytest.approx(0.0)  # 5 s - 20 s: a wait is never negative
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        "patience.mean=60s",
        "patience.mean=180s",
    ]
    count = kpi_figure(summary, keys, "offered", "patience.mean")
    assert count.axes[0].get_ylabel() == "offered calls" and count.axes[0].get_xlabel() == "patience.mean"
    assert band_limits(count) == (pytest.approx(95.0), pytest.approx(105.0))  # not a share: not clipped
    for figure in (level, scattered, wait, count):
        plt.close(figure)
