"""What a saved results folder holds, read back: the scenario as run, run facts, KPIs and tables.

Reports and comparisons work from these files only, so `callsim report` on an old folder gives the same
pictures as the run that wrote it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.loading import ScenarioError, load_scenario
from sim.scenario import Scenario

REQUIRED = ("scenario.yaml", "meta.json", "summary.json", "intervals.csv")


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
    events: pd.DataFrame
    replications: pd.DataFrame | None

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


def _frame(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def load_run(folder: Path | str) -> SavedRun:
    """Read a results folder written by `callsim run` (raises `NotARun` with what is missing)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotARun(f"{folder} is not a folder")
    missing = [name for name in REQUIRED if not (folder / name).exists()]
    if missing:
        raise NotARun(f"{folder} is not a callsim results folder (missing {', '.join(missing)})")
    try:
        scenario = load_scenario(folder / "scenario.yaml")
    except ScenarioError as error:
        raise NotARun(f"{folder}/scenario.yaml cannot be read back: {error}") from None
    replications = folder / "replications.csv"
    return SavedRun(
        folder=folder,
        scenario=scenario,
        scenario_text=(folder / "scenario.yaml").read_text(encoding="utf-8"),
        meta=json.loads((folder / "meta.json").read_text(encoding="utf-8")),
        summary=json.loads((folder / "summary.json").read_text(encoding="utf-8")),
        intervals=pd.read_csv(folder / "intervals.csv", dtype={"start": str, "department": str}),
        calls=_frame(folder / "calls.parquet"),
        visits=_frame(folder / "visits.parquet"),
        events=_frame(folder / "events.parquet"),
        replications=pd.read_csv(replications) if replications.exists() else None,
    )
