"""Array-job shards of a sweep, merged: `callsim sweep ... --shard I/N --out DIR` runs the I-th of N shares
of a sweep's tasks into a sweep folder of its own (resumable like any sweep folder), on any machine a
scheduler such as Slurm picks, with no Dask and no shared state; `callsim sweep-merge DIR... --out DIR`
checks that the shards are the N parts of one sweep, complete, and writes the sweep's folder from their
rows: the same rows and summary tables, byte for byte, as the sweep run whole.

The merge re-plans the sweep from the shards' `sweep.json` (scenario file, parameters, design, seed,
replications, overrides) and requires the fingerprint the shards recorded, so a scenario file changed since
the shards ran is refused rather than merged under the wrong parameters.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.provenance import git_revision, versions
from sim.experiments.sweep import DEFAULT_PLOTS, SweepPlan, plan_sweep, summarize, tidy_rows
from sim.experiments.sweep_design import SweepError
from sim.output.sweep_folder import (
    SweepOutcome,
    _write_json,
    _write_plots,
    atomic_write,
    check_folder,
    describe,
    folder_lock,
    prepare_folder,
    read_rows,
    signals_deferred,
)


class ShardError(SweepError):
    """Folders that are not the complete shards of one sweep."""


def _status(folder: Path) -> dict[str, Any]:
    try:
        stored = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ShardError(f"{folder} is not a sweep folder (no readable sweep.json)") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("shard"), dict):
        raise ShardError(f"{folder} is not a shard of a sweep (made without --shard I/N)")
    return stored


def merge_plan(folders: Sequence[Path]) -> SweepPlan:
    """The whole sweep's plan, made again from the shards' `sweep.json`, after checking that the folders are
    the N complete shards of one sweep (ShardError says what is wrong, and what to run)."""
    if not folders:
        raise ShardError("give the shard folders to merge")
    stored = [_status(Path(folder)) for folder in folders]
    first = stored[0]
    count = int(first["shard"]["count"])
    for folder, status in zip(folders, stored, strict=True):
        if status.get("fingerprint") != first.get("fingerprint") or status["shard"].get("count") != count:
            raise ShardError(f"{folder} is a shard of another sweep than {folders[0]}")
        if status.get("reps") != first.get("reps"):
            raise ShardError(
                f"{folder} holds {status.get('reps')} replications per point, {folders[0]} "
                f"{first.get('reps')}: resume the shards with the same --reps"
            )
        if status.get("status") != "complete":
            raise ShardError(
                f"{folder} (shard {status['shard'].get('index')}/{count}) is {status.get('status')}: "
                "complete it with the same command and --resume"
            )
    indices = sorted(int(status["shard"]["index"]) for status in stored)
    missing = sorted(set(range(1, count + 1)) - set(indices))
    repeated = sorted({i for i in indices if indices.count(i) > 1})
    if missing or repeated:
        problem = f"shard(s) {', '.join(map(str, missing))} missing" if missing else ""
        problem += ("; " if problem else "") + (
            f"shard(s) {', '.join(map(str, repeated))} given twice" if repeated else ""
        )
        raise ShardError(f"not the {count} shards of one sweep: {problem}")
    source = first.get("source")
    if not source:
        raise ShardError(f"{folders[0]}/sweep.json names no scenario file to plan the sweep from")
    plan = plan_sweep(
        Path(source),
        [f"{p['key']}={p['spec']}" for p in first["parameters"]],
        first["design"],
        first.get("samples"),
        first["seed"],
        int(first["reps"]),
        first.get("overrides") or [],
    )
    if plan.fingerprint != first["fingerprint"]:
        raise ShardError(
            f"{source} (or callsim) changed since the shards ran: the sweep it plans now is not theirs; "
            "merge with the scenario file the shards were run from"
        )
    return plan


def merged_rows(plan: SweepPlan, folders: Sequence[Path]) -> pd.DataFrame:
    """The shards' rows as the sweep's one tidy table (ShardError if a task is missing or held twice)."""
    frames = [read_rows(Path(folder)) for folder in folders]
    rows = pd.concat([frame for frame in frames if len(frame)], ignore_index=True)
    twice = rows.duplicated(["point", "replication"])
    if twice.any():
        raise ShardError(f"{int(twice.sum())} row(s) are in more than one shard")
    held = set(zip(rows["point"].astype(int), rows["replication"].astype(int), strict=True))
    lacking = plan.tasks - len(held & {(p.index, r) for p in plan.points for r in range(plan.reps)})
    if lacking:
        raise ShardError(f"the shards lack {lacking} of the sweep's {plan.tasks} row(s)")
    rows = rows.sort_values(["point", "replication"], kind="stable", ignore_index=True)
    return tidy_rows(plan, rows)


def merge_shards(
    folders: Sequence[Path],
    target: Path,
    force: bool = False,
    plots: Sequence[str] = DEFAULT_PLOTS,
    command: Sequence[str] | None = None,
    plan: SweepPlan | None = None,
) -> SweepOutcome:
    """Write the sweep folder `target` from its complete shards: rows and summary (Parquet and CSV, the same
    bytes as the sweep run whole), plots, and `sweep.json` naming the shards it was merged from."""
    started = time.perf_counter()
    plan = plan or merge_plan(folders)
    rows = merged_rows(plan, folders)
    check_folder(plan, target, resume=False, force=force)
    with folder_lock(target):
        prepare_folder(plan, target, resume=False, force=force)
        atomic_write(target / "rows.parquet", lambda p: rows.to_parquet(p, index=False))
        atomic_write(target / "rows.csv", lambda p: rows.to_csv(p, index=False))
        table = summarize(plan, rows)
        atomic_write(target / "summary.parquet", lambda p: table.to_parquet(p, index=False))
        atomic_write(target / "summary.csv", lambda p: table.to_csv(p, index=False))
        made = _write_plots(plan, table, list(plots), target, rows) if plots else []
        failed = int(rows["error"].notna().sum())
        wall = time.perf_counter() - started
        with signals_deferred():
            _write_json(
                target / "sweep.json",
                {
                    **describe(plan),
                    "status": "complete",
                    "executor": {"name": "shards", "workers": len(folders)},
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "versions": versions(),
                    "git_revision": git_revision(),
                    "command": list(command) if command is not None else None,
                    "merged_from": [str(folder) for folder in folders],
                    "rows": {"total": plan.tasks, "kept": len(rows), "ran": 0, "failed": failed},
                    "wall_time": wall,
                },
            )
    return SweepOutcome(target, rows, table, made, 0, len(rows), failed, True, wall)
