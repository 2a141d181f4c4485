"""How well: every KPI, defined once, computed after the run from the calls and visits tables.

Each KPI function's docstring is its definition; the report quotes them. Calls arriving before the
warm-up ends are simulated but not counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.episodes import callback_table, hold_table
from sim.analysis.tables import (
    agent_seconds,
    calls_table,
    interval_edges,
    scheduled_agents,
    transfer_table,
    visits_table,
)
from sim.engine.day import RunResult
from sim.model.durations import format_clock

# --- grouping: one vectorised pass per figure, whatever the number of intervals, departments or groups -------


@dataclass(frozen=True)
class Groups:
    """Rows of a table split into `size` groups (intervals, departments, interval x department, ...): `key[i]`
    is row i's group, -1 for none. A KPI function given `by=` returns one figure per group (an array) from one
    pass over the table; without it, one figure for the whole table, computed the same way."""

    key: np.ndarray
    size: int

    def subset(self, keep: np.ndarray) -> Groups:
        """The groups of the rows where `keep` holds (for a KPI that filters its table first)."""
        return Groups(self.key[keep], self.size)


def _groups(table: pd.DataFrame, by: Groups | None) -> Groups:
    return by if by is not None else Groups(np.zeros(len(table), dtype=np.int64), 1)


def _figure(values: np.ndarray, by: Groups | None) -> Any:
    """The whole table's figure as a float, or the per-group array."""
    return float(values[0]) if by is None else values


