"""The replications picture's data side: per headline KPI, each replication's value and the running mean
with its 95% confidence band, read from the replications table with pandas. The drawing side
(`plots_replications.py`) draws from the plain `ReplicationsInputs` this module computes, without
importing pandas."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.confidence import half_width

if TYPE_CHECKING:
    from sim.output.plots_replications import ReplicationsInputs, RunningMean

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


def running_mean(replications: pd.DataFrame, key: str) -> RunningMean:
    """One KPI's panel of the replications picture: `running_means` as arrays."""
    data = running_means(replications, key)
    return {
        "key": key,
        "values": data["value"].to_numpy(dtype=float),
        "means": data["mean"].to_numpy(dtype=float),
        "lows": data["low"].to_numpy(dtype=float),
        "highs": data["high"].to_numpy(dtype=float),
    }


def replications_inputs(replications: pd.DataFrame, subtitle: str) -> ReplicationsInputs:
    """What `plots_replications.replications_figure` draws: for each of the `REPLICATED` KPIs, in order, its
    running mean, or None where the replications table has no such column (its panel is left empty)."""
    return {
        "panels": [running_mean(replications, key) if key in replications.columns else None for key in REPLICATED],
        "subtitle": subtitle,
    }
