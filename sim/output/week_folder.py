"""Where a week goes: one results folder for all its days, written whole (`sim.output.folders`).

| file | what |
|---|---|
| `scenario.yaml`, `meta.json` | the scenario as run (with its `week` block) and the run facts |
| `week.csv` | a row per day and one for the week (means and `_ci95` half-widths with replications) |
| `replications.csv` | with `--reps`: every replication's week table |
| `summary.json` | the week's figures, each day's, and each day's full summary (first replication) |
| `calls.parquet`, `visits.parquet`, `events.parquet`, `agents.parquet`, `intervals.csv` | the first
  replication's tables of every day, stacked, with the day's index in `day` (0 = the first day) |
| `carry_over.csv` | each piece of work a close left: day, call, caller, reason, department, kind, times |
| `report.html` | the week report (`sim.output.report_week`) |
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.analysis.week import FIGURES, WEEK
from sim.engine.day import RunResult
from sim.experiments.provenance import git_revision, versions
from sim.experiments.week import ReplicatedWeek
from sim.model.loading import resolved_dict
from sim.output.folders import write_folder, write_json, write_parquet
from sim.output.report_week import week_page

REPORT = "report.html"


def stacked(results: tuple[RunResult, ...], table: Any) -> pd.DataFrame:
    """One table of every day, the day's index in a leading `day` column."""
    frames = []
    for result in results:
        frame = table(result)
        frames.append(frame.assign(day=np.full(len(frame), result.day, dtype=np.int16)))
    out = pd.concat(frames, ignore_index=True)
    return out[["day", *(c for c in out.columns if c != "day")]]


def week_summary(run: ReplicatedWeek) -> dict[str, Any]:
    """`summary.json`: the week row's figures, the day rows, and each day's full summary (replication 0)."""
    table = run.table
    records = table.replace({np.nan: None}).to_dict(orient="records")
    week = next(record for record in records if record["day"] == WEEK)
    first = run.first
    return {
        "reps": len(run.tables),
        "carry_over": bool(run.scenario.week.carry_over) if run.scenario.week else False,
        "week": {key: week[key] for key in FIGURES},
        "ci95": {key: week.get(f"{key}_ci95") for key in FIGURES} if len(run.tables) > 1 else {},
        "days": [record for record in records if record["day"] != WEEK],
        "day_summaries": {
            day.name: summary(result) for day, result in zip(first.days, first.results, strict=True)
        },
    }


def write_week(
    target: Path, run: ReplicatedWeek, force: bool = False, command: list[str] | None = None
) -> Path:
    """Write the week's results folder (see the module's table) and return where it went."""
    first = run.first

    def fill(folder: Path) -> None:
        (folder / "scenario.yaml").write_text(
            yaml.safe_dump(resolved_dict(run.scenario), sort_keys=False), encoding="utf-8"
        )
        write_json(
            folder / "meta.json",
            {
                "scenario": run.scenario.name,
                "seed": run.seed,
                "reps": len(run.tables),
                "days": [day.name for day in first.days],
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "wall_time": run.wall_time,
                "calls_simulated": first.calls_offered,
                "versions": versions(),
                "git_revision": git_revision(),
                "command": command if command is not None else sys.argv,
            },
        )
        run.table.to_csv(folder / "week.csv", index=False, float_format="%.6g")
        if len(run.tables) > 1:
            run.replications.to_csv(folder / "replications.csv", index=False, float_format="%.6g")
        write_json(folder / "summary.json", week_summary(run))
        write_parquet(stacked(first.results, calls_table), folder / "calls.parquet")
        write_parquet(stacked(first.results, visits_table), folder / "visits.parquet")
        write_parquet(stacked(first.results, lambda r: r.events), folder / "events.parquet")
        write_parquet(stacked(first.results, lambda r: r.agents), folder / "agents.parquet")
        stacked(first.results, interval_table).to_csv(
            folder / "intervals.csv", index=False, float_format="%.6g"
        )
        first.carried.to_csv(folder / "carry_over.csv", index=False, float_format="%.6g")
        page = week_page(run.scenario, run.table, first.carried, run.seed, len(run.tables))
        (folder / REPORT).write_text(page, encoding="utf-8")

    return write_folder(target, force, fill)
