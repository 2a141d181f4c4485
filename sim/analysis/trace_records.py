"""Which campaign records to show a trainer (`callsim trace --record 17`, `--pick nuisance`): the outbound
dials of a run (`sim.engine.outbound`) grouped by record, with what became of each. Outbound contacts are
not in the calls table (they hold no trunk line and no call id), so a trace of one reads the dialler's
events, whose `detail` is the record's number."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.engine.day import RunResult

RECORD_PICKS: dict[str, str] = {
    "right-party": "reached the right person",
    "nuisance": "ended in a nuisance call (answered with no agent free)",
    "not-reached": "were never reached",
    "dialled-again": "were dialled more than once",
}
"""The `--pick` words about campaign records, and what the records they pick did."""

DIALLER_EVENTS = ("dial_out", "no_answer", "right_party", "connect", "nuisance")
"""The outbound events whose `detail` is a record's number (`outbound_done` holds the work time)."""


def records_table(result: RunResult) -> pd.DataFrame:
    """One row per record dialled, in order of first dial: `record`, `first_dialled_at`, `dials`,
    `right_party` (reached the right person), `nuisance` (its answer found no agent free)."""
    events = result.events
    rows = events[(events["call_id"] < 0) & events["event"].isin(DIALLER_EVENTS)]
    kind = rows["event"].astype(str).to_numpy()
    frame = pd.DataFrame(
        {
            "record": rows["detail"].to_numpy(dtype=np.int64),
            "t": rows["t"].to_numpy(),
            "dial": kind == "dial_out",
            "right_party": kind == "right_party",
            "nuisance": kind == "nuisance",
        }
    )
    grouped = frame.groupby("record", sort=False)
    table = pd.DataFrame(
        {
            "first_dialled_at": grouped["t"].min(),
            "dials": grouped["dial"].sum().astype(np.int64),
            "right_party": grouped["right_party"].any(),
            "nuisance": grouped["nuisance"].any(),
        }
    ).reset_index()
    return table.sort_values(["first_dialled_at", "record"], kind="stable").reset_index(drop=True)


def matching_records(result: RunResult, picks: Sequence[str]) -> pd.DataFrame:
    """The records dialled that went through every pick, in order of first dial. Raises ValueError for a
    run without a campaign."""
    if result.scenario.outbound is None:
        raise ValueError(
            f"--pick {picks[0] if picks else 'right-party'}: this scenario dials no campaign (outbound:)"
        )
    table = records_table(result)
    keep = np.ones(len(table), dtype=bool)
    for pick in dict.fromkeys(picks):
        if pick == "right-party":
            keep &= table["right_party"].to_numpy()
        elif pick == "nuisance":
            keep &= table["nuisance"].to_numpy()
        elif pick == "not-reached":
            keep &= ~table["right_party"].to_numpy()
        elif pick == "dialled-again":
            keep &= table["dials"].to_numpy() > 1
        else:
            raise ValueError(f"no record pick {pick!r}; choose from {', '.join(RECORD_PICKS)}")
    return table[keep]


def describe(picks: Sequence[str]) -> str:
    """`reached the right person and were dialled more than once`."""
    parts = [RECORD_PICKS[pick] for pick in dict.fromkeys(picks)] or ["were dialled"]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
