"""The Python API: load a scenario, simulate a day, replicate, sweep, search staffing, compare, and (as a
separate, optional step) write a results folder. Each call takes values and returns an object holding pandas
DataFrames; nothing here prints, and long calls report progress through `progress(done, total)`.

`import sim` reaches these names lazily (`sim.simulate`, ...), so the command line starts without pandas;
this module is what the first use imports.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.confidence import half_width
from sim.analysis.intervals import interval_table
from sim.analysis.rows import flatten, kpi_row
from sim.analysis.summary import summary as day_summary
from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import RunResult
from sim.engine.day import simulate as simulate_day
from sim.experiments import compare as statistics
from sim.experiments.executors import make_executor
from sim.experiments.runner import Replicated, ReplicationKpis
from sim.experiments.runner import replicate as replicate_runs
from sim.experiments.sweep import SweepPlan, plan_sweep, run_plan, summarize
from sim.experiments.sweep_design import override_text
from sim.experiments.week import WeekRun, simulate_week
from sim.model.loading import load_scenario as load_file
from sim.model.loading import read_yaml, resolved_dict, scenario_from_dict
from sim.model.scenario import Scenario

if TYPE_CHECKING:
    from sim.analysis.fitting.fit import FittedScenario
    from sim.experiments.backtest import Backtest
    from sim.experiments.schedule import Schedule
    from sim.experiments.staffing import StaffingPlan
    from sim.experiments.staffing.email_sizing import EmailSizing
    from sim.experiments.staffing.groups import GroupPlan
    from sim.model.call_log import CallLog
    from sim.model.shift_catalogue import ShiftCatalogue
    from sim.output.trace import Traced
    from sim.output.trace_pairs import TracedPair

Progress = Callable[[int, int], None]
"""`progress(done, total)`: called as work finishes (the CLI turns it into a bar)."""
Overrides = Sequence[str] | Mapping[str, Any]
"""`["departments.billing.agents=9"]`, or `{"departments.billing.agents": 9}`."""
ScenarioLike = Scenario | Mapping[str, Any] | str | Path


def _override_texts(overrides: Overrides | None) -> list[str]:
    if not overrides:
        return []
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, Mapping):
        return [f"{key}={override_text(value)}" for key, value in overrides.items()]
    return [str(text) for text in overrides]


def load_scenario(
    source: ScenarioLike, overrides: Overrides | None = None, base_dir: str | Path | None = None
) -> Scenario:
    """A validated scenario from a YAML file, a mapping (as YAML would read it) or a scenario, with dotted
    overrides applied (`["departments.billing.agents=9"]` or `{"departments.billing.agents": 9}`), as
    `callsim run --set` applies them. Raises `sim.ScenarioError` listing every problem.

    `base_dir` is where relative files (arrival traces) are looked for: by default the YAML file's folder,
    else the working directory."""
    texts = _override_texts(overrides)
    if isinstance(source, Scenario):
        if not texts:
            return source
        return scenario_from_dict(resolved_dict(source), base_dir or ".", texts)
    if isinstance(source, Mapping):
        return scenario_from_dict(dict(source), base_dir or ".", texts)
    if base_dir is not None:
        return scenario_from_dict(read_yaml(Path(source)), base_dir, texts)
    return load_file(source, texts)


def _scenario(source: ScenarioLike) -> Scenario:
    return source if isinstance(source, Scenario) else load_scenario(source)


# --- one day -----------------------------------------------------------------------------------------------


class Day:
    """One simulated day (one replication): its tables as DataFrames and its KPIs, each computed on first
    use and kept.

    - `calls`: one row per call (outcome, waits, transfers, chain of departments);
    - `visits`: one row per visit of a call to a department queue;
    - `intervals`: KPIs per interval (all calls, each department, each agent group);
    - `summary`: the day's KPIs (a nested dict; `kpis` is the same flattened to numbers);
    - `events`: the event log; `agents`: who the agents were.
    """

    def __init__(self, result: RunResult) -> None:
        self.result = result
        """The engine's result (the event log and run facts)."""

    def __repr__(self) -> str:
        return (
            f"<Day {self.scenario.name!r} seed={self.seed} replication={self.replication}: "
            f"{self.result.calls_offered} calls>"
        )

    @property
    def scenario(self) -> Scenario:
        """The scenario simulated."""
        return self.result.scenario

    @property
    def seed(self) -> int:
        """The seed of the random streams."""
        return self.result.seed

    @property
    def replication(self) -> int:
        """The replication number (replication r of a seed is the same day whoever runs it)."""
        return self.result.replication

    @property
    def events(self) -> pd.DataFrame:
        """The event log: one row per event (arrive, answer, transfer, hold, abandon, ...)."""
        return self.result.events

    @property
    def agents(self) -> pd.DataFrame:
        """The agents: id, pool, number within the pool, home department."""
        return self.result.agents

    @cached_property
    def calls(self) -> pd.DataFrame:
        """One row per call."""
        return calls_table(self.result)

    @cached_property
    def visits(self) -> pd.DataFrame:
        """One row per visit of a call to a department."""
        return visits_table(self.result)

    @cached_property
    def intervals(self) -> pd.DataFrame:
        """KPIs per interval, for all calls, each department and each agent group."""
        return interval_table(self.result)

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The day's KPIs (what `summary.json` holds)."""
        return day_summary(self.result)

    @property
    def kpis(self) -> dict[str, float]:
        """Every numeric KPI of the summary, flat: `{"by_department.billing.asa": 12.0, ...}`."""
        return kpi_row(self.summary)

    def call_log(self, on: date | None = None) -> pd.DataFrame:
        """The day's calls as call-log rows (the format `callsim run --log` writes and
        `sim.model.call_log.read_call_log` reads), the day dated `on` (default 2026-01-05)."""
        from sim.output.call_log_export import FIRST_DATE, call_log_frame

        return call_log_frame(self.result, on or FIRST_DATE)


