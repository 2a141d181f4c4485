"""Figures per group in one vectorised pass: rows of a table split into groups (intervals, departments,
interval x department, ...) and the grouped counts, sums, means and quantiles every KPI is made of, whatever
the number of groups. Sums and quantiles reproduce numpy's (and so pandas') bit for bit, so a figure computed
for every group at once equals the figure of each group's rows taken alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Groups:
    """Rows of a table split into `size` groups (intervals, departments, interval x department, ...): `key[i]`
    is row i's group, -1 for none. A KPI function given `by=` returns one figure per group (an array) from one
    pass over the table; without it, one figure for the whole table, computed the same way."""

    key: np.ndarray
    size: int

    def subset(self, keep: np.ndarray) -> Groups:
        """The groups of the rows where `keep` holds (for a KPI that filters its table first)."""
        return Groups(self.key[keep], self.size)


def groups_of(table: pd.DataFrame, by: Groups | None) -> Groups:
    """The groups `by`, or, without them, every row of `table` in one group (the whole-table figure)."""
    return by if by is not None else Groups(np.zeros(len(table), dtype=np.int64), 1)


def figure(values: np.ndarray, by: Groups | None) -> Any:
    """The whole table's figure as a float, or the per-group array."""
    return float(values[0]) if by is None else values


def count_where(mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the rows where `mask` holds."""
    keys = groups.key[np.asarray(mask, dtype=bool) & (groups.key >= 0)]
    return np.bincount(keys, minlength=groups.size)[: groups.size]


def ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole per group, NaN where whole is 0."""
    return np.divide(part, whole, out=np.full(len(whole), math.nan), where=whole > 0)


def pairwise_sums(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per segment `values[start:start + count]`, its sum exactly as numpy (and so pandas) takes it: pairwise
    summation, eight accumulators in blocks of up to 128 values. Reproduced bit for bit, so a table computed in
    one vectorised pass holds the very floats a filter-and-sum per interval gave (their last bits would
    otherwise differ, and a 12-digit fingerprint of thousands of them could show it)."""
    out = np.zeros(len(starts))
    small = counts < 8
    if small.any():
        first, count = starts[small], counts[small]
        total = np.zeros(len(first))
        for j in range(7):
            inside = count > j
            total[inside] += values[first[inside] + j]
        out[small] = total
    middle = (counts >= 8) & (counts <= 128)
    if middle.any():
        first, count = starts[middle], counts[middle]
        lanes = np.arange(8)
        lane = values[first[:, None] + lanes]
        blocks = count // 8
        for block in range(1, 16):
            more = blocks > block
            if not more.any():
                break
            lane[more] += values[first[more][:, None] + 8 * block + lanes]
        total = ((lane[:, 0] + lane[:, 1]) + (lane[:, 2] + lane[:, 3])) + (
            (lane[:, 4] + lane[:, 5]) + (lane[:, 6] + lane[:, 7])
        )
        tail, rest = first + 8 * blocks, count % 8
        for j in range(7):
            inside = rest > j
            total[inside] += values[tail[inside] + j]
        out[middle] = total
    large = counts > 128
    if large.any():
        first, count = starts[large], counts[large]
        half = count // 2
        half -= half % 8
        # both halves of every long segment in one call (one call a level, not one a segment)
        halves = pairwise_sums(
            values, np.concatenate((first, first + half)), np.concatenate((half, count - half))
        )
        out[large] = halves[: len(first)] + halves[len(first) :]
    return out


def _segments(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by group, keeping their order within a group: the order, and each group's start and count."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=size)[:size]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return order, starts, counts


def sum_where(values: np.ndarray, mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the sum of `values` where `mask` holds (NaN counts as 0), as pandas' `sum` takes it."""
    keep = np.asarray(mask, dtype=bool) & (groups.key >= 0)
    keys, chosen = groups.key[keep], np.asarray(values, dtype=float)[keep]
    if groups.size == 1:  # one segment: numpy's own sum is the very same sum
        return np.array([np.nan_to_num(chosen, nan=0.0).sum()])
    order, starts, counts = _segments(keys, groups.size)
    return pairwise_sums(np.nan_to_num(chosen[order], nan=0.0), starts, counts)


def mean_where(values: np.ndarray, mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the mean of `values` where `mask` holds, NaN skipped (NaN when none), as pandas' `mean`."""
    chosen = np.asarray(values, dtype=float)
    present = np.asarray(mask, dtype=bool) & ~np.isnan(chosen)
    return ratio(sum_where(chosen, mask, groups), count_where(present, groups))


def quantile_where(values: np.ndarray, mask: np.ndarray, groups: Groups, q: float) -> np.ndarray:
    """Per group, the `q` quantile of `values` where `mask` holds, NaN skipped, linearly interpolated exactly
    as numpy's (and pandas') `quantile` does; NaN when a group has none."""
    chosen = np.asarray(values, dtype=float)
    keep = np.asarray(mask, dtype=bool) & (groups.key >= 0) & ~np.isnan(chosen)
    keys, chosen = groups.key[keep], chosen[keep]
    ordered = chosen[np.lexsort((chosen, keys))]
    counts = np.bincount(keys, minlength=groups.size)[: groups.size]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    out = np.full(groups.size, math.nan)
    has = counts > 0
    count, first = counts[has], starts[has]
    virtual = (count - 1) * q
    below = np.floor(virtual)
    gamma = virtual - below
    low = below.astype(np.int64)
    high = low + 1
    top = virtual >= count - 1
    low[top] = high[top] = count[top] - 1
    a, b = ordered[first + low], ordered[first + high]
    step = b - a
    value = a + step * gamma
    upper = gamma >= 0.5
    value[upper] = (b - step * (1 - gamma))[upper]
    out[has] = value
    return out


def column(table: pd.DataFrame, name: str) -> np.ndarray:
    """A column's values as an array."""
    return table[name].to_numpy()


def equals(table: pd.DataFrame, name: str, value: str) -> np.ndarray:
    """Per row, whether a column holds `value` (`outcome` is `answered`, ...), as a boolean array."""
    return (table[name] == value).to_numpy(dtype=bool)


def rows_where(table: pd.DataFrame, keep: pd.Series | np.ndarray) -> pd.DataFrame:
    """The rows of `table` where `keep` holds: the table itself when that is every row (a million-row
    calls table is not copied to drop nothing)."""
    return table if bool(keep.all()) else table[keep]


def codes(categorical: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Per row, the position in `names` of a categorical column's value (-1: missing or not in `names`)."""
    position = {name: i for i, name in enumerate(names)}
    lookup = np.array([position.get(str(c), -1) for c in categorical.cat.categories] + [-1], dtype=np.int64)
    return lookup[categorical.cat.codes.to_numpy()]  # a missing value's code -1 picks the last entry, -1


def pair_keys(outer: np.ndarray, inner: np.ndarray, inner_size: int) -> np.ndarray:
    """One group key from two (outer-major), -1 where the inner key is missing."""
    return np.where(inner >= 0, outer * inner_size + inner, -1)
