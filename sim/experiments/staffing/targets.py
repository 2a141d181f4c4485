"""What a staffing plan must reach: floors (`service_level >= 0.8`) and ceilings (`abandon_rate <= 0.05`)
every interval must meet, parsed from `--target` / `--max` texts or given as mappings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.analysis.goals import scope_goals
from sim.analysis.kpis import kpi
from sim.experiments.staffing.channel_targets import ChannelTargetError, by_channel, scoped, strictest
from sim.experiments.staffing.confidence import (
    MET,
    MISSED,
    WITHIN_CI,
    bound,
    check_share,
    days_met_holds,
    days_met_unclear,
    reaches,
    wilson,
)
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
    confidence: float | None = None
    """Each goal met at this one-sided Student-t confidence (`--confidence`); None: by the mean."""
    days_met: float | None = None
    """Every goal met on at least this share of the simulated days (`--days-met`); None: not asked."""
    departments: dict[str, Targets] = field(default_factory=dict)
    """Each department's own targets (the scenario's goals per department), which its rows are judged by
    (`of`); empty: every department by these. The floors and ceilings above are then the strictest of
    them, for what judges the centre as a whole."""

    def of(self, department: str) -> Targets:
        """The targets a department's interval rows are judged by: its own, else these."""
        return self.departments.get(department, self)

    def record(self) -> dict[str, Any]:
        """As the folders' `summary.json` holds them: floors, ceilings, confidence, days met, and each
        department's own floors and ceilings where it has them (`by_department`)."""
        return {
            "floors": self.floors,
            "ceilings": self.ceilings,
            "confidence": self.confidence,
            "days_met": self.days_met,
            **(
                {
                    "by_department": {
                        name: {"floors": own.floors, "ceilings": own.ceilings}
                        for name, own in self.departments.items()
                    }
                }
                if self.departments
                else {}
            ),
        }

    def __post_init__(self) -> None:
        try:
            check_share(self.confidence, "--confidence")
            check_share(self.days_met, "--days-met")
        except ValueError as error:
            raise StaffingError(str(error)) from None

    def met(self, figures: Mapping[str, Any]) -> bool:
        """Whether one interval's figures meet every target (no calls, no figure: met): by the mean, or by its
        one-sided bound at `confidence`, and on at least `days_met` of the days (`sim...staffing.confidence`)."""
        for key, goal in self.floors.items():
            value = figures.get(key)
            if value is not None and self.confidence is not None:
                value = bound(figures, key, 1.0, self.confidence)
            if value is not None and not math.isnan(value) and value < goal - 1e-12:
                return False
        for key, goal in self.ceilings.items():
            value = figures.get(key)
            if value is not None and self.confidence is not None:
                value = bound(figures, key, -1.0, self.confidence)
            if value is not None and not math.isnan(value) and value > goal + 1e-12:
                return False
        return days_met_holds(figures, self.days_met)

    def verdict(self, figures: Mapping[str, Any]) -> str:
        """`met` (see `met`), `within CI` (not met, but every goal within its mean's 95% CI and `days_met`
        within the share's 95% Wilson interval: more replications could turn it) or `missed`."""
        if self.met(figures):
            return MET
        for key, goal, sign in (
            *((k, g, 1.0) for k, g in self.floors.items()),
            *((k, g, -1.0) for k, g in self.ceilings.items()),
        ):
            value, width = figures.get(key), figures.get(f"{key}_ci95")
            if value is None or math.isnan(value):
                continue
            moved = value + sign * (0.0 if width is None or math.isnan(width) else width)
            if not reaches(moved, goal, sign):
                return MISSED
        if self.days_met is None or "met_share" not in figures:
            return WITHIN_CI
        high = wilson(figures["met_share"], figures.get("replications", 0.0))[1]
        return WITHIN_CI if high >= self.days_met - 1e-12 else MISSED

    def clear(self, figures: Mapping[str, Any]) -> bool:
        """Whether every target is met or missed beyond its 95% half-width (`KEY_ci95`), and `days_met` lies
        outside the 95% interval of the share of days met: the verdict on this interval would not change
        with more replications, as far as they tell."""
        if days_met_unclear(figures, self.days_met):
            return False
        for key, goal in (*self.floors.items(), *self.ceilings.items()):
            value, width = figures.get(key), figures.get(f"{key}_ci95")
            if value is None or math.isnan(value) or width is None or math.isnan(width):
                continue
            if abs(value - goal) <= width:
                return False
        return True

    def shortfall(self, figures: Mapping[str, Any]) -> float:
        """The largest relative miss of any target by its mean (0 when every target is met), and of the share
        of days met against `days_met`."""
        misses = [0.0]
        share = figures.get("met_share")
        if self.days_met is not None and share is not None and not math.isnan(share):
            misses.append((self.days_met - share) / self.days_met)
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
        """`service_level >= 0.8, abandon_rate <= 0.05`; with departments' own targets, each department's
        (`billing: service_level >= 0.9; technical: service_level >= 0.8`)."""

        def listed(targets: Targets) -> str:
            return ", ".join(
                [f"{k} >= {v:g}" for k, v in targets.floors.items()]
                + [f"{k} <= {v:g}" for k, v in targets.ceilings.items()]
            )

        if self.departments:
            goals = "; ".join(f"{name}: {listed(own)}" for name, own in self.departments.items())
        else:
            goals = listed(self)
        if self.confidence is not None:
            goals += f" at {100 * self.confidence:g}% confidence"
        if self.days_met is not None:
            goals += f" on {100 * self.days_met:g}% of days"
        return goals


