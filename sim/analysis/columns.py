"""A table the analysis reads as plain numpy columns: the calls, visits, transfers, holds and callbacks of a
run, built once (cached on the run's `derived`), filtered lazily, and made a DataFrame only where a table
leaves the analysis layer (the API, the output files).

Why: the summary and the interval table read a few dozen columns of small tables (a day of a thousand calls)
many times over. Through pandas each read, comparison and filter costs tens of microseconds of fixed overhead
(index handling, `__finalize__`, Arrow-backed strings), which added up to more than the simulation itself.
A categorical column is held as integer codes with its names, so `outcome == "answered"` is one integer
comparison, and a filter (counted calls, offered calls) copies only the columns a KPI goes on to read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.day import RunResult

T = TypeVar("T")


def derived(result: RunResult, name: str, build: Callable[[RunResult], T]) -> T:
    """A table derived from the run, built once and kept on the run's `derived` (callers filter it and must
    not change it in place)."""
    table = result.derived.get(name)
    if table is None:
        table = result.derived[name] = build(result)
    return cast(T, table)


def any_of(codes: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    """Per row, whether its (event) code is one of `wanted`: `np.isin` for a handful of small codes, one
    comparison each (without `isin`'s sorting of the whole column)."""
    found = np.zeros(len(codes), dtype=bool)
    for code in wanted:
        found |= codes == code
    return found


def event_rows(result: RunResult, *codes: int, in_time_order: bool = True) -> np.ndarray:
    """The rows of the event log whose event code is one of `codes`, ascending (in time order); with
    `in_time_order=False`, code after code (each code's in time order), for a reduction that ignores order.

    Why: a table reads the rows of a few event codes several times over; a mask of the whole log per read
    (`code == X` and `flatnonzero`, or a boolean index of a column) is a pass over millions of rows each. The
    log's rows are put in code order once per run (a stable radix sort of the 8-bit codes, kept on the run's
    `derived`), and a code's rows are then a slice of it. Several codes of which more than one occurs are
    merged by one mask over the log (cheaper than sorting their rows back into time order)."""
    order, bounds = derived(result, "events.by_code", _rows_by_code)
    present = [code for code in codes if 0 <= code < len(bounds) - 1 and bounds[code + 1] > bounds[code]]
    if len(present) > 1:
        if not in_time_order:
            return np.concatenate([order[bounds[code] : bounds[code + 1]] for code in present])
        return np.flatnonzero(any_of(result.columns.code, present))
    if present:
        return order[bounds[present[0]] : bounds[present[0] + 1]]
    return order[:0]


def _rows_by_code(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """The event log's rows in code order (in time order within a code), and each code's first row in it
    (code k's rows are order[bounds[k]:bounds[k + 1]])."""
    from sim.engine.log import EVENT_NAMES

    code = result.columns.code
    order = np.argsort(code, kind="stable")  # an 8-bit key: a radix sort, one pass
    bounds = np.searchsorted(code, np.arange(len(EVENT_NAMES) + 1), sorter=order)  # a binary search a code
    return order, bounds


def event_departments(result: RunResult) -> list[str]:
    """The department names of the run's event log, in the order of its codes (read once)."""
    return derived(result, "events.departments", lambda run: list(run.events["department"].cat.categories))


class Columns:
    """Named numpy columns of one length; a categorical column holds integer codes (-1: missing) and its
    names are in `categories`. `where(keep)` is the rows where `keep` holds, each column filtered when first
    read. Read-only by convention: the columns are shared with every view of the table."""

    __slots__ = ("_data", "_keep", "_length", "_order", "_source", "categories")

    def __init__(
        self,
        data: Mapping[str, np.ndarray],
        categories: Mapping[str, Sequence[str]] | None = None,
        length: int | None = None,
    ) -> None:
        self._data: dict[str, np.ndarray] = dict(data)
        self._order: tuple[str, ...] = tuple(data)
        self._source: Columns | None = None
        self._keep: np.ndarray | None = None
        self.categories: dict[str, list[str]] = {
            name: list(names) for name, names in (categories or {}).items()
        }
        first = next(iter(self._data.values()), None)
        self._length = length if length is not None else (len(first) if first is not None else 0)

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in table order."""
        return self._order

    def __len__(self) -> int:
        return self._length

    def __contains__(self, name: object) -> bool:
        return name in self._order

    def __getitem__(self, name: str) -> np.ndarray:
        """A column's values (integer codes for a categorical column)."""
        found = self._data.get(name)
        if found is None:
            if self._source is None or self._keep is None:
                raise KeyError(name)
            found = self._data[name] = self._source[name][self._keep]
        return found

    def where(self, keep: np.ndarray) -> Columns:
        """The rows where the boolean array `keep` holds (this table itself when that is every row)."""
        keep = np.asarray(keep, dtype=bool)
        if bool(keep.all()):
            return self
        view = Columns({}, self.categories, int(np.count_nonzero(keep)))
        view._order = self._order
        view._source = self
        view._keep = keep
        return view

    def code(self, name: str, value: str) -> int:
        """The code of `value` in a categorical column (-2, matching no row, when it is not a category)."""
        names = self.categories[name]
        return names.index(value) if value in names else -2

    def equals(self, name: str, value: str) -> np.ndarray:
        """Per row, whether a categorical column holds `value`."""
        return self[name] == self.code(name, value)

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (categorical columns as pandas categoricals), for the API and the files."""
        import pandas as pd

        from sim.engine.log import categorical

        return pd.DataFrame(
            {
                name: (
                    categorical(self[name], self.categories[name]) if name in self.categories else self[name]
                )
                for name in self._order
            },
            copy=False,
        )
