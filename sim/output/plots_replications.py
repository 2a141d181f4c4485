"""Replications in pictures: each replication's headline KPIs and the running mean with its 95% confidence
band, to see how the means settle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.analysis.confidence import half_width
from sim.output import kpi_labels
from sim.output.plots_style import Margins, new_figure, put_title

REPLICATED = ("service_level", "asa", "abandon_rate", "occupancy")
"""The KPIs whose replications are drawn (named and measured as the KPI registry says)."""


def running_means(replications: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per replication: its value of `key`, the mean of replications so far, and that mean's 95% band."""
    values = replications[key].to_numpy(dtype=float)
    means, lows, highs = [], [], []
    for k in range(1, len(values) + 1):
        seen = values[:k]
        mean = float(np.nanmean(seen)) if np.isfinite(seen).any() else math.nan
        half = half_width(list(seen))
        means.append(mean)
        lows.append(mean - half)
        highs.append(mean + half)
    return pd.DataFrame(
        {
            "replication": replications["replication"],
            "value": values,
            "mean": means,
            "low": lows,
            "high": highs,
        }
    )


def replications_figure(replications: pd.DataFrame, subtitle: str) -> Figure:
    """Each replication's KPI and the running mean with its 95% confidence band, for the headline KPIs."""
    fig = new_figure((10.0, 6.5), Margins(top=0.9, across=1.0, down=0.8), (2, 2))
    axes = fig.subplots(2, 2, squeeze=False)
    for index, key in enumerate(REPLICATED):
        unit = kpi_labels.unit(key)
        ax = axes[index // 2][index % 2]
        if key not in replications.columns:
            ax.set_visible(False)
            continue
        data = running_means(replications, key)
        n = np.arange(1, len(data) + 1)
        ax.scatter(n, data["value"], s=14, color="#9aa5b1", label="one replication", zorder=3)
        ax.plot(n, data["mean"], color="#20639b", linewidth=1.8, label="mean so far")
        low, high = data["low"].to_numpy(dtype=float), data["high"].to_numpy(dtype=float)
        if unit == "%":
            low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
        else:
            low = np.clip(low, 0, None)
        ax.fill_between(n, low, high, color="#20639b", alpha=0.18, linewidth=0, label="95% CI")
        if unit == "%":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(kpi_labels.name(key), fontsize=10)
        ax.set_ylabel(kpi_labels.axis_label(key))
        ax.set_xlabel("replications")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if index == 0:
            ax.legend(fontsize=7, loc="best")
    put_title(fig, "Replications: KPIs and their 95% confidence bands", subtitle)
    return fig
