"""Reading a call log (CSV or Parquet, one row per call) into a typed, sorted `CallLog`, carefully.

Every check is one vectorised pass over a column: a month of 33,000 calls or a million rows is read in a
few times pandas' own parsing time, and no Python code runs per valid row. Each bad row is reported with its line
and what is wrong (`calls.csv line 812: answered_at '08:61' is not a date-time ...`); the log format's
`on_bad_rows` says whether one refuses the log (`CallLogError`) or bad rows are skipped and counted. Rows
out of arrival order are sorted; arrivals outside the opening hours (when given) are reported.

The format itself (columns, outcomes, mapping an ACD's names) is `sim/model/log_format.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.log_file import CallLogError, pick_columns, read_table
from sim.model.log_format import (
    COUNT_COLUMNS,
    DURATION_COLUMNS,
    INSTANT_COLUMNS,
    LOG_OUTCOMES,
    MUST_END,
    NEVER_ANSWERED,
    TEXT_COLUMNS,
    LogFormat,
)

DAY = 86400.0
MICROSECONDS = 1_000_000
SHOWN = 20
"""Problems listed in a refusal (the rest are counted)."""
_CLOCK = r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d{1,9})?))?$"
_TIME_ZONE = r"\d[ T]\d{1,2}:\d{2}.*(?:Z|[+-]\d{2}:?\d{2})$"
_FORMS = "a date-time (2026-03-02 08:14:05), a clock time (08:14:05) or seconds after midnight"


@dataclass(frozen=True)
class CallLog:
    """A call log read and checked: `calls` has one row per good call, sorted by `day` then `arrived_at`,
    with every log column (`LOG_COLUMNS` but `date`; `recorded` says which the file had, the others are
    empty), instants in seconds after their day's midnight (an instant past midnight exceeds 86,400),
    `line` (where the row was in the file) and `outside_hours`. `dates[day]` is each day's date (one `None`
    for a log without dates). `skipped` lists each fault of the rows skipped (line, column, message).
    Treat the frames as read-only: later steps (fitting, backtests) share them."""

    calls: pd.DataFrame
    dates: tuple[date | None, ...]
    source: str
    recorded: frozenset[str]
    rows_read: int
    skipped: pd.DataFrame
    reordered: int
    """Rows that came before an earlier arrival in the file (now sorted)."""
    ignored_columns: tuple[str, ...]
    """The file's columns the format does not use."""
    unit: str = "line"
    """How rows are numbered in messages: `line` (CSV, the header is line 1) or `row` (Parquet)."""

    @property
    def skipped_rows(self) -> int:
        """Bad rows left out."""
        return int(self.skipped["line"].nunique()) if len(self.skipped) else 0

    @property
    def outside_hours(self) -> int:
        """Calls that arrived outside the opening hours (kept in `calls`)."""
        return int(self.calls["outside_hours"].sum())

    def notes(self, limit: int = 5) -> list[str]:
        """What the reader did besides reading, in sentences: rows skipped, sorted, outside opening hours."""
        name = Path(self.source).name
        said = []
        if self.skipped_rows:
            first = self.skipped.iloc[:limit]
            said.append(f"{self.skipped_rows} bad row(s) of {self.rows_read} skipped:")
            said += [
                f"  {name} {self.unit} {line}: {message}"
                for line, message in zip(first["line"], first["message"], strict=True)
            ]
        if self.reordered:
            said.append(f"{self.reordered} row(s) were out of arrival order: sorted")
        if self.outside_hours:
            lines = self.calls.loc[self.calls["outside_hours"], "line"].iloc[:limit].tolist()
            shown = ", ".join(str(line) for line in lines)
            said.append(
                f"{self.outside_hours} call(s) arrived outside the opening hours ({self.unit}s {shown}...)"
            )
        return said


