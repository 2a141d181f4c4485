"""Two sets of replications side by side: each KPI for A and B, the difference B - A, and, with
replications on both sides, whether the difference is more than noise.

The test is a t-test on the per-replication KPIs: paired when both sides used the same seed and the same
replications (common random numbers: replication r of each saw the same callers, so the pairs share their
noise), Welch's unequal-variance t-test otherwise. Single runs get no test: one day each says nothing about
noise. This is the statistics only, on values and frames: `sim.output.compare` reads two results folders
into them, and the Python API (`sim.compare`) hands in two `Replications`.

Which KPIs are compared, and their labels, units and better directions, are the KPI registry's
(`sim.analysis.kpis`, the entries flagged `compared`); nothing here restates them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import kpis

ALPHA = 0.05


@dataclass(frozen=True)
class Test:
    """Which significance test applies to a pair of runs, and why."""

    kind: str  # "paired", "welch" or "none"
    explanation: str


def choose_test(
    seed_a: int | None,
    replications_a: Sequence[int] | None,
    seed_b: int | None,
    replications_b: Sequence[int] | None,
) -> Test:
    """Paired t-test under common random numbers (the same seed and replication numbers), Welch otherwise,
    none without two or more replications on both sides. `replications_*`: the replication numbers behind
    each side's per-replication KPIs (None: a single run)."""
    single = [
        tag
        for tag, numbers in (("A", replications_a), ("B", replications_b))
        if numbers is None or len(numbers) < 2
    ]
    if single:
        who = "each side is" if len(single) == 2 else f"{single[0]} is"
        return Test(
            "none",
            f"no significance test: {who} a single simulated day; run both with --reps N (N >= 2) to tell "
            "differences from noise",
        )
    assert replications_a is not None and replications_b is not None
    same_seed = seed_a is not None and seed_a == seed_b
    same_reps = sorted(replications_a) == sorted(replications_b)
    if same_seed and same_reps:
        n = len(replications_a)
        return Test(
            "paired",
            f"paired t-test over {n} replication pairs: both runs used seed {seed_a} and the same "
            "replications, so replication r of each saw the same callers (common random numbers)",
        )
    return Test(
        "welch",
        f"Welch t-test ({len(replications_a)} vs {len(replications_b)} replications): the runs used different "
        "seeds or replications, so they are independent samples",
    )


def p_value(a: Sequence[float], b: Sequence[float], kind: str) -> float:
    """Two-sided p-value for `mean(b) != mean(a)`; NaN replications are left out (pairwise when paired).
    Constant samples give 1 when equal and 0 when they differ (no noise at all)."""
    # Imported here, not at the top: scipy.stats takes ~0.7 s, which every first use of `sim` would pay.
    from scipy import stats

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


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


@dataclass(frozen=True)
class Comparison:
    """Two sides' KPIs with differences and, with replications, significance (`frame` as a table)."""

    test: Test
    rows: list[Row] = field(default_factory=list)
    labels: tuple[str, str] = ("A", "B")

    @property
    def frame(self) -> pd.DataFrame:
        """One row per KPI: key, label, unit, A, B, B - A, relative change, p-value, significant, verdict."""
        return comparison_frame(self)


@dataclass(frozen=True)
class Compared:
    """One KPI a comparison shows: its flat summary key, the label it is shown under, and its registry
    entry (unit and better direction)."""

    key: str
    """`service_level`, or `by_department.billing.asa` for a department's figure."""
    label: str
    """The registry's label, prefixed `billing: ` for a department's figure."""
    entry: kpis.Kpi


def compared_kpis(departments: Sequence[str]) -> list[Compared]:
    """The KPIs compared: the registry's centre-wide ones flagged `compared`, then its per-department ones
    flagged `compared` for each department given, all in registry order."""
    wanted = [Compared(entry.key, entry.label, entry) for entry in kpis.compared()]
    for department in departments:
        wanted += [
            Compared(f"by_department.{department}.{entry.key}", f"{department}: {entry.label}", entry)
            for entry in kpis.compared_per_department()
        ]
    return wanted


def compare_rows(
    summary_a: Mapping[str, Any],
    summary_b: Mapping[str, Any],
    replications_a: pd.DataFrame | None,
    replications_b: pd.DataFrame | None,
    test: Test,
    departments: Sequence[str] = (),
) -> list[Row]:
    """Each KPI both flat summaries have (`by_department.billing.asa` keys), with its p-value from the
    per-replication frames (a `replication` column and one column per KPI) under `test`."""
    rows = []
    for shown in compared_kpis(departments):
        key = shown.key
        if key not in summary_a or key not in summary_b:
            continue
        p = math.nan
        if (
            test.kind != "none"
            and replications_a is not None
            and replications_b is not None
            and key in replications_a.columns
            and key in replications_b.columns
        ):
            if test.kind == "paired":
                merged = replications_a[["replication", key]].merge(
                    replications_b[["replication", key]], on="replication", suffixes=("_a", "_b")
                )
                p = p_value(
                    merged[f"{key}_a"].astype(float).tolist(),
                    merged[f"{key}_b"].astype(float).tolist(),
                    "paired",
                )
            else:
                p = p_value(
                    replications_a[key].astype(float).tolist(),
                    replications_b[key].astype(float).tolist(),
                    "welch",
                )
        several = kpis.voice_only(summary_a) or kpis.voice_only(summary_b)  # a voice headline, labelled so
        rows.append(
            Row(
                key,
                kpis.label_in(shown.label, key, summary_a if kpis.voice_only(summary_a) else summary_b)
                if several
                else shown.label,
                shown.entry.unit,
                _number(summary_a[key]),
                _number(summary_b[key]),
                p,
                shown.entry.better,
            )
        )
    return rows


def comparison_frame(comparison: Any) -> pd.DataFrame:
    """One row per KPI of a comparison (anything with `rows`): key, label, unit, A, B, B - A, relative
    change, p-value, significant, verdict."""
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
