"""Who was in, agent by agent: a staffing read from a CSV with one row per agent period (`agents: {file:
billing-agents.csv}`), for replaying a real day whose 200-300 presence periods no `shifts:` list holds.

A row is a shift of `count` agents (default 1) from `start` to `end`, clock times that repeat daily as
`shifts:` do (an end before the start is the next day); an `agent` column names the person and is kept for
reading only (a name on several rows is one person's several periods, e.g. either side of a break). The file
is read once, at load time, into the frozen scenario (`AgentSchedule`), so runs and replications never read
it again and the resolved scenario reloads without it. Plain Python: `callsim validate` needs no engine.
"""

from __future__ import annotations

import bisect
import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from sim.model.dists import check_csv_file, csv_faults
from sim.model.durations import clip, parse_clock, shorten

MAX_AGENT_PERIODS = 100_000
"""The most rows an agent schedule may have (every row is laid out for every day of the run)."""
MAX_PERIOD_COUNT = 100_000
DAY = 86400.0
_COLUMNS = ("agent", "start", "end", "count")


class AgentPeriod(BaseModel):
    """One row: `count` agents logged in from `start` to `end` (seconds after midnight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: float = Field(ge=0, allow_inf_nan=False)
    end: float = Field(ge=0, allow_inf_nan=False)
    count: int = Field(default=1, ge=0, le=MAX_PERIOD_COUNT)
    agent: str = ""


class AgentSchedule(BaseModel):
    """The rows of an agent-schedule CSV, read at load time; `source` is the file as the scenario named it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    periods: tuple[AgentPeriod, ...] = Field(min_length=1, max_length=MAX_AGENT_PERIODS)


def _read_when_named(value: Any, info: ValidationInfo) -> Any:
    """A file name becomes the schedule it holds (relative to the scenario's folder); a mapping (a resolved
    scenario read again) is validated as it stands."""
    if isinstance(value, str):
        base = (info.context or {}).get("base_dir", Path("."))
        return read_agent_schedule(Path(base) / value, value)
    return value


AgentScheduleFile = Annotated[AgentSchedule, BeforeValidator(_read_when_named)]


def read_agent_schedule(path: Path, source: str) -> AgentSchedule:
    """The schedule in a CSV with a header `start,end` (and optionally `agent`, `count`), or a ValueError
    naming the file, the line and what was expected."""
    check_csv_file(path)
    name = clip(path.name)
    with csv_faults(path), path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: as spreadsheets
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{name} is empty; expected a header start,end (and optionally agent,count)")
        columns = [column.strip().lower() for column in header]
        missing = [column for column in ("start", "end") if column not in columns]
        if missing:
            raise ValueError(
                f"{name} line 1: no {' or '.join(repr(m) for m in missing)} column; expected a header "
                f"with start,end (and optionally agent,count), got {shorten(','.join(header))}"
            )
        unknown = [column for column in columns if column not in _COLUMNS]
        if unknown:
            raise ValueError(
                f"{name} line 1: unknown column {shorten(unknown[0])}; expected {', '.join(_COLUMNS)}"
            )
        where = {column: columns.index(column) for column in _COLUMNS if column in columns}
        periods = _periods(reader, where, name, len(columns))
    if not periods:
        raise ValueError(f"{name} has no rows; expected one row per agent period")
    return AgentSchedule.model_construct(source=source, periods=tuple(periods))


def _periods(rows: Iterable[list[str]], where: dict[str, int], name: str, width: int) -> list[AgentPeriod]:
    """The data rows as periods (blank lines skipped), refusing the first faulty one with its line number."""
    periods: list[AgentPeriod] = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise ValueError(f"{name} line {number}: {len(row)} cells; the header has {width}")
        if len(periods) == MAX_AGENT_PERIODS:
            raise ValueError(f"{name} line {number}: more than {MAX_AGENT_PERIODS} agent periods")
        start = _clock(row[where["start"]], "start", name, number)
        end = _clock(row[where["end"]], "end", name, number)
        count = _count(row[where["count"]], name, number) if "count" in where else 1
        agent = row[where["agent"]].strip() if "agent" in where else ""
        periods.append(AgentPeriod.model_construct(start=start, end=end, count=count, agent=agent))
    return periods


def _clock(text: str, column: str, name: str, number: int) -> float:
    """A clock time `HH:MM[:SS]`, or seconds after midnight, as `shifts:` takes them."""
    value = text.strip()
    try:
        return parse_clock(float(value) if _plain_number(value) else value)
    except ValueError:
        raise ValueError(
            f"{name} line {number}: {column} {shorten(value)} is not a clock time (HH:MM, HH:MM:SS up to "
            "47:59:59, or seconds after midnight)"
        ) from None


def _plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _count(text: str, name: str, number: int) -> int:
    value = text.strip()
    if not value:
        return 1
    try:
        count = float(value)
    except ValueError:
        count = math.nan
    if not (count.is_integer() and 0 <= count <= MAX_PERIOD_COUNT):
        raise ValueError(
            f"{name} line {number}: count {shorten(value)} is not a whole number of agents (0 to "
            f"{MAX_PERIOD_COUNT})"
        )
    return int(count)


def most_on_duty(periods: Sequence[tuple[float, float, int]]) -> int:
    """The most agents on duty at once for daily-repeating `(start, end, count)` periods (an end before the
    start is the next day; start == end is all day): a sweep over the starts and ends, not a period x period
    count, so 100,000 rows cost a sort."""
    changes: list[tuple[float, int]] = []
    always = 0
    for start, end, count in periods:
        begin, length = start % DAY, (end - start) % DAY or DAY
        if length >= DAY:
            always += count
            continue
        finish = begin + length
        changes.append((begin, count))
        if finish <= DAY:
            changes.append((finish, -count))
        else:  # wraps past midnight: on from midnight to the rest of it too
            changes.append((DAY, -count))
            changes.append((0.0, count))
            changes.append((finish - DAY, -count))
    changes.sort(key=lambda change: (change[0], change[1]))  # ends before starts at the same instant
    most = level = 0
    for _, delta in changes:
        level += delta
        most = max(most, level)
    return most + always


def level_at_each(spans: Sequence[tuple[float, float, int]], points: Sequence[float]) -> list[int]:
    """For each of the ascending `points`, the total count of the `(begin, end, count)` spans with
    begin <= point < end: sorted starts and ends with running sums, not a span x point count."""
    starts = sorted((begin, count) for begin, _, count in spans)
    ends = sorted((end, count) for _, end, count in spans)
    start_times = [at for at, _ in starts]
    end_times = [at for at, _ in ends]
    started = _running(count for _, count in starts)
    ended = _running(count for _, count in ends)
    levels = []
    for point in points:
        on = started[bisect.bisect_right(start_times, point)]
        off = ended[bisect.bisect_right(end_times, point)]
        levels.append(on - off)
    return levels


def _running(counts: Iterable[int]) -> list[int]:
    total, sums = 0, [0]
    for count in counts:
        total += count
        sums.append(total)
    return sums
