"""The pictures' data side, shared: the rows, days and calls the pictures of a run are drawn from, read
from its tables with pandas. The drawing modules (`plots_*.py` without `_data`) import neither pandas nor
the scenario model: they draw from plain inputs (numbers, arrays, words) that the data modules compute,
so that the report drawer (`sim.output.drawer`) draws without importing pandas."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.metrics import offered_calls
from sim.model.scenario import Scenario

DAY = 86400.0

def interval_rows(intervals: pd.DataFrame, department: str = "all", kind: str | None = None) -> pd.DataFrame:
    """The interval table's rows for one department, agent group or `all`, in interval order, never a
    channel's of the same name (`kind: channel`, an email department's `email`) unless `kind` asks for it
    (an old table has no `kind`)."""
    rows = intervals[intervals["department"].astype(str) == department]
    if "kind" in rows.columns:
        kinds = rows["kind"].astype(str)
        rows = rows[kinds == kind] if kind is not None else rows[kinds != "channel"]
    return rows.sort_values("interval").reset_index(drop=True)


def interval_days(numbers: np.ndarray, scenario: Scenario) -> np.ndarray:
    """The day of the run (0 for the first) each interval number starts in, by the scenario's clock."""
    starts = scenario.start + np.asarray(numbers, dtype=float) * scenario.interval
    return (np.floor(starts / DAY) - math.floor(scenario.start / DAY)).astype(np.int64)


def counted_offered(calls: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The calls the KPIs count: arrived after the warm-up and offered to agents (not self-served)."""
    return offered_calls(calls[calls["arrived_at"] >= scenario.warmup])


def row_positions(column: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Each row's position in `names` (-1 for a value not there), for a categorical or plain column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        position = {name: i for i, name in enumerate(names)}
        lookup = np.array([position.get(str(c), -1) for c in column.cat.categories] + [-1], dtype=np.int64)
        return lookup[column.cat.codes.to_numpy()]
    return pd.Index(list(names)).get_indexer(pd.Index(column.astype(str)))
