"""Figures by channel: a centre answering calls and chats (and, as they come, other channels) judges each
channel as a whole, its departments' queues together, with the same definitions as a department's
(`sim.analysis.departments.visit_figures`): a channel is the union of its departments' visits."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.departments import visit_figures
from sim.analysis.grouping import Table
from sim.model.scenario import Scenario

VOICE = "voice"
"""The channel of a department that names none."""
KEYS = ("visits", "answered", "abandoned", "blocked", "service_level", "asa", "mean_wait", "abandon_rate")
"""What `by_channel` holds per channel: the department figures that add up over departments' queues."""


def department_channels(scenario: Scenario) -> list[str]:
    """Each department's channel, in the scenario's order."""
    return [department.channel or VOICE for department in scenario.departments.values()]


def channel_figures(
    scenario: Scenario, visits: Table, visit_department: np.ndarray, threshold: float | np.ndarray, blocked: np.ndarray
) -> dict[str, dict[str, Any]]:
    """Per channel of a centre with more than one (empty otherwise: its by-department figures say it all):
    the queue figures of all its departments' visits together. `visit_department`: each visit's department
    position (-1: none); `blocked`: callers blocked per department."""
    channels = department_channels(scenario)
    present = list(dict.fromkeys(channels))
    if len(present) < 2:
        return {}
    code = np.array([present.index(channel) for channel in channels], dtype=np.int64)
    visit_channel = np.where(visit_department >= 0, code[np.maximum(visit_department, 0)], -1)
    blocked_by = np.bincount(code, weights=np.asarray(blocked, dtype=float), minlength=len(present))
    figures = visit_figures(visits, visit_channel, len(present), threshold, blocked_by.astype(np.int64))
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(present):
        out[name] = {
            key: int(figures[key][i])
            if key in ("visits", "answered", "abandoned", "blocked")
            else float(figures[key][i])
            for key in KEYS
        }
    return out
