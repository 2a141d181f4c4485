"""Which shifts a roster may use: the shift catalogue of `callsim schedule` (a YAML file of its own).

```yaml
shifts:
  full-time:
    length: 510m                  # from log-in to log-out (8 h 30 m)
    starts: {first: "08:00", last: "11:30", every: 30m}   # or a list of clock times
    breaks:                       # in time order; `earliest`/`latest`: the break's start after the shift's
      - {length: 15m, earliest: 90m, latest: 3h}
      - {length: 30m, earliest: 210m, latest: 5h, paid: false}   # an unpaid lunch
      - {length: 15m, earliest: 345m, latest: 7h}
    heads: {min: 0, max: 40}      # agents starting at one start time, if that start is used (default: any)
    most: 40                      # at most this many shifts of this kind per department (default: any)
    cost_per_shift: 0             # money on top of the wages (a handover, a travel allowance)
  part-time: {length: 4h, starts: {first: "08:00", last: "16:00", every: 30m}}
agents: {billing: 30}             # people available per department: at most that many shifts (default: any)
break_step: 15m                   # breaks start on this grid after the shift's start
```

Every quantity is in seconds inside. A catalogue is checked in full when read, and each fault is reported at
its YAML path (`shifts.full-time.breaks[1]: starts before break 0 can end ...`). Plain Python and pydantic:
`sim.experiments.shift_milp` builds the integer programme from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from sim.model.dists import Duration, PositiveDuration
from sim.model.durations import format_clock, not_boolean, parse_clock
from sim.model.loading import ScenarioError, _problems_from, read_yaml
from sim.model.scenario import Problem

DAY = 86400.0
MAX_SHIFT_KINDS = 50
MAX_STARTS = 200
"""The most start times one kind of shift may have (a start every 5 minutes round the clock is 288)."""

Clock = Annotated[float, BeforeValidator(parse_clock)]
Heads = Annotated[int, BeforeValidator(not_boolean), Field(ge=0, le=100_000)]
Money = Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1e9, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class BreakRule(_Frozen):
    """One break of every shift of a kind: `length` long, starting between `earliest` and `latest` after the
    shift's start (on the catalogue's `break_step` grid); `paid: false` for an unpaid lunch."""

    length: PositiveDuration
    earliest: Duration = Field(ge=0)
    latest: Duration = Field(ge=0)
    paid: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> BreakRule:
        if self.latest < self.earliest:
            raise ValueError(f"latest ({self.latest:g}s) is before earliest ({self.earliest:g}s)")
        return self


class StartRange(_Frozen):
    """Start times from `first` to `last` (clock times, inclusive) every `every`."""

    first: Clock
    last: Clock
    every: PositiveDuration = 1800.0

    def times(self) -> tuple[float, ...]:
        """The clock times, in seconds after midnight (a `last` before `first` is the next day)."""
        span = (self.last - self.first) % DAY
        count = math.floor(span / self.every + 1e-9) + 1
        return tuple(self.first + k * self.every for k in range(count))


class HeadRange(_Frozen):
    """Agents starting at one start time, when the start is used at all: `min` to `max`."""

    min: Heads = 0
    max: Heads | None = None

    @model_validator(mode="after")
    def _ordered(self) -> HeadRange:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class ShiftKind(_Frozen):
    """A kind of shift the roster may use: its length, start times, breaks and limits."""

    length: PositiveDuration = Field(le=DAY)
    starts: StartRange | tuple[Clock, ...]
    breaks: tuple[BreakRule, ...] = Field(default=(), max_length=10)
    heads: HeadRange = HeadRange()
    most: Heads | None = None
    cost_per_shift: Money = 0.0

    def start_times(self) -> tuple[float, ...]:
        """Every start time, seconds after midnight, in the order given."""
        return self.starts.times() if isinstance(self.starts, StartRange) else tuple(self.starts)

    @property
    def unpaid_time(self) -> float:
        """Seconds of unpaid breaks in one shift."""
        return sum(rule.length for rule in self.breaks if not rule.paid)

    @property
    def paid_time(self) -> float:
        """Seconds paid for one shift: its length less its unpaid breaks."""
        return self.length - self.unpaid_time


class ShiftCatalogue(_Frozen):
    """The shift kinds, the people available per department and the grid of break starts."""

    shifts: dict[str, ShiftKind] = Field(min_length=1, max_length=MAX_SHIFT_KINDS)
    agents: dict[str, Heads] = Field(default_factory=dict)
    break_step: PositiveDuration = 900.0


def catalogue_problems(catalogue: ShiftCatalogue) -> Iterable[Problem]:
    """Faults no single field shows: breaks outside their shift or overlapping a neighbour's window, starts
    too many, and break windows off the `break_step` grid."""
    for name, kind in catalogue.shifts.items():
        path = f"shifts.{name}"
        starts = kind.start_times()
        if len(starts) > MAX_STARTS:
            yield Problem(f"{path}.starts", f"{len(starts)} start times; at most {MAX_STARTS}")
        if not starts:
            yield Problem(f"{path}.starts", "needs at least one start time")
        free_from = 0.0
        for index, rule in enumerate(kind.breaks):
            where = f"{path}.breaks[{index}]"
            if rule.latest + rule.length > kind.length + 1e-9:
                yield Problem(
                    where,
                    f"a break starting at latest {rule.latest:g}s for {rule.length:g}s ends after the shift "
                    f"({kind.length:g}s long)",
                )
            if rule.earliest < free_from - 1e-9:
                yield Problem(
                    where,
                    f"may start ({rule.earliest:g}s) before break {index - 1} can end ({free_from:g}s): list "
                    "breaks in time order with windows that cannot overlap",
                )
            steps = (rule.latest - rule.earliest) / catalogue.break_step
            if abs(steps - round(steps)) > 1e-6:
                yield Problem(
                    where,
                    f"latest - earliest ({rule.latest - rule.earliest:g}s) is not a whole number of "
                    f"break_step ({catalogue.break_step:g}s)",
                )
            free_from = rule.latest + rule.length
        if kind.paid_time <= 0:
            yield Problem(f"{path}.breaks", "unpaid breaks take the whole shift")


def catalogue_from_dict(data: Any, source: str = "") -> ShiftCatalogue:
    """A validated catalogue from YAML data, or a `ScenarioError` listing each fault at its YAML path."""
    if not isinstance(data, dict):
        raise ScenarioError([Problem("", "expected a mapping with shifts: {NAME: {...}}")], source)
    try:
        catalogue = ShiftCatalogue.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_problems_from(error, data), source) from None
    problems = list(catalogue_problems(catalogue))
    if problems:
        raise ScenarioError(problems, source)
    return catalogue


def load_catalogue(path: str | Path) -> ShiftCatalogue:
    """The catalogue in a YAML file (a `ScenarioError` naming the file and each fault's YAML path)."""
    return catalogue_from_dict(read_yaml(Path(path)), str(path))


def department_problems(catalogue: ShiftCatalogue, departments: Iterable[str]) -> list[Problem]:
    """`agents.NAME` entries for departments the roster does not plan."""
    known = set(departments)
    return [
        Problem(f"agents.{name}", f"no such planned department; expected one of {', '.join(sorted(known))}")
        for name in catalogue.agents
        if name not in known
    ]


def describe_kind(name: str, kind: ShiftKind) -> str:
    """`full-time: 8.5h from 08:00 to 11:30, breaks 15m, 30m (unpaid), 15m` for reports."""
    starts = kind.start_times()
    rests = ", ".join(f"{r.length / 60:g}m" + ("" if r.paid else " (unpaid)") for r in kind.breaks)
    return (
        f"{name}: {kind.length / 3600:g}h ({kind.paid_time / 3600:g}h paid), starts "
        f"{format_clock(min(starts))}-{format_clock(max(starts))} ({len(starts)})"
        + (f", breaks {rests}" if rests else "")
    )
