"""Figures per group in one vectorised pass: rows of a table split into groups (intervals, departments,
interval x department, ...) and the grouped counts, sums, means and quantiles every KPI is made of, whatever
the number of groups. Sums and quantiles reproduce numpy's (and so pandas') bit for bit, so a figure computed
for every group at once equals the figure of each group's rows taken alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from sim.analysis.columns import Columns

T = TypeVar("T", bound=pd.DataFrame | Columns)


@dataclass(frozen=True)
class Groups:
    """Rows of a table split into `size` groups (intervals, departments, interval x department, ...): `key[i]`
    is row i's group, -1 for none. A KPI function given `by=` returns one figure per group (an array) from one
    pass over the table; without it, one figure for the whole table, computed the same way."""

    key: np.ndarray
    size: int
    whole: bool = False
    """Every row in the one group (the whole-table figure): counts and sums need no keys."""

    def subset(self, keep: np.ndarray) -> Groups:
        """The groups of the rows where `keep` holds (for a KPI that filters its table first)."""
        return Groups(self.key[keep], self.size, self.whole)

    @cached_property
    def bounds(self) -> np.ndarray | None:
        """Where the keys never decrease (calls in order of arrival, keyed by interval): group g's rows are
        rows bounds[g]:bounds[g + 1] (rows of no group, -1, before them all), so that a count or a sum per
        group is one over each slice, without a bincount or a sort. None where the rows are not in group
        order (or a key is past the groups), and for the whole-table figure."""
        key = self.key
        if self.whole or not len(key) or key[-1] >= self.size or bool(np.any(key[1:] < key[:-1])):
            return None
        return np.searchsorted(key, np.arange(self.size + 1))


def groups_of(table: Sized, by: Groups | None) -> Groups:
    """The groups `by`, or, without them, every row of `table` in one group (the whole-table figure)."""
    return by if by is not None else Groups(np.zeros(len(table), dtype=np.int64), 1, whole=True)


def distinct_count(values: Any) -> int:
    """How many distinct values (`len(np.unique(values))`): ids (non-negative integers, not sparse) counted
    in one pass of `np.bincount` instead of a sort or hash of them all."""
    values = np.asarray(values)
    if (
        values.dtype.kind in "iu"
        and len(values)
        and values.min() >= 0
        and values.max() < 2 * len(values) + 1024
    ):
        return int(np.count_nonzero(np.bincount(values)))
    return len(np.unique(values))


def figure(values: np.ndarray, by: Groups | None) -> Any:
    """The whole table's figure as a float, or the per-group array."""
    return float(values[0]) if by is None else values


