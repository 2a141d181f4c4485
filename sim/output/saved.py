"""What a saved results folder holds, read back: the scenario as run, run facts, KPIs and tables.

Reports and comparisons work from these files only, so `callsim report` on an old folder gives the same
pictures as the run that wrote it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.model.loading import ScenarioError, load_scenario
from sim.model.scenario import Scenario
from sim.output.folders import HOST, STAGED

REQUIRED = (
    *("scenario.yaml", "meta.json", "summary.json", "intervals.csv"),
    *("calls.parquet", "visits.parquet", "events.parquet"),
)
CALL_COLUMNS = (
    *("call_id", "reason", "first_department", "arrived_at", "answered_at", "outcome", "wait_time"),
    "time_to_answer",
    *("agents_touched", "n_transfers", "resolved", "chain", "experience"),
)
"""The columns of the calls table that reports and comparisons read (a big run's table is large)."""
VISIT_COLUMNS = (
    *("call_id", "department", "callback", "queued_at", "wait_time", "answered", "abandoned"),
    "time_to_answer",
)
"""The columns of the visits table that reports read."""


def _staging(folder: Path) -> bool:
    """A hidden folder being written (`.NAME.HOST.PID-TOKEN.partial`, perhaps left by a killed run) or moved
    aside while a run is replaced (`.old`): never results, whatever files it holds. Only the process writing
    it, or a process it forked (its report drawer, `sim.output.drawer`), may read it: the report of a run is
    drawn there before the folder is renamed."""
    name = folder.resolve().name
    match = STAGED.match(name)
    if match is not None:
        return not (match["host"] == HOST and int(match["pid"]) in (os.getpid(), os.getppid()))
    return name.startswith(".") and name.endswith(".partial")


class NotARun(ValueError):
    """The folder is not a callsim results folder (or is missing files it needs)."""


@dataclass(frozen=True)
class SavedRun:
    """A results folder's contents: the typed scenario, `meta.json`, `summary.json` and the tables."""

    folder: Path
    scenario: Scenario
    scenario_text: str
    meta: dict[str, Any]
    summary: dict[str, Any]
    intervals: pd.DataFrame
    calls: pd.DataFrame
    visits: pd.DataFrame
    replications: pd.DataFrame | None
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Tables worked out from the files, once for every section of a report that reads them (the interval
    verdicts: `sim.output.report_goals`); read-only."""

    @property
    def reps(self) -> int:
        """Replications behind the summary (1 for a single run)."""
        return int(self.meta.get("reps", 1) or 1)

    @property
    def departments(self) -> list[str]:
        """Department names in the scenario's order."""
        return list(self.scenario.departments)

    @property
    def ended_at(self) -> float:
        """When replication 0's day ended (seconds after the start)."""
        return float(self.meta.get("ended_at") or self.scenario.duration)


def _frame(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()
    if columns is not None:
        present = set(pq.read_schema(path).names)
        columns = [name for name in columns if name in present]
    frame = pd.read_parquet(path, columns=columns)
    pa.default_memory_pool().release_unused()  # Arrow keeps what a large read freed; give it back
    return frame


def read_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """`frame`'s columns among `columns` (those a report reads), in that order: `frame` itself when that is
    all it has (a table handed over already cut to them is not copied again)."""
    wanted = [column for column in columns if column in frame.columns]
    return frame if wanted == list(frame.columns) else frame[wanted]


def report_tables(calls: pd.DataFrame, visits: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The calls and visits tables as `load_run` reads them, to hand to a report in memory (`tables`)."""
    return {"calls": read_columns(calls, CALL_COLUMNS), "visits": read_columns(visits, VISIT_COLUMNS)}


def _table(
    folder: Path, name: str, columns: Sequence[str], tables: Mapping[str, pd.DataFrame] | None
) -> pd.DataFrame:
    """The `name` table's `columns` (those it has): handed over in `tables`, else read from its file."""
    if tables is not None and name in tables:
        return read_columns(tables[name], columns)
    return _frame(folder / f"{name}.parquet", columns=columns)


def load_run(
    folder: Path | str, pending: Collection[str] = (), tables: Mapping[str, pd.DataFrame] | None = None
) -> SavedRun:
    """Read a results folder written by `callsim run` (raises `NotARun` with what is missing; files named in
    `pending` may be missing: the run is still writing them, and nothing here reads them). `tables`: the
    `calls` and `visits` tables the run is writing to the folder, handed over in memory (`sim.output.drawer`):
    read from there instead of their files, the same columns."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotARun(f"{folder} is not a folder")
    if _staging(folder):
        raise NotARun(
            f"{folder} is the staging folder of a run that was stopped or is still being written, "
            "not a results folder"
        )
    missing = [name for name in REQUIRED if name not in pending and not (folder / name).exists()]
    if missing:
        raise NotARun(f"{folder} is not a callsim results folder (missing {', '.join(missing)})")
    replications = folder / "replications.csv"
    try:
        # the Parquet tables are read by threads (Arrow reads without the GIL) while the scenario is
        # checked and the interval table parsed here: a year's tables then take the time of the larger
        # read, not of all of them
        with ThreadPoolExecutor(2, thread_name_prefix="load-run") as readers:
            calls = readers.submit(_table, folder, "calls", CALL_COLUMNS, tables)
            visits = readers.submit(_table, folder, "visits", VISIT_COLUMNS, tables)
            try:
                scenario = load_scenario(folder / "scenario.yaml")
            except ScenarioError as error:
                raise NotARun(f"{folder}/scenario.yaml cannot be read back: {error}") from None
            intervals = pd.read_csv(folder / "intervals.csv", dtype={"start": str, "department": str})
            return SavedRun(
                folder=folder,
                scenario=scenario,
                scenario_text=(folder / "scenario.yaml").read_text(encoding="utf-8"),
                meta=json.loads((folder / "meta.json").read_text(encoding="utf-8")),
                summary=json.loads((folder / "summary.json").read_text(encoding="utf-8")),
                intervals=intervals,
                calls=calls.result(),
                visits=visits.result(),
                replications=pd.read_csv(replications) if replications.exists() else None,
            )
    except NotARun:  # the scenario's own message, as it is
        raise
    except (OSError, ValueError) as error:  # unreadable, truncated or corrupt files (JSON, CSV, Parquet)
        raise NotARun(f"{folder} cannot be read back: {type(error).__name__}: {error}") from None
