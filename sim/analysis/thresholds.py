"""Each row's service-level threshold: a department's own (`goals.departments.NAME.threshold`) or the centre's.

A wait is judged against the threshold of the department it waits in: a visit against its department's, a
contact's headline wait (calls table, `time_to_answer`) against its first department's. The service-level
functions of `sim.analysis.metrics` take the threshold as a number or as one per row (this module's arrays,
broadcast in their one vectorised pass: a lookup `threshold[department code]`, no loop over rows).

With no department having a threshold of its own, both functions return the centre's scalar
`service_level.threshold`, so every table is computed exactly as before.
"""

from __future__ import annotations

import numpy as np

from sim.analysis.channel_kpis import headline_channel
from sim.analysis.channels import VOICE
from sim.analysis.grouping import Table, codes_of
from sim.model.goals import department_thresholds, has_own_thresholds
from sim.model.scenario import Scenario


def _lookup(scenario: Scenario, codes: np.ndarray) -> np.ndarray:
    """The threshold of each department position in `codes` (-1, no department: the centre's)."""
    table = np.array([*department_thresholds(scenario).values(), scenario.service_level.threshold], dtype=float)
    return table[np.where(codes >= 0, codes, len(table) - 1)]


def visit_thresholds(scenario: Scenario, visit_department: np.ndarray) -> float | np.ndarray:
    """Each visit's threshold, from its department position (`codes_of(visits, "department", ...)`)."""
    if not has_own_thresholds(scenario):
        return float(scenario.service_level.threshold)
    return _lookup(scenario, np.asarray(visit_department, dtype=np.int64))


def call_thresholds(scenario: Scenario, calls: Table) -> float | np.ndarray:
    """Each contact's threshold: its first department's (the centre's when it reached none)."""
    if not has_own_thresholds(scenario):
        return float(scenario.service_level.threshold)
    return _lookup(scenario, codes_of(calls, "first_department", list(scenario.departments)))


def channel_threshold_words(scenario: Scenario, channel: str | None = None) -> str:
    """For labels: the threshold a channel's (None: the headline's) service level is judged at, `60 s`
    when all its departments share one, `each department's own threshold` when they differ."""
    channel = channel or headline_channel(scenario)
    thresholds = department_thresholds(scenario)
    chosen = {
        thresholds[name]
        for name, department in scenario.departments.items()
        if channel is None or (department.channel or VOICE) == channel
    }
    if len(chosen) == 1:
        return f"{next(iter(chosen)):g} s"
    if not chosen:
        return f"{scenario.service_level.threshold:g} s"
    return "each department's own threshold"