def simulate(scenario: ScenarioLike, seed: int | None = None, replication: int = 0) -> Day | WeekRun:
    """Simulate one day (replication `replication` of `seed`; default: the scenario's seed). The same seed
    and replication give identical tables, and two scenarios with the same seed share their callers.

    A scenario with a `week` block runs every day in order and returns the week (`WeekRun`: `table`, a row
    per day and the week's; `carried`, the work each close left; `results`, each day's run)."""
    loaded = _scenario(scenario)
    if loaded.week is not None:
        return simulate_week(loaded, seed, replication)
    return Day(simulate_day(loaded, seed, replication))


# --- replications ------------------------------------------------------------------------------------------


def _summary_frame(kpis: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per KPI column of a per-replication frame: replications counted, mean, Student-t half-width and the
    interval it spans (NaN with fewer than two replications)."""
    rows = []
    for column in kpis.columns:
        if column == "replication":
            continue
        values = kpis[column].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        mean = float(values.mean()) if len(values) else math.nan
        width = half_width(list(values), confidence)
        rows.append(
            {
                "kpi": column,
                "n": len(values),
                "mean": mean,
                "half_width": width,
                "low": mean - width,
                "high": mean + width,
            }
        )
    return pd.DataFrame(rows, columns=["kpi", "n", "mean", "half_width", "low", "high"]).set_index("kpi")


class Replications:
    """A scenario run for several independent replications of one seed.

    - `kpis`: one row per replication, one column per numeric KPI (flattened: `by_department.billing.asa`);
    - `summary`: one row per KPI: replications, mean, 95% half-width (Student t), low and high;
    - `intervals`: the interval table, means over replications (with `service_level_ci95`);
    - `first`: replication 0 as a `Day`, with all its tables.
    """

    def __init__(self, run: Replicated) -> None:
        self.run = run
        """What the runner returned (`sim.write_results` writes it)."""

    def __repr__(self) -> str:
        return f"<Replications {self.scenario.name!r} seed={self.seed} reps={self.reps}>"

    @property
    def scenario(self) -> Scenario:
        """The scenario replicated."""
        return self.run.scenario

    @property
    def seed(self) -> int:
        """The seed shared by the replications."""
        return self.run.seed

    @property
    def reps(self) -> int:
        """Replications run."""
        return len(self.run.replications)

    @cached_property
    def first(self) -> Day:
        """Replication 0, kept in full."""
        return Day(self.run.first)

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """One row per replication: `replication` and every numeric KPI."""
        return pd.DataFrame(
            [{"replication": r.replication, **kpi_row(r.summary)} for r in self.run.replications]
        )

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per KPI: `n`, `mean`, `half_width` (95%, Student t over the replications), `low`, `high`."""
        return _summary_frame(self.kpis)

    @property
    def means(self) -> dict[str, Any]:
        """The summary as `summary.json` holds it: nested means, `ci95` half-widths in the same shape, `reps`."""
        return self.run.summary

    @cached_property
    def intervals(self) -> pd.DataFrame:
        """The interval table: means over the replications, with `service_level_ci95`."""
        return self.run.intervals


def replicate(
    scenario: ScenarioLike,
    reps: int,
    seed: int | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Replications:
    """Run replications 0..reps-1 of `seed` (default: the scenario's) on `jobs` local processes (default:
    all cores; 1 runs here). `progress(done, reps)` is called as each replication finishes."""
    loaded = _scenario(scenario)
    done = 0

    def finished(_: ReplicationKpis) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, reps)

    return Replications(replicate_runs(loaded, seed, reps, jobs, on_done=finished))


# --- sweeps ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    """A sweep: `rows`, the tidy table (one row per point and replication: point, replication, seed, the
    parameters, `error` (None when the task ran), every KPI); `summary`, one row per point (parameters,
    `reps`, `failed`, `error`, and per KPI its mean and `_ci95` half-width); `plan`, what was run."""

    plan: SweepPlan
    rows: pd.DataFrame
    summary: pd.DataFrame

    @property
    def parameters(self) -> list[str]:
        """The swept scenario paths (parameter columns of both tables)."""
        return self.plan.keys

    @property
    def failed(self) -> pd.DataFrame:
        """The rows that failed (refused points, tasks that raised), with their errors."""
        return self.rows[self.rows["error"].notna()]


def sweep(
    scenario: ScenarioLike,
    grid: Mapping[str, Any] | Sequence[str],
    reps: int = 1,
    design: str = "grid",
    samples: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    overrides: Overrides | None = None,
    dask: str | None = None,
) -> SweepResult:
    """Run a scenario over a grid (`design="grid"`, the full factorial) or a Latin hypercube (`"lhs"`,
    `samples` points) of parameter values, `reps` replications per point, all with the same seed (common
    random numbers: every point sees the same callers). `grid` maps dotted paths to values:
    `{"departments.billing.agents": [8, 9, 10], "patience.mean": "2m:5m"}` (a text is a `--grid` SPEC:
    `8:16`, `8:16:2`, `2m,3m`, a continuous `2m:5m` for a hypercube). A point the model refuses, or a task
    that raises, is a row with its `error`; the others go on. `progress(done, total)` counts rows. The
    tasks run on `jobs` local processes (default: all cores; 1 runs here), or on the Dask scheduler at
    `dask` (`tcp://host:8786`); the rows are the same wherever they ran."""
    if isinstance(scenario, Scenario | Mapping):
        source: Any = scenario
    else:
        source = Path(scenario)
    plan = plan_sweep(source, grid, design, samples, seed, reps, _override_texts(overrides))
    executor = make_executor(1 if plan.tasks == 1 and not dask else jobs, dask)
    try:
        rows = run_plan(plan, executor, progress)
    finally:
        executor.close()
    return SweepResult(plan, rows, summarize(plan, rows))


# --- staffing ----------------------------------------------------------------------------------------------


def staff(
    scenario: ScenarioLike,
    targets: Mapping[str, float] | Sequence[str] | None = None,
    ceilings: Mapping[str, float] | Sequence[str] | None = None,
    *,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    only: str | None = None,
    progress: Progress | None = None,
    confidence: float | None = None,
    days_met: float | None = None,
) -> StaffingPlan:
    """The fewest agents per interval and department that meet every floor in `targets` (e.g.
    `{"service_level": 0.8}`; default: the scenario's own) and every ceiling (e.g. `{"abandon_rate": 0.05}`)
    in every interval: the staffing search (`sim.experiments.staffing.search`), returning its
    `StaffingPlan`. `only` re-plans one department, the others keep their staffing; `reps` (replications
    per judgement) defaults to the search's own. `confidence` (e.g. 0.95): each goal met by its one-sided
    Student-t bound, not its mean; `days_met` (e.g. 0.9): every goal met on at least that share of the
    simulated days (as `callsim staff --confidence/--days-met`; default: the scenario's goals block)."""
    from sim.experiments.staffing import search

    options: dict[str, Any] = {"seed": seed, "jobs": jobs, "only": only, "progress": progress}
    if reps is not None:
        options["reps"] = reps
    if confidence is not None:
        options["confidence"] = confidence
    if days_met is not None:
        options["days_met"] = days_met
    return search(_scenario(scenario), targets, ceilings, **options)


def staff_groups(
    scenario: ScenarioLike,
    targets: Mapping[str, float] | Sequence[str] | None = None,
    ceilings: Mapping[str, float] | Sequence[str] | None = None,
    *,
    reps: int = 10,
    seed: int | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> GroupPlan:
    """The least-cost count per interval of every pool, the departments' own agents and each cross-trained
    agent group, meeting `targets` and `ceilings` (default: the scenario's goals) in every interval and
    department, by simulation with common random numbers (`sim.experiments.staffing.groups`; as `callsim
    staff --groups`). The answer carries the separate-queues answer and the fully pooled bound beside it; with
    email departments (not judged by interval: their emails ride along) its `emails` holds the plan's email
    outcome on `reps` replications of seed + 1 (`sim.experiments.staffing.email_outcome.EmailOutcome`)."""
    from sim.experiments.staffing.groups import search_groups
    from sim.experiments.staffing.targets import targets_from

    base = _scenario(scenario)
    return search_groups(
        base, targets_from(targets, ceilings, base), reps=reps, seed=seed, jobs=jobs, progress=progress
    )


def staff_emails(
    scenario: ScenarioLike,
    targets: Sequence[str] = (),
    ceilings: Sequence[str] = (),
    *,
    plan: StaffingPlan | GroupPlan | None = None,
    reps: int = 10,
    seed: int | None = None,
    jobs: int | None = None,
    confidence: float | None = None,
    days_met: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> EmailSizing:
    """The smallest flat headcount of each email-only pool meeting a day-level email goal (`targets` such as
    `email.within_due=0.95`, `ceilings` such as `email.backlog_at_close=0`), on `reps` replications of `seed`
    with the scenario as staffed, or as `plan` (a `staff` or `staff_groups` answer) staffs it (as `callsim
    staff --target email...`; `sim.experiments.staffing.email_sizing`). Other targets are ignored here."""
    from sim.experiments.staffing.email_sizing import size_email_pools, split_email_targets
    from sim.experiments.staffing.groups import GroupPlan as Groups
    from sim.experiments.staffing.groups import with_pools
    from sim.experiments.staffing.plans import with_plan
    from sim.experiments.staffing.targets import StaffingError

    base = _scenario(scenario)
    _, _, goal = split_email_targets(list(targets), list(ceilings), base, confidence, days_met)
    if goal is None:
        raise StaffingError("no email goal: give email.within_due=SHARE or email.backlog_at_close=COUNT")
    if isinstance(plan, Groups):
        base = with_pools(base, plan.plan)
    elif plan is not None:
        base = with_plan(base, plan.plan)
    executor = make_executor(jobs)
    try:
        return size_email_pools(base, goal, reps=reps, seed=seed, executor=executor, progress=progress)
    finally:
        executor.close()


def schedule(
    scenario: ScenarioLike,
    shifts: str | Path | Mapping[str, Any] | ShiftCatalogue,
    requirements: str | Path | Mapping[str, Sequence[int]] | StaffingPlan,
    objective: str = "hours",
    targets: Mapping[str, float] | Sequence[str] | None = None,
    ceilings: Mapping[str, float] | Sequence[str] | None = None,
    *,
    reps: int = 20,
    seed: int | None = None,
    jobs: int | None = None,
    max_rounds: int = 20,
    strict: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
    time_limit: float = 60.0,
) -> Schedule:
    """A roster of shifts from the catalogue `shifts` (a YAML path, its mapping, or a `ShiftCatalogue`)
    covering `requirements` (a `callsim staff` folder or requirement CSV, a `StaffingPlan`, or agents per
    interval by department) at least paid hours (`objective="hours"`) or cost (`"cost"`, wages from the
    scenario's `costs:`), by integer programming; then simulated (`reps` replications of `seed`, the same
    every round) and repaired, a shift at a time, while an interval misses the targets (as `staff` takes
    them; beyond its 95% CI, or on the mean with `strict`). `progress(round_record)` after each round;
    `time_limit`: seconds the integer programme may take per department (then its best roster, noted)."""
    from sim.experiments.executors import make_executor
    from sim.experiments.schedule import schedule as build
    from sim.experiments.staffing import StaffingPlan as Plan
    from sim.experiments.staffing.targets import targets_from
    from sim.model.requirements import read_requirements
    from sim.model.shift_catalogue import ShiftCatalogue as Catalogue
    from sim.model.shift_catalogue import catalogue_from_dict, load_catalogue

    base = _scenario(scenario)
    if isinstance(shifts, Catalogue):
        catalogue = shifts
    elif isinstance(shifts, Mapping):
        catalogue = catalogue_from_dict(dict(shifts))
    else:
        catalogue = load_catalogue(shifts)
    if isinstance(requirements, Plan):
        required: Mapping[str, Sequence[int]] = requirements.plan
    elif isinstance(requirements, Mapping):
        required = requirements
    else:
        required = read_requirements(requirements, base)
    executor = make_executor(jobs)
    try:
        return build(
            base,
            catalogue,
            required,
            targets_from(targets, ceilings, base),
            objective=objective,
            reps=reps,
            seed=seed,
            max_rounds=max_rounds,
            strict=strict,
            executor=executor,
            progress=progress,
            time_limit=time_limit,
        )
    finally:
        executor.close()


# --- comparing ---------------------------------------------------------------------------------------------


def compare(a: Replications | str | Path, b: Replications | str | Path) -> statistics.Comparison:
    """Two sets of replications (or two results folders) KPI by KPI: A, B, B - A and, with two or more
    replications on each side, a paired t-test under common random numbers (same seed and replications),
    else Welch's. `.frame` is the table; `.test` says which test and why."""
    if isinstance(a, Replications) and isinstance(b, Replications):
        test = statistics.choose_test(
            a.seed,
            a.kpis["replication"].tolist() if a.reps > 1 else None,
            b.seed,
            b.kpis["replication"].tolist() if b.reps > 1 else None,
        )
        shared = [d for d in a.scenario.departments if d in b.scenario.departments]
        rows = statistics.compare_rows(flatten(a.means), flatten(b.means), a.kpis, b.kpis, test, shared)
        # named by what differs between them, not both `small-centre`
        from sim.output.compare_labels import difference_labels

        labels = difference_labels((a.scenario, a.seed, a.reps), (b.scenario, b.seed, b.reps), ("A", "B"))
        return statistics.Comparison(test, rows, labels)
    if isinstance(a, Replications) or isinstance(b, Replications):
        raise TypeError("compare two Replications, or two results folders, not one of each")
    from sim.output.compare import compare as compare_folders
    from sim.output.saved import load_run

    found = compare_folders(load_run(a), load_run(b))
    return statistics.Comparison(found.test, found.rows, found.labels)


# --- writing -----------------------------------------------------------------------------------------------


def _as_replicated(day: Day) -> Replicated:
    kpis = ReplicationKpis(
        day.replication, day.summary, day.intervals, day.result.wall_time, day.result.calls_offered
    )
    return Replicated(day.scenario, day.seed, day.result, [kpis], day.result.wall_time)


def fit(
    log: CallLog | str | Path,
    interval: float | str = 1800.0,
    start: float | str | None = None,
    end: float | str | None = None,
    day_type: str | None = None,
    staffing: str = "presence",
    log_format: Any = None,
    on_bad_rows: str | None = None,
) -> FittedScenario:
    """A scenario fitted to a call log (a path, read with `log_format`, or a `CallLog` already read):
    arrivals per interval and call type (of the days of `day_type`, all by default), busyness, handle and
    wrap times per call type and interval, patience per call type from censored waits, agents present per
    department (`staffing`: presence, busy or distinct). `interval` and the hours (`start`, `end`, clock
    times; default: from the first and last arrival) accept durations and clock texts. The result's
    `scenario` is a plain dict with `files` beside it; `sim.write_results(fitted, folder)` writes the
    folder `callsim run` takes. Raises `sim.model.log_file.CallLogError` for a refused log and
    `sim.analysis.fitting.days.FitError` for what the log cannot give."""
    from sim.analysis.fitting.fit import fit_log
    from sim.model.call_log import CallLog, read_call_log
    from sim.model.durations import parse_clock, parse_duration

    read = log if isinstance(log, CallLog) else read_call_log(log, log_format, on_bad_rows)
    return fit_log(
        read,
        interval=parse_duration(interval),
        start=None if start is None else parse_clock(start),
        end=None if end is None else parse_clock(end),
        day_type=day_type,
        staffing_method=staffing,
    )


def backtest(
    log: CallLog | str | Path,
    scenario: ScenarioLike,
    reps: int = 20,
    seed: int | None = None,
    jobs: int | None = None,
    log_format: Any = None,
    on_bad_rows: str | None = None,
    progress: Progress | None = None,
) -> Backtest:
    """How well `scenario` predicts a call log (a path, read with `log_format`, or a `CallLog` already
    read): the logged days against `reps` simulated days, per interval and call type (offered, service
    level, abandonment rate, ASA). The result's `table` holds each logged day's figure beside the simulated
    mean and the band of a single simulated day, `errors` the mean absolute error, bias and coverage per KPI
    and call type, `notes` what the log could not tell; `sim.output.backtest_folder.write_backtest` writes
    its folder. `progress(done, reps)` is called as each simulated day finishes."""
    from sim.experiments.backtest import backtest as run_backtest
    from sim.model.call_log import CallLog, read_call_log

    read = log if isinstance(log, CallLog) else read_call_log(log, log_format, on_bad_rows)
    return run_backtest(read, _scenario(scenario), reps, seed, jobs, progress)


def trace(
    scenario: ScenarioLike,
    change: Overrides | None = None,
    *,
    overrides: Overrides | None = None,
    seed: int | None = None,
    call_id: int | None = None,
    reason: str | None = None,
    pick: str | Sequence[str] = (),
    min_agents: int | None = None,
    waited_over: float | str | None = None,
    nth: int = 1,
    longest: bool = False,
    picture: str | Path | None = None,
    slides: bool = False,
    channel: str | None = None,
) -> Traced | TracedPair:
    """For trainers: one caller's journey, as `callsim trace` tells it. The caller is `call_id`, else the
    `nth` call (by arrival) that matches every criterion given (`pick`: `callback-from-hold`,
    `abandoned-on-hold`, `misrouted`, and for emails `overdue`, `from-backlog`, `left-in-backlog`,
    `overdue-call`; `min_agents`; `waited_over`, seconds or `"2m"`, in queues; `reason`; `channel`: `voice`,
    `chat` or `email`),
    else (or with `longest`) the longest chain among them. With `change` (overrides, as `--set-b`), the same
    caller is told under the scenario as given (A) and changed (B) on one seed: a `TracedPair`. `picture`
    saves the timeline(s) as a PNG (`slides`: large type, round clock ticks, every segment visible); nothing
    is written without it. Raises ValueError when no call matches, naming the criteria."""
    from sim.analysis.trace_picks import Criteria
    from sim.model.durations import parse_duration
    from sim.output.trace import trace as trace_one
    from sim.output.trace_pairs import labels, trace_pair

    texts, changes = _override_texts(overrides), _override_texts(change)
    base = load_scenario(scenario, texts)
    criteria = Criteria(
        (pick,) if isinstance(pick, str) else tuple(pick),
        min_agents,
        None if waited_over is None else parse_duration(waited_over),
        reason,
        channel,
    )
    path = None if picture is None else Path(picture)
    if not changes:
        return trace_one(
            base, seed, call_id, None, path, criteria=criteria, nth=nth, longest=longest, slides=slides
        )
    changed = load_scenario(scenario, [*texts, *changes])  # a file is read again: its relative files found
    label_a, label_b = labels(texts, changes)
    return trace_pair(base, changed, label_a, label_b, seed, call_id, criteria, nth, longest, path, slides)


def replay(folder: str | Path, out: str | Path | None = None, force: bool = False, slides: bool = False) -> Path:
    """For trainers: write the animated replay of a saved run (a results folder from `write_results` or
    `callsim run`) as one self-contained HTML page, by default `FOLDER/replay.html`; return where it went.
    An existing page is replaced only with `force` (`sim.output.folders.ResultsExist`); a folder that is
    not a run raises `sim.output.saved.NotARun`. With `slides`, the page opens in presentation mode."""
    from sim.output.replay import write_replay

    return write_replay(folder, out, force, slides)


def write_results(
    result: Day | Replications | SweepResult | statistics.Comparison | FittedScenario | Schedule,
    folder: str | Path,
    force: bool = False,
    report: bool = True,
    log: bool = False,
) -> Path:
    """Write a result as a folder, whole or not at all (it is filled beside and renamed into place), and
    return where it went. A `Day` or `Replications`: the results folder `callsim run` writes (scenario,
    meta.json, tables, summary.json and, unless `report=False`, report.html and plots) that `callsim report`
    and `callsim compare` read. A `SweepResult`: rows and summary (Parquet and CSV) and `sweep.json`. A
    `Comparison`: comparison.csv and comparison.json. A `FittedScenario` (`sim.fit`): scenario.yaml, its
    CSV files, fit.json and fit_report.html. An existing folder is refused
    (`sim.output.folders.ResultsExist`) unless `force`. With `log` (a `Day` or `Replications`), the calls
    also go to `calls_log.csv` in the call-log format, one dated day per replication."""
    from sim.output.folders import write_folder

    target = Path(folder)
    if isinstance(result, Day | Replications):
        from sim.output.results import write_run

        run = _as_replicated(result) if isinstance(result, Day) else result.run
        return write_run(target, run, force=force, command=["sim.write_results"], report=report, log=log)
    if isinstance(result, SweepResult):
        return write_folder(target, force, lambda path: _write_sweep(result, path))
    if isinstance(result, statistics.Comparison):
        return write_folder(target, force, lambda path: _write_comparison(result, path))
    from sim.analysis.fitting.fit import FittedScenario

    if isinstance(result, FittedScenario):
        from sim.output.fit_folder import write_fit

        return write_fit(target, result, force=force, command=["sim.write_results"], report=report)
    from sim.experiments.schedule import Schedule

    if isinstance(result, Schedule):
        from sim.output.schedule_folder import write_schedule

        return write_schedule(target, result, force, ["sim.write_results"])
    raise TypeError(
        f"cannot write a {type(result).__name__}: expected a Day, Replications, SweepResult, Comparison, "
        "FittedScenario or Schedule"
    )


def _write_sweep(result: SweepResult, folder: Path) -> None:
    from sim.experiments.provenance import git_revision, versions
    from sim.output.folders import clean_json
    from sim.output.sweep_folder import describe

    result.rows.to_parquet(folder / "rows.parquet", index=False)
    result.rows.to_csv(folder / "rows.csv", index=False)
    result.summary.to_parquet(folder / "summary.parquet", index=False)
    result.summary.to_csv(folder / "summary.csv", index=False)
    status = {
        **describe(result.plan),
        "status": "complete",
        "versions": versions(),
        "git_revision": git_revision(),
        "command": ["sim.write_results"],
        "rows": {"total": result.plan.tasks, "failed": int(result.rows["error"].notna().sum())},
    }
    text = json.dumps(clean_json(status), indent=2) + "\n"
    (folder / "sweep.json").write_text(text, encoding="utf-8")


def _write_comparison(result: statistics.Comparison, folder: Path) -> None:
    from sim.output.compare import comparison_record, write_tables

    write_tables(result.frame, comparison_record(result.test, result.labels, result.frame), folder)
