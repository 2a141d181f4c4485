"""Reading a long arrival trace quickly: a call log of ten million lines in seconds, not minutes.

The careful reader in `sim.model.loading` walks the CSV a row at a time, which is what gives every fault its
line number, but costs a minute and gigabytes on a ten-million-line log. Most logs are clean: every `at` a
plain number of seconds or a clock time, in order, within the day. This module reads such a file in one
vectorised pass (Arrow's CSV reader and compute kernels) and gives exactly what the careful reader would:
the same floats (the same arithmetic, in the same order) and the same reasons. Anything it is not sure of (a
unit such as `45s`, a malformed or out-of-day row, rows out of order, quoting it cannot follow, a ragged row,
bad UTF-8) makes it answer None, and the careful reader then reads the file and names the faulty line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_NUMBER = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*$"
_CLOCK = r"^\s*(?P<hours>[0-9]{1,2}):(?P<minutes>[0-9]{2})(?::(?P<seconds>[0-9]{2}(?:\.[0-9]+)?))?\s*$"
SMALL = 10_000
"""Files with fewer lines than this are left to the careful reader: they are quick to read either way."""


def read_trace_fast(
    path: Path, start: float, duration: float
) -> tuple[tuple[float, ...], tuple[str, ...]] | None:
    """Arrival times (seconds after `start`) and reasons from a clean trace CSV, or None when the file is
    small or anything in it needs the careful reader (which then reads it, and reports any fault)."""
    if _line_count_below(path, SMALL):
        return None
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
                column_types={"at": pa.string(), "reason": pa.string()},
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
    return tuple(times.tolist()), reasons


def _line_count_below(path: Path, limit: int) -> bool:
    """Whether the file has fewer than `limit` lines (read no further than needed)."""
    seen = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            seen += block.count(b"\n")
            if seen >= limit:
                return False
    return True