def read_call_log(
    path: str | Path, log_format: LogFormat | None = None, on_bad_rows: str | None = None
) -> CallLog:
    """Read a call log (`.parquet`, else CSV) through `log_format` (default: the log's own column names
    and outcomes, ISO date-times, bad rows refused). `on_bad_rows` (`refuse` or `skip`) overrides the
    format's. Raises `CallLogError` for a file that cannot be read, a missing column, or (when refusing)
    any bad row."""
    form = log_format or LogFormat()
    policy = on_bad_rows or form.on_bad_rows
    if policy not in ("refuse", "skip"):
        raise ValueError(f"on_bad_rows must be 'refuse' or 'skip', got {policy!r}")
    source = Path(path)
    frame, lines, faults, unit = read_table(source, form)
    picked, ignored = pick_columns(frame, form, source)
    checked = _Checks(picked, lines)
    for line, message in faults:  # rows the parser could not split into the header's fields
        checked.add_line(line, message)
    calls = _parse(picked, form, checked)
    bad = checked.frame()
    if len(bad) and policy == "refuse":
        messages = [
            f"{source.name} {unit} {line}: {message}"
            for line, message in zip(bad["line"], bad["message"], strict=True)
        ]
        raise CallLogError(messages[:SHOWN], str(source), max(0, len(messages) - SHOWN))
    keep = ~calls["line"].isin(bad["line"]).to_numpy() if len(bad) else np.ones(len(calls), dtype=bool)
    good = calls[keep]
    if not len(good):
        raise CallLogError([f"{source.name}: no calls to read ({len(bad)} bad row(s) skipped)"], str(source))
    good, dates, reordered = _by_day(good)
    outside = form.opening_hours.outside(good["arrived_at"].to_numpy()) if form.opening_hours else False
    good["outside_hours"] = np.zeros(len(good), dtype=bool) | outside
    return CallLog(
        calls=good.reset_index(drop=True),
        dates=dates,
        source=str(source),
        recorded=frozenset(picked),
        rows_read=len(calls) + len(faults),
        skipped=bad,
        reordered=reordered,
        ignored_columns=tuple(ignored),
        unit=unit,
    )


# --- checking ----------------------------------------------------------------------------------------------


class _Checks:
    """The faults found so far: per check, the rows (positions) it failed and their messages."""

    def __init__(self, picked: dict[str, pd.Series], lines: np.ndarray) -> None:
        self.picked = picked
        self.lines = lines
        self.parts: list[pd.DataFrame] = []

    def add(self, rows: np.ndarray, column: str, message: str | Callable[[np.ndarray], pd.Series]) -> None:
        """Record `message` (one text, or a function giving one per failing row) where `rows` is True."""
        where = np.flatnonzero(rows)
        if not len(where):
            return
        texts = message if isinstance(message, str) else message(where).to_numpy(dtype=object)
        self.parts.append(
            pd.DataFrame({"line": self.lines[where], "column": column, "message": texts}, index=None)
        )

    def add_line(self, line: int, message: str) -> None:
        self.parts.append(pd.DataFrame({"line": [line], "column": [""], "message": [message]}))

    def quoted(self, column: str, what: str) -> Callable[[np.ndarray], pd.Series]:
        """`column 'value' what` for the failing rows (the value cut to 40 characters), built only if some
        row failed."""

        def texts(where: np.ndarray) -> pd.Series:
            cells = self.picked[column].iloc[where]
            if pd.api.types.is_numeric_dtype(cells):  # as the file wrote it: -3, not -3.0
                cells = pd.Series([f"{value:g}" for value in cells], dtype=object)
            values = cells.astype("str").str.slice(0, 40)
            return (f"{column} '" + values + f"' {what}").reset_index(drop=True)

        return texts

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({"line": pd.Series(dtype=np.int64), "column": [], "message": []})
        found = pd.concat(self.parts, ignore_index=True)
        return found.sort_values("line", kind="stable").reset_index(drop=True)


