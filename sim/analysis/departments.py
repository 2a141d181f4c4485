"""Per department and agent group, what the day's summary and the interval table both need: who the agents
are (each one's group and home department, as lookup arrays) and a department's queue figures from its
visits, for any grouping of them (by department, or by interval x department).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.grouping import (
    Groups,
    Table,
    column,
    count_where,
    mean_where,
    quantile_where,
    ratio,
    rows_where,
)
from sim.analysis.metrics import visit_asa, visit_service_level
from sim.analysis.tables import agent_pools
from sim.engine.day import RunResult


@dataclass(frozen=True)
class Pools:
    """Who the agents of a run are, as lookup arrays: per agent id (shifted by one, so that -1, no agent,
    finds -1) its group's position in `groups` and its pool's home department's position in `departments`."""

    group_of: np.ndarray
    home_of: np.ndarray

    @staticmethod
    def of(result: RunResult, departments: Sequence[str], groups: Sequence[str]) -> Pools:
        agents = agent_pools(result)
        ids = agents.agent_ids
        size = int(ids.max(initial=-1)) + 2
        department_at = {name: i for i, name in enumerate(departments)}
        group_at = {name: i for i, name in enumerate(groups)}
        group_of_pool = np.array([group_at.get(p, -1) for p in agents.names] + [-1], dtype=np.int64)
        home_of_pool_code = np.array(
            [department_at.get(home, -1) for home in agents.homes] + [-1], dtype=np.int64
        )
        pool_of = np.full(size, -1, dtype=np.int64)
        pool_of[ids + 1] = agents.pool
        return Pools(group_of_pool[pool_of], home_of_pool_code[pool_of])

    def group(self, agent_ids: np.ndarray) -> np.ndarray:
        """Each agent's group position (-1: a department's own agent, or no agent)."""
        return self.group_of[agent_ids.astype(np.int64) + 1]

    def home(self, agent_ids: np.ndarray) -> np.ndarray:
        """Each agent's home department position (-1: none, or no agent)."""
        return self.home_of[agent_ids.astype(np.int64) + 1]


def visit_figures(
    visits: Table, keys: np.ndarray, size: int, threshold: float | np.ndarray, blocked: np.ndarray
) -> dict[str, Any]:
    """Per group of a department's visits (callbacks excluded) and the callers blocked on their way to it:
    the department's queue figures. `threshold`: one for all, or one per visit (its department's)."""
    live = ~column(visits, "callback").astype(bool)
    if isinstance(threshold, np.ndarray):
        threshold = threshold[live]
    mine = rows_where(visits, live)
    groups = Groups(keys[live], size)
    every = np.ones(len(mine), dtype=bool)
    reached = count_where(every, groups)
    abandoned = count_where(column(mine, "abandoned").astype(bool), groups)
    waits = column(mine, "wait_time")
    return {
        "visits": reached,
        "offered": reached + blocked,
        "answered": count_where(column(mine, "answered").astype(bool), groups),
        "abandoned": abandoned,
        "blocked": blocked,
        "service_level": visit_service_level(mine, threshold, blocked, by=groups),
        "asa": visit_asa(mine, by=groups),
        "mean_wait": mean_where(waits, every, groups),
        "p90_wait": quantile_where(waits, every, groups, 0.9),
        "abandon_rate": ratio(abandoned, reached + blocked),
    }
