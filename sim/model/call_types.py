"""Times that depend on why someone calls and on when: patience, handle and wrap time per reason
(`call_types`), per department and reason and per agent group and reason (`by_reason`), and any of these
means through the day (`mean_by_interval` / `scale_by_interval` on a distribution spec).

Which spec a call's time comes from (and the random stream it is drawn from) is decided here, once, for
both engines: handle and wrap time take the most specific of group & reason > department & reason >
reason > department; patience takes the reason's over the scenario's. The checks that need the whole
scenario (reason names, one curve entry per interval, curves only where a call's arrival dates them) are
here too, and `sim.model.scenario.consistency_problems` reports them at their YAML paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sim.model.dists import Dist, _Spec
from sim.model.durations import shorten

Scenario = Any
"""A `sim.model.scenario.Scenario` (that module imports this one, so it is not imported back)."""

Kind = Literal["handle_time", "wrap_time"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class ReasonTimes(_Frozen):
    """Handle and wrap time of one reason where it is handled by a department or an agent group; a time
    not given falls back to the next less specific one."""

    handle_time: Dist | None = None
    wrap_time: Dist | None = None


class CallType(ReasonTimes):
    """What callers with one reason are like: their patience (instead of the scenario's) and, wherever the
    reason is handled, its handle and wrap time (unless a department or group says otherwise)."""

    patience: Dist | None = None


# --- which spec, from which stream ---------------------------------------------------------------------


def work_spec(
    scenario: Scenario, kind: Kind, department: str, reason: str, group: str | None = None
) -> tuple[str, _Spec, bool]:
    """(stream name, spec, whether it is the group's own time) of a call's handle or wrap time: the group
    & reason's (`group` is the answering agent's group, None for a department's own agent), else the
    department & reason's, else the reason's, else the department's. A group's own time is that group's
    time: its speed factor is not applied to it."""
    if group is not None:
        own = scenario.agent_groups[group].by_reason or {}
        spec = getattr(own.get(reason), kind, None) if reason in own else None
        if spec is not None:
            return f"{kind}.group.{group}.{reason}", spec, True
    home = scenario.departments[department]
    spec = getattr((home.by_reason or {}).get(reason), kind, None)
    if spec is not None:
        return f"{kind}.department.{department}.{reason}", spec, False
    spec = getattr((scenario.call_types or {}).get(reason), kind, None)
    if spec is not None:
        return f"{kind}.reason.{reason}", spec, False
    return f"{kind}.{department}", getattr(home, kind), False


def patience_spec(scenario: Scenario, reason: str, redial: bool = False) -> tuple[str, _Spec | None]:
    """(stream name, spec) of a caller's patience: the reason's, else the scenario's (None: infinite)."""
    prefix = "redial.patience" if redial else "patience"
    own = (scenario.call_types or {}).get(reason)
    if own is not None and own.patience is not None:
        return f"{prefix}.{reason}", own.patience
    return prefix, scenario.patience


def interval_of(scenario: Scenario, at: float) -> int:
    """The interval an instant falls in (interval i covers [i * interval, (i + 1) * interval) after the
    start; the drain after the day belongs to the last interval)."""
    return min(max(int(at // scenario.interval), 0), scenario.interval_count - 1)


def factor_at(scenario: Scenario, spec: _Spec, at: float) -> float:
    """The multiplier of `spec`'s draws for a call that arrived at `at` (1 without a curve)."""
    factors = spec.interval_factors()
    return 1.0 if factors is None else factors[interval_of(scenario, at)]


def uses_call_times(scenario: Scenario) -> bool:
    """Whether any time depends on the reason or the interval (else the engine keeps its plain path)."""
    return bool(scenario.call_types) or any(
        spec.interval_factors() is not None for _, spec in specs(scenario)
    )


def works_by_reason(scenario: Scenario) -> bool:
    """Whether handle or wrap times vary by reason, group or interval (the engine's per-call path)."""
    if any(d.by_reason for d in scenario.departments.values()):
        return True
    if any(g.by_reason for g in scenario.agent_groups.values()):
        return True
    if any(t.handle_time or t.wrap_time for t in (scenario.call_types or {}).values()):
        return True
    return any(
        getattr(d, kind).interval_factors() is not None
        for d in scenario.departments.values()
        for kind in ("handle_time", "wrap_time")
    )


# --- checks ---------------------------------------------------------------------------------------------


def specs(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], _Spec]]:
    """Every distribution spec in a scenario (or part of one), with its YAML path."""
    if isinstance(node, _Spec):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from specs(getattr(node, name), (*path, name))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from specs(value, (*path, str(key)))
    elif isinstance(node, tuple | list):
        for index, value in enumerate(node):
            yield from specs(value, (*path, f"[{index}]"))


def _dated(path: tuple[str, ...]) -> bool:
    """Whether a spec at this path is drawn for a call whose arrival dates it (curves allowed)."""
    match path:
        case ("patience",) | ("ivr", "menu_time"):
            return True
        case ("departments", _, "handle_time" | "wrap_time"):
            return True
        case ("departments" | "agent_groups", _, "by_reason", _, "handle_time" | "wrap_time"):
            return True
        case ("call_types", _, "patience" | "handle_time" | "wrap_time"):
            return True
    return False


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[", "[")


def call_type_problems(scenario: Scenario) -> Iterable[tuple[str, str]]:
    """(YAML path, message) of each fault: reasons callers do not have under `call_types` or `by_reason`,
    curves of the wrong length, on a spec whose mean is 0, or where no call's arrival dates the draw."""
    reasons = set(scenario.reason_mix())
    known = ", ".join(sorted(reasons))
    owners: list[tuple[str, Mapping[str, ReasonTimes] | None]] = [("call_types", scenario.call_types)]
    owners += [(f"departments.{name}.by_reason", d.by_reason) for name, d in scenario.departments.items()]
    owners += [(f"agent_groups.{name}.by_reason", g.by_reason) for name, g in scenario.agent_groups.items()]
    for where, table in owners:
        for reason in table or {}:
            if reason not in reasons:
                yield f"{where}.{reason}", f"{shorten(reason)} is not a reason callers have ({known})"
    intervals = scenario.interval_count
    for path, spec in specs(scenario):
        field = "mean_by_interval" if spec.mean_by_interval is not None else "scale_by_interval"
        curve = spec.mean_by_interval if spec.mean_by_interval is not None else spec.scale_by_interval
        if curve is None:
            continue
        at = f"{_dotted(path)}.{field}"
        if not _dated(path):
            yield (
                at,
                (
                    "a time through the day is allowed only on patience, handle_time and wrap_time (of departments, "
                    "call_types and by_reason) and ivr.menu_time"
                ),
            )
        elif len(curve) != intervals:
            yield at, f"needs {intervals} values (one per {scenario.interval:g}s interval), got {len(curve)}"
        elif field == "mean_by_interval" and not spec.mean_value() > 0:
            yield at, "needs a distribution whose mean is > 0 (or use scale_by_interval)"
