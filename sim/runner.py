"""How often: one run, independent replications, on all local cores (workers return KPIs, not event logs).

Replication `r` of seed `s` draws every stream from `(s, r, name)`, so results do not depend on which worker
ran it, and two scenario variants with the same seed share their callers (common random numbers).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from sim.engine import RunResult, simulate
from sim.metrics import aggregate, aggregate_intervals, interval_table, summary
from sim.scenario import Scenario

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

    @property
    def summary(self) -> dict[str, Any]:
        """The single run's summary, or means with `ci95` half-widths over replications."""
        summaries = [r.summary for r in self.replications]
        return summaries[0] if len(summaries) == 1 else aggregate(summaries)

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


def default_jobs() -> int:
    """All local cores."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


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
) -> Replicated:
    """Run `reps` independent replications; replication 0 runs here and is kept in full for the tables."""
    if reps < 1:
        raise ValueError("reps must be >= 1")
    started = time.perf_counter()
    seed = scenario.seed if seed is None else seed
    first = simulate(scenario, seed, 0)
    kpis = [_kpis(first)]
    if on_done:
        on_done(kpis[0])
    for item in parallel_map(replication_kpis, [(scenario, seed, r) for r in range(1, reps)], jobs):
        kpis.append(item)
        if on_done:
            on_done(item)
    return Replicated(scenario, seed, first, kpis, time.perf_counter() - started)
