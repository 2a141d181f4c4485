"""Replications in pictures: each replication's headline KPIs and the running mean with its 95% confidence
band, to see how the means settle.

Drawn from plain `ReplicationsInputs` (arrays and words) that `plots_replications_data.replications_inputs`
computes from the replications table: this module imports neither pandas nor the scenario model, so that
the report drawer (`sim.output.drawer`) draws without them."""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.output import kpi_labels
from sim.output.plots_style import Margins, new_figure, put_title


class RunningMean(TypedDict):
    """One KPI over the replications: each one's value, and the mean so far with its 95% band."""

    key: str
    """The KPI (named and measured as the KPI registry says)."""
    values: np.ndarray
    """Each replication's value, in replication order."""
    means: np.ndarray
    """The mean of the replications so far."""
    lows: np.ndarray
    """That mean less its 95% half-width (NaN with one replication)."""
    highs: np.ndarray
    """That mean plus its 95% half-width."""


class ReplicationsInputs(TypedDict):
    """What the replications picture draws (`plots_replications_data.replications_inputs`)."""

    panels: list[RunningMean | None]
    """The four panels in order (service level, ASA, abandon rate, occupancy); None: left empty."""
    subtitle: str
    """Which run (`run_subtitle`)."""


def replications_figure(inputs: ReplicationsInputs) -> Figure:
    """Each replication's KPI and the running mean with its 95% confidence band, for the headline KPIs."""
    fig = new_figure((10.0, 6.5), Margins(top=0.9, across=1.0, down=0.8), (2, 2))
    axes = fig.subplots(2, 2, squeeze=False)
    for index, data in enumerate(inputs["panels"]):
        ax = axes[index // 2][index % 2]
        if data is None:
            ax.set_visible(False)
            continue
        key = data["key"]
        unit = kpi_labels.unit(key)
        n = np.arange(1, len(data["values"]) + 1)
        ax.scatter(n, data["values"], s=14, color="#9aa5b1", label="one replication", zorder=3)
        ax.plot(n, data["means"], color="#20639b", linewidth=1.8, label="mean so far")
        low, high = data["lows"], data["highs"]
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
    put_title(fig, "Replications: KPIs and their 95% confidence bands", inputs["subtitle"])
    return fig
