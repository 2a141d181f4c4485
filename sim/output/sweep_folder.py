"""Where a sweep goes: a folder that survives interruption, filled by running the library's sweep
(`sim.experiments.sweep`) point by point, resumable, with its tables and plots.

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
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.executors import Executor
from sim.experiments.provenance import git_revision, versions
from sim.experiments.sweep import (
    DEFAULT_PLOTS,
    FIXED_COLUMNS,
    SweepPlan,
    run_rows,
    summarize,
    tidy_rows,
)
from sim.experiments.sweep_design import SweepError
from sim.output.folders import (
    ResultsExist,
    clean_json,
    clean_stale,
    fsync_path,
    replace_folder,
    staging_name,
    sync_tree,
)

TEMPORARY = re.compile(r"^\..+\.\d+\.tmp$")
"""`.NAME.PID.tmp`: a file being written by `atomic_write` (a leftover after SIGKILL)."""


def atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    """Let `writer` fill a temporary sibling (`.NAME.PID.tmp`), flush it to disk, then rename it to `path`
    in one step; the folder is flushed too, so the rename itself survives a crash."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        writer(temporary)
        fsync_path(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


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


# --- running a sweep into its folder --------------------------------------------------------------------


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
        if stored.get("shard") != describe(plan).get("shard"):
            raise SweepError(
                f"{folder} holds another shard of this sweep ({_shard_text(stored.get('shard'))}); "
                "resume it with the same --shard"
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


def _shard_text(shard: Any) -> str:
    if isinstance(shard, dict):
        return f"--shard {shard.get('index')}/{shard.get('count')}"
    return "the whole sweep, no --shard"


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
        "source": str(plan.source) if plan.source is not None else None,
        "seed": plan.seed,
        "reps": plan.reps,
        "design": plan.design,
        "samples": plan.samples,
        "parameters": [{"key": p.key, "spec": p.spec} for p in plan.parameters],
        "overrides": list(plan.overrides),
        "points": [{"point": p.index, "settings": p.settings, "error": p.error} for p in plan.points],
        "fingerprint": plan.fingerprint,
        **({"shard": {"index": plan.shard[0], "count": plan.shard[1]}} if plan.shard else {}),
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
    rows = tidy_rows(plan, read_rows(folder))
    atomic_write(folder / "rows.parquet", lambda p: rows.to_parquet(p, index=False))
    atomic_write(folder / "rows.csv", lambda p: rows.to_csv(p, index=False))
    for part in parts:
        part.unlink(missing_ok=True)
    fsync_path(folder / "parts")
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
    in_plan = int(
        ((rows["point"] < len(plan.points)) & (rows["replication"] < plan.reps) & _owned(plan, rows)).sum()
    )
    refused = sum(plan.owns(p.index, r) for p in plan.points if p.scenario is None for r in range(plan.reps))
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
    return int((ok & _owned(plan, rows)).sum())


def _owned(plan: SweepPlan, rows: pd.DataFrame) -> pd.Series:
    """Which rows are tasks of the plan's shard (all of them for a plan that is not a shard)."""
    if plan.shard is None:
        return pd.Series(True, index=rows.index)
    index, count = plan.shard
    task = rows["replication"].astype("int64") * len(plan.points) + rows["point"].astype("int64")
    return task % count == index - 1


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
    kept = sum(1 for p, r in finished if p < len(plan.points) and r < plan.reps and plan.owns(p, r))
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
        remaining: dict[int, int] = {}
        for point in plan.points:
            for replication in range(plan.reps):
                if (point.index, replication) not in finished:
                    remaining[point.index] = remaining.get(point.index, 0) + 1
        appender = _Appender(plan, folder, flush_seconds, remaining)
        with closing(run_rows(plan, executor, finished, on_progress)) as rows:
            for row in rows:
                appender.add(row)
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
            made = _write_plots(plan, table, list(plots), folder, rows)
    except BaseException:
        with signals_deferred(), suppress(Exception):  # best effort: the first error is the one to report
            record("interrupted", read_rows(folder))
        raise
    with signals_deferred():
        wall = record("complete" if complete else "interrupted", rows)
    counts = row_counts(plan, rows, kept)
    return SweepOutcome(folder, rows, table, made, counts["ran"], kept, counts["failed"], complete, wall)


def _write_plots(
    plan: SweepPlan, table: pd.DataFrame, plots: list[str], folder: Path, rows: pd.DataFrame | None = None
) -> list[Path]:
    """Draw the pictures into a hidden staging folder, then swap it for `plots/` in one rename (a sweep
    stopped while drawing leaves the previous pictures, never half a PNG)."""
    from sim.output.sweep_plots import plot_sweep

    staging = folder / staging_name("plots")
    try:
        made = plot_sweep(
            table, plan.keys, plots, staging, lhs=plan.design == "lhs", seconds=plan.durations, rows=rows
        )
        if not made:
            return []
        sync_tree(staging)
        replace_folder(staging, folder / "plots")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / "plots" / path.name for path in made]
