"""Callers' journeys in pictures: transfers between departments (a heat map) and how many agents each
answered caller met."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.analysis.metrics import agents_touched_distribution
from sim.output import kpi_labels
from sim.output.plots_style import new_figure, put_title

TOUCHED = ("1", "2", "3", "4", "5+")


def transfer_counts(listed: Sequence[Mapping[str, Any]], departments: Sequence[str]) -> pd.DataFrame:
    """The summary's transfers by (from, to) (`transfer_matrix`, counted by `metrics.transfer_matrix`; a
    replicated run's summary keeps replication 0's) as a square table: rows are the transferring department,
    columns the target, in the scenario's department order; pairs the summary does not list count 0."""
    names = list(departments)
    position = {name: i for i, name in enumerate(names)}
    counts = np.zeros((len(names), len(names)), dtype=np.int64)
    for row in listed:
        source, target = position.get(str(row.get("from"))), position.get(str(row.get("to")))
        if source is not None and target is not None:
            counts[source, target] += int(row.get("count") or 0)
    return pd.DataFrame(counts, index=pd.Index(names, name="from"), columns=pd.Index(names, name="to"))


def transfer_figure(matrix: pd.DataFrame, subtitle: str) -> Figure:
    """A heat map of transfers from department (rows) to department (columns), or a plain notice when there
    were none."""
    total = int(matrix.to_numpy().sum())
    size = max(4.0, 1.1 * len(matrix) + 3.0)
    fig = new_figure((size + 1.5, size), laid_out=True)  # department names of any length
    ax = fig.add_subplot()
    if total == 0:
        ax.axis("off")
        ax.text(0.5, 0.5, "no transfers in this run", ha="center", va="center", fontsize=16, color="#555555")
        put_title(fig, "Transfers between departments", subtitle)
        return fig
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Blues", vmin=0)
    top = values.max()
    for (i, j), count in np.ndenumerate(values):
        ax.text(
            j,
            i,
            f"{int(count)}",
            ha="center",
            va="center",
            fontsize=9,
            color="white" if count > 0.6 * top else "#222222",
        )
    ax.set_xticks(range(len(matrix.columns)))
    ax.set_xticklabels(list(matrix.columns), rotation=30, ha="right")
    ax.set_yticks(range(len(matrix.index)))
    ax.set_yticklabels(list(matrix.index))
    ax.set_xlabel("to department")
    ax.set_ylabel("from department")
    fig.colorbar(image, ax=ax, shrink=0.8, label="transfers (calls)")
    put_title(fig, f"Transfers between departments ({total:,} in all)", subtitle)
    return fig


def touched_shares(summary: Mapping[str, Any], calls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of answered calls that met 1, 2, 3, 4, 5+ agents (summary.json's `agents_touched`, computed from
    the calls if the summary lacks it), with 95% half-widths when replicated."""
    shares = summary.get("agents_touched")
    if not isinstance(shares, Mapping) and calls is not None:
        shares = agents_touched_distribution(calls)
    shares = shares or {}
    ci = (summary.get("ci95") or {}).get("agents_touched") or {}
    return pd.DataFrame(
        {
            "agents": list(TOUCHED),
            "share": [float(shares.get(k) or 0.0) for k in TOUCHED],
            "ci95": [float(ci.get(k) or 0.0) for k in TOUCHED],
        }
    )


def touched_figure(shares: pd.DataFrame, mean: float | None, subtitle: str) -> Figure:
    """Bars: share of answered callers who met 1, 2, 3, 4, 5+ agents (error bars: 95% CI with replications)."""
    fig = new_figure((8.0, 4.5))
    ax = fig.add_subplot()
    x = np.arange(len(shares))
    errors = shares["ci95"].to_numpy(dtype=float)
    ax.bar(
        x,
        shares["share"],
        color="#3caea3",
        yerr=errors if errors.any() else None,
        capsize=4,
        label="share of answered calls" + (" (95% CI)" if errors.any() else ""),
    )
    for i, share in enumerate(shares["share"]):
        ax.text(i, share + 0.015, f"{100 * share:.1f}%", ha="center", fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels(list(shares["agents"]))
    ax.set_xlabel("agents who answered the caller")
    ax.set_ylabel("share of answered calls")
    ax.set_ylim(0, 1.1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    extra = f" (mean {mean:.2f})" if mean is not None and not math.isnan(mean) else ""
    put_title(fig, f"{kpi_labels.heading('mean_agents_touched')}{extra}", subtitle)
    return fig