def _parse(picked: dict[str, pd.Series], form: LogFormat, checks: _Checks) -> pd.DataFrame:
    """Every column normalised (instants in seconds after the row's midnight, plus `day_us`, the row's
    midnight in microseconds), with each fault recorded in `checks`."""
    size = len(checks.lines)
    out: dict[str, object] = {"line": checks.lines}
    stamps = {
        column: _datetimes(picked[column], form.datetime_format or "ISO8601")
        for column in INSTANT_COLUMNS
        if column in picked
    }
    day_us, dated_log = _row_days(picked, stamps["arrived_at"], form, checks)
    absolute = {
        column: _instants(column, picked[column], parsed, form, checks, day_us, dated_log)
        for column, parsed in stamps.items()
    }
    checks.add(
        picked["arrived_at"].isna().to_numpy(), "arrived_at", "arrived_at is empty (every call needs one)"
    )
    for column in INSTANT_COLUMNS:
        out[column] = (
            (absolute[column] - day_us) / MICROSECONDS if column in absolute else np.full(size, np.nan)
        )
    with np.errstate(invalid="ignore"):
        early = np.asarray(out["arrived_at"]) < 0
    checks.add(early, "arrived_at", "arrived_at is before the row's date")
    with np.errstate(invalid="ignore"):
        late = np.asarray(out["arrived_at"]) >= 2 * DAY
    hint = "arrived_at is over a day after the row's midnight (a log of several days needs dates)"
    checks.add(late, "arrived_at", hint)
    outcome = _outcomes(picked["outcome"], form, checks)
    given = {column: picked[column].notna().to_numpy() for column in ("answered_at", "ended_at")}
    _check_order(absolute, given, outcome, checks)
    out["outcome"] = outcome
    for column in TEXT_COLUMNS:
        values = picked.get(column)
        out[column] = values.astype("category") if values is not None else pd.Categorical([None] * size)
    for column in DURATION_COLUMNS + COUNT_COLUMNS:
        out[column] = _numbers(column, picked, checks, size)
    if "call_id" in picked:
        _check_repeats(picked["call_id"], day_us, checks)
    out["day_us"] = day_us
    return pd.DataFrame(out)


def _check_repeats(ids: pd.Series, day_us: np.ndarray, checks: _Checks) -> None:
    """A call id used twice in a day: the second and later rows are bad, each naming the first."""
    keys = pd.DataFrame({"day": day_us, "id": ids.to_numpy()})
    repeated = (keys.duplicated(keep="first") & ids.notna()).to_numpy()
    if not repeated.any():
        return
    first_line = pd.Series(checks.lines).groupby([keys["day"], keys["id"]], dropna=False).transform("first")
    named = checks.quoted("call_id", "repeats line")

    def message(where: np.ndarray) -> pd.Series:
        return named(where) + " " + pd.Series(first_line.to_numpy()[where]).astype(str)

    checks.add(repeated, "call_id", message)


def _row_days(
    picked: dict[str, pd.Series], arrived: np.ndarray, form: LogFormat, checks: _Checks
) -> tuple[np.ndarray, bool]:
    """Each row's midnight (microseconds since 1970; 0 in a log without dates) and whether the log is dated:
    from the `date` column if there is one, else from the date of `arrived_at` (`arrived`, parsed)."""
    day = DAY * MICROSECONDS
    if "date" in picked:
        text = picked["date"]
        parsed = _datetimes(text, form.date_format or "ISO8601")
        bad = text.notna().to_numpy() & np.isnan(parsed)
        checks.add(bad, "date", checks.quoted("date", "is not a date" + _pattern(form.date_format)))
        checks.add(text.isna().to_numpy(), "date", "date is empty")
        return np.floor(parsed / day) * day, True
    if np.isnan(arrived).all():
        return np.zeros(len(arrived)), False
    return np.floor(arrived / day) * day, True


def _pattern(pattern: str | None) -> str:
    return f" in the format '{pattern}'" if pattern else " (expected 2026-03-02)"


