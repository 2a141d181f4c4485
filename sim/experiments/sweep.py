"""Experiments at scale, the library part: run a scenario over a grid (or a Latin hypercube) of parameter
values, with replications, through an executor (this process, local cores, a Dask cluster), and return one
row of KPIs per point and replication. Nothing here prints or writes: the folder a sweep keeps on disk (parts
written atomically, resume, `sweep.json`, plots) is `sim.output.sweep_folder`, and the command is
`sim.cli.sweep`.

Each point applies its values through the same `--set` path as `callsim run`, so every point is validated
like a scenario; a point that is refused is recorded with its error and the sweep goes on. A task that
raises is recorded the same way (its `error` column), and the others go on.

Every point runs replications 0..reps-1 of the same seed, so every point of every grid sees the same
callers in the same replication (common random numbers): differences between points are not noise.

`check_plots` refuses KPI names before anything runs, against the KPI columns of a summary (every numeric
key, flattened: `by_department.billing.asa`), from a one-interval day of the first valid point with no call
counted (a summary's keys do not depend on the day, save those named after what happened: `common_chains.*`).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim
from sim.analysis.confidence import half_widths, meets_target
from sim.analysis.rows import clean_json, kpi_row
from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.experiments.executors import Executor
from sim.experiments.sweep_design import (
    Parameter,
    SweepError,
    grid_design,
    lhs_design,
    parameters_from,
    table_value,
)
from sim.model.loading import ScenarioError, read_yaml, resolved_dict, scenario_from_dict
from sim.model.scenario import Scenario
from sim.model.variants import truncated

DEFAULT_PLOTS = ("service_level", "abandon_rate", "asa", "occupancy")
"""The KPIs a sweep plots unless told otherwise (and the headline columns of its summary)."""
FIXED_COLUMNS = ("point", "replication", "seed")

Source = Scenario | Mapping[str, Any] | str | Path
"""What a sweep starts from: a scenario, a parsed scenario mapping, or a YAML file."""


# --- the plan ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One design point: its settings (override texts), and its validated scenario or why it was refused."""

    index: int
    settings: dict[str, str]
    scenario: Scenario | None
    error: str | None = None


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep will run: the base scenario, the parameters, the points, seed and replications."""

    source: Path | None
    """The YAML file the sweep was planned from (None: a scenario or mapping given in Python)."""
    scenario: Scenario
    overrides: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    design: str
    samples: int | None
    seed: int
    reps: int
    points: tuple[Point, ...]
    numeric: frozenset[str] = frozenset()
    fingerprint: str = ""
    durations: frozenset[str] = frozenset()
    """Numeric parameters that are durations (shown in seconds)."""
    shard: tuple[int, int] | None = None
    """(I, N): this plan runs the I-th of N shares of the tasks (`owns`); None runs them all. Not part of
    the fingerprint: every shard of a sweep has the sweep's."""

    @property
    def keys(self) -> list[str]:
        """The swept scenario paths (the parameter columns of the tables)."""
        return [p.key for p in self.parameters]

    def parameter_values(self, point: Point) -> dict[str, Any]:
        """A point's parameter columns (numbers when every value of that parameter is a number)."""
        return {
            key: table_value(point.settings[key]) if key in self.numeric else point.settings[key]
            for key in self.keys
        }

    @property
    def tasks(self) -> int:
        """Rows the finished sweep (or this shard of it) has: points times replications."""
        if self.shard is None:
            return len(self.points) * self.reps
        return sum(self.owns(p.index, r) for p in self.points for r in range(self.reps))

    def owns(self, point: int, replication: int) -> bool:
        """Whether this plan runs (point, replication): always, unless it is one shard of the sweep. Task
        `replication * points + point` goes to shard `task % count + 1`, so a shard's share does not
        depend on `reps` (a resumed shard with more replications keeps what it ran) and mixes points."""
        if self.shard is None:
            return True
        index, count = self.shard
        return (replication * len(self.points) + point) % count == index - 1