def _target_value(text: str) -> float:
    text = text.strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100.0
    return parse_duration(text)


def parse_targets(
    targets: Sequence[str],
    ceilings: Sequence[str],
    scenario: Scenario,
    confidence: float | None = None,
    days_met: float | None = None,
) -> Targets:
    """`--target service_level=0.8` (a floor; for a waiting figure, a ceiling) and `--max KPI=value`, met
    with `--confidence` and on `--days-met` of the days (default: the scenario's `goals.confidence` and
    `goals.days_met`, if set; see `criterion`).

    Without a service-level floor, the scenario's own service-level target. A key scoped to a channel
    (`chat.service_level=0.8`, `voice.abandon_rate`) is a target of that channel's departments alone, in
    place of the plain one of the same KPI (`sim.experiments.staffing.channel_targets`); email targets
    are refused (email departments keep their staffing)."""
    floors: dict[str, float] = {}
    caps: dict[str, float] = {}
    channel_floors: dict[str, dict[str, float]] = {}
    channel_caps: dict[str, dict[str, float]] = {}
    for text, is_max in [*((t, False) for t in targets), *((t, True) for t in ceilings)]:
        key, sep, raw = text.partition("=")
        key = key.strip()
        option = "--max" if is_max else "--target"
        if not sep or not key:
            raise StaffingError(f"{option} {text!r}: expected KPI=value, e.g. service_level=0.8")
        try:  # `chat.service_level=0.8`: a target of the chat departments (`channel_targets`)
            channel, key = scoped(key, text, option, scenario)
        except ChannelTargetError as error:
            raise StaffingError(str(error)) from None
        if channel is not None:
            key_floors, key_caps = channel_floors.setdefault(channel, {}), channel_caps.setdefault(channel, {})
        else:
            key_floors, key_caps = floors, caps
        try:
            value = _target_value(raw)
        except ValueError:
            raise StaffingError(f"{option} {text!r}: {raw.strip()!r} is not a number or duration") from None
        if key in FLOORS and not is_max:
            if not 0 <= value <= 1:
                raise StaffingError(f"{option} {text!r}: a service level is between 0 and 1")
            key_floors[key] = value
        elif key in CEILINGS:
            if value < 0:
                raise StaffingError(f"{option} {text!r}: must be >= 0")
            key_caps[key] = value
        else:
            allowed = FLOORS if not is_max else CEILINGS
            raise StaffingError(
                f"{option} {text!r}: {key} is not one of {', '.join(allowed if is_max else (*FLOORS, *CEILINGS))}"
            )
    level, share = criterion(scenario, confidence, days_met)
    if not targets and not ceilings and scenario.goals is not None:
        plain = goal_targets(scenario)
        own = {name: Targets(t.floors, t.ceilings, level, share) for name, t in plain.departments.items()}
        return Targets(plain.floors, plain.ceilings, level, share, own)
    if not floors:
        floors["service_level"] = scenario.service_level.target
    if channel_floors or channel_caps:  # each department of a scoped channel by its own targets
        each = by_channel(scenario, floors, caps, channel_floors, channel_caps)
        judged = {name: Targets(f, c, level, share) for name, (f, c) in each.items()}
        return Targets(*strictest(each), level, share, judged)
    return Targets(floors, caps, level, share)


