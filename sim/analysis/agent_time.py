"""Agent time over reporting intervals: who the agents are (their pools, as arrays), and the time-weighted
levels of agents scheduled, logged in and busy integrated over any edges (intervals, or the counted day).

The step functions of a run (agents logged in, agents busy, per pool) are put in time order once and kept on
the run (`result.derived`): the summary integrates them over the counted day and the interval table over its
intervals, without sorting the event log twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.columns import any_of, derived, event_rows
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event
from sim.model.chat import chat_departments, chat_desks

_RING, _IDLE = CODE[Event.RING], CODE[Event.IDLE]
_LOGIN, _LOGOUT = CODE[Event.LOGIN], CODE[Event.LOGOUT]
_BREAK, _BACK = CODE[Event.BREAK], CODE[Event.BACK]  # an agent on a break is not logged in (available)
# Outbound (`sim.engine.outbound`): an agent is busy from its dial (progressive) or the right party put
# through to it (predictive) until it is done; a predictive dial has no agent and is left out as unknown.
_DIAL, _CONNECT, _DONE = CODE[Event.DIAL_OUT], CODE[Event.CONNECT], CODE[Event.OUTBOUND_DONE]


def scheduled_agents_by(staffing: Mapping[str, Sequence[tuple[float, int]]], edges: np.ndarray) -> np.ndarray:
    """Mean scheduled agents per interval (columns) for each pool's staffing step function (rows, in the
    mapping's order): `levels.scheduled_agents` for every pool in one `integrate_levels_by` pass, the
    same floats."""
    steps = list(staffing.values())
    group = np.repeat(np.arange(len(steps)), [len(levels) for levels in steps])
    times = np.array([at for levels in steps for at, _ in levels], dtype=float)
    deltas = np.concatenate(
        [np.diff(np.concatenate(([0.0], np.array([n for _, n in levels], dtype=float)))) for levels in steps]
        or [np.zeros(0)]
    )
    area = integrate_levels_by(group, times, deltas, edges, len(steps))
    widths = np.diff(edges)
    return np.divide(area, widths, out=np.zeros_like(area), where=widths > 0)


def integrate_levels_by(
    group: np.ndarray, times: np.ndarray, deltas: np.ndarray, edges: np.ndarray, size: int
) -> np.ndarray:
    """Per group 0..size-1 (rows), the integral over each [edges[i], edges[i+1]) (columns) of the step
    function that jumps by `deltas` at `times` in that group (rows of groups from `size` on are left out).

    The same floats as `integrate_levels` on each group's rows alone, from whole-array passes: two stable
    sorts (the groups' by radix) put each group's rows in time order (ties in log order), groups one after
    another, and the products and the values at the edges are elementwise over all groups at once. Only the
    running sums and the search for each edge's last change go group by group, one numpy call each, because
    a group's sums must start afresh and add in order for the floats to match: the cost is the events' and
    the output's, plus a few microseconds per group (not a dozen small-array steps per group)."""
    return StepFunctions.of(group, times, deltas, size).integrate(edges)


@dataclass(frozen=True)
class StepFunctions:
    """Per group, a step function's changes in time order (groups one after another) with its level after
    each change and its area up to each change: `integrate_levels_by` without the edges, so that one sort
    serves any number of edges."""

    size: int
    filled: np.ndarray
    """The groups with at least one change."""
    bounds: np.ndarray
    """Group g's changes are rows bounds[g]:bounds[g + 1]."""
    times: np.ndarray
    level: np.ndarray
    area: np.ndarray

    @staticmethod
    def of(group: np.ndarray, times: np.ndarray, deltas: np.ndarray, size: int) -> StepFunctions:
        counts = np.bincount(group, minlength=size)[:size]
        filled = np.flatnonzero(counts)
        bounds = np.concatenate(([0], np.cumsum(counts)))
        if not len(filled):
            return StepFunctions(size, filled, bounds, np.zeros(0), np.zeros(0), np.zeros(0))
        # A group key of 16 bits or fewer sorts by radix, in one pass (the order is the same: both are stable).
        key = group.astype(np.uint16) if size <= np.iinfo(np.uint16).max and group.max() < size else group
        by_time = np.argsort(times, kind="stable")
        order = by_time[np.argsort(key[by_time], kind="stable")][: int(counts.sum())]
        times, deltas = times[order], deltas[order]
        spans = [(bounds[index], bounds[index + 1]) for index in filled.tolist()]
        level = np.empty(len(times))
        running_sum = np.add.accumulate  # np.cumsum, without its Python wrapper (a call per group)
        for start, stop in spans:
            running_sum(deltas[start:stop], out=level[start:stop])
        steps = level[:-1] * np.diff(times)  # within a group, its own; across groups, unused
        area = np.zeros(len(times))  # at each group's first change, nothing yet
        for start, stop in spans:
            running_sum(steps[start : stop - 1], out=area[start + 1 : stop])
        return StepFunctions(size, filled, bounds, times, level, area)

    def integrate(self, edges: np.ndarray) -> np.ndarray:
        """Per group (rows), the integral over each [edges[i], edges[i+1]) (columns)."""
        out = np.zeros((self.size, max(len(edges) - 1, 0)))
        filled, bounds, times = self.filled, self.bounds, self.times
        if len(edges) < 2 or not len(filled):
            return out
        last = np.empty((len(filled), len(edges)), dtype=np.int64)  # per group and edge: its last change
        for row, index in enumerate(filled.tolist()):
            last[row] = times[bounds[index] : bounds[index + 1]].searchsorted(edges, side="right")
        first = bounds[filled][:, None]
        last += first - 1
        started = last >= first  # the group has changed by the edge
        change = np.where(started, last, 0)
        at_edge = np.where(started, self.area[change] + self.level[change] * (edges - times[change]), 0.0)
        out[filled] = np.diff(at_edge, axis=1)
        return out


def _spans(
    pool: np.ndarray, opened: np.ndarray, closed: np.ndarray, at: np.ndarray, ended_at: float, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pool, time and +1/-1 of span starts and ends (rows `opened`, `closed`), spans left open closed at
    `ended_at`: per pool, starts in log order, then ends, then the closes."""
    # The masks made row numbers once: each boolean index of a column is a pass over the mask of its own.
    opened, closed = np.flatnonzero(opened), np.flatnonzero(closed)
    pool_opened, pool_closed = pool[opened], pool[closed]
    still_open = (
        np.bincount(pool_opened, minlength=size)[:size] - np.bincount(pool_closed, minlength=size)[:size]
    )
    closes = np.repeat(np.arange(size), np.maximum(still_open, 0))
    return (
        np.concatenate((pool_opened, pool_closed, closes)),
        np.concatenate((at[opened], at[closed], np.full(len(closes), ended_at))),
        np.concatenate((np.ones(len(opened)), -np.ones(len(closed)), -np.ones(len(closes)))),
    )


@dataclass(frozen=True)
class AgentPools:
    """Who the agents of a run are, as arrays built once: each agent's id and pool (its position in `names`,
    pools in order of first appearance in the agents table), and each pool's home department (None or NaN for
    an agent group's pool)."""

    agent_ids: np.ndarray
    pool: np.ndarray
    names: list[str]
    homes: list[Any]


def agent_pools(result: RunResult) -> AgentPools:
    """The run's `AgentPools`, built once (the agents table's strings are read here and nowhere else)."""
    return derived(result, "agents.pools", _agent_pools)


def _agent_pools(result: RunResult) -> AgentPools:
    agents = result.agents
    pools, homes = agents["pool"].tolist(), agents["home"].tolist()
    position: dict[Any, int] = {}
    codes = [position.setdefault(pool, len(position)) for pool in pools]  # in order of first appearance
    home_of_pool = dict(zip(pools, homes, strict=True))
    return AgentPools(
        agents["agent_id"].to_numpy(dtype=np.int64),
        np.asarray(codes, dtype=np.int64),
        [str(name) for name in position],
        [home_of_pool[name] for name in position],
    )


def agent_levels(result: RunResult, edges: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per pool (rows, in `agent_pools` order) and interval (columns): logged-in and busy agent-seconds
    (busy = ringing, talking or wrapping up); `agent_seconds` as arrays."""
    logged, busy = derived(result, "agents.levels", _agent_steps)
    return agent_pools(result).names, logged.integrate(edges), busy.integrate(edges)


def _agent_steps(result: RunResult) -> tuple[StepFunctions, StepFunctions]:
    """Per pool, the step functions of agents logged in and agents busy."""
    c = result.columns
    agents = agent_pools(result)
    # Only the events that start or end a span, each with its agent's pool (-1: no agent): one pass over
    # the event log, not one per pool (a million-call day logs millions of events).
    spans: tuple[int, ...] = (_LOGIN, _LOGOUT, _RING, _IDLE, _BREAK, _BACK)
    dials = result.scenario.outbound is not None
    if dials:
        spans = (*spans, _DIAL, _CONNECT, _DONE)
    rows_of_spans = event_rows(result, *spans)
    code, at, agent = c.code[rows_of_spans], c.t[rows_of_spans], c.agent[rows_of_spans]
    agent_ids = agents.agent_ids
    pool_of = np.full(int(max(agent_ids.max(initial=-1), agent.max(initial=-1))) + 2, -1)
    pool_of[agent_ids + 1] = agents.pool
    pool_at = pool_of[agent.astype(np.int64) + 1]
    known = pool_at >= 0
    size = len(agents.names)
    # Close open spans at the end of the run so integrals stay finite.
    logged = StepFunctions.of(
        *_spans(
            pool_at,
            known & ((code == _LOGIN) | (code == _BACK)),
            known & ((code == _LOGOUT) | (code == _BREAK)),
            at,
            result.ended_at,
            size,
        ),
        size,
    )
    taken, freed = known & (code == _RING), known & (code == _IDLE)
    if dials:  # outbound work is busy time too
        taken |= known & ((code == _DIAL) | (code == _CONNECT))
        freed |= known & (code == _DONE)
    chat_pools = _chat_pools(result, agents)
    if chat_pools.any():  # a chat agent is busy while it has at least one chat in hand, not once per chat
        taken, freed = _first_and_last_chats(taken, freed, chat_pools[np.maximum(pool_at, 0)] & known, agent)
    busy = StepFunctions.of(*_spans(pool_at, taken, freed, at, result.ended_at, size), size)
    return logged, busy


def _chat_pools(result: RunResult, agents: AgentPools) -> np.ndarray:
    """Per pool (in `agent_pools` order), whether it is a chat pool (`sim.model.chat`)."""
    desks = chat_desks(result.scenario)
    return np.array([name in desks for name in agents.names], dtype=bool)


def _first_and_last_chats(
    taken: np.ndarray, freed: np.ndarray, chat: np.ndarray, agent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`taken` and `freed` (rows of calls taken and slots freed) with the rows of chat agents narrowed to
    those where the agent's chats in hand go from 0 to 1 and from 1 to 0: per agent, a running count over
    its rows in log order (one stable sort by agent, one cumulative sum, each agent's start subtracted)."""
    rows = np.flatnonzero(chat & (taken | freed))
    step = np.where(taken[rows], 1, -1)
    order = np.argsort(agent[rows], kind="stable")
    rows, step = rows[order], step[order]
    who = agent[rows]
    running = np.cumsum(step)
    first = np.ones(len(rows), dtype=bool)
    first[1:] = who[1:] != who[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(len(rows)), 0))
    in_hand = running - (running[start] - step[start])  # each agent's count after its row
    before = in_hand - step
    taken, freed = taken & ~chat, freed & ~chat
    taken[rows[(before == 0) & (in_hand == 1)]] = True
    freed[rows[(before == 1) & (in_hand == 0)]] = True
    return taken, freed


def chat_levels(result: RunResult, edges: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Per pool (rows, in `agent_pools` order) and interval (columns): chat-seconds in hand (the sum over
    its agents of the chats each holds; zero for a voice pool)."""
    return agent_pools(result).names, derived(result, "agents.chats", _chat_steps).integrate(edges)


def chat_held_levels(result: RunResult, edges: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Per pool (rows, in `agent_pools` order) and interval (columns): agent-seconds with at least one chat
    in hand (a blended pool's agents' calls and emails left out; zero for a voice pool)."""
    return agent_pools(result).names, derived(result, "agents.chat_held", _chat_held_steps).integrate(edges)


def _chat_rows(result: RunResult) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The rings and slot ends of chats taken by chat pools' agents (a blended pool's calls and emails left
    out): the event codes, instants, agents, pools and whether each row counts, and the number of pools."""
    c = result.columns
    agents = agent_pools(result)
    size = len(agents.names)
    chat_pools = _chat_pools(result, agents)
    rows = np.flatnonzero(any_of(c.code, (_RING, _IDLE)))
    code, at, agent = c.code[rows], c.t[rows], c.agent[rows]
    pool_of = np.full(int(max(agents.agent_ids.max(initial=-1), agent.max(initial=-1))) + 2, -1)
    pool_of[agents.agent_ids + 1] = agents.pool
    pool_at = pool_of[agent.astype(np.int64) + 1]
    names = list(result.scenario.departments)
    chats = [index for index, name in enumerate(names) if name in chat_departments(result.scenario)]
    mine = (pool_at >= 0) & chat_pools[np.maximum(pool_at, 0)] & np.isin(c.department[rows], chats)
    return code, at, agent, pool_at, mine, size


def _chat_steps(result: RunResult) -> StepFunctions:
    """Per chat pool, the step function of chats in hand (+1 when a chat is taken, -1 when its slot is free)."""
    code, at, _, pool_at, mine, size = _chat_rows(result)
    return StepFunctions.of(
        *_spans(pool_at, mine & (code == _RING), mine & (code == _IDLE), at, result.ended_at, size), size
    )


def _chat_held_steps(result: RunResult) -> StepFunctions:
    """Per chat pool, the step function of its agents with at least one chat in hand."""
    code, at, agent, pool_at, mine, size = _chat_rows(result)
    taken, freed = _first_and_last_chats(mine & (code == _RING), mine & (code == _IDLE), mine, agent)
    return StepFunctions.of(*_spans(pool_at, taken, freed, at, result.ended_at, size), size)


def agent_seconds(result: RunResult, edges: np.ndarray) -> pd.DataFrame:
    """Per pool and interval: logged-in and busy agent-seconds (busy = ringing, talking or wrapping up)."""
    pools, logged, busy = agent_levels(result, edges)
    count = len(edges) - 1
    return pd.DataFrame(
        {
            "pool": np.repeat(np.asarray(pools, dtype=object), count),
            "interval": np.tile(np.arange(count), len(pools)),
            "logged_in_seconds": logged.reshape(-1),
            "busy_seconds": busy.reshape(-1),
        }
    )
