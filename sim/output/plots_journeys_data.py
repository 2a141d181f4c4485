"""The journeys pictures' data side: the summary's transfers between departments as a square table, and the
share of answered callers who met 1, 2, 3, 4, 5+ agents, read with pandas. The drawing side
(`plots_journeys.py`) draws from the plain `TransferInputs` and `TouchedInputs` this module computes,
without importing pandas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.metrics import agents_touched_distribution

if TYPE_CHECKING:
    from sim.output.plots_journeys import TouchedInputs, TransferInputs

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


def transfer_inputs(matrix: pd.DataFrame, subtitle: str) -> TransferInputs:
    """What `plots_journeys.transfer_figure` draws: the transfer table (`transfer_counts`) as an array with
    its row and column names, and the transfers in all."""
    return {
        "counts": matrix.to_numpy(dtype=float),
        "sources": [str(name) for name in matrix.index],
        "targets": [str(name) for name in matrix.columns],
        "total": int(matrix.to_numpy().sum()),
        "subtitle": subtitle,
    }


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


def touched_inputs(shares: pd.DataFrame, mean: float | None, subtitle: str) -> TouchedInputs:
    """What `plots_journeys.touched_figure` draws: the shares (`touched_shares`) as arrays with their bars'
    names, and the mean number of agents met (None or NaN: not in the title)."""
    return {
        "agents": [str(name) for name in shares["agents"]],
        "shares": shares["share"].to_numpy(dtype=float),
        "ci95": shares["ci95"].to_numpy(dtype=float),
        "mean": None if mean is None else float(mean),
        "subtitle": subtitle,
    }
