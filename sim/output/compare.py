"""Two runs side by side: each KPI for A and B, the difference B - A, and, with replications, whether the
difference is more than noise.

With replications on both sides the test is a t-test on the per-replication KPIs (`replications.csv`):
paired when both runs used the same seed and the same replications (common random numbers: replication r
of each saw the same callers, so the pairs share their noise), Welch's unequal-variance t-test otherwise.
Single runs get no test: one day each says nothing about noise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
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
from scipy import stats

from sim.model.durations import format_clock
from sim.output.folders import clean_json
from sim.output.plots import interval_rows
from sim.output.saved import SavedRun

ALPHA = 0.05

# (summary key, label, unit, +1 when higher is better / -1 when lower is better / 0 neither)
COMPARED: tuple[tuple[str, str, str, int], ...] = (
    ("offered", "offered calls", "n", 0),
    ("answered", "answered", "n", 1),
    ("abandoned", "abandoned", "n", -1),
    ("service_level", "service level", "%", 1),
    ("answered_within_rings", "answered within rings", "%", 1),
    ("asa", "average speed of answer", "s", -1),
    ("mean_wait", "mean wait", "s", -1),
    ("p90_wait", "90th-percentile wait", "s", -1),
    ("abandon_rate", "abandonment rate", "%", -1),
    ("block_rate", "blocking rate", "%", -1),
    ("occupancy", "occupancy", "%", 0),
    ("aht", "average handle time", "s", 0),
    ("first_contact_resolution", "first-contact resolution", "%", 1),
    ("transfers_per_call", "transfers per answered call", "x", -1),
    ("mean_agents_touched", "agents met per answered call", "x", -1),
    ("misroute_cost_hours", "agent time on misrouted segments", "h", -1),
    ("agent_hours", "agent time logged in", "h", 0),
)
PER_DEPARTMENT: tuple[tuple[str, str, str, int], ...] = (
    ("service_level", "service level", "%", 1),
    ("asa", "ASA", "s", -1),
    ("abandon_rate", "abandonment", "%", -1),
)


@dataclass(frozen=True)
class Test:
    """Which significance test applies to a pair of runs, and why."""

    kind: str  # "paired", "welch" or "none"
    explanation: str


def choose_test(a: SavedRun, b: SavedRun) -> Test:
    """Paired t-test under common random numbers, Welch otherwise, none without replications on both sides."""
    single = [
        tag for tag, run in (("A", a), ("B", b)) if run.replications is None or len(run.replications) < 2
    ]
    if single:
        who = "each side is" if len(single) == 2 else f"{single[0]} is"
        return Test(
            "none",
            f"no significance test: {who} a single simulated day; run both with --reps N (N >= 2) to tell "
            "differences from noise",
        )
    assert a.replications is not None and b.replications is not None
    same_seed = a.meta.get("seed") is not None and a.meta.get("seed") == b.meta.get("seed")
    same_reps = sorted(a.replications["replication"]) == sorted(b.replications["replication"])
    if same_seed and same_reps:
        n = len(a.replications)
        return Test(
            "paired",
            f"paired t-test over {n} replication pairs: both runs used seed {a.meta.get('seed')} and the same "
            "replications, so replication r of each saw the same callers (common random numbers)",
        )
    return Test(
        "welch",
        f"Welch t-test ({len(a.replications)} vs {len(b.replications)} replications): the runs used different "
        "seeds or replications, so they are independent samples",
    )


def p_value(a: Sequence[float], b: Sequence[float], kind: str) -> float:
    """Two-sided p-value for `mean(b) != mean(a)`; NaN replications are left out (pairwise when paired).
    Constant samples give 1 when equal and 0 when they differ (no noise at all)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if kind == "paired":
        keep = ~(np.isnan(x) | np.isnan(y))
        differences = y[keep] - x[keep]
        if len(differences) < 2:
            return math.nan
        if np.ptp(differences) == 0:
            return 1.0 if differences[0] == 0 else 0.0
        return float(stats.ttest_rel(y[keep], x[keep]).pvalue)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) < 2 or len(y) < 2:
        return math.nan
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        return 1.0 if x[0] == y[0] else 0.0
    return float(stats.ttest_ind(y, x, equal_var=False).pvalue)


