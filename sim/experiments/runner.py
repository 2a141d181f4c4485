"""How often: one run, independent replications, on all local cores (workers return KPIs, not event logs).

Replication `r` of seed `s` draws every stream from `(s, r, name)`, so results do not depend on which worker
ran it, and two scenario variants with the same seed share their callers (common random numbers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from sim.analysis.confidence import aggregate, aggregate_intervals
from sim.analysis.goals import goals_section
from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary
from sim.engine.day import RunResult, simulate
from sim.experiments.executors import default_jobs
from sim.model.scenario import Scenario

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ReplicationKpis:
    """What a worker sends back for one replication: its summary and interval table."""

    replication: int
    summary: dict[str, Any]
    intervals: pd.DataFrame
    wall_time: float
    calls_offered: int


@dataclass(frozen=True)
class Replicated:
    """A scenario run for several replications: per-replication KPIs, their aggregate, and replication 0 in full."""

    scenario: Scenario
    seed: int
    first: RunResult
    replications: list[ReplicationKpis]
    wall_time: float
    precision: dict[str, Any] = field(default_factory=dict)
    """With `replicate_until`: per KPI the half-width reached and its goal, and whether all were met."""

    @property
    def summary(self) -> dict[str, Any]:
        """The single run's summary, or means with `ci95` half-widths over replications."""
        summaries = [r.summary for r in self.replications]
        out = summaries[0] if len(summaries) == 1 else aggregate(summaries)
        if self.scenario.goals is not None:  # only then: summaries without goals stay as they were
            out = {**out, "goals": goals_section(out, self.intervals, self.scenario, summaries)}
        return out

    @property
    def intervals(self) -> pd.DataFrame:
        """The interval table (means over replications when there are several)."""
        return aggregate_intervals([r.intervals for r in self.replications])

    @property
    def calls_offered(self) -> int:
        """Calls simulated over all replications."""
        return sum(r.calls_offered for r in self.replications)


def replication_kpis(scenario: Scenario, seed: int, replication: int) -> ReplicationKpis:
    """Run one replication and reduce it to KPIs (what a worker process returns)."""
    result = simulate(scenario, seed, replication)
    return _kpis(result)


def _kpis(result: RunResult) -> ReplicationKpis:
    return ReplicationKpis(
        result.replication, summary(result), interval_table(result), result.wall_time, result.calls_offered
    )


def parallel_map(
    function: Callable[..., R], argument_lists: Iterable[tuple[Any, ...]], jobs: int | None = None
) -> Iterator[R]:
    """`function(*arguments)` for each argument tuple, in order, on `jobs` local processes (1: in-process)."""
    arguments = list(argument_lists)
    jobs = min(jobs or default_jobs(), len(arguments)) if arguments else 1
    if jobs <= 1:
        for args in arguments:
            yield function(*args)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(function, *args) for args in arguments]
        for future in futures:
            yield future.result()


def replicate(
    scenario: Scenario,
    seed: int | None = None,
    reps: int = 1,
    jobs: int | None = None,
    on_done: Callable[[ReplicationKpis], None] | None = None,
    first: RunResult | None = None,
) -> Replicated:
    """Run `reps` independent replications; replication 0 runs here and is kept in full for the tables.
    `first`: replication 0 already simulated (by `sim.experiments.beside`), if it was."""
    if reps < 1:
        raise ValueError("reps must be >= 1")
    seed = scenario.seed if seed is None else seed
    first = first_replication(scenario, seed, first)
    started = time.perf_counter() - first.wall_time  # its simulation counts, wherever it ran
    kpis = [_kpis(first)]
    if on_done:
        on_done(kpis[0])
    for item in parallel_map(replication_kpis, [(scenario, seed, r) for r in range(1, reps)], jobs):
        kpis.append(item)
        if on_done:
            on_done(item)
    return Replicated(scenario, seed, first, kpis, time.perf_counter() - started)


def first_replication(scenario: Scenario, seed: int | None = None, first: RunResult | None = None) -> RunResult:
    """Replication 0 with `seed` (None: the scenario's): `first` if given (it must be this scenario's, with
    this seed: simulated elsewhere, by `sim.experiments.beside`), else simulated here."""
    seed = scenario.seed if seed is None else seed
    if first is None:
        return simulate(scenario, seed, 0)
    if first.scenario is not scenario or first.seed != seed or first.replication != 0 or first.day != 0:
        raise ValueError("first: not replication 0 of this scenario with this seed")
    return first


MIN_REPS_UNTIL_CI = 10
"""Replications before the first precision check: a half-width from fewer is itself too noisy to trust."""


def kpi_value(summary: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted KPI path (`service_level`, `by_department.billing.asa`), or None."""
    node: Any = summary
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def replicate_until(
    scenario: Scenario,
    targets: Mapping[str, float],
    seed: int | None = None,
    reps: int = MIN_REPS_UNTIL_CI,
    max_reps: int = 200,
    jobs: int | None = None,
    on_done: Callable[[ReplicationKpis], None] | None = None,
    first: RunResult | None = None,
) -> Replicated:
    """Add replications until every named KPI's 95% half-width is at most its target, or `max_reps`.

    Starts with `max(reps, 10)` replications (replication 0 `first`, if given, as in `replicate`); then, from the half-widths so far, plans the number the
    largest (half-width / target)^2 ratio calls for (at least one more, at most double). The plan depends
    only on the results, never on the number of workers, so the run is reproducible.
    """
    if not targets:
        raise ValueError("no precision targets given")
    if any(not math.isfinite(goal) or goal < 0 for goal in targets.values()):
        raise ValueError("half-width targets must be finite and >= 0")
    seed = scenario.seed if seed is None else seed
    max_reps = max(max_reps, 2)
    wanted = min(max(reps, MIN_REPS_UNTIL_CI), max_reps)
    first = first_replication(scenario, seed, first)
    started = time.perf_counter() - first.wall_time
    kpis = [_kpis(first)]
    unknown = [key for key in targets if not isinstance(kpi_value(kpis[0].summary, key), int | float)]
    if unknown:
        raise ValueError(f"not a numeric KPI of the summary: {', '.join(unknown)}")
    if on_done:
        on_done(kpis[0])
    while True:
        for item in parallel_map(
            replication_kpis, [(scenario, seed, r) for r in range(len(kpis), wanted)], jobs
        ):
            kpis.append(item)
            if on_done:
                on_done(item)
        widths = aggregate([k.summary for k in kpis])["ci95"]
        reached = {key: kpi_value(widths, key) for key in targets}
        ratios = [_ratio(reached[key], goal) for key, goal in targets.items()]
        met = all(ratio <= 1.0 for ratio in ratios)
        if met or len(kpis) >= max_reps:
            break
        needed = math.ceil(len(kpis) * min(max(ratios), 4.0) * 1.1)
        wanted = min(max_reps, max(len(kpis) + 1, min(needed, 2 * len(kpis))))
    precision = {
        "targets": dict(targets),
        "half_widths": {
            key: float(value) if value is not None else math.nan for key, value in reached.items()
        },
        "met": met,
        "reps": len(kpis),
        "max_reps": max_reps,
    }
    return Replicated(scenario, seed, first, kpis, time.perf_counter() - started, precision)


def _ratio(width: Any, goal: float) -> float:
    """(half-width / goal)^2: how many times the replications so far a goal needs (inf if unknown)."""
    if not isinstance(width, int | float) or math.isnan(width):
        return math.inf
    if width <= goal:
        return min(1.0, (width / goal) ** 2) if goal > 0 else 0.0
    return math.inf if goal == 0 else (width / goal) ** 2