def count_where(mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the rows where `mask` holds."""
    if groups.whole:
        return np.array([np.count_nonzero(mask)])
    if groups.bounds is not None:  # rows in group order: a sum over each group's slice, 5x a bincount's speed
        return _slice_counts(np.asarray(mask, dtype=bool), groups.bounds)
    keys = groups.key[np.asarray(mask, dtype=bool) & (groups.key >= 0)]
    return np.bincount(keys, minlength=groups.size)[: groups.size]


def _slice_counts(mask: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per slice mask[bounds[g]:bounds[g + 1]], the rows where `mask` holds (the same integers as a bincount
    of the rows' groups). One `np.add.reduceat` over the slices that hold rows: it takes each from its start
    to the next one's (the empty slices between them hold nothing), the last to the end of the mask, which
    is cut at the last bound."""
    counts = np.zeros(len(bounds) - 1, dtype=np.int64)
    filled = bounds[1:] > bounds[:-1]
    if filled.any():
        counts[filled] = np.add.reduceat(mask[: bounds[-1]], bounds[:-1][filled], dtype=np.int64)
    return counts


def ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole per group, NaN where whole is 0."""
    return np.divide(part, whole, out=np.full(len(whole), math.nan), where=whole > 0)


def pairwise_sums(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per segment `values[start:start + count]`, its sum exactly as numpy (and so pandas) takes it: pairwise
    summation, eight accumulators in blocks of up to 128 values. Reproduced bit for bit, so a table computed in
    one vectorised pass holds the very floats a filter-and-sum per interval gave (their last bits would
    otherwise differ, and a 12-digit fingerprint of thousands of them could show it)."""
    out = np.zeros(len(starts))
    if not len(values):
        return out
    large = counts > 128
    if not large.any():
        return _short_sums(np.concatenate((values, [0.0])), starts, counts)
    short = ~large
    out[short] = _short_sums(np.concatenate((values, [0.0])), starts[short], counts[short])
    first, count = starts[large], counts[large]
    half = count // 2
    half -= half % 8
    # both halves of every long segment in one call (one call a level, not one a segment)
    halves = pairwise_sums(
        values, np.concatenate((first, first + half)), np.concatenate((half, count - half))
    )
    out[large] = halves[: len(first)] + halves[len(first) :]
    return out


def _short_sums(padded: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """`pairwise_sums` of segments of up to 128 values, all at once; `padded` is the values and a last 0.0.

    Padded arrays hold each segment (a padding 0.0 leaves a sum unchanged): eight lanes summed block by block
    (a running sum along the blocks, which adds in order), combined pairwise, then the tail added one value
    at a time (a running sum again, from the lanes' total). A segment of fewer than 8 has no block, so its
    lanes combine to 0.0 and its values add to that, as numpy adds them (0.0, then each value in turn)."""
    pad = len(padded) - 1
    blocks = count // 8
    most = int(blocks.max(initial=0))
    if most:
        offsets = np.arange(8 * most)
        lanes = padded[np.where(offsets < (8 * blocks)[:, None], first[:, None] + offsets, pad)]
        lane = np.add.accumulate(lanes.reshape(len(first), most, 8), axis=1)[:, -1]
        pairs = lane[:, 0::2] + lane[:, 1::2]  # (r0 + r1), (r2 + r3), (r4 + r5), (r6 + r7)
        quads = pairs[:, 0::2] + pairs[:, 1::2]
        total = quads[:, 0] + quads[:, 1]
    else:
        total = np.zeros(len(first))
    rest = count % 8
    longest = int(rest.max(initial=0))
    if not longest:
        return total
    offsets = np.arange(longest)
    tails = padded[np.where(offsets < rest[:, None], (first + 8 * blocks)[:, None] + offsets, pad)]
    return np.add.accumulate(np.column_stack((total, tails)), axis=1)[:, -1]


def _segments(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by group, keeping their order within a group: the order, and each group's start and count."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=size)[:size]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return order, starts, counts


def sum_where(values: np.ndarray, mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the sum of `values` where `mask` holds (NaN counts as 0), as pandas' `sum` takes it.

    `values` may hold several columns as the rows of a 2-D array (summed over the same rows and groups in one
    pass): then the sums are a row per column."""
    keep = np.asarray(mask, dtype=bool) & (groups.key >= 0)
    given = np.asarray(values)
    if given.ndim == 1 and given.dtype.kind in "biu" and groups.size > 1:
        # Whole numbers (counts of transfers, agents, holds): every partial sum is exact whatever the
        # order while the total stays below 2**53, so a plain running sum gives numpy's floats.
        chosen = given[keep].astype(float)
        if float(np.abs(chosen).sum()) < 2.0**53:
            sums = np.bincount(groups.key[keep], weights=chosen, minlength=groups.size)[: groups.size]
            return sums.astype(float, copy=False)  # floats even when no row is kept
    table = given.astype(float, copy=False)
    several = table.ndim == 2
    chosen = table[:, keep] if several else table[keep]
    chosen = np.where(np.isnan(chosen), 0.0, chosen)
    if groups.size == 1:  # one segment: numpy's own sum is the very same sum
        return np.array([[row.sum()] for row in chosen]) if several else np.array([chosen.sum()])
    if groups.bounds is not None:  # rows already in group order: no sort (and counts without a bincount)
        counts = _slice_counts(keep, groups.bounds)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    else:
        order, starts, counts = _segments(groups.key[keep], groups.size)
        chosen = chosen[:, order] if several else chosen[order]
    if not several:
        return pairwise_sums(chosen, starts, counts)
    columns, rows = chosen.shape
    offsets = (np.arange(columns) * rows)[:, None]
    sums = pairwise_sums(chosen.reshape(-1), (offsets + starts).reshape(-1), np.tile(counts, columns))
    return sums.reshape(columns, groups.size)


def mean_where(values: np.ndarray, mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the mean of `values` where `mask` holds, NaN skipped (NaN when none), as pandas' `mean`."""
    chosen = np.asarray(values)
    present = np.asarray(mask, dtype=bool)
    if chosen.dtype.kind not in "biu":  # whole numbers are never NaN (and keep `sum_where`'s exact path)
        chosen = chosen.astype(float, copy=False)
        present = present & ~np.isnan(chosen)
    return ratio(sum_where(chosen, mask, groups), count_where(present, groups))


def quantile_where(values: np.ndarray, mask: np.ndarray, groups: Groups, q: float) -> np.ndarray:
    """Per group, the `q` quantile of `values` where `mask` holds, NaN skipped, linearly interpolated exactly
    as numpy's (and pandas') `quantile` does; NaN when a group has none."""
    chosen = np.asarray(values, dtype=float)
    keep = np.asarray(mask, dtype=bool) & (groups.key >= 0) & ~np.isnan(chosen)
    keys, chosen = groups.key[keep], chosen[keep]
    counts = np.bincount(keys, minlength=groups.size)[: groups.size]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    # No value with its sign bit set (so no -0.0 beside 0.0): equal values are the same float, so any sort
    # by group and value gives the very values in the very order the lexsort gives.
    unsigned = not np.signbit(chosen).any()
    if groups.size == 1 and unsigned:
        ordered = np.sort(chosen)  # one group: a plain sort, ten times faster than the lexsort
    elif unsigned and groups.size * int(counts.max(initial=0)) <= 4 * len(chosen) + 4096:
        ordered = _sorted_in_groups(chosen, keys, counts, starts)
    else:
        ordered = chosen[np.lexsort((chosen, keys))]
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


def _sorted_in_groups(
    values: np.ndarray, keys: np.ndarray, counts: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """`values` in order of their group `keys`, ascending within a group (each group's `counts` of them,
    starting at `starts`): each group's values a row of a matrix padded with +inf, all rows sorted by one
    vectorised `np.sort`, which is three to four times faster than a lexsort of the groups and values (the
    caller keeps the matrix within a few times the values)."""
    width = int(counts.max(initial=0))
    narrow = len(counts) <= np.iinfo(np.uint16).max + 1  # a 16-bit key sorts by radix, in one pass
    order = np.argsort(keys.astype(np.uint16) if narrow else keys, kind="stable")
    position = np.arange(len(keys)) - np.repeat(starts, counts)  # each value's place in its group's row
    matrix = np.full((len(counts), width), np.inf)
    matrix[keys[order], position] = values[order]
    matrix.sort(axis=1)
    return matrix[np.arange(width) < counts[:, None]]


Table = pd.DataFrame | Columns
"""A table a KPI reads: a DataFrame (as the API hands it out) or the same table's numpy `Columns`."""


def column(table: Table, name: str) -> np.ndarray:
    """A column's values as an array (a `Columns` categorical's codes; use `equals` or `codes_of` for those)."""
    if isinstance(table, Columns):
        return table[name]
    return table[name].to_numpy()


def present(table: Table, name: str) -> np.ndarray:
    """Per row, whether a float column has a value (not NaN): an answered call has an `answered_at`."""
    return ~np.isnan(column(table, name))


def equals(table: Table, name: str, value: str) -> np.ndarray:
    """Per row, whether a column holds `value` (`outcome` is `answered`, ...), as a boolean array."""
    if isinstance(table, Columns):
        return table.equals(name, value)
    return (table[name] == value).to_numpy(dtype=bool)


def rows_where(table: T, keep: pd.Series | np.ndarray) -> T:
    """The rows of `table` where `keep` holds: the table itself when that is every row (a million-row
    calls table is not copied to drop nothing)."""
    if isinstance(table, Columns):
        return cast(T, table.where(np.asarray(keep, dtype=bool)))
    return table if bool(keep.all()) else cast(T, table[keep])


def codes(categorical: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Per row, the position in `names` of a categorical column's value (-1: missing or not in `names`)."""
    return _positions(categorical.cat.categories, names)[categorical.cat.codes.to_numpy()]


def codes_of(table: Table, name: str, names: Sequence[str]) -> np.ndarray:
    """Per row, the position in `names` of a categorical column's value (-1: missing or not in `names`)."""
    if isinstance(table, Columns):
        return _positions(table.categories[name], names)[table[name]]
    return codes(table[name], names)


def _positions(categories: Iterable[Any], names: Sequence[str]) -> np.ndarray:
    """Per category code, its position in `names` (-1 when absent), with a last -1 that a missing value's
    code -1 picks."""
    position = {name: i for i, name in enumerate(names)}
    return np.array([position.get(str(c), -1) for c in categories] + [-1], dtype=np.int64)


def pair_keys(outer: np.ndarray, inner: np.ndarray, inner_size: int) -> np.ndarray:
    """One group key from two (outer-major), -1 where the inner key is missing."""
    return np.where(inner >= 0, outer * inner_size + inner, -1)
