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
from sim.model.goals import department_thresholds, has_own_thresholds
from sim.output.compare_goals import goal_comparison
from sim.output.compare_labels import change_labels
from sim.output.folders import clean_json
from sim.output.plots_service_data import interval_rows
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
    names: tuple[str, str] | None = None
    """A and B as the user named them (`--label-a`, `--label-b`); None: by what differs (`change_labels`)."""

    @property
    def labels(self) -> tuple[str, str]:
        """Short names for A and B: the user's, else what differs between them (`change_labels`)."""
        return self.names or change_labels(self.a, self.b)

    @property
    def frame(self) -> pd.DataFrame:
        """One row per KPI (`comparison_frame`)."""
        return comparison_frame(self)


def label(run: SavedRun) -> str:
    """A run's folder name (where it is; what it is, beside another run, is `change_labels`)."""
    return run.folder.resolve().name


def shared_departments(a: SavedRun, b: SavedRun) -> list[str]:
    """The departments both runs have, in A's order."""
    return [d for d in a.departments if d in b.departments]


def compare(a: SavedRun, b: SavedRun, names: tuple[str | None, str | None] = (None, None)) -> Comparison:
    """Compare two saved runs KPI by KPI (headline KPIs, then each department both runs have); `names`:
    what to call A and B (None: by what differs between them)."""
    test = choose_test(a, b)
    shared = shared_departments(a, b)
    rows = compare_rows(flatten(a.summary), flatten(b.summary), a.replications, b.replications, test, shared)
    given = None
    if names[0] is not None or names[1] is not None:
        found = change_labels(a, b)
        given = (names[0] or found[0], names[1] or found[1])
    return Comparison(a, b, test, rows, given)


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """What `comparison.json` holds for two results folders: the runs (folder, seed, replications), the
    test used, every row, and each run against its goals (`goals`: `sim.output.compare_goals`)."""
    runs = [
        {"folder": str(run.folder), "folder_name": label(run), "seed": run.meta.get("seed"), "reps": run.reps}
        for run in (comparison.a, comparison.b)
    ]
    record = comparison_record(comparison.test, comparison.labels, comparison_frame(comparison), runs)
    record["goals"] = goal_comparison(comparison.a, comparison.b).to_dict(orient="records")
    return record


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
    """Both days' service level by interval on the clock, for all calls and (in a panel each) every
    department both runs have, with 95% bands when replicated and each run's target; the legend names A and
    B by what differs between them."""
    departments = shared_departments(comparison.a, comparison.b)
    scopes = ["all", *departments] if len(departments) > 1 else ["all"]
    columns = 1 if len(scopes) == 1 else 2
    rows_count = math.ceil(len(scopes) / columns)
    fig = Figure(
        figsize=(10.0 if columns == 1 else 12.0, 1.6 + 3.4 * rows_count), dpi=100, layout="constrained"
    )
    axes = fig.subplots(rows_count, columns, squeeze=False, sharey=True)
    colours = ("#20639b", "#ed553b")
    runs = (comparison.a, comparison.b)
    low = min(run.scenario.start for run in runs)
    high = max(run.scenario.start + run.scenario.duration for run in runs)
    step = 3600.0 * max(1, math.ceil((high - low) / 3600.0 / (12 if columns == 1 else 6)))
    thresholds = sorted({run.scenario.service_level.threshold for run in runs})
    for index, scope in enumerate(scopes):
        ax = axes[index // columns][index % columns]
        for run, name, colour, tag in zip(runs, comparison.labels, colours, ("A", "B"), strict=True):
            rows = interval_rows(run.intervals, scope)
            scenario = run.scenario
            clock = scenario.start + rows["interval"].to_numpy(dtype=float) * scenario.interval
            level = rows["service_level"].to_numpy(dtype=float)
            wide = tag == "A"  # A wide beneath B: where the runs agree (a department left alone) both show
            ax.plot(
                clock,
                level,
                marker="o",
                markersize=5.5 if wide else 3.5,
                linewidth=4.0 if wide else 1.8,
                alpha=0.75 if wide else 1.0,
                zorder=2.1 if wide else 2.2,
                color=colour,
                label=f"{tag}: {name}",
            )
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
        for target in sorted({run.scenario.service_level.target for run in runs}):
            ax.axhline(
                target, color="#c0392b", linestyle="--", linewidth=1.3, label=f"target {100 * target:.0f}%"
            )
        title = "all calls" if scope == "all" else scope
        if scope != "all" and any(has_own_thresholds(run.scenario) for run in runs):  # its own threshold(s)
            own = sorted({department_thresholds(run.scenario)[scope] for run in runs})
            title += f" (within {' / '.join(f'{t:g}' for t in own)} s)"
        ax.set_title(title, fontsize=10)
        ax.set_xticks(np.arange(math.ceil(low / step) * step, high + 1e-9, step))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_clock(x)))
        ax.set_xlabel("interval start (clock)")
        ax.set_ylim(0, 1.04)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        if index % columns == 0:
            ax.set_ylabel(f"answered within {' / '.join(f'{t:g}' for t in thresholds)} s (% of offered)")
        ax.grid(alpha=0.3)
        if index == 0:
            ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    for index in range(len(scopes), rows_count * columns):
        axes[index // columns][index % columns].set_visible(False)
    subtitle = {
        "paired": "shaded: 95% bands; KPIs tested with a paired t-test (common random numbers)",
        "welch": "shaded: 95% bands; KPIs tested with a Welch t-test",
    }.get(comparison.test.kind, "single runs: no significance test")
    scope_text = ", all calls and by department" if len(scopes) > 1 else ""
    fig.suptitle(f"Service level by interval: A vs B{scope_text}\n{subtitle}", fontsize=12)
    return fig


def write_comparison(comparison: Comparison, folder: Path) -> list[Path]:
    """Save `comparison.csv`, `comparison.json` and `service_level.png` in `folder`."""
    written = write_tables(comparison_frame(comparison), comparison_json(comparison), folder)
    picture = folder / "service_level.png"
    service_level_figure(comparison).savefig(picture, dpi=100)
    return [*written, picture]