@dataclass(frozen=True)
class Row:
    """One KPI compared."""

    key: str
    label: str
    unit: str
    a: float
    b: float
    p_value: float
    better: int

    @property
    def difference(self) -> float:
        """B - A."""
        return self.b - self.a

    @property
    def significant(self) -> bool | None:
        """Whether the difference is significant at the 5% level (None: not tested)."""
        return None if math.isnan(self.p_value) else self.p_value < ALPHA

    @property
    def verdict(self) -> str:
        """`B better`, `A better`, `differs`, `no significant difference` or `not tested`."""
        if self.significant is None:
            return "not tested"
        if not self.significant:
            return "no significant difference"
        if self.better == 0 or self.difference == 0:
            return "differs"
        return "B better" if self.difference * self.better > 0 else "A better"


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


def label(run: SavedRun) -> str:
    """A run's short name: its results folder's name."""
    return run.folder.resolve().name


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def compare(a: SavedRun, b: SavedRun) -> Comparison:
    """Compare two saved runs KPI by KPI (headline KPIs, then each department both runs have)."""
    test = choose_test(a, b)
    summary_a, summary_b = flatten(a.summary), flatten(b.summary)
    wanted = [(key, text, unit, better) for key, text, unit, better in COMPARED]
    shared = [d for d in a.departments if d in b.departments]
    for department in shared:
        for key, text, unit, better in PER_DEPARTMENT:
            wanted.append((f"by_department.{department}.{key}", f"{department}: {text}", unit, better))
    rows = []
    for key, text, unit, better in wanted:
        if key not in summary_a or key not in summary_b:
            continue
        p = math.nan
        if (
            test.kind != "none"
            and a.replications is not None
            and b.replications is not None
            and key in a.replications.columns
            and key in b.replications.columns
        ):
            if test.kind == "paired":
                merged = a.replications[["replication", key]].merge(
                    b.replications[["replication", key]], on="replication", suffixes=("_a", "_b")
                )
                p = p_value(
                    merged[f"{key}_a"].astype(float).tolist(),
                    merged[f"{key}_b"].astype(float).tolist(),
                    "paired",
                )
            else:
                p = p_value(
                    a.replications[key].astype(float).tolist(),
                    b.replications[key].astype(float).tolist(),
                    "welch",
                )
        rows.append(Row(key, text, unit, _number(summary_a[key]), _number(summary_b[key]), p, better))
    return Comparison(a, b, test, rows)


def comparison_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per KPI: key, label, unit, A, B, B - A, relative change, p-value, significant, verdict."""
    return pd.DataFrame(
        [
            {
                "kpi": row.key,
                "label": row.label,
                "unit": row.unit,
                "a": row.a,
                "b": row.b,
                "difference": row.difference,
                "relative": row.difference / row.a
                if row.a not in (0.0,) and not math.isnan(row.a)
                else math.nan,
                "p_value": row.p_value,
                "significant": row.significant,
                "verdict": row.verdict,
            }
            for row in comparison.rows
        ]
    )


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """What `comparison.json` holds: the runs, the test used, and every row."""
    frame = comparison_frame(comparison)
    a, b = comparison.labels
    return {
        "a": {
            "label": a,
            "folder": str(comparison.a.folder),
            "seed": comparison.a.meta.get("seed"),
            "reps": comparison.a.reps,
        },
        "b": {
            "label": b,
            "folder": str(comparison.b.folder),
            "seed": comparison.b.meta.get("seed"),
            "reps": comparison.b.reps,
        },
        "test": comparison.test.kind,
        "test_explanation": comparison.test.explanation,
        "alpha": ALPHA,
        "kpis": frame.to_dict(orient="records"),
    }


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
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "comparison.csv"
    comparison_frame(comparison).to_csv(csv, index=False, float_format="%.6g")
    data = folder / "comparison.json"
    data.write_text(json.dumps(clean_json(comparison_json(comparison)), indent=2) + "\n", encoding="utf-8")
    picture = folder / "service_level.png"
    service_level_figure(comparison).savefig(picture, dpi=100)
    return [csv, data, picture]
