"""Service goals: what the planner promises, for all calls and per department (the `goals` block).

```yaml
goals:
  service_level: 0.8          # at least this share answered within service_level.threshold
  abandon_rate: 0.05          # at most
  asa: 30s                    # at most
  occupancy: [0.7, 0.9]       # between (a band)
  departments:
    billing: {service_level: 0.85, asa: 20s}   # replaces those goals for billing; the rest still apply
    chat: {service_level: 0.8, threshold: 60s}  # chat's own threshold: first response within 60 s
  confidence: 0.95            # callsim staff: each goal met by its mean's one-sided 95% bound
  days_met: 0.9               # callsim staff: every goal met on 90% of simulated days, per interval
```

Without a `goals` block the one goal is today's: `service_level.target` for all calls and each department. A
`goals` block without `service_level` keeps `service_level.target` as the service-level goal. Verdicts
(met / missed / no calls) are `sim.analysis.goals`'s; this module is the schema and its checks only.

`goals.departments.NAME.threshold` is that department's own service-level threshold (a chat desk promising a
first response within 60 s in a centre whose phones promise 20 s): a wait in the department (a visit) is judged
against it, and a contact's headline wait against its first department's; `service_level.threshold` stays the
default for every department without one (`department_thresholds`). Not for an email department (judged on
its due time).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.model.dists import NonNegativeDuration
from sim.model.durations import not_boolean, shorten

Share = Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1, allow_inf_nan=False)]
"""A share between 0 and 1."""
OpenShare = Annotated[float, BeforeValidator(not_boolean), Field(gt=0, lt=1, allow_inf_nan=False)]
"""A share strictly between 0 and 1 (a confidence, a share of days a plan promises)."""
GOAL_NAMES = ("service_level", "abandon_rate", "asa", "occupancy")
"""The goals, in the order every view lists them."""


class GoalSet(BaseModel):
    """Goals for one scope (all calls, or a department): each optional, None when not set."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    service_level: Share | None = None
    """At least this share of calls answered within `service_level.threshold`."""
    abandon_rate: Share | None = None
    """At most this share of offered calls abandoned."""
    asa: NonNegativeDuration | None = None
    """At most this average speed of answer, seconds."""
    occupancy: tuple[Share, Share] | None = None
    """Agents' occupancy between these two shares (low, high), both included."""

    def over(self, base: GoalSet) -> GoalSet:
        """These goals where set, `base`'s elsewhere (a department's goals over the all-calls goals)."""
        return GoalSet(**{name: getattr(self, name) if getattr(self, name) is not None else getattr(base, name)
                          for name in GOAL_NAMES})

    def items(self) -> list[tuple[str, Any]]:
        """`(goal name, bound)` of the goals set, in `GOAL_NAMES` order."""
        return [(name, getattr(self, name)) for name in GOAL_NAMES if getattr(self, name) is not None]


class DepartmentGoals(GoalSet):
    """A department's goals (`goals.departments.NAME`), and the threshold its service level is judged at."""

    threshold: NonNegativeDuration | None = None
    """This department's own service-level threshold, seconds (None: `service_level.threshold`)."""


class Goals(GoalSet):
    """The `goals` block: goals for all calls, and per department goals that replace them there."""

    departments: dict[str, DepartmentGoals] = Field(default_factory=dict)
    confidence: OpenShare | None = None
    """`callsim staff`: each goal met by its mean's one-sided Student-t bound at this confidence (0.95)."""
    days_met: OpenShare | None = None
    """`callsim staff`: every goal met on at least this share of the simulated days (0.9), per interval."""


def goal_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """`(path, message)` for each fault of the `goals` block: an occupancy band whose low end is above its
    high end, goals for a department the scenario does not have."""
    goals: Goals | None = scenario.goals
    if goals is None:
        return
    scopes: list[tuple[str, GoalSet]] = [("goals", goals)]
    for name, own in goals.departments.items():
        if name not in scenario.departments:
            yield (
                f"goals.departments.{name}",
                f"no such department {shorten(name)} (departments: {', '.join(scenario.departments)})",
            )
        scopes.append((f"goals.departments.{name}", own))
        department = scenario.departments.get(name)
        if own.threshold is not None and department is not None and department.channel == "email":
            yield (
                f"goals.departments.{name}.threshold",
                "an email department is judged on its due time, not a service-level threshold: remove it",
            )
    level = goals.service_level
    if level is not None and abs(level - scenario.service_level.target) > 1e-12:
        yield (
            "goals.service_level",
            f"{level:g} differs from service_level.target {scenario.service_level.target:g}: set the goal in "
            "one place",
        )
    for path, scope in scopes:
        if scope.occupancy is not None and scope.occupancy[0] > scope.occupancy[1]:
            low, high = scope.occupancy
            yield f"{path}.occupancy", f"a band [low, high] with low <= high, got [{low:g}, {high:g}]"


def with_service_level_goal(data: Any) -> Any:
    """The raw scenario with `service_level.target` set from `goals.service_level` where the scenario sets
    the goal only there, so every view (plots, interval table, summary) reads one service-level goal; a
    scenario that sets both, differently, is refused by `goal_problems`."""
    if not isinstance(data, dict):
        return data
    goals = data.get("goals")
    level = goals.get("service_level") if isinstance(goals, dict) else None
    if level is None:
        return data
    measured = data.get("service_level")
    if measured is None:
        return {**data, "service_level": {"target": level}}
    if isinstance(measured, dict) and "target" not in measured:
        return {**data, "service_level": {**measured, "target": level}}
    return data


def department_thresholds(scenario: Any) -> dict[str, float]:
    """Each department's service-level threshold, seconds, in the scenario's order: its own
    `goals.departments.NAME.threshold`, else the centre's `service_level.threshold`."""
    goals: Goals | None = scenario.goals
    own = goals.departments if goals is not None else {}
    default = float(scenario.service_level.threshold)
    out: dict[str, float] = {}
    for name in scenario.departments:
        threshold = own[name].threshold if name in own else None
        out[name] = default if threshold is None else float(threshold)
    return out


def has_own_thresholds(scenario: Any) -> bool:
    """Whether any department has a service-level threshold of its own (else every view uses the centre's)."""
    goals: Goals | None = scenario.goals
    return goals is not None and any(own.threshold is not None for own in goals.departments.values())
