"""How much each point of a sweep differs from a baseline point, replication by replication.

Every point runs the same seed and replications (common random numbers): replication r of every point sees
the same callers. The difference `KPI(point, r) - KPI(baseline, r)` then carries little of the day-to-day
noise both share, so its 95% interval (Student t over the replications' differences) is far narrower than
the per-point intervals, whose bands overlap even where every replication moved the same way. This is the
paired t-interval; without pairing (different seeds) it would not apply, and nothing here is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.confidence import half_widths


def paired_differences(
    rows: pd.DataFrame, keys: Sequence[str], kpis: Sequence[str], baseline: int = 0
) -> pd.DataFrame:
    """One row per point of the tidy `rows` table (columns `point`, `replication`, `seed`, the parameters
    `keys`, `error`, the KPIs): its parameters, `pairs` (replications both it and the baseline completed)
    and per KPI the mean of the paired differences to point `baseline` and its 95% half-width `KPI_ci95`
    (NaN with fewer than two pairs). The baseline's own row is 0 ± 0."""
    ok = rows[rows["error"].isna()] if "error" in rows else rows
    base = ok[ok["point"] == baseline]
    points = ok.drop_duplicates("point").sort_values("point")[["point", *keys]].reset_index(drop=True)
    if base.empty or not len(kpis):
        return points.assign(pairs=0)
    merged = ok.merge(
        base[["replication", "seed", *kpis]], on=["replication", "seed"], suffixes=("", " baseline")
    )
    differences = pd.DataFrame(
        {
            kpi: merged[kpi].to_numpy(dtype=float) - merged[f"{kpi} baseline"].to_numpy(dtype=float)
            for kpi in kpis
        }
    )
    differences["point"] = merged["point"].to_numpy()
    grouped = differences.groupby("point")
    means = grouped[list(kpis)].mean()
    counts = grouped[list(kpis)].count()
    spread = grouped[list(kpis)].std(ddof=1).fillna(0.0)
    half = half_widths(spread.to_numpy(dtype=float), counts.to_numpy(dtype=float))
    half = np.where(counts.to_numpy() >= 2, half, np.nan)
    widths = pd.DataFrame(half, index=means.index, columns=[f"{kpi}_ci95" for kpi in kpis])
    pairs = grouped.size().rename("pairs")
    table = points.set_index("point").join(pairs).join(means).join(widths)
    table["pairs"] = table["pairs"].fillna(0).astype("int64")
    interleaved = [column for kpi in kpis for column in (kpi, f"{kpi}_ci95")]
    return table.reset_index()[["point", *keys, "pairs", *interleaved]]
