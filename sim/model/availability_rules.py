"""Checks of the availability settings no single field shows (`sim.model.availability` has the semantics):
a per-interval shrinkage has one share per interval, and a shift's breaks lie inside the shift and do not
overlap. Plain Python on the scenario as `Any` (the scenario module calls this), each fault at its YAML path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

DAY = 86400.0


def availability_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """`(path, message)` for each fault of the shrinkage and break settings."""
    intervals = max(1, math.ceil(scenario.duration / scenario.interval - 1e-9))
    yield from _shrinkage_problems("shrinkage", scenario.shrinkage, intervals)
    pools = [(f"departments.{name}", d) for name, d in scenario.departments.items()]
    pools += [(f"agent_groups.{name}", group) for name, group in scenario.agent_groups.items()]
    for path, pool in pools:
        yield from _shrinkage_problems(f"{path}.shrinkage", pool.shrinkage, intervals)
        if pool.agents is not None:
            for index, shift in enumerate(pool.agents.shifts or ()):
                yield from break_problems(f"{path}.agents.shifts[{index}]", shift)


def _shrinkage_problems(path: str, shrinkage: Any, intervals: int) -> Iterable[tuple[str, str]]:
    per_interval = getattr(shrinkage, "per_interval", None)
    if per_interval is not None and len(per_interval) != intervals:
        yield (
            f"{path}.per_interval",
            f"needs {intervals} shares (one per interval), got {len(per_interval)}",
        )


def break_problems(path: str, shift: Any) -> Iterable[tuple[str, str]]:
    """Each break starts and ends inside its shift (clock times repeat daily, as the shift's do) and starts
    after the one before it has ended (breaks listed in time order)."""
    length = (shift.end - shift.start) % DAY or DAY
    ends_before = 0.0
    for index, rest in enumerate(shift.breaks or ()):
        where = f"{path}.breaks[{index}]"
        offset = (rest.at - shift.start) % DAY
        if offset + rest.length > length + 1e-9:
            yield (
                where,
                f"the break ({_clock(rest.at)} for {rest.length:g}s) must lie inside the shift "
                f"{_clock(shift.start)}-{_clock(shift.end)}",
            )
            continue
        if offset < ends_before - 1e-9:
            yield (
                where,
                f"overlaps the break before it (which ends at {_clock(shift.start + ends_before)}); list a "
                "shift's breaks in time order, apart",
            )
        ends_before = max(ends_before, offset + rest.length)


def _clock(seconds: float) -> str:
    seconds = seconds % DAY
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"
