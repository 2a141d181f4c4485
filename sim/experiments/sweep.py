"""Experiments at scale: run a scenario over a grid (or a Latin hypercube) of parameter values, with
replications, on local cores or a Dask cluster, into a folder that survives interruption.

A parameter is a dotted scenario path with values (`departments.billing.agents=8:16`, `8:16:2`,
`patience.mean=2m,3m,5m`; for a Latin hypercube also continuous ranges such as `patience.mean=2m:5m`).
Each point applies its values through the same `--set` path as `callsim run`, so every point is validated
like a scenario; a point that is refused is recorded with its error and the sweep goes on.

Every point runs replications 0..reps-1 of the same seed, so every point of every grid sees the same
callers in the same replication (common random numbers): differences between points are not noise.

The folder (`--out`):

| file | what |
|---|---|
| `sweep.json` | the plan (scenario, seed, parameters, points), status, counts, versions |
| `parts/part-NNNNNN.parquet` | rows appended while the sweep runs (each written whole, then renamed) |
| `rows.parquet`, `rows.csv` | the tidy table: one row per point and replication, parameters and every KPI |
| `summary.parquet`, `summary.csv` | one row per point: replications, mean and `_ci95` half-width per KPI |
| `plots/KPI-vs-PARAMETER.png` | chosen KPIs against each parameter, with 95% CI bands (drawn beside, swapped in) |

Every file is written under a temporary name, flushed to disk and renamed, so a sweep stopped any way at
all (Ctrl-C, SIGTERM, SIGKILL, a full disk) leaves only whole files; the temporary files a kill leaves are
removed by the next sweep in the folder, and `--resume` runs only what is missing. A sweep stopped any way
but SIGKILL leaves `sweep.json` saying `interrupted`, with the counts of the rows it holds.

`--resume` may add replications (`--reps 8` on a folder made with `--reps 4` runs replications 4..7), never
drop them: a folder holding replication 7 of any point refuses `--resume --reps 6`. Keeping the extra rows
would compare points over different replications (no longer common random numbers), and dropping them would
lose work; start again with `--force` or another `--out` to keep fewer. So the tables always hold exactly the
plan's points and replications 0..reps-1 (fewer while interrupted), and `sweep.json`'s `reps` and row counts
describe them.

`--plot` names are checked before anything runs, against the KPI columns of a summary (every numeric key,
flattened: `by_department.billing.asa`), from a one-interval day of the first valid point with no call
counted (a summary's keys do not depend on the day, save those named after what happened: `common_chains.*`).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from scipy import stats

import sim
from sim.analysis.metrics import summary
from sim.analysis.rows import kpi_row
from sim.engine.day import simulate
from sim.experiments.executors import Executor, make_executor
from sim.experiments.provenance import git_revision, versions
from sim.model.durations import parse_duration
from sim.model.loading import ScenarioError, read_yaml, resolved_dict, scenario_from_dict
from sim.model.scenario import Scenario
from sim.model.streams import Streams
from sim.model.variants import truncated
from sim.output.folders import (
    ResultsError,
    ResultsExist,
    check_creatable,
    clean_json,
    clean_stale,
    default_run_dir,
    fsync_path,
    replace_folder,
    staging_name,
    sync_tree,
    unwritable,
)

DEFAULT_PLOTS = ("service_level", "abandon_rate", "asa", "occupancy")
MAX_POINTS = 100_000
FIXED_COLUMNS = ("point", "replication", "seed")


class SweepError(ValueError):
    """A sweep that cannot start: a malformed --grid, a bad design, or a folder holding another sweep."""


# --- parameters and designs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One swept scenario path: its discrete values (override texts), or a continuous range (LHS only)."""

    key: str
    spec: str
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def continuous(self) -> bool:
        """A range sampled continuously (`2m:5m`, `0.5:0.9`): only a Latin hypercube can use it."""
        return self.low is not None


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator`s outside brackets, braces and quotes (`[1, 2],{a: 1}` is two items)."""
    items: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == separator and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items


def _yaml_scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _as_number(text: str) -> int | float | None:
    """An int (YAML integer), a float (YAML float or a duration such as `2m`, in seconds), or None."""
    value = _yaml_scalar(text.strip())
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            return None
    return None


def _number_text(value: float) -> str:
    return repr(float(value))


def parse_parameter(text: str) -> Parameter:
    """`key=8:16`, `key=8:16:2` (inclusive integer ranges), `key=2m,3m,5m` (a list), `key=2m:5m` (continuous,
    Latin hypercube only; `2m:5m:30s` steps it for a grid), or a single value."""
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    usage = "expected dotted.path=VALUES, e.g. departments.billing.agents=8:16 or patience.mean=2m,3m,5m"
    if not sep or not key or not spec or not all(part.strip() for part in key.split(".")):
        raise SweepError(f"--grid {text!r}: {usage}")
    if key.split(".")[0] in ("seed", "name"):
        raise SweepError(
            f"--grid {text!r}: {key} cannot be swept (every point shares the seed: common random numbers)"
        )
    items = [item.strip() for item in split_top_level(spec)]
    if len(items) > 1:
        if not all(items):
            raise SweepError(f"--grid {text!r}: empty value in the list")
        return Parameter(key, spec, tuple(items))
    parts = spec.split(":")
    numbers = [_as_number(part) for part in parts] if len(parts) in (2, 3) else []
    if not numbers or any(n is None for n in numbers):
        return Parameter(key, spec, (spec,))
    low, high, *rest = (float(n) if not isinstance(n, int) else n for n in numbers if n is not None)
    if high < low:
        raise SweepError(f"--grid {text!r}: the range {spec} is empty (quote clock times: '\"08:00\"')")
    if all(isinstance(n, int) for n in numbers):
        step = int(rest[0]) if rest else 1
        if step <= 0:
            raise SweepError(f"--grid {text!r}: the step must be > 0")
        return Parameter(key, spec, tuple(str(v) for v in range(int(low), int(high) + 1, step)))
    if not rest:
        return Parameter(key, spec, (), float(low), float(high))
    step_size = float(rest[0])
    if step_size <= 0:
        raise SweepError(f"--grid {text!r}: the step must be > 0")
    count = math.floor((high - low) / step_size + 1e-9) + 1
    return Parameter(key, spec, tuple(_number_text(round(low + k * step_size, 9)) for k in range(count)))


def table_value(text: str) -> Any:
    """What a setting shows in the tables: numbers as numbers, durations in seconds, anything else as text."""
    number = _as_number(text)
    return text if number is None else number


def grid_design(parameters: Sequence[Parameter]) -> list[dict[str, str]]:
    """The full factorial: every combination of every parameter's values (the last varies fastest)."""
    continuous = [p.key for p in parameters if p.continuous]
    if continuous:
        raise SweepError(
            f"{', '.join(continuous)}: a continuous range needs a step in a grid (2m:5m:30s), "
            "or use --design lhs --samples N"
        )
    count = math.prod(len(p.values) for p in parameters)
    if count > MAX_POINTS:
        raise SweepError(f"the grid has {count:,} points; at most {MAX_POINTS:,}")
    return [
        {p.key: value for p, value in zip(parameters, combination, strict=True)}
        for combination in itertools.product(*(p.values for p in parameters))
    ]


def lhs_design(parameters: Sequence[Parameter], samples: int, seed: int) -> list[dict[str, str]]:
    """A Latin hypercube of `samples` points: each parameter's range cut into `samples` equal strata, each
    stratum used once, strata paired at random (from the seed's `sweep.lhs` stream). Continuous ranges are
    sampled within their stratum; lists and integer ranges take the value whose share holds the sample."""
    if not 1 <= samples <= MAX_POINTS:
        raise SweepError(f"--samples must be between 1 and {MAX_POINTS:,}")
    rng = Streams(seed, 0).generator("sweep.lhs")
    points: list[dict[str, str]] = [{} for _ in range(samples)]
    for parameter in parameters:
        u = (rng.permutation(samples) + rng.random(samples)) / samples
        for point, share in zip(points, u, strict=True):
            if parameter.continuous:
                assert parameter.low is not None and parameter.high is not None
                value = parameter.low + share * (parameter.high - parameter.low)
                point[parameter.key] = f"{value:.6f}"
            else:
                point[parameter.key] = parameter.values[
                    min(int(share * len(parameter.values)), len(parameter.values) - 1)
                ]
    return points


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

    source: Path
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
        """Rows the finished sweep has: points times replications."""
        return len(self.points) * self.reps


def plan_sweep(
    source: Path,
    grid: Sequence[str],
    design: str = "grid",
    samples: int | None = None,
    seed: int | None = None,
    reps: int = 1,
    overrides: Sequence[str] = (),
) -> SweepPlan:
    """Parse the parameters, build the design and validate every point (ScenarioError if none is valid)."""
    if reps < 1:
        raise SweepError("--reps must be >= 1")
    source = Path(source)
    data = read_yaml(source)
    try:
        base = scenario_from_dict(data, source.parent, overrides)
    except ScenarioError as error:
        raise ScenarioError(error.problems, str(source)) from None
    if not grid:
        raise SweepError("give at least one --grid dotted.path=VALUES")
    parameters = tuple(parse_parameter(text) for text in grid)
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
            points.append(Point(index, setting, scenario_from_dict(data, source.parent, changes)))
        except ScenarioError as error:
            first_refusal = first_refusal or error
            points.append(Point(index, setting, None, "; ".join(str(p) for p in error.problems)))
    if first_refusal is not None and all(p.scenario is None for p in points):
        where = ", ".join(f"{k}={v}" for k, v in points[0].settings.items())
        raise ScenarioError(first_refusal.problems, f"{source} (every point refused; the first: {where})")
    numeric = frozenset(
        key for key in keys if all(isinstance(table_value(p.settings[key]), int | float) for p in points)
    )
    plan = SweepPlan(
        source,
        base,
        tuple(overrides),
        parameters,
        design,
        samples,
        seed,
        reps,
        tuple(points),
        numeric,
        durations=_durations(data, source, overrides, points, numeric),
    )
    return _with_fingerprint(plan)


def _durations(
    data: Any, source: Path, overrides: Sequence[str], points: Sequence[Point], numeric: frozenset[str]
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
            same = resolved_dict(scenario_from_dict(data, source.parent, changes)) == resolved_dict(
                point.scenario
            )
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


def kpi_names(plan: SweepPlan) -> tuple[list[str], list[str]]:
    """The KPI columns the sweep's tables will have, found without running it: the KPI row of the first valid
    point's day cut after one interval, every call in the warm-up (none counted: a summary has the same keys
    for any day, here NaN or 0). Also the mappings whose keys name what happened (`common_chains`, the
    chains of departments seen), empty on that day: names below them may be columns too."""

    scenario = next(p.scenario for p in plan.points if p.scenario is not None)
    day = truncated(scenario, 1)
    kpis = summary(simulate(day.model_copy(update={"warmup": day.duration}), plan.seed, 0))

    def open_mappings(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
        for key, value in node.items():
            if isinstance(value, Mapping):
                yield from open_mappings(value, f"{prefix}{key}.") if value else (f"{prefix}{key}",)

    return list(kpi_row(kpis)), list(open_mappings(kpis))


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


# --- the folder --------------------------------------------------------------------------------------------


def _fsync_path(path: Path) -> None:
    fsync_path(path)


TEMPORARY = re.compile(r"^\..+\.\d+\.tmp$")
"""`.NAME.PID.tmp`: a file being written by `atomic_write` (a leftover after SIGKILL)."""


def atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    """Let `writer` fill a temporary sibling (`.NAME.PID.tmp`), flush it to disk, then rename it to `path`
    in one step; the folder is flushed too, so the rename itself survives a crash."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        writer(temporary)
        _fsync_path(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_path(path.parent)


def _write_json(path: Path, value: Any) -> None:
    text = json.dumps(clean_json(value), indent=2) + "\n"

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    atomic_write(path, write)


def _part_paths(folder: Path) -> list[Path]:
    return sorted((folder / "parts").glob("part-*.parquet"))


def read_rows(folder: Path) -> pd.DataFrame:
    """The rows a sweep folder holds (consolidated table plus appended parts), one per point and
    replication, the latest record of each; empty if there are none."""
    frames = []
    if (folder / "rows.parquet").exists():
        frames.append(pd.read_parquet(folder / "rows.parquet"))
    frames.extend(pd.read_parquet(path) for path in _part_paths(folder))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=[*FIXED_COLUMNS, "error"])
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.drop_duplicates(["point", "replication"], keep="last")
    return rows.sort_values(["point", "replication"], kind="stable", ignore_index=True)


def _tidy(plan: SweepPlan, rows: pd.DataFrame) -> pd.DataFrame:
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
    kpis = [c for c in rows.columns if c not in front]
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
    t = stats.t.ppf(0.975, np.maximum(n - 1, 1))
    half = np.where(n >= 2, t * spread.to_numpy(dtype=float) / np.sqrt(np.maximum(n, 1)), np.nan)
    widths = pd.DataFrame(half, index=index, columns=[f"{k}_ci95" for k in kpis])
    interleaved = [c for kpi in kpis for c in (kpi, f"{kpi}_ci95")]
    return pd.concat([front, means, widths], axis=1)[[*front.columns, *interleaved]].reset_index()


# --- running a sweep ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepOutcome:
    """A finished (or interrupted) sweep: its folder, tables, plots and counts."""

    folder: Path
    rows: pd.DataFrame
    summary: pd.DataFrame
    plots: list[Path]
    ran: int
    kept: int
    failed: int
    complete: bool
    wall_time: float


def check_folder(plan: SweepPlan, folder: Path, resume: bool, force: bool) -> bool:
    """Refuse a folder that holds something else (ResultsExist, SweepError); True if it must be replaced."""
    if folder.exists() and not folder.is_dir():
        raise ResultsExist(f"{folder} exists and is not a folder")
    holds = folder.exists() and any(child.name != ".lock" for child in folder.iterdir())
    if holds and resume:
        try:
            stored = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SweepError(f"{folder} is not a sweep folder (no readable sweep.json)") from None
        if stored.get("fingerprint") != plan.fingerprint:
            raise SweepError(
                f"{folder} holds another sweep (different scenario, parameters, seed or version); "
                "use another --out, or --force to replace it"
            )
        held = held_reps(folder)
        if held > plan.reps:
            raise SweepError(
                f"{folder} holds replications 0..{held - 1} (--reps {held}); resume it with --reps {held} "
                "or more (fewer would compare points over different replications), or start again with "
                "--force or another --out"
            )
    elif holds and not force:
        raise ResultsExist(
            f"{folder} already holds results; use --resume to complete it or --force to replace it"
        )
    return holds and not resume


def held_reps(folder: Path) -> int:
    """Replications per point the folder's rows reach (the highest replication held, plus one; 0 if none)."""
    try:
        rows = read_rows(folder)
    except OSError:  # a part folded away while read (another sweep here, which the lock will refuse)
        return 0
    return int(rows["replication"].max()) + 1 if len(rows) else 0


def revision_change(folder: Path) -> str | None:
    """When the rows already in a sweep folder were computed by another revision of callsim, say so: the
    rows resumed now come from different code (None when the same, or either is unknown)."""
    try:
        stored = json.loads((folder / "sweep.json").read_text(encoding="utf-8")).get("git_revision")
    except (OSError, ValueError, AttributeError):
        return None
    now = git_revision()
    if not isinstance(stored, str) or "unknown" in (stored, now) or stored == now:
        return None
    return f"the rows in {folder} were computed by callsim {stored}, this is {now}: the table mixes both"


class SweepLocked(SweepError):
    """Another process is running a sweep in this folder."""


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold `folder/.lock` while a sweep writes there (released when the process ends, however it ends)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepLocked(f"another sweep is running in {folder}") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def prepare_folder(plan: SweepPlan, folder: Path, resume: bool, force: bool) -> None:
    """Make the sweep folder: new, or (with `resume`) the same sweep's, or (with `force`) emptied. Under
    the folder lock, so whatever temporary files are there were left by a sweep that was killed: they go."""
    if check_folder(plan, folder, resume, force):
        for child in folder.iterdir():
            if child.name == ".lock":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove what a killed sweep left half-written in `folder`: `.NAME.PID.tmp` files (here and in
    `parts/`) and staging folders of pictures (`.plots.HOST.PID-TOKEN.partial`). Call it holding the lock."""
    removed = clean_stale(folder)
    for place in (folder, folder / "parts"):
        if not place.is_dir():
            continue
        for child in place.iterdir():
            if TEMPORARY.match(child.name) and child.is_file():
                child.unlink(missing_ok=True)
                removed.append(child)
    return removed


def describe(plan: SweepPlan) -> dict[str, Any]:
    """What `sweep.json` records about the plan."""
    return {
        "scenario": plan.scenario.name,
        "source": str(plan.source),
        "seed": plan.seed,
        "reps": plan.reps,
        "design": plan.design,
        "samples": plan.samples,
        "parameters": [{"key": p.key, "spec": p.spec} for p in plan.parameters],
        "overrides": list(plan.overrides),
        "points": [{"point": p.index, "settings": p.settings, "error": p.error} for p in plan.points],
        "fingerprint": plan.fingerprint,
    }


MAX_PARTS = 256
"""Parts a running sweep keeps before folding them into `rows.parquet`."""
POINT_SPACING = 1.0
"""Seconds between two parts written because a point finished (a part per finished point, at most one a second)."""


class _Appender:
    """Collects finished rows and writes them as a new part (whole, then renamed) when a point has all its
    replications, or every `every` seconds; past `MAX_PARTS` parts it folds them into `rows.parquet`."""

    def __init__(self, plan: SweepPlan, folder: Path, every: float, remaining: dict[int, int]) -> None:
        self.plan = plan
        self.folder = folder
        self.every = every
        self.remaining = dict(remaining)
        self.pending: list[dict[str, Any]] = []
        self.last = time.monotonic()
        numbers = [int(p.stem.split("-")[1]) for p in _part_paths(folder)]
        self.number = max(numbers, default=0)
        self.parts = len(numbers)

    def add(self, row: dict[str, Any]) -> None:
        self.pending.append(row)
        point = int(row["point"])
        self.remaining[point] = self.remaining.get(point, 1) - 1
        since = time.monotonic() - self.last
        if (
            since >= self.every
            or (self.remaining[point] <= 0 and since >= POINT_SPACING)
            or len(self.pending) >= 5000
        ):
            self.flush()

    def flush(self) -> None:
        self.last = time.monotonic()
        if not self.pending:
            return
        frame = pd.DataFrame(self.pending)
        frame["error"] = frame["error"].astype(object)
        self.number += 1
        atomic_write(
            self.folder / "parts" / f"part-{self.number:06d}.parquet",
            lambda p: frame.to_parquet(p, index=False),
        )
        self.pending = []
        self.parts += 1
        if self.parts >= MAX_PARTS:
            consolidate(self.plan, self.folder)
            self.parts = 0


def consolidate(plan: SweepPlan, folder: Path) -> pd.DataFrame:
    """Fold the appended parts into `rows.parquet` and `rows.csv` (each written atomically), then drop them."""
    parts = _part_paths(folder)
    rows = _tidy(plan, read_rows(folder))
    atomic_write(folder / "rows.parquet", lambda p: rows.to_parquet(p, index=False))
    atomic_write(folder / "rows.csv", lambda p: rows.to_csv(p, index=False))
    for part in parts:
        part.unlink(missing_ok=True)
    _fsync_path(folder / "parts")
    return rows


def run_sweep(
    plan: SweepPlan,
    folder: Path,
    executor: Executor,
    resume: bool = False,
    force: bool = False,
    plots: Sequence[str] = DEFAULT_PLOTS,
    on_progress: Callable[[int, int], None] | None = None,
    flush_seconds: float = 2.0,
    command: Sequence[str] | None = None,
) -> SweepOutcome:
    """Run what the folder does not hold yet, appending rows as they finish; then write the tables and plots.

    Interrupted (KeyboardInterrupt) or failing, it still folds what finished into the tables and records
    status `interrupted` in `sweep.json` before re-raising, wherever the interrupt falls.
    Only one process at a time may write a sweep folder (SweepLocked).
    """
    check_folder(plan, folder, resume, force)
    with folder_lock(folder):
        return _run_sweep(plan, folder, executor, resume, force, plots, on_progress, flush_seconds, command)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while a short step that must not be cut runs (delivered after it)."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, ValueError, OSError):  # not POSIX
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def row_counts(plan: SweepPlan, rows: pd.DataFrame, kept: int) -> dict[str, int]:
    """`sweep.json`'s counts for a table: the plan's rows, those kept from before this run, those run
    now (failures included; never the rows of refused points, recorded without running) and the failed."""
    in_plan = int(((rows["point"] < len(plan.points)) & (rows["replication"] < plan.reps)).sum())
    refused = sum(p.scenario is None for p in plan.points) * plan.reps
    return {
        "total": plan.tasks,
        "kept": kept,
        "ran": max(in_plan - kept - refused, 0),
        "failed": int(rows["error"].notna().sum()),
    }


def mark_interrupted(plan: SweepPlan, folder: Path) -> None:
    """Make `folder/sweep.json` say `interrupted`, with the counts of the rows the folder holds, after a stop
    `run_sweep` could not record itself (one after its last write, or before its first). Best effort: a
    folder of another sweep, or one another process is writing, is left alone."""
    with suppress(SweepLocked, OSError), folder_lock(folder):
        _mark_interrupted(plan, folder)


def _mark_interrupted(plan: SweepPlan, folder: Path, before_start: bool = False) -> None:
    """`mark_interrupted` for a caller holding the lock. `before_start`: this run ran nothing (every
    finished row was kept); otherwise the rows kept are those `sweep.json` counted, if it describes this
    plan's replications (a stop after the run's last write leaves it as is, but for the status)."""
    path = folder / "sweep.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(stored, dict) or stored.get("fingerprint") != plan.fingerprint:
        return
    if stored.get("status") == "interrupted" and not before_start:
        return  # recorded by the run itself
    rows = read_rows(folder)
    before = stored.get("rows") if stored.get("reps") == plan.reps and not before_start else None
    known = before.get("kept") if isinstance(before, dict) else None
    counts = row_counts(plan, rows, known if isinstance(known, int) else _ok_in_plan(plan, rows))
    update = {
        "status": "interrupted",
        "reps": plan.reps,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": {**counts, "ran": 0} if before_start else counts,
    }
    with signals_deferred():
        _write_json(path, {**stored, **update})


def _ok_in_plan(plan: SweepPlan, rows: pd.DataFrame) -> int:
    ok = rows["error"].isna() & (rows["point"] < len(plan.points)) & (rows["replication"] < plan.reps)
    return int(ok.sum())


def _run_sweep(
    plan: SweepPlan,
    folder: Path,
    executor: Executor,
    resume: bool,
    force: bool,
    plots: Sequence[str],
    on_progress: Callable[[int, int], None] | None,
    flush_seconds: float,
    command: Sequence[str] | None,
) -> SweepOutcome:
    started = time.perf_counter()
    try:
        prepare_folder(plan, folder, resume, force)
        done_rows = read_rows(folder)
    except KeyboardInterrupt:  # a resumed folder's sweep.json is still the last run's: nothing ran yet
        with suppress(Exception):
            _mark_interrupted(plan, folder, before_start=True)
        raise
    finished = {
        (int(p), int(r))
        for p, r, e in zip(done_rows["point"], done_rows["replication"], done_rows["error"], strict=True)
        if e is None or (isinstance(e, float) and math.isnan(e))
    }
    kept = sum(1 for p, r in finished if p < len(plan.points) and r < plan.reps)
    header = {
        **describe(plan),
        "status": "running",
        "executor": {"name": executor.name, "workers": executor.workers},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "git_revision": git_revision(),
        "command": list(command) if command is not None else None,
        "rows": {**row_counts(plan, done_rows, kept), "ran": 0},
    }
    with signals_deferred():
        _write_json(folder / "sweep.json", header)
    appender: _Appender | None = None
    complete = False
    try:
        # after sweep.json: a folder with rows always says whose they are
        (folder / "parts").mkdir(exist_ok=True)
        params = {p.index: plan.parameter_values(p) for p in plan.points}
        missing = [
            (point.index, replication)
            for point in plan.points
            for replication in range(plan.reps)
            if (point.index, replication) not in finished
        ]
        remaining: dict[int, int] = {}
        for number, _ in missing:
            remaining[number] = remaining.get(number, 0) + 1
        appender = _Appender(plan, folder, flush_seconds, remaining)
        tasks: list[tuple[int, int]] = []
        for number, replication in missing:
            error = plan.points[number].error
            if error is not None:  # a refused point: recorded, never run
                appender.add(_row(plan, number, replication, params, None, error))
            else:
                tasks.append((number, replication))
        total = plan.tasks
        done = plan.tasks - len(tasks)
        if on_progress:
            on_progress(done, total)
        arguments = [(plan.points[p].scenario, plan.seed, r) for p, r in tasks]
        for item in executor.run(point_kpis, arguments):
            number, replication = tasks[item.index]
            appender.add(_row(plan, number, replication, params, item.value, item.error))
            done += 1
            if on_progress:
                on_progress(done, total)
        complete = True
    finally:
        outcome = _finish(plan, folder, executor, header, appender, plots, complete, kept, started)
    return outcome


def _finish(
    plan: SweepPlan,
    folder: Path,
    executor: Executor,
    header: dict[str, Any],
    appender: _Appender | None,
    plots: Sequence[str],
    complete: bool,
    kept: int,
    started: float,
) -> SweepOutcome:
    """Fold what finished into the tables, draw the plots (if complete) and record the status. Stopped or
    failing on the way, it still records `interrupted` (with the counts of what the folder holds)."""

    def record(status: str, rows: pd.DataFrame) -> float:
        wall = time.perf_counter() - started
        _write_json(
            folder / "sweep.json",
            {
                **header,
                "status": status,
                "executor": {
                    **header["executor"],
                    "restarts": getattr(executor, "restarts", 0),  # pools restarted after a worker died
                },
                "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "rows": row_counts(plan, rows, kept),
                "wall_time": wall,
            },
        )
        return wall

    try:
        if appender is not None:
            appender.flush()
        rows = consolidate(plan, folder)
        table = summarize(plan, rows)
        atomic_write(folder / "summary.parquet", lambda p: table.to_parquet(p, index=False))
        atomic_write(folder / "summary.csv", lambda p: table.to_csv(p, index=False))
        made: list[Path] = []
        if complete and plots:
            made = _write_plots(plan, table, list(plots), folder)
    except BaseException:
        with signals_deferred(), suppress(Exception):  # best effort: the first error is the one to report
            record("interrupted", read_rows(folder))
        raise
    with signals_deferred():
        wall = record("complete" if complete else "interrupted", rows)
    counts = row_counts(plan, rows, kept)
    return SweepOutcome(folder, rows, table, made, counts["ran"], kept, counts["failed"], complete, wall)


def _write_plots(plan: SweepPlan, table: pd.DataFrame, plots: list[str], folder: Path) -> list[Path]:
    """Draw the pictures into a hidden staging folder, then swap it for `plots/` in one rename (a sweep
    stopped while drawing leaves the previous pictures, never half a PNG)."""
    from sim.output.sweep_plots import plot_sweep

    staging = folder / staging_name("plots")
    try:
        made = plot_sweep(table, plan.keys, plots, staging, lhs=plan.design == "lhs", seconds=plan.durations)
        if not made:
            return []
        sync_tree(staging)
        replace_folder(staging, folder / "plots")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / "plots" / path.name for path in made]


def _row(
    plan: SweepPlan,
    point: int,
    replication: int,
    params: Mapping[int, Mapping[str, Any]],
    kpis: Mapping[str, float] | None,
    error: str | None,
) -> dict[str, Any]:
    return {
        "point": point,
        "replication": replication,
        "seed": plan.seed,
        **params[point],
        "error": error,
        **(kpis or {}),
    }


# --- the command -------------------------------------------------------------------------------------------


def summary_table(plan: SweepPlan, table: pd.DataFrame, limit: int = 25) -> Table:
    """The per-point summary as a terminal table (headline KPIs with ± 95% half-widths)."""
    shown = Table(title=f"sweep summary ({len(table)} point(s))", header_style="bold")
    for key in plan.keys:
        shown.add_column(".".join(key.split(".")[-2:]), justify="right")
    columns = [
        ("service level", "service_level", "%"),
        ("abandon", "abandon_rate", "%"),
        ("ASA", "asa", "s"),
        ("occupancy", "occupancy", "%"),
    ]
    columns = [c for c in columns if c[1] in table]
    shown.add_column("reps", justify="right")
    for label, _, _ in columns:
        shown.add_column(label, justify="right")
    for (_, row), point in zip(table.head(limit).iterrows(), plan.points, strict=False):
        cells = [point.settings[key] for key in plan.keys] + [str(row["reps"])]
        if row["error"] is not None and row["reps"] == 0:
            cells += [f"failed: {row['error']}"[:80]] + [""] * (len(columns) - 1)
        else:
            cells += [_with_ci(row, kpi, kind) for _, kpi, kind in columns]
        shown.add_row(*cells)
    if len(table) > limit:
        shown.caption = f"... {len(table) - limit} more in summary.csv"
    return shown


def _with_ci(row: pd.Series, kpi: str, kind: str) -> str:
    mean, width = row.get(kpi), row.get(f"{kpi}_ci95")
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    scale, unit = (100.0, "%") if kind == "%" else (1.0, "s")
    text = f"{scale * mean:.1f}{unit}"
    if width is not None and not math.isnan(width):
        text += f" ± {scale * width:.1f}{unit}"
    return text


def _workers(executor: Executor) -> str:
    if executor.name == "serial":
        return "1 job"
    where = "Dask" if executor.name == "dask" else "local"
    return f"{executor.workers} {where} workers"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while a sweep runs, so it keeps what it finished."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def sweep_command(
    scenario: Path,
    grid: Sequence[str],
    design: str,
    samples: int | None,
    reps: int,
    jobs: int | None,
    dask: str | None,
    out_dir: Path | None,
    resume: bool,
    force: bool,
    plots: Sequence[str] | None,
    overrides: Sequence[str],
    seed: int | None,
    quiet: bool,
    out: Console,
    err: Console,
    command: Sequence[str] | None = None,
) -> int:
    """`callsim sweep`: plan, run with a progress bar, print the summary; returns the exit status."""
    from sim.experiments.executors import ExecutorError
    from sim.output.console import print_problems, say

    try:
        plan = plan_sweep(scenario, grid, design, samples, seed, reps, overrides)
    except ScenarioError as error:
        print_problems(err, error)
        return 2
    except SweepError as error:
        say(err, "error", error)
        return 2
    if resume and out_dir is None:
        err.print("[red]error:[/] --resume needs the sweep's --out folder", highlight=False)
        return 2
    if resume and force:
        err.print("[red]error:[/] choose --resume or --force, not both", highlight=False)
        return 2
    target = out_dir or default_run_dir(Path("results"), f"{plan.scenario.name}-sweep")
    chosen = list(plots) if plots else list(DEFAULT_PLOTS)
    if plots:
        try:
            check_plots(plan, chosen)
        except SweepError as error:
            say(err, "error", error)
            return 2
    refused = sum(p.scenario is None for p in plan.points)
    if not quiet:
        err.print(
            f"{plan.scenario.name}: {len(plan.points)} point(s) x {plan.reps} replication(s), seed {plan.seed}"
            + (f"; {refused} point(s) refused (recorded as failed)" if refused else ""),
            highlight=False,
        )
    try:
        check_folder(plan, target, resume, force)
    except (ResultsExist, SweepError) as error:
        say(err, "error", error)
        return 2
    if resume and (changed := revision_change(target)):
        say(err, "warning", changed, "yellow")
    try:
        check_creatable(target, "the sweep", inside=True)
    except ResultsError as error:
        say(err, "error", error)
        return 1
    try:
        executor = make_executor(jobs, dask)
    except ExecutorError as error:
        say(err, "error", error)
        return 2
    progress = Progress(
        TextColumn("[bold]sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )
    task = progress.add_task("sweep", total=plan.tasks)

    def on_progress(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    try:
        with sigterm_as_interrupt(), progress:
            outcome = run_sweep(
                plan,
                target,
                executor,
                resume=resume,
                force=force,
                plots=chosen,
                on_progress=on_progress,
                command=command,
            )
    except KeyboardInterrupt:
        mark_interrupted(plan, target)  # if the stop came after the sweep's last word, or before its first
        kept = read_rows(target)
        err.print(
            f"[yellow]interrupted:[/] {int(kept['error'].isna().sum())} of {plan.tasks} row(s) kept in {target}; "
            "run the same command with --resume to complete it",
            highlight=False,
        )
        return 130
    except (SweepError, ResultsExist) as error:
        say(err, "error", error)
        return 2
    except OSError as error:
        say(err, "error", unwritable(error, target, "the sweep"))
        return 1
    finally:
        executor.close()
    if not quiet:
        out.print(summary_table(plan, outcome.summary))
        out.print(
            f"sweep: {target}  ({outcome.ran} row(s) run, {outcome.kept} kept from before, "
            f"{outcome.failed} failed; {outcome.wall_time:.1f}s, {_workers(executor)})",
            highlight=False,
        )
        unknown = [k for k in chosen if k not in outcome.summary]
        if unknown:
            say(err, "not plotted (no such KPI)", ", ".join(unknown), "yellow")
    return 0