def criterion(
    scenario: Scenario, confidence: float | None = None, days_met: float | None = None
) -> tuple[float | None, float | None]:
    """The confidence and the share of days each goal must be met with: those given (`--confidence`,
    `--days-met`), else the scenario's `goals.confidence` and `goals.days_met`, else None (the mean)."""
    goals = scenario.goals
    if confidence is None and goals is not None:
        confidence = getattr(goals, "confidence", None)
    if days_met is None and goals is not None:
        days_met = getattr(goals, "days_met", None)
    return confidence, days_met


def goal_targets(scenario: Scenario) -> Targets:
    """The scenario's `goals` as staffing targets (used when neither `--target` nor `--max` is given): each
    department's rows are judged by its own goals (the all-calls goals where it has none of its own;
    `departments`, when they differ between departments); the floors and ceilings are the strictest of
    them (the highest service level, the lowest abandon rate and ASA). An occupancy band is not a staffing
    target (it is judged in the reports)."""
    scopes = scope_goals(scenario)

    def targets_of(goals: Any) -> Targets:
        floors = {} if goals.service_level is None else {"service_level": float(goals.service_level)}
        caps = {
            goal: float(getattr(goals, goal))
            for goal in ("abandon_rate", "asa")
            if getattr(goals, goal) is not None
        }
        return Targets(floors, caps)

    floors = {"service_level": max(float(s.service_level) for s in scopes.values() if s.service_level is not None)}
    caps = {
        goal: min(float(getattr(s, goal)) for s in scopes.values() if getattr(s, goal) is not None)
        for goal in ("abandon_rate", "asa")
        if any(getattr(s, goal) is not None for s in scopes.values())
    }
    own = {name: targets_of(goals) for name, goals in scopes.items() if name in scenario.departments}
    differ = len({(tuple(t.floors.items()), tuple(t.ceilings.items())) for t in own.values()}) > 1
    return Targets(floors, caps, departments=own if differ else {})


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


def targets_from(
    targets: TargetsLike,
    ceilings: TargetsLike,
    scenario: Scenario,
    confidence: float | None = None,
    days_met: float | None = None,
) -> Targets:
    """The `Targets` for what a caller of the library gave: a `Targets` as it is (with `ceilings` added, and
    `confidence` and `days_met` where given), or mappings / `KPI=value` texts validated as `--target` and
    `--max` are."""
    if isinstance(targets, Targets):
        extra = parse_targets([], _texts(ceilings), scenario).ceilings if ceilings else {}
        level = targets.confidence if confidence is None else confidence
        share = targets.days_met if days_met is None else days_met
        own = {
            name: Targets(dict(t.floors), {**t.ceilings, **extra}, level, share)
            for name, t in targets.departments.items()
        }
        return Targets(dict(targets.floors), {**targets.ceilings, **extra}, level, share, own)
    return parse_targets(_texts(targets), _texts(ceilings), scenario, confidence, days_met)
