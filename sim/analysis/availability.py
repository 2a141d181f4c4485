"""Agent time where agents are not all there (`sim.model.availability`): time on breaks, time rostered but
unavailable (shrinkage and absence), paid time, and utilisation beside occupancy.

- occupancy = busy / logged-in (available) agent-seconds: breaks are not logged in (`break` to `back`).
- utilisation = busy / paid agent-seconds, paid = logged in + on break + rostered but unavailable
  (the rostered level less the level applied, which shrinkage and absence lowered). Without shrinkage,
  breaks and absence, paid time is logged-in time and the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.analysis.tables import agent_levels, scheduled_agents_by
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event

_BREAK, _BACK = CODE[Event.BREAK], CODE[Event.BACK]


def break_seconds(result: RunResult, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Per pool: agent-seconds on break in each [edges[i], edges[i+1]) (a break still on at the end of the
    run closes then)."""
    events = result.events
    kinds = events["event"].cat.codes.to_numpy()
    rows = np.flatnonzero((kinds == _BREAK) | (kinds == _BACK))
    pool_of = dict(zip(result.agents["agent_id"].tolist(), result.agents["pool"].tolist(), strict=True))
    out = {name: np.zeros(len(edges) - 1) for name in dict.fromkeys(result.agents["pool"].tolist())}
    went: dict[int, float] = {}
    times, agents = events["t"].to_numpy(), events["agent_id"].to_numpy()
    spans: list[tuple[int, float, float]] = []
    for row in rows.tolist():
        agent = int(agents[row])
        if kinds[row] == _BREAK:
            went[agent] = float(times[row])
        elif agent in went:
            spans.append((agent, went.pop(agent), float(times[row])))
    spans += [(agent, start, result.ended_at) for agent, start in went.items()]
    for agent, start, end in spans:
        overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], start), 0.0, None)
        out[pool_of[agent]] += overlap
    return out


def unavailable_seconds(result: RunResult, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Per pool: agent-seconds rostered but not available (shrinkage and absence) in each interval."""
    if not result.rostered:
        return {name: np.zeros(len(edges) - 1) for name in result.staffing}
    widths = np.diff(edges)
    rostered = scheduled_agents_by(result.rostered, edges) * widths
    applied = scheduled_agents_by({name: result.staffing[name] for name in result.rostered}, edges) * widths
    return {name: rostered[i] - applied[i] for i, name in enumerate(result.rostered)}


def availability_summary(result: RunResult) -> dict[str, Any]:
    """The summary's availability figures over the counted day (warm-up to close): utilisation, paid,
    break and unavailable hours, absent agents, and (`by_pool`) each pool's utilisation."""
    scenario = result.scenario
    window = np.array([scenario.warmup, scenario.duration])
    pools, logged, busy = agent_levels(result, window)
    on_break = break_seconds(result, window)
    away = unavailable_seconds(result, window)
    logged_in = {name: float(logged[i, 0]) for i, name in enumerate(pools)}
    busy_in = {name: float(busy[i, 0]) for i, name in enumerate(pools)}
    # every pool paid for, those whose agents were all absent or shrunk away (never logged in) included
    names = [*pools, *(name for name in (*on_break, *away) if name not in logged_in)]
    paid = {
        name: logged_in.get(name, 0.0) + float(on_break.get(name, [0.0])[0]) + float(away.get(name, [0.0])[0])
        for name in dict.fromkeys(names)
    }
    total_paid = sum(paid.values())
    total_busy = float(busy[:, 0].sum())
    out: dict[str, Any] = {
        "utilisation": utilisation(total_busy, total_paid),
        "paid_hours": total_paid / 3600.0,
        "break_hours": sum(float(seconds[0]) for seconds in on_break.values()) / 3600.0,
        "unavailable_hours": sum(float(seconds[0]) for seconds in away.values()) / 3600.0,
    }
    if scenario.absence is not None:
        out["absent_agents"] = int(sum(result.absent.values()))
    out["by_pool"] = {name: utilisation(busy_in.get(name, 0.0), seconds) for name, seconds in paid.items()}
    return out


def add_availability(figures: dict[str, Any], result: RunResult) -> None:
    """Add the availability figures to a run's summary: centre-wide, and each pool's utilisation beside its
    occupancy (`by_department.NAME.utilisation`, `by_group.NAME.utilisation`)."""
    found = availability_summary(result)
    by_pool = found.pop("by_pool")
    figures.update(found)
    for part in ("by_department", "by_group"):
        for name, values in (figures.get(part) or {}).items():
            if name in by_pool:
                values["utilisation"] = by_pool[name]


def utilisation(busy_seconds: float, paid_seconds: float) -> float:
    """Busy agent-seconds / paid agent-seconds (logged in, on break, or rostered but unavailable)."""
    return busy_seconds / paid_seconds if paid_seconds > 0 else float("nan")


def rostered_agents(result: RunResult, edges: np.ndarray, frame: Mapping[str, Any]) -> np.ndarray:
    """For the interval table's rows (`interval`, `department`: a pool's name or `all`): mean agents rostered
    before shrinkage and absence."""
    names = list(result.rostered)
    means = scheduled_agents_by(result.rostered, edges)
    per_pool = {name: means[i] for i, name in enumerate(names)}
    total = means.sum(axis=0) if names else np.zeros(len(edges) - 1)
    interval = np.asarray(frame["interval"], dtype=np.int64)
    department = np.asarray(frame["department"]).astype(str)
    out = np.full(len(interval), np.nan)
    for name, values in [("all", total), *per_pool.items()]:
        rows = department == name
        out[rows] = values[interval[rows]]
    return out
