"""Outbound figures for the day's summary (`sim.model.outbound`): dials, right-party contacts, contacts
per agent-hour of the dialling pool, the nuisance rate of a predictive dialler and the list left at the
close (`sim.analysis.metrics` defines each; `sim.analysis.kpis` names them).

Counted from the event log in one vectorised pass (`np.bincount` over record numbers): no loop over
records, agents or intervals. Inbound KPIs are unchanged in definition: outbound dials are not calls (they
have no row in the calls table), but the time agents spend on them is busy time (`occupancy`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.metrics import nuisance_rate, outbound_contacts_per_agent_hour, outbound_list_left
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event

_DIAL, _NO_ANSWER, _RIGHT_PARTY = CODE[Event.DIAL_OUT], CODE[Event.NO_ANSWER], CODE[Event.RIGHT_PARTY]
_NUISANCE = CODE[Event.NUISANCE]


def add_outbound(
    out: dict[str, Any], result: RunResult, pool_names: list[str], logged_in: np.ndarray
) -> None:
    """Add the outbound figures to a summary `out`, given each pool's logged-in seconds over the counted
    day (`agent_levels`' order)."""
    settings = result.scenario.outbound
    assert settings is not None
    c = result.columns
    counted = c.t >= result.scenario.warmup
    code = c.code
    right_party = code == _RIGHT_PARTY
    nuisance = code == _NUISANCE
    contacts = int(np.count_nonzero(right_party & counted)) - int(np.count_nonzero(nuisance & counted))
    records = settings.list
    record = c.detail.astype(np.int64)
    reached = np.bincount(record[right_party], minlength=records)[:records] > 0
    missed = np.bincount(record[code == _NO_ANSWER], minlength=records)[:records]
    out["outbound_dials"] = int(np.count_nonzero((code == _DIAL) & counted))
    out["outbound_contacts"] = contacts
    out["outbound_contacts_per_agent_hour"] = outbound_contacts_per_agent_hour(
        contacts, float(logged_in[pool_names.index(settings.pool)])
    )
    out["outbound_list_left"] = outbound_list_left(records, reached, missed, settings.attempts)
    if settings.mode == "predictive":
        out["nuisance_rate"] = nuisance_rate(
            int(np.count_nonzero(nuisance & counted)), int(np.count_nonzero(right_party & counted))
        )