def parse_shard(text: str) -> tuple[int, int]:
    """`2/5` -> (2, 5): the second of five shards (numbered from 1, as array jobs often are)."""
    index, sep, count = text.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        shard = (0, 0)
    if not sep or not 1 <= shard[0] <= shard[1]:
        raise SweepError(f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. --shard 2/5")
    return shard


def plan_sweep(
    source: Source,
    grid: Sequence[str] | Mapping[str, Any],
    design: str = "grid",
    samples: int | None = None,
    seed: int | None = None,
    reps: int = 1,
    overrides: Sequence[str] = (),
    base_dir: Path | str | None = None,
    shard: tuple[int, int] | None = None,
) -> SweepPlan:
    """Parse the parameters, build the design and validate every point (ScenarioError if none is valid).

    `source` is a YAML path (its points are its text with overrides, as `callsim run --set` makes them), a
    mapping as read from YAML, or a `Scenario` (its points are its resolved form with overrides). `grid` is
    `--grid` texts (`key=SPEC`) or a mapping `{key: SPEC text or list of values}`. `base_dir` is where
    relative files (arrival traces) are found (default: the YAML's folder, else the working directory).
    `shard` (I, N) makes the plan of one shard of the sweep (`SweepPlan.owns`)."""
    if reps < 1:
        raise SweepError("--reps must be >= 1")
    path: Path | None = None
    if isinstance(source, Scenario):
        data: Any = resolved_dict(source)
    elif isinstance(source, Mapping):
        data = dict(source)
    else:
        path = Path(source)
        data = read_yaml(path)
    where = Path(base_dir) if base_dir is not None else path.parent if path is not None else Path(".")
    label = str(path) if path is not None else ""
    try:
        base = scenario_from_dict(data, where, overrides)
    except ScenarioError as error:
        raise ScenarioError(error.problems, label or error.source) from None
    if not grid:
        raise SweepError("give at least one --grid dotted.path=VALUES")
    parameters: tuple[Parameter, ...] = parameters_from(grid)
    keys = [p.key for p in parameters]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise SweepError(f"--grid {', '.join(repeated)} given more than once")
    seed = base.seed if seed is None else seed
    if design == "grid":
        if samples is not None:
            raise SweepError("--samples goes with --design lhs")
        settings = grid_design(parameters)
    elif design == "lhs":
        if samples is None:
            raise SweepError("--design lhs needs --samples N")
        settings = lhs_design(parameters, samples, seed)
    else:
        raise SweepError(f"--design {design!r}: expected grid or lhs")
    points = []
    first_refusal: ScenarioError | None = None
    for index, setting in enumerate(settings):
        changes = [*overrides, *(f"{key}={value}" for key, value in setting.items())]
        try:
            points.append(Point(index, setting, scenario_from_dict(data, where, changes)))
        except ScenarioError as error:
            first_refusal = first_refusal or error
            points.append(Point(index, setting, None, "; ".join(str(p) for p in error.problems)))
    if first_refusal is not None and all(p.scenario is None for p in points):
        first = ", ".join(f"{k}={v}" for k, v in points[0].settings.items())
        raise ScenarioError(
            first_refusal.problems, f"{label or base.name} (every point refused; the first: {first})"
        )
    numeric = frozenset(
        key for key in keys if all(isinstance(table_value(p.settings[key]), int | float) for p in points)
    )
    plan = SweepPlan(
        path,
        base,
        tuple(overrides),
        parameters,
        design,
        samples,
        seed,
        reps,
        tuple(points),
        numeric,
        durations=_durations(data, where, overrides, points, numeric),
        shard=shard,
    )
    return _with_fingerprint(plan)


def _durations(
    data: Any, base_dir: Path, overrides: Sequence[str], points: Sequence[Point], numeric: frozenset[str]
) -> frozenset[str]:
    """The numeric parameters that are durations: those where the first valid point's value given in
    seconds (`120.0s`) makes the same scenario as the bare number (a count or a rate refuses the unit)."""
    point = next((p for p in points if p.scenario is not None), None)
    if point is None or point.scenario is None:
        return frozenset()
    found = set()
    for key in numeric:
        number = table_value(point.settings[key])
        probe = {**point.settings, key: f"{number!r}s"}
        changes = [*overrides, *(f"{k}={v}" for k, v in probe.items())]
        try:
            same = resolved_dict(scenario_from_dict(data, base_dir, changes)) == resolved_dict(point.scenario)
        except ScenarioError:
            same = False
        if same:
            found.add(key)
    return frozenset(found)


def _with_fingerprint(plan: SweepPlan) -> SweepPlan:
    """The plan with a hash of what decides its numbers (not `reps`: a resumed sweep may add replications)."""
    identity = {
        "scenario": resolved_dict(plan.scenario),
        "overrides": list(plan.overrides),
        "points": [p.settings for p in plan.points],
        "seed": plan.seed,
        "callsim": sim.__version__,
    }
    # keys in their order: the order of departments decides routing (the first that resolves a reason)
    digest = hashlib.sha256(json.dumps(clean_json(identity)).encode()).hexdigest()[:16]
    return dataclasses.replace(plan, fingerprint=digest)


# --- one task: what a worker does --------------------------------------------------------------------------


def point_kpis(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """Simulate one replication of one point and return its KPI row (never the event log)."""
    return kpi_row(summary(simulate(scenario, seed, replication)))


_TEMPLATES: dict[str, dict[str, Any]] = {}
"""Summaries of the short template day, by plan fingerprint (computed once per plan and process)."""


def template_summary(plan: SweepPlan) -> dict[str, Any]:
    """The summary of the first valid point's day cut after one interval, every call in the warm-up (none
    counted: a summary has the same keys for any day, here NaN or 0): the shape of every row's KPIs."""
    if plan.fingerprint in _TEMPLATES:
        return _TEMPLATES[plan.fingerprint]
    scenario = next(p.scenario for p in plan.points if p.scenario is not None)
    day = truncated(scenario, 1)
    kpis = summary(simulate(day.model_copy(update={"warmup": day.duration}), plan.seed, 0))
    if plan.fingerprint:
        _TEMPLATES[plan.fingerprint] = kpis
    return kpis


def kpi_names(plan: SweepPlan) -> tuple[list[str], list[str]]:
    """The KPI columns the sweep's tables will have, found without running it: the KPI row of the template
    day (`template_summary`). Also the mappings whose keys name what happened (`common_chains`, the chains
    of departments seen), empty on that day: names below them may be columns too."""
    kpis = template_summary(plan)

    def open_mappings(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
        for key, value in node.items():
            if isinstance(value, Mapping):
                yield from open_mappings(value, f"{prefix}{key}.") if value else (f"{prefix}{key}",)

    return list(kpi_row(kpis)), list(open_mappings(kpis))


def _template_order(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """A summary's numeric keys in order, flattened, with `name.` in the place of each mapping (whose keys
    name what happened, and so differ from day to day)."""
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield f"{name}."
            yield from _template_order(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield name


def _natural(name: str) -> tuple[Any, ...]:
    """`2` before `10`: numbers within names compared as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name))


def kpi_order(plan: SweepPlan, rows: pd.DataFrame, kpis: Sequence[str]) -> list[str]:
    """The KPI columns in one order whatever order the rows came in (so a sweep's table does not depend on
    which worker finished first, and shards merge to the same table as one run): the template summary's
    order; keys that name what happened (`common_chains.billing>technical`) where their mapping stands, by
    the first row (by point and replication) that has them, then by name. Without a template (no valid
    point, or its day fails) the columns stay as they are."""
    try:
        template = list(_template_order(template_summary(plan)))
    except Exception:  # the template day failed: every row records why; keep the order found
        return list(kpis)
    place = {name: index for index, name in enumerate(template)}
    order = rows.sort_values(["point", "replication"], kind="stable")
    first = {column: int(np.argmax(order[column].notna().to_numpy())) for column in kpis}

    def rank(column: str) -> tuple[Any, ...]:
        if column in place:
            return (place[column], 0, ())
        parent = column.rsplit(".", 1)[0] + "." if "." in column else ""
        while parent and parent not in place:
            parent = parent[:-1].rsplit(".", 1)[0] + "." if "." in parent[:-1] else ""
        at = place[parent] if parent else len(template)
        return (at, 1 + first[column], _natural(column))

    return sorted(kpis, key=rank)


def check_plots(plan: SweepPlan, plots: Sequence[str]) -> None:
    """Refuse (SweepError) `--plot` names that cannot be KPI columns of this sweep, naming valid ones."""
    try:
        names, open_ = kpi_names(plan)
    except Exception:  # the short day failed: the sweep records why per row; the names are checked after
        return
    unknown = [kpi for kpi in plots if kpi not in names and not kpi.startswith(tuple(f"{p}." for p in open_))]
    if not unknown:
        return
    hints = []
    for kpi in unknown:
        close = difflib.get_close_matches(kpi, names, n=3)
        hints.append(f"{kpi} (did you mean {' or '.join(close)}?)" if close else kpi)
    headline = {kpi.split(".")[-1] for kpi in (*DEFAULT_PLOTS, "mean_wait", "p90_wait")}
    examples = [name for name in names if name.split(".")[-1] in headline][:12]
    below = f"; or below {', '.join(open_)}" if open_ else ""
    raise SweepError(
        f"--plot {', '.join(hints)}: no such KPI. The KPIs are the numeric keys of a run's summary, dotted "
        f"for nested ones ({len(names)} here), e.g. {', '.join(examples)}{below}"
    )


# --- the tables --------------------------------------------------------------------------------------------


def tidy_rows(plan: SweepPlan, rows: pd.DataFrame) -> pd.DataFrame:
    """Columns in a fixed order and fixed types: point, replication, seed, parameters, error, KPIs (floats)."""
    rows = rows.copy()
    for column in FIXED_COLUMNS:
        rows[column] = rows[column].astype("int64")
    if "error" not in rows:
        rows["error"] = None
    rows["error"] = rows["error"].astype(object).where(rows["error"].notna(), None)
    values = {p.index: plan.parameter_values(p) for p in plan.points}
    for key in plan.keys:
        rows[key] = [values[int(i)][key] if int(i) in values else None for i in rows["point"]]
    front = [*FIXED_COLUMNS, *plan.keys, "error"]
    kpis = kpi_order(plan, rows, [c for c in rows.columns if c not in front])
    for column in kpis:
        rows[column] = rows[column].astype("float64")
    return rows[front + kpis]


def kpi_columns(table: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """The KPI columns of a rows table (everything but point, replication, seed, parameters and error)."""
    skip = {*FIXED_COLUMNS, *keys, "error"}
    return [c for c in table.columns if c not in skip]


def summarize(plan: SweepPlan, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per point: parameters, replications, failures, and per KPI the mean and 95% half-width
    (Student t over the point's successful replications)."""
    kpis = kpi_columns(rows, plan.keys)
    index = pd.Index([p.index for p in plan.points], name="point")
    front = pd.DataFrame([plan.parameter_values(p) for p in plan.points], index=index, columns=plan.keys)
    failed_rows = rows[rows["error"].notna()]
    ok = rows[rows["error"].isna()]
    front["reps"] = ok.groupby("point").size().reindex(index, fill_value=0).astype("int64")
    front["failed"] = failed_rows.groupby("point").size().reindex(index, fill_value=0).astype("int64")
    refused = pd.Series({p.index: p.error for p in plan.points if p.error}, dtype=object)
    first_error = failed_rows.groupby("point")["error"].first().astype(object)
    errors = first_error.reindex(index).astype(object)
    if len(refused):
        errors.loc[refused.index] = refused
    front["error"] = errors.where(errors.notna(), None)
    if not kpis:
        return front.reset_index()
    grouped = ok.groupby("point")[kpis]
    means = grouped.mean().reindex(index)
    counts = grouped.count().reindex(index, fill_value=0)
    spread = grouped.std(ddof=1).reindex(index)
    n = counts.to_numpy(dtype=float)
    half = half_widths(spread.to_numpy(dtype=float), n)
    widths = pd.DataFrame(half, index=index, columns=[f"{k}_ci95" for k in kpis])
    interleaved = [c for kpi in kpis for c in (kpi, f"{kpi}_ci95")]
    table = pd.concat([front, means, widths], axis=1)[[*front.columns, *interleaved]].copy()  # one block
    if {"service_level", "service_level_target"} <= set(kpis):
        # The chance a day meets the target, per point: with busy days, what a staffing level buys beyond the mean.
        met = pd.Series(meets_target(ok["service_level"], ok["service_level_target"]), index=ok.index)
        table["days_meeting_target"] = met.groupby(ok["point"]).mean().reindex(index)
    return table.reset_index()


def task_row(
    plan: SweepPlan,
    point: int,
    replication: int,
    params: Mapping[int, Mapping[str, Any]],
    kpis: Mapping[str, float] | None,
    error: str | None,
) -> dict[str, Any]:
    """One row of the tidy table: point, replication, seed, the point's parameters, error and KPIs."""
    return {
        "point": point,
        "replication": replication,
        "seed": plan.seed,
        **params[point],
        "error": error,
        **(kpis or {}),
    }


# --- running points ----------------------------------------------------------------------------------------


def run_rows(
    plan: SweepPlan,
    executor: Executor,
    skip: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset(),
    on_progress: Callable[[int, int], None] | None = None,
) -> Generator[dict[str, Any], None, None]:
    """Yield a row for every (point, replication) the plan owns and `skip` lacks: first those of refused points
    (their error, never run), then the others as the executor finishes them (a task that raised has its
    error and no KPIs). `on_progress(done, total)` counts the plan's rows, the skipped ones as done.

    Close the iterator (or let it go) to cancel what has not started; the tasks call `point_kpis` as this
    module holds it when the iterator starts."""
    params = {p.index: plan.parameter_values(p) for p in plan.points}
    tasks: list[tuple[int, int]] = []
    for point in plan.points:
        for replication in range(plan.reps):
            if (point.index, replication) in skip or not plan.owns(point.index, replication):
                continue
            if point.error is not None:  # a refused point: recorded, never run
                yield task_row(plan, point.index, replication, params, None, point.error)
            else:
                tasks.append((point.index, replication))
    total = plan.tasks  # counted once: for a shard, a pass over every point and replication
    done = total - len(tasks)
    if on_progress:
        on_progress(done, total)
    arguments = [(plan.points[p].scenario, plan.seed, r) for p, r in tasks]
    for item in executor.run(point_kpis, arguments):
        number, replication = tasks[item.index]
        yield task_row(plan, number, replication, params, item.value, item.error)
        done += 1
        if on_progress:
            on_progress(done, total)


def run_plan(
    plan: SweepPlan, executor: Executor, on_progress: Callable[[int, int], None] | None = None
) -> pd.DataFrame:
    """Every row of the plan, run now and held in memory: the tidy table (sorted by point, replication)."""
    rows = list(run_rows(plan, executor, on_progress=on_progress))
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=[*FIXED_COLUMNS, "error"])
    frame["error"] = frame["error"].astype(object)
    frame = frame.sort_values(["point", "replication"], kind="stable", ignore_index=True)
    return tidy_rows(plan, frame)