def _count(mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the rows where `mask` holds."""
    keys = groups.key[np.asarray(mask, dtype=bool) & (groups.key >= 0)]
    return np.bincount(keys, minlength=groups.size)[: groups.size]


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole per group, NaN where whole is 0."""
    return np.divide(part, whole, out=np.full(len(whole), math.nan), where=whole > 0)


def _pairwise_sums(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per segment `values[start:start + count]`, its sum exactly as numpy (and so pandas) takes it: pairwise
    summation, eight accumulators in blocks of up to 128 values. Reproduced bit for bit, so a table computed in
    one vectorised pass holds the very floats a filter-and-sum per interval gave (their last bits would
    otherwise differ, and a 12-digit fingerprint of thousands of them could show it)."""
    out = np.zeros(len(starts))
    small = counts < 8
    if small.any():
        first, count = starts[small], counts[small]
        total = np.zeros(len(first))
        for j in range(7):
            inside = count > j
            total[inside] += values[first[inside] + j]
        out[small] = total
    middle = (counts >= 8) & (counts <= 128)
    if middle.any():
        first, count = starts[middle], counts[middle]
        lanes = np.arange(8)
        lane = values[first[:, None] + lanes]
        blocks = count // 8
        for block in range(1, 16):
            more = blocks > block
            if not more.any():
                break
            lane[more] += values[first[more][:, None] + 8 * block + lanes]
        total = ((lane[:, 0] + lane[:, 1]) + (lane[:, 2] + lane[:, 3])) + (
            (lane[:, 4] + lane[:, 5]) + (lane[:, 6] + lane[:, 7])
        )
        tail, rest = first + 8 * blocks, count % 8
        for j in range(7):
            inside = rest > j
            total[inside] += values[tail[inside] + j]
        out[middle] = total
    large = counts > 128
    if large.any():
        first, count = starts[large], counts[large]
        half = count // 2
        half -= half % 8
        # both halves of every long segment in one call (one call a level, not one a segment)
        halves = _pairwise_sums(
            values, np.concatenate((first, first + half)), np.concatenate((half, count - half))
        )
        out[large] = halves[: len(first)] + halves[len(first) :]
    return out


def _segments(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by group, keeping their order within a group: the order, and each group's start and count."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=size)[:size]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return order, starts, counts


def _sum(values: np.ndarray, mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the sum of `values` where `mask` holds (NaN counts as 0), as pandas' `sum` takes it."""
    keep = np.asarray(mask, dtype=bool) & (groups.key >= 0)
    keys, chosen = groups.key[keep], np.asarray(values, dtype=float)[keep]
    if groups.size == 1:  # one segment: numpy's own sum is the very same sum
        return np.array([np.nan_to_num(chosen, nan=0.0).sum()])
    order, starts, counts = _segments(keys, groups.size)
    return _pairwise_sums(np.nan_to_num(chosen[order], nan=0.0), starts, counts)


def _mean(values: np.ndarray, mask: np.ndarray, groups: Groups) -> np.ndarray:
    """Per group, the mean of `values` where `mask` holds, NaN skipped (NaN when none), as pandas' `mean`."""
    chosen = np.asarray(values, dtype=float)
    present = np.asarray(mask, dtype=bool) & ~np.isnan(chosen)
    return _ratio(_sum(chosen, mask, groups), _count(present, groups))


def _quantile(values: np.ndarray, mask: np.ndarray, groups: Groups, q: float) -> np.ndarray:
    """Per group, the `q` quantile of `values` where `mask` holds, NaN skipped, linearly interpolated exactly
    as numpy's (and pandas') `quantile` does; NaN when a group has none."""
    chosen = np.asarray(values, dtype=float)
    keep = np.asarray(mask, dtype=bool) & (groups.key >= 0) & ~np.isnan(chosen)
    keys, chosen = groups.key[keep], chosen[keep]
    ordered = chosen[np.lexsort((chosen, keys))]
    counts = np.bincount(keys, minlength=groups.size)[: groups.size]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    out = np.full(groups.size, math.nan)
    has = counts > 0
    count, first = counts[has], starts[has]
    virtual = (count - 1) * q
    below = np.floor(virtual)
    gamma = virtual - below
    low = below.astype(np.int64)
    high = low + 1
    top = virtual >= count - 1
    low[top] = high[top] = count[top] - 1
    a, b = ordered[first + low], ordered[first + high]
    step = b - a
    value = a + step * gamma
    upper = gamma >= 0.5
    value[upper] = (b - step * (1 - gamma))[upper]
    out[has] = value
    return out


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    return table[name].to_numpy()


def _is(table: pd.DataFrame, name: str, value: str) -> np.ndarray:
    return (table[name] == value).to_numpy(dtype=bool)


# --- KPI definitions (one line each) ------------------------------------------------------------------------
# Each takes an optional `by` (Groups): then it returns one figure per group, from one pass over the table.


def offered(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Calls offered to agents: arrivals not resolved in the phone menu, whatever became of them."""
    if by is None:
        return len(calls)
    return _count(np.ones(len(calls), dtype=bool), by)


def service_level(calls: pd.DataFrame, threshold: float, by: Groups | None = None) -> Any:
    """Calls answered within the threshold (queue wait + ring) / offered; abandons and blocks count as misses."""
    groups = _groups(calls, by)
    in_time = _is(calls, "outcome", "answered") & (_column(calls, "time_to_answer") <= threshold + 1e-9)
    return _figure(_ratio(_count(in_time, groups), _count(np.ones(len(calls), dtype=bool), groups)), by)


def service_level_live(calls: pd.DataFrame, threshold: float, by: Groups | None = None) -> Any:
    """Service level over offered calls that did not take a callback instead of waiting (virtual hold)."""
    live = ~_column(calls, "virtual_hold").astype(bool)
    return service_level(calls[live], threshold, by.subset(live) if by is not None else None)


def answered_within_rings(
    calls: pd.DataFrame, ring_cycle: float, rings: int, by: Groups | None = None
) -> Any:
    """Calls answered within `rings` ring cycles of joining the queue / offered."""
    return service_level(calls, ring_cycle * rings, by)


def asa(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Average speed of answer: mean first queue wait of calls an agent answered (seconds)."""
    answered = calls["answered_at"].notna().to_numpy()
    return _figure(_mean(_column(calls, "wait_time"), answered, _groups(calls, by)), by)


def mean_wait(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Mean queue wait of calls not blocked, until an agent took it or the caller hung up (0 if at once)."""
    reached = ~_is(calls, "outcome", "blocked")
    return _figure(_mean(_column(calls, "wait_time"), reached, _groups(calls, by)), by)


def p90_wait(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """90th percentile of the queue wait of calls not blocked (seconds)."""
    reached = ~_is(calls, "outcome", "blocked")
    return _figure(_quantile(_column(calls, "wait_time"), reached, _groups(calls, by), 0.9), by)


def p_wait(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Share of calls not blocked that waited more than zero in a queue."""
    groups = _groups(calls, by)
    reached = ~_is(calls, "outcome", "blocked")
    waited = reached & (np.nan_to_num(_column(calls, "wait_time").astype(float), nan=0.0) > 1e-9)
    return _figure(_ratio(_count(waited, groups), _count(reached, groups)), by)


def abandon_rate(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Abandoned / offered (hang-ups while queued or ringing, in any queue of the call's journey)."""
    groups = _groups(calls, by)
    every = np.ones(len(calls), dtype=bool)
    return _figure(_ratio(_count(_is(calls, "outcome", "abandoned"), groups), _count(every, groups)), by)


def block_rate(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Blocked (busy signal: no free trunk line) / offered."""
    groups = _groups(calls, by)
    every = np.ones(len(calls), dtype=bool)
    return _figure(_ratio(_count(_is(calls, "outcome", "blocked"), groups), _count(every, groups)), by)


def aht(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Average handle time: mean agent talk + hold + wrap-up, over all agents, of calls an agent answered (seconds)."""
    answered = calls["answered_at"].notna().to_numpy()
    handle = _column(calls, "talk_time") + _column(calls, "hold_time") + _column(calls, "wrap_time")
    return _figure(_mean(handle, answered, _groups(calls, by)), by)


def occupancy(busy_seconds: Any, logged_in_seconds: Any) -> Any:
    """Busy agent-seconds (ringing, talking, wrapping up) / logged-in agent-seconds."""
    if np.ndim(busy_seconds) == 0:
        return busy_seconds / logged_in_seconds if logged_in_seconds > 0 else math.nan
    logged = np.asarray(logged_in_seconds, dtype=float)
    return np.divide(busy_seconds, logged, out=np.full(len(logged), math.nan), where=logged > 0)


def first_contact_routing(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Share of answered callers whose first answering agent belonged to a department that resolves their reason."""
    groups = _groups(calls, by)
    answered = calls["answered_at"].notna().to_numpy()
    routed = answered & _column(calls, "first_contact_routed").astype(bool)
    return _figure(_ratio(_count(routed, groups), _count(answered, groups)), by)


def first_contact_resolution(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Share of answered callers resolved by the first agent, with no transfer and no callback."""
    groups = _groups(calls, by)
    answered = calls["answered_at"].notna().to_numpy()
    first = (
        _column(calls, "resolved").astype(bool)
        & (_column(calls, "agents_touched") == 1)
        & (_column(calls, "n_transfers") == 0)
        & ~_column(calls, "callback_requested").astype(bool)
    )
    return _figure(_ratio(_count(first & answered, groups), _count(answered, groups)), by)


def transfers_per_call(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Mean number of transfers over calls an agent answered."""
    answered = calls["answered_at"].notna().to_numpy()
    return _figure(_mean(_column(calls, "n_transfers"), answered, _groups(calls, by)), by)


def mean_agents_touched(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Mean number of agents who answered the caller, over calls an agent answered."""
    answered = calls["answered_at"].notna().to_numpy()
    return _figure(_mean(_column(calls, "agents_touched"), answered, _groups(calls, by)), by)


def agents_touched_distribution(calls: pd.DataFrame) -> dict[str, float]:
    """Share of answered calls that met 1, 2, 3, 4 and 5+ agents."""
    touched = calls.loc[calls["answered_at"].notna(), "agents_touched"].clip(upper=5)
    shares = touched.value_counts(normalize=True)
    return {("5+" if n == 5 else str(n)): float(shares.get(n, 0.0)) for n in range(1, 6)}


def misroute_cost_hours(transfers: pd.DataFrame, by: Groups | None = None) -> Any:
    """Agent-hours spent on call segments that ended in a transfer (talk until the transfer)."""
    groups = _groups(transfers, by)
    every = np.ones(len(transfers), dtype=bool)
    return _figure(_sum(_column(transfers, "segment_time"), every, groups) / 3600.0, by)


def transfer_matrix(transfers: pd.DataFrame) -> list[dict[str, Any]]:
    """Transfers counted by (from department, to department)."""
    counts = transfers.groupby(["from", "to"], observed=True).size().reset_index(name="count")
    return [
        {"from": str(f), "to": str(t), "count": int(n)}
        for f, t, n in zip(counts["from"], counts["to"], counts["count"], strict=True)
    ]


def common_chains(calls: pd.DataFrame, top: int = 10) -> dict[str, int]:
    """The most common sequences of departments whose agents answered a caller (`billing > technical`)."""
    chains = calls.loc[calls["answered_at"].notna(), "chain"]
    return {str(chain): int(count) for chain, count in chains.value_counts().head(top).items()}


def hold_rate(calls: pd.DataFrame, by: Groups | None = None) -> Any:
    """Share of answered calls put on hold at least once."""
    groups = _groups(calls, by)
    answered = calls["answered_at"].notna().to_numpy()
    held = answered & (_column(calls, "holds") > 0)
    return _figure(_ratio(_count(held, groups), _count(answered, groups)), by)


def mean_hold_time(holds: pd.DataFrame) -> float:
    """Mean time a caller spends on one hold (check-backs excluded), seconds."""
    return float(holds["hold_time"].mean()) if len(holds) else math.nan


def p90_hold_time(holds: pd.DataFrame) -> float:
    """90th percentile of the time on one hold, seconds."""
    return float(holds["hold_time"].quantile(0.9)) if len(holds) else math.nan


def hold_overrun_rate(holds: pd.DataFrame) -> float:
    """Share of holds that outlasted their promise (the agent had to check back)."""
    return float(holds["overrun"].mean()) if len(holds) else math.nan


def callback_promise_kept(callbacks: pd.DataFrame, window: float) -> float:
    """Share of callback requests first dialled within the promised window (never dialled: not kept)."""
    if not len(callbacks):
        return math.nan
    return float((callbacks["time_to_callback"] <= window + 1e-9).mean())


def mean_time_to_callback(callbacks: pd.DataFrame) -> float:
    """Mean time from a callback request to its first dial-out, seconds."""
    dialled = callbacks["time_to_callback"].dropna()
    return float(dialled.mean()) if len(dialled) else math.nan


def callback_answer_rate(callbacks: pd.DataFrame) -> float:
    """Dial-outs the caller answered / dial-outs made."""
    dials = int(callbacks["dials"].sum())
    return float(callbacks["reached"].sum() / dials) if dials else math.nan


def attempts_per_caller(calls: pd.DataFrame) -> float:
    """Calls (attempts, redials included) / unique callers."""
    return len(calls) / calls["caller_id"].nunique() if len(calls) else math.nan


def experience_summary(calls: pd.DataFrame) -> dict[str, float]:
    """Mean, 10th percentile and share below 5 of the modelled experience score (0-10, peak-end rule)."""
    scores = calls["experience"]
    if not len(scores):
        return {"mean": math.nan, "p10": math.nan, "share_below_5": math.nan}
    return {
        "mean": float(scores.mean()),
        "p10": float(scores.quantile(0.1)),
        "share_below_5": float((scores < 5).mean()),
    }


def visit_service_level(
    visits: pd.DataFrame, threshold: float, blocked: Any = 0, by: Groups | None = None
) -> Any:
    """Visits answered within the threshold of joining this department's queue / (visits + callers blocked
    on their way to it)."""
    groups = _groups(visits, by)
    in_time = _column(visits, "answered").astype(bool) & (
        _column(visits, "time_to_answer") <= threshold + 1e-9
    )
    reached = _count(np.ones(len(visits), dtype=bool), groups) + np.asarray(blocked)
    return _figure(_ratio(_count(in_time, groups), reached), by)


def visit_asa(visits: pd.DataFrame, by: Groups | None = None) -> Any:
    """Mean queue wait of a department's answered visits (seconds)."""
    answered = _column(visits, "answered").astype(bool)
    return _figure(_mean(_column(visits, "wait_time"), answered, _groups(visits, by)), by)


# --- the summary and the interval table ---------------------------------------------------------------------


def _rows(table: pd.DataFrame, keep: pd.Series | np.ndarray) -> pd.DataFrame:
    """The rows of `table` where `keep` holds: the table itself when that is every row (a million-row
    calls table is not copied to drop nothing)."""
    return table if bool(keep.all()) else table[keep]


def counted(result: RunResult, calls: pd.DataFrame) -> pd.DataFrame:
    """Calls that count: those arriving after the warm-up (self-served calls included)."""
    return _rows(calls, calls["arrived_at"] >= result.scenario.warmup)


def counted_rows(table: pd.DataFrame, counted_ids: pd.Series) -> pd.DataFrame:
    """The rows (visits, transfers, ...) of counted calls: a caller who arrived in the warm-up is not
    counted anywhere, even in queues it reaches after the warm-up."""
    ids = table["call_id"].to_numpy()
    wanted = counted_ids.to_numpy()
    if len(ids) == 0:
        return table
    if len(wanted) == 0:
        return table.iloc[:0]
    # call ids are small dense integers: a lookup array, not a hash set of a million ids
    keep = np.zeros(int(max(ids.max(), wanted.max())) + 1, dtype=bool)
    keep[wanted] = True
    return _rows(table, keep[ids])


def offered_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """The counted calls offered to agents (not resolved in the IVR)."""
    return _rows(calls, calls["outcome"] != "self_service")


def _codes(column: pd.Series, names: Sequence[str]) -> np.ndarray:
    """Per row, the position in `names` of a categorical column's value (-1: missing or not in `names`)."""
    position = {name: i for i, name in enumerate(names)}
    lookup = np.array([position.get(str(c), -1) for c in column.cat.categories] + [-1], dtype=np.int64)
    return lookup[column.cat.codes.to_numpy()]  # a missing value's code -1 picks the last entry, -1


@dataclass(frozen=True)
class _Pools:
    """Who the agents of a run are, as lookup arrays: per agent id (shifted by one, so that -1, no agent,
    finds -1) its group's position in `groups` and its pool's home department's position in `departments`."""

    group_of: np.ndarray
    home_of: np.ndarray

    @staticmethod
    def of(result: RunResult, departments: Sequence[str], groups: Sequence[str]) -> _Pools:
        agents = result.agents
        ids = agents["agent_id"].to_numpy(dtype=np.int64)
        size = int(ids.max(initial=-1)) + 2
        home_of_pool = dict(zip(agents["pool"], agents["home"], strict=True))
        department_at = {name: i for i, name in enumerate(departments)}
        group_at = {name: i for i, name in enumerate(groups)}
        pool_codes, pool_names = pd.factorize(agents["pool"])
        group_of_pool = np.array([group_at.get(p, -1) for p in pool_names] + [-1], dtype=np.int64)
        home_of_pool_code = np.array(
            [department_at.get(home_of_pool[p], -1) for p in pool_names] + [-1], dtype=np.int64
        )
        pool_of = np.full(size, -1, dtype=np.int64)
        pool_of[ids + 1] = pool_codes
        return _Pools(group_of_pool[pool_of], home_of_pool_code[pool_of])

    def group(self, agent_ids: np.ndarray) -> np.ndarray:
        """Each agent's group position (-1: a department's own agent, or no agent)."""
        return self.group_of[agent_ids.astype(np.int64) + 1]

    def home(self, agent_ids: np.ndarray) -> np.ndarray:
        """Each agent's home department position (-1: none, or no agent)."""
        return self.home_of[agent_ids.astype(np.int64) + 1]


def _keys(outer: np.ndarray, inner: np.ndarray, inner_size: int) -> np.ndarray:
    """One group key from two (outer-major), -1 where the inner key is missing."""
    return np.where(inner >= 0, outer * inner_size + inner, -1)


def _visit_figures(
    visits: pd.DataFrame, keys: np.ndarray, size: int, threshold: float, blocked: np.ndarray
) -> dict[str, Any]:
    """Per group of a department's visits (callbacks excluded) and the callers blocked on their way to it:
    the department's queue figures."""
    live = ~_column(visits, "callback").astype(bool)
    mine = _rows(visits, live)
    groups = Groups(keys[live], size)
    every = np.ones(len(mine), dtype=bool)
    reached = _count(every, groups)
    abandoned = _count(_column(mine, "abandoned").astype(bool), groups)
    waits = _column(mine, "wait_time")
    return {
        "visits": reached,
        "offered": reached + blocked,
        "answered": _count(_column(mine, "answered").astype(bool), groups),
        "abandoned": abandoned,
        "blocked": blocked,
        "service_level": visit_service_level(mine, threshold, blocked, by=groups),
        "asa": visit_asa(mine, by=groups),
        "mean_wait": _mean(waits, every, groups),
        "p90_wait": _quantile(waits, every, groups, 0.9),
        "abandon_rate": _ratio(abandoned, reached + blocked),
    }


def summary(result: RunResult) -> dict[str, Any]:
    """The headline KPIs of one run (the keys are the contract of `summary.json`)."""
    scenario = result.scenario
    threshold = scenario.service_level.threshold
    arrivals = counted(result, calls_table(result))
    calls = offered_calls(arrivals)
    counted_ids = calls["call_id"]
    visits = counted_rows(visits_table(result), counted_ids)
    window = np.array([scenario.warmup, scenario.duration])
    transfers = counted_rows(transfer_table(result), counted_ids)
    holds = hold_table(result.events)
    holds = counted_rows(holds, counted_ids)
    callbacks = callback_table(result.events)
    callbacks = counted_rows(callbacks, counted_ids)
    seconds = agent_seconds(result, window)
    pools = seconds.groupby("pool", sort=False)[["logged_in_seconds", "busy_seconds"]].sum()
    out: dict[str, Any] = {
        "arrivals": len(arrivals),
        "self_served": int((arrivals["outcome"] == "self_service").sum()),
        "offered": offered(calls),
        "answered": int((calls["outcome"] == "answered").sum()),
        "abandoned": int((calls["outcome"] == "abandoned").sum()),
        "blocked": int((calls["outcome"] == "blocked").sum()),
        "in_system": int((calls["outcome"] == "in_system").sum()),
        "dropped": int((calls["outcome"] == "dropped").sum()),
        "abandoned_on_hold": int((calls["outcome"] == "abandoned_on_hold").sum()),
        "callbacks_failed": int((calls["outcome"] == "callback_failed").sum()),
        "service_level": service_level(calls, threshold),
        "service_level_target": scenario.service_level.target,
        "service_level_live": service_level_live(calls, threshold),
        "answered_within_rings": answered_within_rings(
            calls, scenario.ring.cycle, scenario.service_level.rings
        ),
        "asa": asa(calls),
        "mean_wait": mean_wait(calls),
        "p90_wait": p90_wait(calls),
        "p_wait": p_wait(calls),
        "abandon_rate": abandon_rate(calls),
        "block_rate": block_rate(calls),
        "occupancy": occupancy(float(pools["busy_seconds"].sum()), float(pools["logged_in_seconds"].sum())),
        "aht": aht(calls),
        "first_contact_routing": first_contact_routing(calls),
        "first_contact_resolution": first_contact_resolution(calls),
        "transfers_per_call": transfers_per_call(calls),
        "mean_agents_touched": mean_agents_touched(calls),
        "agents_touched": agents_touched_distribution(calls),
        "misroute_cost_hours": misroute_cost_hours(transfers),
        "transfer_matrix": transfer_matrix(transfers),
        "common_chains": common_chains(calls),
        "hold_rate": hold_rate(calls),
        "mean_hold_time": mean_hold_time(holds),
        "p90_hold_time": p90_hold_time(holds),
        "hold_overrun_rate": hold_overrun_rate(holds),
        "callbacks_offered": int((result.events["event"] == "callback_offer").sum()),
        "callbacks_accepted": int((callbacks["origin"] == "queue").sum()),
        "callbacks_from_hold": int((callbacks["origin"] == "hold").sum()),
        "callback_promise_kept": callback_promise_kept(
            callbacks, scenario.callback.window if scenario.callback else 7200.0
        ),
        "mean_time_to_callback": mean_time_to_callback(callbacks),
        "callback_answer_rate": callback_answer_rate(callbacks),
        "unique_callers": int(calls["caller_id"].nunique()),
        "attempts_per_caller": attempts_per_caller(calls),
        "agent_hours_on_hold": float(holds["hold_time"].sum()) / 3600.0,
        "agent_hours_checking_back": float(holds["check_back_time"].sum()) / 3600.0,
        "agent_hours_dialling": float(callbacks["dial_time"].sum()) / 3600.0,
        "experience": experience_summary(calls),
        "agent_hours": float(pools["logged_in_seconds"].sum()) / 3600.0,
    }
    # Per department and per group: one grouped pass over each table, then a dictionary per name.
    departments = list(scenario.departments)
    groups = list(scenario.agent_groups or {})
    size = len(departments)
    agents = _Pools.of(result, departments, groups)
    visit_department = _codes(visits["department"], departments)
    by_department_key = Groups(visit_department, size)
    answered = _column(visits, "answered").astype(bool)
    callback = _column(visits, "callback").astype(bool)
    agent_ids = _column(visits, "agent_id")
    own = (agents.home(agent_ids) == visit_department) & (visit_department >= 0)
    blocked = _count(
        _is(calls, "outcome", "blocked"), Groups(_codes(calls["first_department"], departments), size)
    )
    figures = _visit_figures(visits, visit_department, size, threshold, blocked)
    every_transfer = np.ones(len(transfers), dtype=bool)
    transfers_in = _count(every_transfer, Groups(_codes(transfers["to"], departments), size))
    transfers_out = _count(every_transfer, Groups(_codes(transfers["from"], departments), size))
    answered_here = _count(answered, by_department_key)
    callbacks_answered = _count(answered & callback, by_department_key)
    by_own = _count(answered & own, by_department_key)
    occupancy_of = _pool_occupancies(pools)
    by_department: dict[str, Any] = {}
    for i, name in enumerate(departments):
        by_department[name] = {
            "visits": int(figures["visits"][i]),
            "transfers_in": int(transfers_in[i]),
            "transfers_out": int(transfers_out[i]),
            "answered": int(answered_here[i]),
            "callbacks_answered": int(callbacks_answered[i]),
            "abandoned": int(figures["abandoned"][i]),
            "blocked": int(blocked[i]),
            "service_level": float(figures["service_level"][i]),
            "asa": float(figures["asa"][i]),
            "mean_wait": float(figures["mean_wait"][i]),
            "abandon_rate": float(figures["abandon_rate"][i]),
            "occupancy": occupancy_of.get(name, math.nan),
            "answered_by_own_agents": float(by_own[i] / answered_here[i]) if answered_here[i] else math.nan,
        }
    out["by_department"] = by_department
    if groups:
        categories = list(visits["department"].cat.categories)
        taken = _column(visits, "taken").astype(bool)
        group = agents.group(agent_ids)
        key = _keys(group, visits["department"].cat.codes.to_numpy().astype(np.int64), len(categories))
        handled = _count(taken, Groups(key, len(groups) * len(categories))).reshape(
            len(groups), len(categories)
        )
        out["by_group"] = {
            name: {
                "occupancy": occupancy_of.get(name, math.nan),
                "handled": {str(categories[d]): int(handled[g, d]) for d in np.flatnonzero(handled[g])},
            }
            for g, name in enumerate(groups)
        }
    return out


def _pool_occupancies(pools: pd.DataFrame) -> dict[str, float]:
    """Occupancy of each pool (indexed by pool name, with busy and logged-in seconds)."""
    busy = pools["busy_seconds"].to_numpy(dtype=float)
    logged_in = pools["logged_in_seconds"].to_numpy(dtype=float)
    return {
        str(name): occupancy(float(b), float(seconds))
        for name, b, seconds in zip(pools.index, busy, logged_in, strict=True)
    }


def interval_table(result: RunResult) -> pd.DataFrame:
    """Per interval, for the whole centre (`all`), each department and each agent group (`kind` says
    which): offered, answered, abandoned, blocked, service level, ASA, mean and 90th-percentile wait,
    occupancy, agents scheduled and logged in, routing, transfers, holds and callbacks, and whether the
    target was met. Calls, visits and transfers fall in the interval the call or visit began.

    Built in one grouped pass per figure (keys interval, interval x department, interval x group), so its
    cost grows with the calls and the rows it returns, not with a pass per interval, department or group."""
    scenario = result.scenario
    threshold = scenario.service_level.threshold
    edges = interval_edges(result)
    widths = np.diff(edges)
    count = len(widths)
    departments = list(scenario.departments)
    groups = list(scenario.agent_groups or {})
    nd, ng = len(departments), len(groups)
    calls = offered_calls(counted(result, calls_table(result)))
    visits = counted_rows(visits_table(result), calls["call_id"])
    transfers = counted_rows(transfer_table(result), calls["call_id"])
    seconds = agent_seconds(result, edges)

    def interval_of(times: pd.Series) -> np.ndarray:
        return np.clip(np.searchsorted(edges, times.to_numpy(), side="right") - 1, 0, count - 1)

    call_interval = interval_of(calls["arrived_at"])
    visit_interval = interval_of(visits["queued_at"])
    transfer_interval = interval_of(transfers["at"])
    per_call = Groups(call_interval, count)
    per_transfer = Groups(transfer_interval, count)
    index = np.arange(count)
    clocks = np.array([format_clock(scenario.start + at) for at in edges[:-1]], dtype=object)

    # Agent time: the seconds table holds a row per pool and interval, pool after pool.
    pool_interval = _column(seconds, "interval").astype(np.int64)
    pool_names = list(result.staffing)
    schedules = {pool: scheduled_agents(levels, edges) for pool, levels in result.staffing.items()}

    def staffing(pool_key: np.ndarray, size: int, scheduled: np.ndarray, width: np.ndarray) -> dict[str, Any]:
        rows = Groups(pool_key, size)
        every = np.ones(len(seconds), dtype=bool)
        logged = _sum(_column(seconds, "logged_in_seconds"), every, rows)
        busy = _sum(_column(seconds, "busy_seconds"), every, rows)
        return {
            "occupancy": occupancy(busy, logged),
            "agents_scheduled": scheduled,
            "agents_logged_in": np.divide(logged, width, out=np.zeros(size), where=width != 0),
        }

    # `sum` over pools, one after another, as the figure has always been added up
    total_scheduled = (
        np.cumsum(np.vstack([schedules[p] for p in pool_names]), axis=0)[-1]
        if pool_names
        else np.zeros(count)
    )
    every_call = np.ones(len(calls), dtype=bool)
    table_all = pd.DataFrame(
        {
            "interval": index,
            "start": clocks,
            "department": "all",
            "kind": "all",
            "offered": offered(calls, by=per_call),
            "answered": _count(_is(calls, "outcome", "answered"), per_call),
            "abandoned": _count(_is(calls, "outcome", "abandoned"), per_call),
            "blocked": _count(_is(calls, "outcome", "blocked"), per_call),
            "service_level": service_level(calls, threshold, by=per_call),
            "asa": asa(calls, by=per_call),
            "mean_wait": mean_wait(calls, by=per_call),
            "p90_wait": p90_wait(calls, by=per_call),
            "abandon_rate": abandon_rate(calls, by=per_call),
            **staffing(pool_interval, count, total_scheduled, widths),
            "first_contact_routing": first_contact_routing(calls, by=per_call),
            "first_contact_resolution": first_contact_resolution(calls, by=per_call),
            "transfers": _count(np.ones(len(transfers), dtype=bool), per_transfer),
            "transfers_per_call": transfers_per_call(calls, by=per_call),
            "mean_agents_touched": mean_agents_touched(calls, by=per_call),
            "misroute_cost_hours": misroute_cost_hours(transfers, by=per_transfer),
            "hold_rate": hold_rate(calls, by=per_call),
            "abandoned_on_hold": _count(_is(calls, "outcome", "abandoned_on_hold"), per_call),
            "callbacks_accepted": _count(_column(calls, "virtual_hold").astype(bool), per_call),
            "experience": _mean(_column(calls, "experience"), every_call, per_call),
        }
    )

    # Departments: keys interval x department, interval-major (the rows' order).
    size = count * nd
    agents = _Pools.of(result, departments, groups)
    visit_department = _codes(visits["department"], departments)
    visit_key = _keys(visit_interval, visit_department, nd)
    call_key = _keys(call_interval, _codes(calls["first_department"], departments), nd)
    blocked = _count(_is(calls, "outcome", "blocked"), Groups(call_key, size))
    answered = _column(visits, "answered").astype(bool)
    agent_ids = _column(visits, "agent_id")
    own = (agents.home(agent_ids) == visit_department) & (visit_department >= 0)
    answered_here = _count(answered, Groups(visit_key, size))
    out_key = Groups(_keys(transfer_interval, _codes(transfers["from"], departments), nd), size)
    every_transfer = np.ones(len(transfers), dtype=bool)
    department_at = {name: i for i, name in enumerate(departments)}
    pool_department = np.array([department_at.get(p, -1) for p in seconds["pool"]], dtype=np.int64)
    figures = _visit_figures(visits, visit_key, size, threshold, blocked)
    del figures["visits"]
    figures["answered"] = answered_here
    table_departments = pd.DataFrame(
        {
            "interval": np.repeat(index, nd),
            "start": np.repeat(clocks, nd),
            "department": np.tile(np.array(departments, dtype=object), count),
            "kind": "department",
            **figures,
            **staffing(
                _keys(pool_interval, pool_department, nd),
                size,
                np.vstack([schedules.get(name, np.zeros(count)) for name in departments]).T.reshape(-1),
                np.repeat(widths, nd),
            ),
            "first_contact_routing": first_contact_routing(
                calls,
                by=Groups(_keys(call_interval, _codes(calls["answer_department"], departments), nd), size),
            ),
            "transfers": _count(every_transfer, out_key),
            "transfers_in": _count(
                every_transfer,
                Groups(_keys(transfer_interval, _codes(transfers["to"], departments), nd), size),
            ),
            "misroute_cost_hours": misroute_cost_hours(transfers, by=out_key),
            "answered_by_own_agents": _ratio(_count(answered & own, Groups(visit_key, size)), answered_here),
        }
    )
    frames = [table_all, table_departments]
    span = 1 + nd + ng
    positions = [index * span, np.repeat(index * span, nd) + 1 + np.tile(np.arange(nd), count)]

    if ng:
        # Groups: keys interval x group; what each group's agents took, by department.
        size = count * ng
        group_key = _keys(visit_interval, agents.group(agent_ids), ng)
        group_at = {name: i for i, name in enumerate(groups)}
        pool_group = np.array([group_at.get(p, -1) for p in seconds["pool"]], dtype=np.int64)
        handled = _count(
            np.ones(len(visits), dtype=bool), Groups(_keys(group_key, visit_department, nd), size * nd)
        ).reshape(size, nd)
        frames.append(
            pd.DataFrame(
                {
                    "interval": np.repeat(index, ng),
                    "start": np.repeat(clocks, ng),
                    "department": np.tile(np.array(groups, dtype=object), count),
                    "kind": "group",
                    "answered": _count(answered, Groups(group_key, size)),
                    **staffing(
                        _keys(pool_interval, pool_group, ng),
                        size,
                        np.vstack([schedules[name] for name in groups]).T.reshape(-1),
                        np.repeat(widths, ng),
                    ),
                    **{f"handled_{skill}": handled[:, d] for d, skill in enumerate(departments)},
                }
            )
        )
        positions.append(np.repeat(index * span, ng) + 1 + nd + np.tile(np.arange(ng), count))
    table = pd.concat(frames, ignore_index=True)
    order = np.empty(len(table), dtype=np.int64)
    order[np.concatenate(positions)] = np.arange(len(table))
    table = table.take(order).reset_index(drop=True)
    table["met_target"] = table["service_level"].isna() | (
        table["service_level"] >= scenario.service_level.target
    )
    return table


# --- replications -------------------------------------------------------------------------------------------


def half_width(values: Sequence[float], confidence: float = 0.95) -> float:
    """Half-width of the Student-t confidence interval for the mean of independent replications."""
    data = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(data) < 2:
        return math.nan
    if np.ptp(data) == 0:
        return 0.0
    # Imported here, not at the top: scipy.stats takes a second to import and one day needs no interval.
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data)))


def aggregate(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean of each KPI over replications, with `ci95` half-widths in the same shape and `reps`."""
    means, widths = _aggregate(summaries)
    means["ci95"] = widths
    means["reps"] = len(summaries)
    return means


def _aggregate(summaries: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    means: dict[str, Any] = {}
    widths: dict[str, Any] = {}
    for key, first in summaries[0].items():
        values = [s.get(key) for s in summaries]
        if isinstance(first, Mapping):
            means[key], widths[key] = _aggregate([v if isinstance(v, Mapping) else {} for v in values])
        elif isinstance(first, bool) or not isinstance(first, int | float):
            means[key] = first
        else:
            numbers = [float(v) for v in values if isinstance(v, int | float) and not math.isnan(float(v))]
            means[key] = float(np.mean(numbers)) if numbers else math.nan
            widths[key] = half_width(numbers)
    return means, widths


def aggregate_intervals(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Interval tables of several replications: the mean of each figure, plus `service_level_ci95`."""
    if len(tables) == 1:
        return tables[0]
    stacked = pd.concat(tables, keys=range(len(tables)), names=["rep", "row"]).reset_index(level="rep")
    keys = ["interval", "start", "department", "kind"]
    numeric = [c for c in stacked.columns if c not in (*keys, "rep", "met_target")]
    grouped = stacked.groupby(keys, sort=False)
    table = grouped[numeric].mean().reset_index()
    table["service_level_ci95"] = grouped["service_level"].agg(lambda s: half_width(list(s))).to_numpy()
    return table
