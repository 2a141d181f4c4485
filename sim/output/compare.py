"""Two results folders side by side: each KPI for A and B, the difference B - A, and, with replications
(`replications.csv`), whether the difference is more than noise; written as `comparison.csv`,
`comparison.json` and a picture of the service level by interval.

The statistics (which test, p-values, verdicts) are `sim.experiments.compare`, shared with the Python API;
this module reads the folders into them and draws and writes the result.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

from sim.analysis.rows import flatten

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.experiments.compare import (
    ALPHA,
    Row,
    Test,
    compare_rows,
    comparison_frame,
)
from sim.experiments.compare import choose_test as _choose_test
from sim.model.durations import format_clock
from sim.output.folders import clean_json
from sim.output.plots_service import interval_rows
from sim.output.saved import SavedRun


def choose_test(a: SavedRun, b: SavedRun) -> Test:
    """Paired t-test under common random numbers, Welch otherwise, none without replications on both sides."""
    return _choose_test(
        a.meta.get("seed"),
        None if a.replications is None else a.replications["replication"].tolist(),
        b.meta.get("seed"),
        None if b.replications is None else b.replications["replication"].tolist(),
    )


@dataclass(frozen=True)
class Comparison:
    """Two runs' KPIs side by side with differences and, with replications, significance."""

    a: SavedRun
    b: SavedRun
    test: Test
    rows: list[Row] = field(default_factory=list)

    @property
    def labels(self) -> tuple[str, str]:
        """Short names for A and B (their results folders)."""
        return label(self.a), label(self.b)

    @property
    def frame(self) -> pd.DataFrame:
        """One row per KPI (`comparison_frame`)."""
        return comparison_frame(self)


def label(run: SavedRun) -> str:
    """A run's short name: its results folder's name."""
    return run.folder.resolve().name


def compare(a: SavedRun, b: SavedRun) -> Comparison:
    """Compare two saved runs KPI by KPI (headline KPIs, then each department both runs have)."""
    test = choose_test(a, b)
    shared = [d for d in a.departments if d in b.departments]
    rows = compare_rows(flatten(a.summary), flatten(b.summary), a.replications, b.replications, test, shared)
    return Comparison(a, b, test, rows)


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """What `comparison.json` holds for two results folders: the runs (folder, seed, replications), the
    test used, and every row."""
    runs = [
        {"folder": str(run.folder), "seed": run.meta.get("seed"), "reps": run.reps}
        for run in (comparison.a, comparison.b)
    ]
    return comparison_record(comparison.test, comparison.labels, comparison_frame(comparison), runs)


def comparison_record(
    test: Test, labels: tuple[str, str], frame: pd.DataFrame, runs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """`comparison.json`: A and B (their labels, and where known their folders, seeds and replications),
    the test used and why, the significance level, and every row of `frame`."""
    sides = runs or [{}, {}]
    return {
        "a": {"label": labels[0], **sides[0]},
        "b": {"label": labels[1], **sides[1]},
        "test": test.kind,
        "test_explanation": test.explanation,
        "alpha": ALPHA,
        "kpis": frame.to_dict(orient="records"),
    }


def write_tables(frame: pd.DataFrame, record: dict[str, Any], folder: Path) -> list[Path]:
    """Save a comparison's `comparison.csv` (the frame, 6 significant digits) and `comparison.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "comparison.csv"
    frame.to_csv(csv, index=False, float_format="%.6g")
    data = folder / "comparison.json"
    data.write_text(json.dumps(clean_json(record), indent=2) + "\n", encoding="utf-8")
    return [csv, data]


def service_level_figure(comparison: Comparison) -> Figure:
    """Both days' service level (all calls) by interval on the clock, with 95% bands when replicated and
    each run's target."""
    fig = Figure(figsize=(10.0, 4.8), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    colours = ("#20639b", "#ed553b")
    starts = []
    for run, name, colour, tag in zip(
        (comparison.a, comparison.b), comparison.labels, colours, ("A", "B"), strict=True
    ):
        rows = interval_rows(run.intervals)
        scenario = run.scenario
        clock = scenario.start + rows["interval"].to_numpy(dtype=float) * scenario.interval
        starts.append(scenario.start)
        level = rows["service_level"].to_numpy(dtype=float)
        ax.plot(clock, level, marker="o", markersize=3.5, linewidth=2.0, color=colour, label=f"{tag}: {name}")
        if "service_level_ci95" in rows.columns:
            half = rows["service_level_ci95"].to_numpy(dtype=float)
            ax.fill_between(
                clock,
                np.clip(level - half, 0, 1),
                np.clip(level + half, 0, 1),
                color=colour,
                alpha=0.18,
                linewidth=0,
                label=f"{tag}: 95% confidence band",
            )
    targets = {comparison.a.scenario.service_level.target, comparison.b.scenario.service_level.target}
    for target in sorted(targets):
        ax.axhline(
            target, color="#c0392b", linestyle="--", linewidth=1.3, label=f"target {100 * target:.0f}%"
        )
    low = min(starts)
    high = max(run.scenario.start + run.scenario.duration for run in (comparison.a, comparison.b))
    step = 3600.0 * max(1, math.ceil((high - low) / 3600.0 / 12))
    ax.set_xticks(np.arange(math.ceil(low / step) * step, high + 1e-9, step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_clock(x)))
    ax.set_xlabel("interval start (clock)")
    ax.set_ylim(0, 1.04)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    thresholds = sorted(
        {comparison.a.scenario.service_level.threshold, comparison.b.scenario.service_level.threshold}
    )
    ax.set_ylabel(f"answered within {' / '.join(f'{t:g}' for t in thresholds)} s (% of offered)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    subtitle = {
        "paired": "shaded: 95% bands; KPIs tested with a paired t-test (common random numbers)",
        "welch": "shaded: 95% bands; KPIs tested with a Welch t-test",
    }.get(comparison.test.kind, "single runs: no significance test")
    fig.suptitle(f"Service level by interval: A vs B\n{subtitle}", fontsize=12)
    return fig


def write_comparison(comparison: Comparison, folder: Path) -> list[Path]:
    """Save `comparison.csv`, `comparison.json` and `service_level.png` in `folder`."""
    written = write_tables(comparison_frame(comparison), comparison_json(comparison), folder)
    picture = folder / "service_level.png"
    service_level_figure(comparison).savefig(picture, dpi=100)
    return [*written, picture]
