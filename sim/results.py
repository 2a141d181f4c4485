"""Where a run goes: a self-describing results folder, written whole into a temporary folder and then
renamed into place, so an interrupted run leaves nothing half-written and nothing is overwritten unasked.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

import sim
from sim.loading import resolved_dict
from sim.runner import Replicated
from sim.tables import calls_table, visits_table


class ResultsExist(FileExistsError):
    """The results folder already holds a run; pass `force` to replace it."""


def default_run_dir(results_root: Path, name: str, now: datetime | None = None) -> Path:
    """`results/<name>-<YYYYmmdd-HHMMSS>`, with a suffix if that exists already."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = results_root / f"{name}-{stamp}"
    number = 2
    while candidate.exists():
        candidate = results_root / f"{name}-{stamp}-{number}"
        number += 1
    return candidate


def check_writable(target: Path, force: bool) -> None:
    """Refuse before running if `target` holds anything and `force` is not set."""
    if target.exists() and not target.is_dir():
        raise ResultsExist(f"{target} exists and is not a folder")
    if target.exists() and any(target.iterdir()) and not force:
        raise ResultsExist(f"{target} already holds results; use --force to replace them")


def write_folder(target: Path, force: bool, writer: Callable[[Path], None]) -> Path:
    """Let `writer` fill a temporary sibling folder, then move it to `target` in one rename."""
    check_writable(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        writer(staging)
        if target.exists():
            trash = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(trash)
            staging.rename(target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def clean_json(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null, numpy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, value: Any) -> None:
    """Pretty JSON with NaN as null."""
    path.write_text(json.dumps(clean_json(value), indent=2) + "\n", encoding="utf-8")


def git_revision() -> str:
    """The callsim source's git revision (with `+dirty` for uncommitted changes), or `unknown`."""
    root = Path(sim.__file__).resolve().parent.parent
    try:
        revision = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return revision + ("+dirty" if dirty else "")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide the numbers."""
    import numpy
    import pandas
    import simpy

    return {
        "callsim": sim.__version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
    }


def meta(run: Replicated, command: list[str] | None = None) -> dict[str, Any]:
    """What `meta.json` records: enough to rerun the run bit for bit."""
    return {
        "scenario": run.scenario.name,
        "seed": run.seed,
        "reps": len(run.replications),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time": run.wall_time,
        "calls_simulated": run.calls_offered,
        "ended_at": run.first.ended_at,
        "versions": versions(),
        "git_revision": git_revision(),
        "command": command if command is not None else sys.argv,
    }


def write_run(
    target: Path,
    run: Replicated,
    force: bool = False,
    command: list[str] | None = None,
    report: bool = True,
) -> Path:
    """Write a run's results folder: scenario, meta, calls, events, visits, intervals, summary, and (unless
    `report` is false) the pictures in `plots/` and `report.html`, built from those files. A report that
    fails leaves `report_error.txt` instead (the results are kept; `callsim report` retries)."""

    def fill(folder: Path) -> None:
        (folder / "scenario.yaml").write_text(
            yaml.safe_dump(resolved_dict(run.scenario), sort_keys=False), encoding="utf-8"
        )
        write_json(folder / "meta.json", meta(run, command))
        calls_table(run.first).to_parquet(folder / "calls.parquet", index=False)
        run.first.events.to_parquet(folder / "events.parquet", index=False)
        visits_table(run.first).to_parquet(folder / "visits.parquet", index=False)
        run.first.agents.to_parquet(folder / "agents.parquet", index=False)
        run.intervals.to_csv(folder / "intervals.csv", index=False, float_format="%.6g")
        if len(run.replications) > 1:
            replications_frame(run).to_csv(folder / "replications.csv", index=False, float_format="%.6g")
        write_json(folder / "summary.json", run.summary)
        run.first.derived.clear()  # the report reads the tables back from the files: hold them once
        if report:
            fill_report(folder)

    return write_folder(target, force, fill)


def fill_report(folder: Path) -> None:
    """Plots and report.html for the results in `folder`; on failure, the traceback in `report_error.txt`."""
    import traceback

    from sim.report import ERROR, write_report

    try:
        write_report(folder)
    except Exception:
        (folder / ERROR).write_text(traceback.format_exc(), encoding="utf-8")


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"by_department": {"billing": {"asa": 1}}}` -> `{"by_department.billing.asa": 1}`."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def replications_frame(run: Replicated) -> pd.DataFrame:
    """One row per replication with every KPI as a flat column."""
    return pd.DataFrame([{"replication": r.replication, **flatten(r.summary)} for r in run.replications])
