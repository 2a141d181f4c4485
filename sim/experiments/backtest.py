"""How well a scenario predicts a call log: the logged days' KPIs against R simulated days of the scenario,
per interval and call type (`backtest(log, scenario, reps)`: tables, no printing, no writing).

The replications run on local processes (`parallel_map`); each worker sends back only its small table of
KPIs per interval and call type. Replication r of a seed is the same day wherever it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.backtest import (
    ALL,
    KPIS,
    LoggedCalls,
    compare,
    interval_kpis,
    logged_calls,
    simulated_calls,
)
from sim.engine.day import simulate
from sim.experiments.runner import parallel_map
from sim.model.call_log import CallLog
from sim.model.durations import format_clock, format_duration
from sim.model.scenario import Scenario

Progress = Callable[[int, int], None]
"""`progress(done, total)`, called as each replication finishes."""


@dataclass(frozen=True)
class Backtest:
    """A scenario set against a call log. `table`: one row per KPI x call type x interval x logged day (and
    a `mean` row over the days): actual, simulated mean, the band of a single simulated day, whether the
    actual fell inside; `errors`: per KPI and call type, mean absolute error, bias and its standard error,
    coverage of the bands and the coverage expected of a right model. `actual` and `simulated` hold the KPIs
    per day (replication), interval and call type; `notes` say in sentences what was compared and what
    the log could not tell."""

    scenario: Scenario
    source: str
    dates: tuple[str, ...]
    call_types: tuple[str, ...]
    reps: int
    seed: int
    actual: pd.DataFrame
    simulated: pd.DataFrame
    table: pd.DataFrame
    errors: pd.DataFrame
    notes: tuple[str, ...]
    calls_compared: int
    wall_time: float

    @property
    def kpis(self) -> tuple[str, ...]:
        """The KPIs compared."""
        return KPIS


def replication_table(
    scenario: Scenario, seed: int, replication: int, call_types: tuple[str, ...]
) -> pd.DataFrame:
    """One simulated day reduced to the backtest KPIs per interval and call type (what a worker returns)."""
    return interval_kpis(simulated_calls(simulate(scenario, seed, replication)), scenario, call_types)


def backtest(
    log: CallLog,
    scenario: Scenario,
    reps: int = 20,
    seed: int | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Backtest:
    """Compare the days of `log` with `reps` replications of `scenario` (seed: the scenario's by default),
    per interval (by arrival, the scenario's `interval`) and call type: offered, service level, abandonment
    rate and ASA, each defined as the simulator defines it. Raises ValueError when no logged call falls in
    the scenario's day (a log of another centre, or other opening hours)."""
    if reps < 2:
        raise ValueError("a backtest needs at least 2 replications (the band of a day is their spread)")
    started = time.perf_counter()
    seed = scenario.seed if seed is None else seed
    logged = logged_calls(log.calls, log.dates, scenario, log.recorded)
    calls = logged.calls
    if not len(calls):
        raise ValueError(
            f"no call of {log.source} arrived within the scenario's day "
            f"({format_clock(scenario.start)} for {format_duration(scenario.duration)}): nothing to compare"
        )
    present = np.unique(calls["day"].to_numpy())  # days with calls, renumbered 0..D-1
    calls = calls.assign(day=np.searchsorted(present, calls["day"].to_numpy()))
    dates = tuple(_date_label(log.dates[day], day) for day in present)
    call_types = tuple(scenario.reason_mix()) if "call_type" in log.recorded else ()
    actual = interval_kpis(calls, scenario, call_types, days=len(present))
    tables = []
    for done, table in enumerate(
        parallel_map(replication_table, [(scenario, seed, r, call_types) for r in range(reps)], jobs), 1
    ):
        tables.append(table.assign(day=done - 1))
        if progress is not None:
            progress(done, reps)
    simulated = pd.concat(tables, ignore_index=True)
    edges = np.minimum(np.arange(scenario.interval_count + 1) * scenario.interval, scenario.duration)
    starts = [format_clock(scenario.start + at) for at in edges[:-1]]
    compared = compare(actual, simulated, dates, starts)
    return Backtest(
        scenario=scenario,
        source=log.source,
        dates=dates,
        call_types=call_types,
        reps=reps,
        seed=seed,
        actual=_labelled(actual, "date", dates, starts),
        simulated=_labelled(simulated.rename(columns={"day": "replication"}), "replication", None, starts),
        table=compared.table,
        errors=compared.errors,
        notes=tuple(_notes(log, scenario, logged, dates, call_types, len(calls))),
        calls_compared=len(calls),
        wall_time=time.perf_counter() - started,
    )


def _date_label(on: object, day: int) -> str:
    return str(on) if on is not None else f"day {day + 1}"


def _labelled(
    frame: pd.DataFrame, key: str, labels: Sequence[str] | None, starts: Sequence[str]
) -> pd.DataFrame:
    """KPIs per day with the day's date (or replication number) and each interval's clock time."""
    out = frame.copy()
    if labels is not None:
        out[key] = np.asarray(labels, dtype=object)[out.pop("day").to_numpy()]
    out.insert(2, "start", np.asarray(starts, dtype=object)[out["interval"].to_numpy()])
    return out[[key, "interval", "start", "call_type", *KPIS]]


def _notes(
    log: CallLog,
    scenario: Scenario,
    logged: LoggedCalls,
    dates: tuple[str, ...],
    call_types: tuple[str, ...],
    compared: int,
) -> list[str]:
    """What was compared and what the log could not tell, in sentences."""
    day = f"{format_clock(scenario.start)} for {format_duration(scenario.duration)}"
    span = f"{dates[0]} to {dates[-1]}" if len(dates) > 1 else dates[0]
    said = [
        f"{compared:,} calls offered to agents on {len(dates)} logged day(s) ({span}) were compared with "
        f"the scenario's day ({day}), per {format_duration(scenario.interval)} interval by arrival"
        + (f" and per call type ({', '.join(call_types)})." if call_types else ", over all calls.")
    ]
    said += log.notes()
    if logged.outside_day:
        said.append(f"{logged.outside_day:,} logged call(s) arrived outside the scenario's day: left out.")
    if logged.in_warmup:
        said.append(
            f"{logged.in_warmup:,} call(s) arrived in the scenario's warm-up "
            f"({format_duration(scenario.warmup)}): left out, as the simulator does not count them."
        )
    if logged.self_served:
        said.append(
            f"{logged.self_served:,} call(s) were resolved in the phone menu: not offered to agents, "
            "so not compared (on either side)."
        )
    if "call_type" not in log.recorded:
        said.append("The log does not record call types: only the figures over all calls are compared.")
    for name, count in logged.unknown_types.items():
        said.append(
            f"Call type {name!r} ({count:,} calls) is not one of the scenario's: counted under {ALL!r} only."
        )
    if "queued_at" not in log.recorded:
        said.append(
            "The log does not record when calls joined a queue: waits run from the arrival"
            + (", so they include the phone menu the scenario models." if scenario.ivr is not None else ".")
        )
    elif logged.queue_entry_missing:
        said.append(
            f"{logged.queue_entry_missing:,} answered call(s) have no queue entry: their waits run "
            "from the arrival."
        )
    if scenario.ring_time > 0:
        said.append(
            f"The log's answer instant follows the ring ({format_duration(scenario.ring_time)} in the "
            "scenario): ASA runs to the answer on both sides (the simulator's own ASA stops at the ring's "
            "start; its service level already counts the ring)."
        )
    if scenario.callback is not None:
        said.append(
            "The log cannot tell callers who took a callback: their wait runs to the agent's call back, on "
            "both sides (the simulator's own ASA stops at the callback request)."
        )
    said.append(
        "The band of each interval is the spread of single simulated days; a logged day is one day, so it "
        "is compared with that spread, not with the confidence interval of the simulated mean."
    )
    return said
