"""A backtest's pictures: per KPI, actual against simulated by interval, one panel per call type (`all`
first): the band of a single simulated day shaded, the simulated mean as a line, each logged day as faint
dots and their mean as a line with markers, so an interval where the log leaves the band shows at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import PercentFormatter

from sim.experiments.backtest import Backtest
from sim.output import kpi_labels
from sim.output.plots_style import ALL_COLOUR, Margins, clock_axis, new_figure, put_title, save_figure

BAND_COLOUR = "#1f77b4"
ACTUAL_COLOUR = "#d62728"


def plot_file(kpi: str) -> str:
    """The picture's file name in `plots/`."""
    return f"backtest_{kpi}.png"


def draw_kpi(result: Backtest, kpi: str, path: Path) -> None:
    """One KPI's picture: a panel per call type, actual days and their mean against the simulated band."""
    table = result.table[result.table["kpi"] == kpi]
    labels = list(dict.fromkeys(table["call_type"]))
    panels = len(labels)
    height = 2.1 * panels + 1.6
    margins = Margins(top=1.1, down=0.45)  # the title, then one line of legend above the panels
    figure = new_figure((10.0, height), margins, grid=(panels, 1))
    axes = figure.subplots(panels, 1, squeeze=False)[:, 0]
    starts = list(dict.fromkeys(table["start"]))
    positions = np.arange(len(starts))
    for ax, label in zip(axes, labels, strict=True):
        mine = table[table["call_type"] == label]
        mean_rows = mine[mine["date"] == "mean"].sort_values("interval")
        day_rows = mine[mine["date"] != "mean"]
        single = day_rows.drop_duplicates("interval").sort_values("interval")
        ax.fill_between(
            single["interval"].to_numpy(),
            single["band_low"].to_numpy(dtype=float),
            single["band_high"].to_numpy(dtype=float),
            color=BAND_COLOUR,
            alpha=0.18,
            linewidth=0,
            step=None,
            label=f"simulated day, 95% band ({result.reps} replications)",
        )
        ax.plot(
            single["interval"].to_numpy(),
            single["simulated_mean"].to_numpy(dtype=float),
            color=BAND_COLOUR,
            linewidth=1.6,
            label="simulated mean",
        )
        jitter = np.linspace(-0.15, 0.15, max(len(result.dates), 1))
        offsets = dict(zip(result.dates, jitter, strict=True))
        ax.scatter(
            day_rows["interval"].to_numpy() + day_rows["date"].map(offsets).to_numpy(dtype=float),
            day_rows["actual"].to_numpy(dtype=float),
            s=9,
            color=ACTUAL_COLOUR,
            alpha=0.35,
            linewidths=0,
            label="logged day",
        )
        ax.plot(
            mean_rows["interval"].to_numpy(),
            mean_rows["actual"].to_numpy(dtype=float),
            color=ACTUAL_COLOUR,
            marker="o",
            markersize=3.5,
            linewidth=1.2,
            label=f"logged mean ({len(result.dates)} day(s))",
        )
        ax.set_title(label if label != "all" else "all calls", fontsize=10, loc="left", color=ALL_COLOUR)
        if kpi_labels.unit(kpi) == "%":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(kpi_labels.axis_label(kpi), fontsize=9)
        ax.grid(alpha=0.3)
        clock_axis(ax, starts)
        if ax is not axes[-1]:
            ax.set_xlabel("")
        ax.set_xlim(positions[0] - 0.6 if len(positions) else -0.6, len(starts) - 0.4)
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(
        handles,
        names,
        loc="lower center",
        bbox_to_anchor=(0.5, 1 - (margins.top - 0.3) / height),
        ncols=len(names),
        fontsize=8,
        frameon=False,
    )
    put_title(
        figure,
        f"{kpi_labels.heading(kpi)}: logged against simulated, by interval",
        f"{result.scenario.name} (seed {result.seed}, {result.reps} replications) vs {Path(result.source).name}",
    )
    save_figure(figure, path)
