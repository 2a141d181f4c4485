"""Reading a long arrival trace quickly: a call log of ten million lines in seconds, not minutes.

The careful reader in `sim.model.loading` walks the CSV a row at a time, which is what gives every fault its
line number, but costs a minute and gigabytes on a ten-million-line log. Most logs are clean: every `at` a
plain number of seconds or a clock time, in order, within the day. This module reads such a file in one
vectorised pass (Arrow's CSV reader and compute kernels) and gives exactly what the careful reader would:
the same floats (the same arithmetic, in the same order) and the same reasons. Anything it is not sure of (a
unit such as `45s`, a malformed or out-of-day row, rows out of order, quoting it cannot follow, a ragged row,
bad UTF-8) makes it answer None, and the careful reader then reads the file and names the faulty line.
A trace may also give each call its own `handle_time` and `patience` (`read_trace_rows_fast`: plain seconds
or empty cells here; anything else, such as `1.5m`, is left to the careful reader).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from sim.model.durations import parse_duration, shorten

OWN_COLUMNS = ("handle_time", "patience")
"""Optional trace columns that give a call its own handle time (first department) and patience."""


class TraceRows(NamedTuple):
    """What a trace holds: arrival times (seconds after start), reasons ('' where not given), and each
    call's own handle time and patience (None for the whole column when the file has none, None in a cell
    left empty: drawn as usual)."""

    times: tuple[float, ...]
    reasons: tuple[str, ...]
    handle_times: tuple[float | None, ...] | None
    patience: tuple[float | None, ...] | None


def call_duration(text: str | None, column: str) -> float | None:
    """A trace cell of `handle_time` or `patience`: a duration (`95`, `1.5m`) >= 0, or None when empty."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        raise ValueError(f"{column} {shorten(value)}: {error}") from None
    if seconds < 0:
        raise ValueError(f"{column} {shorten(value)} must be >= 0")
    return seconds


def any_given(values: tuple[float | None, ...] | None) -> tuple[float | None, ...] | None:
    """The column, or None when no cell of it is given (the scenario then stays as without the column)."""
    return values if values is not None and any(value is not None for value in values) else None


_NUMBER = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*$"
_CLOCK = r"^\s*(?P<hours>[0-9]{1,2}):(?P<minutes>[0-9]{2})(?::(?P<seconds>[0-9]{2}(?:\.[0-9]+)?))?\s*$"
SMALL = 10_000
"""Files with fewer lines than this are left to the careful reader: they are quick to read either way."""


def read_trace_fast(
    path: Path, start: float, duration: float
) -> tuple[tuple[float, ...], tuple[str, ...]] | None:
    """Arrival times (seconds after `start`) and reasons from a clean trace CSV, or None when the file is
    small, has calls' own columns (`read_trace_rows_fast`) or anything in it needs the careful reader (which
    then reads it, and reports any fault)."""
    if _line_count_below(path, SMALL) or _has_own_columns(path):
        return None
    found = _read_fast(path, start, duration)
    return None if found is None else (found[1], found[2])


def read_trace_rows_fast(path: Path, start: float, duration: float) -> TraceRows | None:
    """`read_trace_fast` for a long trace with calls' own `handle_time` or `patience` columns: each a plain
    number of seconds or empty (None); None for any other file, or when a cell needs the careful reader
    (a unit such as `1.5m`, a negative or malformed value), which then names its line."""
    if _line_count_below(path, SMALL) or not _has_own_columns(path):
        return None
    found = _read_fast(path, start, duration)
    if found is None:
        return None
    table, times, reasons = found
    own: list[tuple[float | None, ...] | None] = []
    for column in OWN_COLUMNS:
        values = _own_column(table, column) if column in table.column_names else None
        if values is _UNSURE:
            return None
        own.append(values)
    return TraceRows(times, reasons, *own)


_UNSURE: Any = object()


def _own_column(table: Any, column: str) -> Any:
    """A column of plain non-negative numbers or empty cells as floats and None, or _UNSURE."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(table.column(column).combine_chunks())
    empty = pc.equal(text, "")
    given = pc.filter(text, pc.invert(empty))
    if len(given) and not pc.all(pc.match_substring_regex(given, _NUMBER)).as_py():
        return _UNSURE
    values = np.full(len(text), np.nan)
    filled = ~np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    values[filled] = pc.cast(given, pa.float64()).to_numpy()
    if not np.isfinite(values[filled]).all():
        return _UNSURE
    return tuple(None if value != value else value for value in values.tolist())


def _has_own_columns(path: Path) -> bool:
    """Whether the header (the first line) names a `handle_time` or `patience` column."""
    with path.open("rb") as handle:
        first = handle.readline(1 << 16)
    names = {name.strip().strip('"').lstrip("\ufeff") for name in first.decode("utf-8", "replace").split(",")}
    return any(column in names for column in OWN_COLUMNS)


def _read_fast(
    path: Path, start: float, duration: float
) -> tuple[Any, tuple[float, ...], tuple[str, ...]] | None:
    """The table, arrival times and reasons of a clean long trace, or None (see `read_trace_fast`)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(encoding="utf8"),
            parse_options=csv.ParseOptions(newlines_in_values=False),
            convert_options=csv.ConvertOptions(
                column_types={"at": pa.string(), "reason": pa.string()}
                | dict.fromkeys(OWN_COLUMNS, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError):
        return None
    names = [name.lstrip("\ufeff") if i == 0 else name for i, name in enumerate(table.column_names)]
    if len(set(names)) != len(names) or "at" not in names or table.num_rows == 0:
        return None
    table = table.rename_columns(names)
    at = pc.utf8_trim_whitespace(table.column("at").combine_chunks())
    has_colon = pc.match_substring(at, ":")
    times = np.empty(len(at), dtype=float)
    colon = np.asarray(has_colon.to_numpy(zero_copy_only=False), dtype=bool)
    if colon.any():
        parts: Any = pc.extract_regex(pc.filter(at, has_colon), _CLOCK)
        if parts.null_count:
            return None
        hours = pc.cast(parts.field("hours"), pa.int64()).to_numpy()
        minutes = pc.cast(parts.field("minutes"), pa.int64()).to_numpy()
        seconds_text = parts.field("seconds")
        seconds = pc.cast(pc.if_else(pc.equal(seconds_text, ""), "0", seconds_text), pa.float64()).to_numpy()
        if (hours > 47).any() or (minutes > 59).any() or (seconds >= 60).any():
            return None
        times[colon] = hours * 3600.0 + minutes * 60.0 + seconds - start
    if not colon.all():
        plain = pc.filter(at, pc.invert(has_colon))
        if not pc.all(pc.match_substring_regex(plain, _NUMBER)).as_py():
            return None
        times[~colon] = pc.cast(plain, pa.float64()).to_numpy()
    if not (np.isfinite(times).all() and (times >= 0).all() and (times < duration).all()):
        return None
    if (np.diff(times) < 0).any():
        return None
    reasons: tuple[str, ...]
    if "reason" in names:
        encoded = table.column("reason").combine_chunks().dictionary_encode()
        # each distinct label stripped as the careful reader strips it (Python's idea of white space)
        labels = np.array([label.strip() for label in encoded.dictionary.to_pylist()], dtype=object)
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        reasons = tuple(labels[indices].tolist())
    else:
        reasons = ("",) * len(times)
    return table, tuple(times.tolist()), reasons


def _line_count_below(path: Path, limit: int) -> bool:
    """Whether the file has fewer than `limit` lines (read no further than needed)."""
    seen = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            seen += block.count(b"\n")
            if seen >= limit:
                return False
    return True
