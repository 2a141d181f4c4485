"""Callers' journeys in pictures: transfers between departments (a heat map) and how many agents each
answered caller met.

Drawn from plain `TransferInputs` and `TouchedInputs` (arrays and words) that `plots_journeys_data`
computes from the run's summary and tables: this module imports neither pandas nor the scenario model, so
that the report drawer (`sim.output.drawer`) draws without them."""

from __future__ import annotations

import math
from typing import TypedDict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.output import kpi_labels
from sim.output.plots_style import new_figure, put_title


class TransferInputs(TypedDict):
    """What the transfer map draws (`plots_journeys_data.transfer_inputs`)."""

    counts: np.ndarray
    """Transfers from department (rows, `sources`) to department (columns, `targets`), as floats."""
    sources: list[str]
    """The transferring departments, in the scenario's order."""
    targets: list[str]
    """The target departments, in the scenario's order."""
    total: int
    """Transfers in all (0: a plain notice instead of the map)."""
    subtitle: str
    """Which run (`run_subtitle`)."""


class TouchedInputs(TypedDict):
    """What the agents-met bars draw (`plots_journeys_data.touched_inputs`)."""

    agents: list[str]
    """Each bar's name: `1`, `2`, `3`, `4`, `5+` agents."""
    shares: np.ndarray
    """Each bar's share of answered calls."""
    ci95: np.ndarray
    """Each share's 95% half-width (all 0 without replications: no error bars)."""
    mean: float | None
    """The mean number of agents met (None or NaN: left out of the title)."""
    subtitle: str
    """Which run (`run_subtitle`)."""


def transfer_figure(inputs: TransferInputs) -> Figure:
    """A heat map of transfers from department (rows) to department (columns), or a plain notice when there
    were none."""
    total = inputs["total"]
    sources, targets = inputs["sources"], inputs["targets"]
    size = max(4.0, 1.1 * len(sources) + 3.0)
    fig = new_figure((size + 1.5, size), laid_out=True)  # department names of any length
    ax = fig.add_subplot()
    if total == 0:
        ax.axis("off")
        ax.text(0.5, 0.5, "no transfers in this run", ha="center", va="center", fontsize=16, color="#555555")
        put_title(fig, "Transfers between departments", inputs["subtitle"])
        return fig
    values = inputs["counts"]
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
    ax.set_xticks(range(len(targets)))
    ax.set_xticklabels(targets, rotation=30, ha="right")
    ax.set_yticks(range(len(sources)))
    ax.set_yticklabels(sources)
    ax.set_xlabel("to department")
    ax.set_ylabel("from department")
    fig.colorbar(image, ax=ax, shrink=0.8, label="transfers (calls)")
    put_title(fig, f"Transfers between departments ({total:,} in all)", inputs["subtitle"])
    return fig


def touched_figure(inputs: TouchedInputs) -> Figure:
    """Bars: share of answered callers who met 1, 2, 3, 4, 5+ agents (error bars: 95% CI with replications)."""
    fig = new_figure((8.0, 4.5))
    ax = fig.add_subplot()
    shares = inputs["shares"]
    x = np.arange(len(shares))
    errors = inputs["ci95"]
    ax.bar(
        x,
        shares,
        color="#3caea3",
        yerr=errors if errors.any() else None,
        capsize=4,
        label="share of answered calls" + (" (95% CI)" if errors.any() else ""),
    )
    for i, share in enumerate(shares):
        ax.text(i, share + 0.015, f"{100 * share:.1f}%", ha="center", fontsize=9)
    ax.set_xticks(x)
    ax.set_xticklabels(inputs["agents"])
    ax.set_xlabel("agents who answered the caller")
    ax.set_ylabel("share of answered calls")
    ax.set_ylim(0, 1.1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    mean = inputs["mean"]
    extra = f" (mean {mean:.2f})" if mean is not None and not math.isnan(mean) else ""
    put_title(fig, f"{kpi_labels.heading('mean_agents_touched')}{extra}", inputs["subtitle"])
    return fig
