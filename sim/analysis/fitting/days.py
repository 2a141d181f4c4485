"""Which days and hours of a call log a fit describes: the day type (every day, weekdays, Saturdays, a
weekday by name), the opening hours (from the first and last arrival, rounded out to the interval, unless
given) and each call's interval.

A scenario is one day: fitting averages the chosen days, so a log that mixes quiet Sundays with busy Mondays
describes neither unless one type is chosen.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sim.model.call_log import CallLog
from sim.model.durations import format_clock

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_TYPES = ("weekday", "weekend", *WEEKDAYS)
"""What `day_type` may be: Monday to Friday, Saturday and Sunday, or one weekday by name."""


class FitError(ValueError):
    """The log cannot give what was asked (an unknown day type, no calls in the hours, ...)."""


@dataclass(frozen=True)
class Window:
    """The days and hours a fit describes: `days` (the log's day numbers chosen), `open_at` and `close_at`
    (seconds after midnight), the interval, and `calls`: the chosen days' calls arriving in the hours, with
    `interval` (0, 1, ... from the opening) and `day_number` (0, 1, ... among the chosen days)."""

    days: tuple[int, ...]
    dates: tuple[date | None, ...]
    open_at: float
    close_at: float
    interval: float
    calls: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def interval_count(self) -> int:
        return math.ceil((self.close_at - self.open_at) / self.interval - 1e-9)

    @property
    def day_count(self) -> int:
        return len(self.days)


def day_matches(on: date | None, day_type: str) -> bool:
    """Whether a date is of the day type (`weekday`, `weekend` or a weekday name)."""
    if on is None:
        return False
    weekday = on.weekday()
    if day_type == "weekday":
        return weekday < 5
    if day_type == "weekend":
        return weekday >= 5
    return WEEKDAYS[weekday] == day_type


def choose_window(
    log: CallLog,
    interval: float,
    open_at: float | None = None,
    close_at: float | None = None,
    day_type: str | None = None,
) -> Window:
    """The days of `day_type` (all days when None) and the hours (given, or from the first and last
    arrival rounded out to `interval`), with the calls that fall in them. Raises `FitError` for a day type
    the log cannot tell (no dates) or that no day of the log has."""
    if not interval > 0:
        raise FitError(f"the interval must be > 0 seconds, got {interval:g}")
    notes: list[str] = []
    days = list(range(len(log.dates)))
    if day_type is not None:
        kind = day_type.strip().lower()
        if kind not in DAY_TYPES:
            raise FitError(f"unknown day type {day_type!r}; expected one of {', '.join(DAY_TYPES)}")
        if all(on is None for on in log.dates):
            raise FitError(f"the log has no dates, so day type {day_type!r} cannot be told")
        days = [day for day in days if day_matches(log.dates[day], kind)]
        if not days:
            raise FitError(f"no day of the log is a {kind} day ({_spread(log.dates)})")
        notes.append(f"{len(days)} {kind} day(s) of the log's {len(log.dates)} are fitted")
    elif len(log.dates) > 1 and any(on is not None for on in log.dates):
        weekend = sum(1 for on in log.dates if on is not None and on.weekday() >= 5)
        if 0 < weekend < len(log.dates):
            notes.append(
                f"the log mixes {len(log.dates) - weekend} weekday(s) and {weekend} weekend day(s), which are "
                "averaged into one day; give a day type (weekday, saturday, ...) to fit one kind of day"
            )
    calls = log.calls[log.calls["day"].isin(days)]
    arrived = calls["arrived_at"].to_numpy(dtype=float)
    first = open_at if open_at is not None else math.floor(arrived.min() / interval) * interval
    last = close_at if close_at is not None else (math.floor(arrived.max() / interval) + 1) * interval
    if not last > first:
        raise FitError(
            f"the closing ({format_clock(last)}) must come after the opening ({format_clock(first)})"
        )
    inside = (arrived >= first) & (arrived < last)
    if not inside.any():
        raise FitError(
            f"no call of the chosen days arrived between {format_clock(first)} and {format_clock(last)}"
        )
    if (~inside).any():
        notes.append(
            f"{int((~inside).sum())} call(s) arrived outside {format_clock(first)}-{format_clock(last)} and are "
            "left out"
        )
    kept = calls[inside].copy()
    kept["interval"] = ((kept["arrived_at"].to_numpy(dtype=float) - first) // interval).astype(np.int64)
    number = {day: index for index, day in enumerate(days)}
    kept["day_number"] = kept["day"].map(number).astype(np.int64)
    dates = tuple(log.dates[day] for day in days)
    return Window(tuple(days), dates, float(first), float(last), float(interval), kept, tuple(notes))


def _spread(dates: tuple[date | None, ...]) -> str:
    """The log's days by weekday, e.g. `5 monday, 4 tuesday`."""
    counted = Counter(WEEKDAYS[on.weekday()] for on in dates if on is not None)
    return ", ".join(f"{count} {name}" for name, count in counted.items()) or "no dates"