def _datetimes(text: pd.Series, pattern: str) -> np.ndarray:
    """Date-times as float microseconds since 1970 (NaN where a cell is not one): ISO 8601 or `pattern`.
    Cells with a time-zone offset are not date-times here (a log is in the centre's local time), nor, in
    ISO 8601, plain numbers (`2026` would read as a year: it is seconds)."""
    if pd.api.types.is_datetime64_any_dtype(text):
        stamps = text.dt.tz_localize(None) if text.dt.tz is not None else text
        return _microseconds(stamps)
    out = np.full(len(text), np.nan)
    if pd.api.types.is_numeric_dtype(text) or not text.notna().any():
        return out
    if pattern == "ISO8601":
        fast = _iso_by_arrow(text)
        if fast is not None:
            return fast
    try:
        stamps = pd.to_datetime(text, format=pattern, errors="coerce")
        aware = getattr(stamps.dt, "tz", None) is not None
    except (ValueError, TypeError, OverflowError):  # offsets that differ between rows
        aware = True
    if aware:  # leave out every cell with an offset, parse the rest
        local = text.notna() & ~text.str.contains(_TIME_ZONE, regex=True, na=False)
        try:
            stamps = pd.to_datetime(text.where(local), format=pattern, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            return out
    out = _microseconds(stamps)
    if pattern == "ISO8601":
        parsed = ~np.isnan(out)
        short = parsed & (text.str.len().fillna(0).to_numpy() <= 8)
        if short.any():
            number = text[short].str.fullmatch(r"\d+(\.\d*)?", na=False).to_numpy()
            out[np.flatnonzero(short)[number]] = np.nan
    return out


def _iso_by_arrow(text: pd.Series) -> np.ndarray | None:
    """A column of nothing but ISO 8601 date-times (or empty cells) parsed by Arrow in one pass, several
    times faster than pandas; None if any cell is something else (a clock time, seconds, an offset, a bad
    cell), which the careful path then sorts out."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        stamps = pc.cast(pa.array(text.array), pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        return None
    values: np.ndarray = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
    return values.astype(float)


def _microseconds(stamps: pd.Series) -> np.ndarray:
    values = stamps.to_numpy(dtype="datetime64[us]")
    out = values.astype(np.int64).astype(float)
    out[np.isnat(values)] = np.nan
    return out


def _instants(
    column: str,
    text: pd.Series,
    stamps: np.ndarray,
    form: LogFormat,
    checks: _Checks,
    day_us: np.ndarray,
    dated_log: bool,
) -> np.ndarray:
    """One instant column as float microseconds since 1970 (or since the undated log's day), NaN where
    empty or bad (recorded): `stamps` holds its date-times, clock times and seconds are put on the row's day."""
    present = text.notna().to_numpy()
    out = stamps.copy()
    seconds = np.full(len(text), np.nan)
    if pd.api.types.is_numeric_dtype(text):
        seconds = text.to_numpy(dtype=float, copy=True)
        seconds[seconds < 0] = np.nan
    elif not pd.api.types.is_datetime64_any_dtype(text):
        rest = np.flatnonzero(present & np.isnan(out))  # neither empty nor a date-time
        number = text.iloc[rest].str.fullmatch(r"\d+(\.\d*)?|\.\d+", na=False).to_numpy()
        seconds[rest[number]] = pd.to_numeric(text.iloc[rest[number]]).to_numpy(dtype=float)
        clock = present & np.isnan(out) & np.isnan(seconds)
        if clock.any():
            parts = text[clock].str.extract(_CLOCK)
            hours, minutes = parts[0].astype(float), parts[1].astype(float)
            second = parts[2].astype(float).fillna(0.0)
            valid = (hours <= 47) & (minutes <= 59) & (second < 60)
            seconds[np.flatnonzero(clock)] = (
                (hours * 3600 + minutes * 60 + second).where(valid).to_numpy(float)
            )
    undated = np.isfinite(seconds)
    bad = present & np.isnan(out) & ~undated
    what = "is not a date-time" + (f" in the format '{form.datetime_format}'" if form.datetime_format else "")
    offset = (
        bad & text.astype("str").str.contains(_TIME_ZONE, regex=True, na=False).to_numpy()
        if bad.any()
        else bad
    )
    checks.add(offset, column, checks.quoted(column, "has a time-zone offset; write the centre's local time"))
    checks.add(bad & ~offset, column, checks.quoted(column, f"{what}; expected {_FORMS}"))
    if dated_log and "date" not in checks.picked and column == "arrived_at":
        hint = "has no date while other rows have one; write date-times or add a date column"
        checks.add(undated, column, checks.quoted(column, hint))
    out[undated] = day_us[undated] + np.round(seconds[undated] * MICROSECONDS)
    return out


def _outcomes(codes: pd.Series, form: LogFormat, checks: _Checks) -> pd.Series:
    """The log outcome of each row (through the outcome mapping), missing where unknown (recorded)."""
    text = codes.astype("str").where(codes.notna())
    lowered = text.str.lower()
    outcome = lowered.where(lowered.isin(LOG_OUTCOMES))  # a log outcome in any case
    if form.outcomes:
        mapped = text.map(form.outcomes)
        outcome = outcome.mask(mapped.notna().to_numpy(), mapped)
    unknown = (text.notna() & outcome.isna()).to_numpy()
    hint = f"is not one of {', '.join(LOG_OUTCOMES)}; map it in the outcome mapping (outcomes: in the log format)"
    checks.add(unknown, "outcome", checks.quoted("outcome", hint))
    checks.add(text.isna().to_numpy(), "outcome", "outcome is empty (how did the call end?)")
    return outcome.astype(pd.CategoricalDtype(list(LOG_OUTCOMES)))


def _check_order(
    absolute: dict[str, np.ndarray], given: dict[str, np.ndarray], outcome: pd.Series, checks: _Checks
) -> None:
    """Instants in their order, none more than a day after the arrival, and what each outcome requires of
    the cells `given` (not empty, whether or not they could be read: a bad one is reported once)."""
    arrived = absolute["arrived_at"]
    queued = absolute.get("queued_at", np.full(len(arrived), np.nan))
    answered, ended = absolute["answered_at"], absolute["ended_at"]
    with np.errstate(invalid="ignore"):
        checks.add(queued < arrived, "queued_at", "queued before it arrived")
        checks.add(answered < arrived, "answered_at", "answered before it arrived")
        checks.add(
            (answered < queued) & (answered >= arrived), "answered_at", "answered before it was queued"
        )
        checks.add(ended < arrived, "ended_at", "ended before it arrived")
        checks.add((ended < answered) & (ended >= arrived), "ended_at", "ended before it was answered")
        for column, values in (("queued_at", queued), ("answered_at", answered), ("ended_at", ended)):
            late = values - arrived > DAY * MICROSECONDS
            checks.add(late, column, f"{column} is more than a day after arrived_at (a wrong date?)")
    kind = np.asarray(outcome.astype(object))
    has_answer, has_end = given["answered_at"], given["ended_at"]
    for name in ("answered", "abandoned_on_hold", "dropped"):
        checks.add((kind == name) & ~has_answer, "answered_at", f"outcome {name} but answered_at is empty")
    for name in MUST_END:
        checks.add((kind == name) & ~has_end, "ended_at", f"outcome {name} but ended_at is empty")
    for name in NEVER_ANSWERED:
        checks.add(
            (kind == name) & has_answer,
            "answered_at",
            f"outcome {name} but answered_at is given (such a call never reaches an agent)",
        )
    checks.add((kind == "in_system") & has_end, "ended_at", "outcome in_system but ended_at is given")


def _numbers(column: str, picked: dict[str, pd.Series], checks: _Checks, size: int) -> np.ndarray:
    """A duration (seconds >= 0) or count (whole, >= 0) column as floats, NaN where empty or bad."""
    if column not in picked:
        return np.full(size, np.nan)
    text = picked[column]
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, copy=True)
    whole = column in COUNT_COLUMNS
    with np.errstate(invalid="ignore"):
        fits = np.isfinite(values) & (values >= 0) & ((values % 1 == 0) if whole else True)
    bad = text.notna().to_numpy() & ~fits
    what = "is not a whole number >= 0" if whole else "is not a duration in seconds (a number >= 0)"
    checks.add(bad, column, checks.quoted(column, what))
    values[bad] = np.nan
    return values


# --- days and order ----------------------------------------------------------------------------------------


def _by_day(calls: pd.DataFrame) -> tuple[pd.DataFrame, tuple[date | None, ...], int]:
    """The calls with a `day` index (0, 1, ... in date order), sorted by day then arrival (stable), the
    dates, and how many rows came before an earlier arrival in the file."""
    day_us = calls["day_us"].to_numpy()
    midnights, day = np.unique(day_us, return_inverse=True)
    order = np.lexsort((calls["arrived_at"].to_numpy(), day))  # stable: ties keep the file's order
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    reordered = int((rank < np.maximum.accumulate(rank)).sum())
    sorted_calls = calls.iloc[order].drop(columns="day_us")
    sorted_calls.insert(1, "day", day[order].astype(np.int32))
    dated = bool(midnights.size) and bool(midnights.max() > 0)
    dates = (
        tuple(pd.Timestamp(int(m), unit="us").date() for m in midnights)
        if dated
        else (None,) * len(midnights)
    )
    return sorted_calls, dates, reordered
