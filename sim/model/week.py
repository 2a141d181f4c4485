"""A week: several days of one centre, each the scenario with its day type's overrides, run in order.

```yaml
week:
  day_types:
    peak: {set: {arrivals.per_hour: 150, departments.billing.agents: 12}}   # dotted overrides, as `--set`
    normal: {}
  days: [{name: Monday, type: peak}, {name: Tuesday, type: normal}]
  carry_over: true     # callbacks not dialled and redials due after the close come back the next morning
```

The schema and the checks that need only the `week` block live here; each day type's scenario is built
and checked by the loader (`sim.model.loading.week_day_types`, errors at `week.day_types.<type>.set.<path>`)
as `--set` overrides are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

MAX_WEEK_DAYS = 366
"""The most days a week block may list (a year of days)."""


FIXED = frozenset({"week", "seed", "name"})
"""What a day type may not set: the week itself, and the seed and name every day shares."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class DayType(_Frozen):
    """A kind of day (peak, normal, quiet): the scenario's values it changes, as dotted paths."""

    set: dict[Annotated[str, Field(min_length=1, max_length=300)], Any] = Field(default_factory=dict)
    """`{dotted.path: value}`, applied to the scenario as `--set dotted.path=value` would be."""


class WeekDay(_Frozen):
    """One day of the week: its name (for tables) and its day type."""

    name: str = Field(min_length=1, max_length=40)
    type: str = Field(min_length=1, max_length=100)


class Week(_Frozen):
    """Several days in order; work left at one day's close may come back the next morning."""

    day_types: dict[str, DayType] = Field(default_factory=dict)
    days: list[WeekDay] = Field(min_length=1, max_length=MAX_WEEK_DAYS)
    carry_over: bool = True
    """Callbacks still waiting at the close, and redials due after it, come back the next morning
    (`sim.engine.carry_over`); false: they are lost at the close as on a single day."""


def week_problems(week: Week) -> Iterable[tuple[str, str]]:
    """Faults of the `week` block alone, as (YAML path, message): day types not defined, a day listed twice."""
    for name, day_type in week.day_types.items():
        for dotted in day_type.set:
            if dotted.split(".")[0].strip() in FIXED:
                yield (
                    f"week.day_types.{name}.set.{dotted}",
                    "the week's days share it: set it for the scenario",
                )
    known = ", ".join(week.day_types) or "none"
    seen: set[str] = set()
    for index, day in enumerate(week.days):
        if day.type not in week.day_types:
            yield f"week.days.{index}.type", f"unknown day type {day.type!r} (day types: {known})"
        if day.name in seen:
            yield f"week.days.{index}.name", f"day {day.name!r} is listed twice"
        seen.add(day.name)


def kept_apart(
    base: tuple[list[str], list[str], Any], day: tuple[list[str], list[str], Any]
) -> Iterable[str]:
    """What a day type changed that every day of a week must share, given (departments, reasons, service
    level) of the scenario and of the day type: work carried over keeps its department and reason, and the
    week's service level is one measure over all its calls."""
    for (what, ours), theirs in zip((("departments", base[0]), ("reasons", base[1])), day[:2], strict=True):
        if theirs != ours:
            yield f"changes the {what} ({', '.join(theirs)}); every day keeps the scenario's ({', '.join(ours)})"
    if day[2] != base[2]:
        yield "changes service_level; the week's service level is one measure over all its days"
