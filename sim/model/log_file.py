"""Which rows and columns a call-log file has: the file read as cells (CSV through pandas' C parser, or
Parquet), each row's line number (kept exact when the parser skips a row with too many fields), and the log
columns picked out through the format's column mapping. Checking the cells is `sim/model/call_log.py`.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.durations import printable
from sim.model.log_format import LOG_COLUMNS, REQUIRED_COLUMNS, TEXT_COLUMNS, LogFormat

_SKIPPED_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


class CallLogError(ValueError):
    """A call log was refused; `problems` holds one located message per fault (`calls.csv line 90: ...`)."""

    def __init__(self, problems: list[str], source: str = "", more: int = 0) -> None:
        self.problems = tuple(printable(problem) for problem in problems)
        self.source = source
        tail = f" (and {more} more)" if more else ""
        super().__init__("; ".join(self.problems) + tail)


def read_table(path: Path, form: LogFormat) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]], str]:
    """The file's cells (NaN where empty; names, outcomes and dates as text, other columns as pandas reads
    them: numbers where a whole column is numbers, else text), each row's line number, the lines the parser
    skipped (wrong number of fields) with why, and how rows are numbered."""
    text = {form.file_column(column): str for column in (*TEXT_COLUMNS, "outcome", "date")}
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            frame.columns = [str(name).strip() for name in frame.columns]
            return frame, np.arange(1, len(frame) + 1), [], "row"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                sep=form.separator,
                dtype=text,
                low_memory=False,  # one type per column, not one per chunk
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
                on_bad_lines="warn",
                encoding="utf-8-sig",
            )
    except FileNotFoundError:
        raise CallLogError([f"{path}: file not found"], str(path)) from None
    except IsADirectoryError:
        raise CallLogError([f"{path}: is a directory, not a call log"], str(path)) from None
    except UnicodeDecodeError:
        raise CallLogError([f"{path}: not a UTF-8 text file"], str(path)) from None
    except pd.errors.EmptyDataError:
        raise CallLogError(
            [f"{path}: empty file (expected a header line, then one row per call)"], str(path)
        ) from None
    except (ValueError, OSError, ImportError) as error:  # a broken quote, a broken Parquet file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CallLogError([f"{path}: cannot be read as a call log: {first}"], str(path)) from None
    faults = []
    for warning in caught:
        for line, expected, saw in _SKIPPED_LINE.findall(str(warning.message)):
            faults.append((int(line), f"{saw} fields where the header has {expected}"))
    skipped = np.array(sorted(line for line, _ in faults), dtype=np.int64)
    numbers = np.arange(2, 2 + len(frame) + len(skipped))
    lines = np.setdiff1d(numbers, skipped, assume_unique=True)[: len(frame)]
    frame.columns = [str(name).strip() for name in frame.columns]
    blank = frame.isna().all(axis=1).to_numpy()  # empty lines (and rows of empty cells): not calls
    return frame[~blank].reset_index(drop=True), lines[~blank], faults, "line"


def pick_columns(frame: pd.DataFrame, form: LogFormat, path: Path) -> tuple[dict[str, pd.Series], list[str]]:
    """The log columns found in the file (through the mapping), stripped text; refuses a missing one."""
    present = set(frame.columns)
    picked: dict[str, pd.Series] = {}
    missing = []
    for column in LOG_COLUMNS:
        name = form.file_column(column)
        if name in present:
            picked[column] = _clean(frame[name])
        elif column in REQUIRED_COLUMNS or column in form.columns:
            missing.append(column if name == column else f"{column} (mapped to {name!r})")
    if missing:
        found = ", ".join(repr(name) for name in frame.columns[:30])
        raise CallLogError(
            [
                f"{path.name}: no column {', '.join(missing)}; the file's columns are {found}. Name the file's "
                "column for each in the log format (columns: {arrived_at: CallStart}) or with "
                "--columns arrived_at=CallStart"
            ],
            str(path),
        )
    used = {form.file_column(column) for column in picked}
    return picked, [name for name in frame.columns if name not in used]


def _clean(column: pd.Series) -> pd.Series:
    """Text cells stripped, empty ones missing; typed columns (Parquet) as they are."""
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.reset_index(drop=True)
    text = column.astype("str").str.strip()
    return text.where(text != "").reset_index(drop=True)
