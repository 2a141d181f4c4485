"""What a staffing plan must reach: floors (`service_level >= 0.8`) and ceilings (`abandon_rate <= 0.05`)
every interval must meet, parsed from `--target` / `--max` texts or given as mappings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.analysis.goals import scope_goals
from sim.analysis.kpis import kpi
from sim.model.durations import parse_duration
from sim.model.scenario import Scenario

FIGURES = ("offered", "service_level", "abandon_rate", "asa", "mean_wait", "p90_wait")
"""The figures measured per interval and department (the department rows of the interval table)."""
FLOORS = tuple(key for key in FIGURES if kpi(key).better > 0)
"""Interval KPIs a plan must reach, those the registry says are better higher (`--target service_level=0.8`)."""
CEILINGS = tuple(key for key in FIGURES if kpi(key).better < 0)
"""Interval KPIs a plan may cap, those the registry says are better lower (`--max abandon_rate=0.05`,
`--max asa=30s`)."""


class StaffingError(ValueError):
    """A staffing search that cannot start: unknown KPI, malformed target, nothing to staff."""


@dataclass(frozen=True)
class Targets:
    """Floors (`service_level >= 0.8`) and ceilings (`abandon_rate <= 0.05`) every interval must meet."""

    floors: dict[str, float] = field(default_factory=dict)
    ceilings: dict[str, float] = field(default_factory=dict)

    def met(self, figures: Mapping[str, Any]) -> bool:
        """Whether one interval's figures meet every target (no calls, no figure: met)."""
        for key, goal in self.floors.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value) and value < goal - 1e-12:
                return False
        for key, goal in self.ceilings.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value) and value > goal + 1e-12:
                return False
        return True

    def clear(self, figures: Mapping[str, Any]) -> bool:
        """Whether every target is met or missed beyond its 95% half-width (`KEY_ci95`): the verdict on
        this interval would not change with more replications, as far as they tell."""
        for key, goal in (*self.floors.items(), *self.ceilings.items()):
            value, width = figures.get(key), figures.get(f"{key}_ci95")
            if value is None or math.isnan(value) or width is None or math.isnan(width):
                continue
            if abs(value - goal) <= width:
                return False
        return True

    def shortfall(self, figures: Mapping[str, Any]) -> float:
        """The largest relative miss of any target (0 when every target is met)."""
        misses = [0.0]
        for key, goal in self.floors.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value):
                misses.append((goal - value) / max(goal, 1e-9))
        for key, goal in self.ceilings.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value):
                misses.append((value - goal) / max(goal, 1e-9))
        return max(misses)

    def describe(self) -> str:
        """`service_level >= 0.8, abandon_rate <= 0.05`."""
        return ", ".join(
            [f"{k} >= {v:g}" for k, v in self.floors.items()]
            + [f"{k} <= {v:g}" for k, v in self.ceilings.items()]
        )


def _target_value(text: str) -> float:
    text = text.strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100.0
    return parse_duration(text)


def parse_targets(targets: Sequence[str], ceilings: Sequence[str], scenario: Scenario) -> Targets:
    """`--target service_level=0.8` (a floor; for a waiting figure, a ceiling) and `--max KPI=value`.

    Without a service-level floor, the scenario's own service-level target."""
    floors: dict[str, float] = {}
    caps: dict[str, float] = {}
    for text, is_max in [*((t, False) for t in targets), *((t, True) for t in ceilings)]:
        key, sep, raw = text.partition("=")
        key = key.strip()
        option = "--max" if is_max else "--target"
        if not sep or not key:
            raise StaffingError(f"{option} {text!r}: expected KPI=value, e.g. service_level=0.8")
        try:
            value = _target_value(raw)
        except ValueError:
            raise StaffingError(f"{option} {text!r}: {raw.strip()!r} is not a number or duration") from None
        if key in FLOORS and not is_max:
            if not 0 <= value <= 1:
                raise StaffingError(f"{option} {text!r}: a service level is between 0 and 1")
            floors[key] = value
        elif key in CEILINGS:
            if value < 0:
                raise StaffingError(f"{option} {text!r}: must be >= 0")
            caps[key] = value
        else:
            allowed = FLOORS if not is_max else CEILINGS
            raise StaffingError(
                f"{option} {text!r}: {key} is not one of {', '.join(allowed if is_max else (*FLOORS, *CEILINGS))}"
            )
    if not targets and not ceilings and scenario.goals is not None:
        return goal_targets(scenario)
    if not floors:
        floors["service_level"] = scenario.service_level.target
    return Targets(floors, caps)


def goal_targets(scenario: Scenario) -> Targets:
    """The scenario's `goals` as staffing targets (used when neither `--target` nor `--max` is given): the
    search judges each department's interval rows against one set of targets, so each goal is the strictest
    of the all-calls goal and the departments' own (the highest service level, the lowest abandon rate and
    ASA). An occupancy band is not a staffing target (it is judged in the reports)."""
    scopes = scope_goals(scenario).values()
    floors = {"service_level": max(float(s.service_level) for s in scopes if s.service_level is not None)}
    caps = {
        goal: min(float(getattr(s, goal)) for s in scopes if getattr(s, goal) is not None)
        for goal in ("abandon_rate", "asa")
        if any(getattr(s, goal) is not None for s in scopes)
    }
    return Targets(floors, caps)


TargetsLike = Targets | Mapping[str, float | str] | Sequence[str] | None
"""Targets as a `Targets`, a mapping `{"service_level": 0.8}` or `--target` texts `["service_level=0.8"]`."""


def _texts(given: TargetsLike) -> list[str]:
    if given is None:
        return []
    if isinstance(given, Targets):
        raise StaffingError("ceilings: expected a mapping or KPI=value texts, got Targets")
    if isinstance(given, str):
        return [given]
    if isinstance(given, Mapping):
        return [f"{key}={value}" for key, value in given.items()]
    return [str(text) for text in given]


def targets_from(targets: TargetsLike, ceilings: TargetsLike, scenario: Scenario) -> Targets:
    """The `Targets` for what a caller of the library gave: a `Targets` as it is (with `ceilings` added), or
    mappings / `KPI=value` texts validated as `--target` and `--max` are."""
    if isinstance(targets, Targets):
        extra = parse_targets([], _texts(ceilings), scenario).ceilings if ceilings else {}
        return Targets(dict(targets.floors), {**targets.ceilings, **extra})
    return parse_targets(_texts(targets), _texts(ceilings), scenario)
