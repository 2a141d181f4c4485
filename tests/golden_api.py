"""The one place the golden fingerprints reach into callsim: change these imports when the layout moves,
never the digests' recipe in `tests/golden.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.tables import calls_table, visits_table
from sim.experiments.runner import replicate
from sim.model.loading import load_scenario


def run_tables(path: Path, replications: int) -> dict[str, Any]:
    """Every table a run of `path` produces, with its own seed, on one worker."""
    scenario = load_scenario(path, [])
    run = replicate(scenario, None, replications, 1)
    first = run.first
    return {
        "events": first.events,
        "calls": calls_table(first),
        "visits": visits_table(first),
        "agents": first.agents,
        "intervals": run.replications[0].intervals,
        "intervals_mean": run.intervals,
        "replication_intervals": pd.concat(
            [r.intervals.assign(replication=r.replication) for r in run.replications], ignore_index=True
        ),
        "summary": run.replications[0].summary,
        "summary_mean": run.summary,
        "replication_summaries": [r.summary for r in run.replications],
    }
