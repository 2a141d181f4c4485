"""A run's calls written as a call log (`calls_log.csv`), in the format `sim/model/call_log.py` reads: so that
fitting and backtests can be tried on logs whose truth is known.

One simulated day per replication, on consecutive dates from `FIRST_DATE` (a Monday): replication 0 is
2026-01-05, replication 1 is 2026-01-06, ... Instants are date-times to the millisecond (the scenario's
`start` clock is t = 0), durations seconds to the millisecond. Replication 0 comes from the run in hand;
the others are simulated again (replication r of a seed is the same day wherever it runs), since a
replicated run keeps only replication 0's event log.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import RunResult, simulate
from sim.experiments.runner import Replicated
from sim.model.log_format import LOG_COLUMNS, LOG_OUTCOMES
from sim.model.scenario import Scenario

FIRST_DATE = date(2026, 1, 5)
"""The date of replication 0's day in an exported log."""
LOG_FILE = "calls_log.csv"
"""The call log's name in a results folder."""
EXPORTED = tuple(column for column in LOG_COLUMNS if column != "date")
"""The columns an exported log has, in order (the date is part of each instant)."""


def _milliseconds(seconds: np.ndarray) -> np.ndarray:
    """Seconds rounded to whole milliseconds, as float (NaN kept): what the log carries."""
    return np.round(np.asarray(seconds, dtype=float) * 1000.0)


def _stamps(midnight_ms: int, seconds_of_day: np.ndarray) -> np.ndarray:
    """Date-times (to the millisecond) of instants given in seconds after the day's midnight; NaT for NaN."""
    ms = _milliseconds(seconds_of_day)
    out = np.full(len(ms), np.datetime64("NaT"), dtype="datetime64[ms]")
    known = ~np.isnan(ms)
    out[known] = (midnight_ms + ms[known].astype(np.int64)).astype("datetime64[ms]")
    return out


def call_log_frame(result: RunResult, on: date = FIRST_DATE) -> pd.DataFrame:
    """One simulated day's calls as call-log rows, the day dated `on`: instants as date-times (NaT when
    empty), `agent` the first agent who answered (`billing-3`: pool and number), `department` the queue the
    call entered first, `call_type` the caller's reason, durations in seconds to the millisecond."""
    calls = calls_table(result)
    outcomes = calls["outcome"].astype(str)
    unknown = sorted(set(outcomes.unique()) - set(LOG_OUTCOMES))
    if unknown:  # a new simulator outcome the log format has not been told about
        raise ValueError(
            f"outcome(s) {', '.join(unknown)} have no call-log equivalent (sim/model/log_format.py)"
        )
    start = result.scenario.start
    midnight_ms = int(pd.Timestamp(on).value // 1_000_000)
    ids = calls["call_id"].to_numpy()
    visits = visits_table(result)
    first_queue = visits.groupby("call_id", sort=True)["queued_at"].min()
    queued = first_queue.reindex(ids).to_numpy(dtype=float)
    agents = result.agents
    names = agents["pool"].astype(str) + "-" + agents["number"].astype(str)
    label = pd.Series(names.to_numpy(), index=agents["agent_id"].to_numpy())
    first_agent = calls["first_agent_id"].to_numpy()
    agent = label.reindex(first_agent).to_numpy(dtype=object)
    agent[first_agent < 0] = None
    frame = pd.DataFrame(
        {
            "arrived_at": _stamps(midnight_ms, start + calls["arrived_at"].to_numpy()),
            "call_type": calls["reason"].astype(str).to_numpy(),
            "queued_at": _stamps(midnight_ms, start + queued),
            "answered_at": _stamps(midnight_ms, start + calls["answered_at"].to_numpy()),
            "ended_at": _stamps(midnight_ms, start + calls["ended_at"].to_numpy()),
            "outcome": outcomes.to_numpy(),
            "agent": agent,
            "department": calls["first_department"].astype(object).to_numpy(),
            "wrap_time": _milliseconds(calls["wrap_time"].to_numpy()) / 1000.0,
            "hold_time": _milliseconds(calls["hold_time"].to_numpy()) / 1000.0,
            "transfers": calls["n_transfers"].to_numpy(),
            "caller_id": calls["caller_id"].to_numpy(),
            "call_id": ids,
        }
    )
    order = np.argsort(frame["arrived_at"].to_numpy(), kind="stable")  # redials arrive between others
    return frame.iloc[order][list(EXPORTED)].reset_index(drop=True)


def _replication_log(scenario: Scenario, seed: int, replication: int, on: date) -> pd.DataFrame:
    return call_log_frame(simulate(scenario, seed, replication), on)


def write_call_log(run: Replicated, path: Path) -> None:
    """Every replication's calls, one day each on consecutive dates from `FIRST_DATE`, as one CSV (written
    a day at a time; the results folder is renamed into place whole, so no reader sees half of it). Calls
    are numbered per day (`call_id`), as the simulator numbers them."""
    days = sorted(r.replication for r in run.replications)
    with path.open("w", encoding="utf-8", newline="") as handle:
        for number, replication in enumerate(days):
            on = FIRST_DATE + timedelta(days=replication)
            if replication == run.first.replication:
                frame = call_log_frame(run.first, on)
            else:
                frame = _replication_log(run.scenario, run.seed, replication, on)
            frame.to_csv(handle, index=False, header=number == 0)
