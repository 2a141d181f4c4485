"""A week: run each day of a scenario's `week` block in order, carrying work over from one day to the next,
and replicate whole weeks.

Day d of replication r draws its numbers from its own streams (`Streams(seed, r, d)`); day 0 has exactly
the streams of a single day, so a scenario's first day is the scenario run alone (when nothing is carried
in, which the first day never has).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from sim.analysis.week import carried_table, mean_week_table, week_table
from sim.engine.day import RunResult, simulate
from sim.experiments.runner import parallel_map
from sim.model.loading import week_day_types
from sim.model.scenario import Scenario


@dataclass(frozen=True)
class PlannedDay:
    """One day of a week as it runs: its place, name, day type, and its day type's scenario."""

    index: int
    name: str
    type: str
    scenario: Scenario


def day_plans(scenario: Scenario) -> list[PlannedDay]:
    """The week's days in order, each with its day type's validated scenario (`week_day_types`)."""
    assert scenario.week is not None
    types = week_day_types(scenario)
    return [PlannedDay(i, day.name, day.type, types[day.type]) for i, day in enumerate(scenario.week.days)]


@dataclass(frozen=True)
class WeekRun:
    """One replication of a week: each day's plan (name, type, scenario) and its run, in order."""

    scenario: Scenario
    seed: int
    replication: int
    days: tuple[PlannedDay, ...]
    results: tuple[RunResult, ...]
    wall_time: float

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per day and one for the week (`sim.analysis.week.week_table`)."""
        return week_table(self.results, [d.name for d in self.days], [d.type for d in self.days])

    @cached_property
    def carried(self) -> pd.DataFrame:
        """The work each day left at its close for the next (`sim.analysis.week.carried_table`)."""
        return carried_table(self.results, [d.name for d in self.days])

    @property
    def calls_offered(self) -> int:
        """Calls simulated over the week."""
        return sum(result.calls_offered for result in self.results)


def simulate_week(scenario: Scenario, seed: int | None = None, replication: int = 0) -> WeekRun:
    """Run the week's days in order: each day gets the work the day before left (with `carry_over`)."""
    if scenario.week is None:
        raise ValueError(f"scenario {scenario.name!r} has no week: block")
    started = time.perf_counter()
    seed = scenario.seed if seed is None else seed
    days = tuple(day_plans(scenario))
    carry = scenario.week.carry_over
    results: list[RunResult] = []
    for day in days:
        carried_in = results[-1].carried_out if results and carry else None
        last = day.index == len(days) - 1
        results.append(
            simulate(day.scenario, seed, replication, day.index, carried_in, carry_out=carry and not last)
        )
    return WeekRun(scenario, seed, replication, days, tuple(results), time.perf_counter() - started)


def week_replication(scenario: Scenario, seed: int, replication: int) -> pd.DataFrame:
    """One replication of the week reduced to its week table (what a worker process returns)."""
    return simulate_week(scenario, seed, replication).table


@dataclass(frozen=True)
class ReplicatedWeek:
    """Weeks run for several replications: each one's week table, and replication 0 in full."""

    scenario: Scenario
    seed: int
    first: WeekRun
    tables: list[pd.DataFrame]
    wall_time: float

    @property
    def table(self) -> pd.DataFrame:
        """The week table; over several replications, means with `_ci95` half-widths."""
        return mean_week_table(self.tables)

    @property
    def replications(self) -> pd.DataFrame:
        """Every replication's week table, stacked, with its `replication`."""
        return pd.concat(
            [table.assign(replication=r) for r, table in enumerate(self.tables)], ignore_index=True
        )


def replicate_week(
    scenario: Scenario,
    seed: int | None = None,
    reps: int = 1,
    jobs: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> ReplicatedWeek:
    """Run `reps` independent weeks; week 0 runs here and is kept in full for the tables."""
    if reps < 1:
        raise ValueError("reps must be >= 1")
    started = time.perf_counter()
    seed = scenario.seed if seed is None else seed
    first = simulate_week(scenario, seed, 0)
    tables = [first.table]
    if on_done:
        on_done(0)
    for replication, table in enumerate(
        parallel_map(week_replication, [(scenario, seed, r) for r in range(1, reps)], jobs), start=1
    ):
        tables.append(table)
        if on_done:
            on_done(replication)
    return ReplicatedWeek(scenario, seed, first, tables, time.perf_counter() - started)
