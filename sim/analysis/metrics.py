"""How well: every KPI, defined once, computed after the run from the calls and visits tables.

Each KPI function's docstring is its definition; the report quotes them. Calls arriving before the
warm-up ends are simulated but not counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

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

# --- KPI definitions (one line each) ------------------------------------------------------------------------


def offered(calls: pd.DataFrame) -> int:
    """Calls offered to agents: arrivals not resolved in the phone menu, whatever became of them."""
    return len(calls)


def service_level(calls: pd.DataFrame, threshold: float) -> float:
    """Calls answered within the threshold (queue wait + ring) / offered; abandons and blocks count as misses."""
    if not len(calls):
        return math.nan
    return float(
        ((calls["outcome"] == "answered") & (calls["time_to_answer"] <= threshold + 1e-9)).sum() / len(calls)
    )


def service_level_live(calls: pd.DataFrame, threshold: float) -> float:
    """Service level over offered calls that did not take a callback instead of waiting (virtual hold)."""
    return service_level(calls[~calls["virtual_hold"]], threshold)


def answered_within_rings(calls: pd.DataFrame, ring_cycle: float, rings: int) -> float:
    """Calls answered within `rings` ring cycles of joining the queue / offered."""
    return service_level(calls, ring_cycle * rings)


def asa(calls: pd.DataFrame) -> float:
    """Average speed of answer: mean first queue wait of calls an agent answered (seconds)."""
    answered = calls["answered_at"].notna()
    return float(calls.loc[answered, "wait_time"].mean()) if answered.any() else math.nan


def mean_wait(calls: pd.DataFrame) -> float:
    """Mean queue wait of calls not blocked, until an agent took it or the caller hung up (0 if at once)."""
    reached = calls["outcome"] != "blocked"
    return float(calls.loc[reached, "wait_time"].mean()) if reached.any() else math.nan


def p90_wait(calls: pd.DataFrame) -> float:
    """90th percentile of the queue wait of calls not blocked (seconds)."""
    reached = calls["outcome"] != "blocked"
    return float(calls.loc[reached, "wait_time"].quantile(0.9)) if reached.any() else math.nan


def p_wait(calls: pd.DataFrame) -> float:
    """Share of calls not blocked that waited more than zero in a queue."""
    reached = calls["outcome"] != "blocked"
    return float((calls.loc[reached, "wait_time"] > 1e-9).mean()) if reached.any() else math.nan


def abandon_rate(calls: pd.DataFrame) -> float:
    """Abandoned / offered (hang-ups while queued or ringing, in any queue of the call's journey)."""
    return float((calls["outcome"] == "abandoned").mean()) if len(calls) else math.nan


def block_rate(calls: pd.DataFrame) -> float:
    """Blocked (busy signal: no free trunk line) / offered."""
    return float((calls["outcome"] == "blocked").mean()) if len(calls) else math.nan


def aht(calls: pd.DataFrame) -> float:
    """Average handle time: mean agent talk + hold + wrap-up, over all agents, of calls an agent answered (seconds)."""
    answered = calls["answered_at"].notna()
    if not answered.any():
        return math.nan
    mine = calls.loc[answered]
    return float((mine["talk_time"] + mine["hold_time"] + mine["wrap_time"]).mean())


def occupancy(busy_seconds: float, logged_in_seconds: float) -> float:
    """Busy agent-seconds (ringing, talking, wrapping up) / logged-in agent-seconds."""
    return busy_seconds / logged_in_seconds if logged_in_seconds > 0 else math.nan


def first_contact_routing(calls: pd.DataFrame) -> float:
    """Share of answered callers whose first answering agent belonged to a department that resolves their reason."""
    answered = calls["answered_at"].notna()
    return float(calls.loc[answered, "first_contact_routed"].mean()) if answered.any() else math.nan


def first_contact_resolution(calls: pd.DataFrame) -> float:
    """Share of answered callers resolved by the first agent, with no transfer and no callback."""
    answered = calls["answered_at"].notna()
    if not answered.any():
        return math.nan
    first = (
        calls["resolved"]
        & (calls["agents_touched"] == 1)
        & (calls["n_transfers"] == 0)
        & ~calls["callback_requested"]
    )
    return float(first[answered].mean())


def transfers_per_call(calls: pd.DataFrame) -> float:
    """Mean number of transfers over calls an agent answered."""
    answered = calls["answered_at"].notna()
    return float(calls.loc[answered, "n_transfers"].mean()) if answered.any() else math.nan


def mean_agents_touched(calls: pd.DataFrame) -> float:
    """Mean number of agents who answered the caller, over calls an agent answered."""
    answered = calls["answered_at"].notna()
    return float(calls.loc[answered, "agents_touched"].mean()) if answered.any() else math.nan


def agents_touched_distribution(calls: pd.DataFrame) -> dict[str, float]:
    """Share of answered calls that met 1, 2, 3, 4 and 5+ agents."""
    touched = calls.loc[calls["answered_at"].notna(), "agents_touched"].clip(upper=5)
    shares = touched.value_counts(normalize=True)
    return {("5+" if n == 5 else str(n)): float(shares.get(n, 0.0)) for n in range(1, 6)}


def misroute_cost_hours(transfers: pd.DataFrame) -> float:
    """Agent-hours spent on call segments that ended in a transfer (talk until the transfer)."""
    return float(transfers["segment_time"].sum()) / 3600.0


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


def hold_rate(calls: pd.DataFrame) -> float:
    """Share of answered calls put on hold at least once."""
    answered = calls["answered_at"].notna()
    return float((calls.loc[answered, "holds"] > 0).mean()) if answered.any() else math.nan


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


def visit_service_level(visits: pd.DataFrame, threshold: float, blocked: int = 0) -> float:
    """Visits answered within the threshold of joining this department's queue / (visits + callers blocked
    on their way to it)."""
    if not len(visits) + blocked:
        return math.nan
    in_time = visits["answered"] & (visits["time_to_answer"] <= threshold + 1e-9)
    return float(in_time.sum() / (len(visits) + blocked))


def visit_asa(visits: pd.DataFrame) -> float:
    """Mean queue wait of a department's answered visits (seconds)."""
    answered = visits["answered"]
    return float(visits.loc[answered, "wait_time"].mean()) if answered.any() else math.nan


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
    agents = result.agents
    pool_of = dict(zip(agents["agent_id"], agents["pool"], strict=True))
    home_of = dict(zip(agents["pool"], agents["home"], strict=True))
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
    by_department: dict[str, Any] = {}
    for name in scenario.departments:
        taken_here = visits[visits["department"] == name]
        mine = taken_here[~taken_here["callback"]]
        callbacks_here = taken_here[taken_here["callback"]]
        answered = int(mine["answered"].sum()) + int(callbacks_here["answered"].sum())
        answered_by_own = taken_here["answered"] & taken_here["agent_id"].map(
            lambda a, n=name: home_of.get(pool_of.get(a)) == n
        )
        blocked = int(((calls["first_department"] == name) & (calls["outcome"] == "blocked")).sum())
        figures = _visit_row(mine, threshold, blocked)
        by_department[name] = {
            "visits": len(mine),
            "transfers_in": int((transfers["to"] == name).sum()),
            "transfers_out": int((transfers["from"] == name).sum()),
            "answered": answered,
            "callbacks_answered": int(callbacks_here["answered"].sum()),
            "abandoned": int(mine["abandoned"].sum()),
            "blocked": blocked,
            "service_level": figures["service_level"],
            "asa": figures["asa"],
            "mean_wait": figures["mean_wait"],
            "abandon_rate": figures["abandon_rate"],
            "occupancy": _pool_occupancy(pools, name),
            "answered_by_own_agents": float(answered_by_own.sum() / answered) if answered else math.nan,
        }
    out["by_department"] = by_department
    if scenario.agent_groups:
        handled = visits[visits["taken"]].assign(pool=lambda v: v["agent_id"].map(pool_of))
        out["by_group"] = {
            name: {
                "occupancy": _pool_occupancy(pools, name),
                "handled": {
                    str(d): int(n)
                    for d, n in handled[handled["pool"] == name]
                    .groupby("department", observed=True)
                    .size()
                    .items()
                },
            }
            for name in scenario.agent_groups
        }
    return out


def _pool_occupancy(pools: pd.DataFrame, name: str) -> float:
    if name not in pools.index:
        return math.nan
    busy, logged_in = pools.loc[name, ["busy_seconds", "logged_in_seconds"]].to_numpy(dtype=float)
    return occupancy(float(busy), float(logged_in))


def interval_table(result: RunResult) -> pd.DataFrame:
    """Per interval, for the whole centre (`all`), each department and each agent group (`kind` says
    which): offered, answered, abandoned, blocked, service level, ASA, mean and 90th-percentile wait,
    occupancy, agents scheduled and logged in, routing, transfers, holds and callbacks, and whether the
    target was met. Calls, visits and transfers fall in the interval the call or visit began."""
    scenario = result.scenario
    threshold = scenario.service_level.threshold
    edges = interval_edges(result)
    calls = offered_calls(counted(result, calls_table(result)))
    visits = counted_rows(visits_table(result), calls["call_id"])
    transfers = counted_rows(transfer_table(result), calls["call_id"])
    seconds = agent_seconds(result, edges)
    widths = np.diff(edges)

    def interval_of(times: pd.Series) -> np.ndarray:
        return np.clip(np.searchsorted(edges, times.to_numpy(), side="right") - 1, 0, len(widths) - 1)

    call_interval = interval_of(calls["arrived_at"])
    visit_interval = interval_of(visits["queued_at"])
    transfer_interval = interval_of(transfers["at"])
    agents = result.agents
    pool_of = dict(zip(agents["agent_id"], agents["pool"], strict=True))
    home_of = dict(zip(agents["pool"], agents["home"], strict=True))
    visit_pool = visits["agent_id"].map(pool_of)
    own_agent = (visit_pool.map(home_of) == visits["department"].astype(str)).to_numpy()
    groups = list(scenario.agent_groups or {})
    rows = []
    pool_names = list(result.staffing)
    schedules = {pool: scheduled_agents(levels, edges) for pool, levels in result.staffing.items()}

    def staffing_row(pool_seconds: pd.DataFrame, scheduled: float, index: int) -> dict[str, Any]:
        return {
            "occupancy": occupancy(
                float(pool_seconds["busy_seconds"].sum()), float(pool_seconds["logged_in_seconds"].sum())
            ),
            "agents_scheduled": scheduled,
            "agents_logged_in": float(pool_seconds["logged_in_seconds"].sum()) / widths[index]
            if widths[index]
            else 0.0,
        }

    for index in range(len(widths)):
        clock = format_clock(scenario.start + edges[index])
        mine = calls[call_interval == index]
        here = seconds[seconds["interval"] == index]
        moved = transfers[transfer_interval == index]
        visits_now = visits[visit_interval == index]
        rows.append(
            {
                "interval": index,
                "start": clock,
                "department": "all",
                "kind": "all",
                **_call_row(mine, threshold),
                **staffing_row(here, float(sum(schedules[p][index] for p in pool_names)), index),
                "first_contact_routing": first_contact_routing(mine),
                "first_contact_resolution": first_contact_resolution(mine),
                "transfers": len(moved),
                "transfers_per_call": transfers_per_call(mine),
                "mean_agents_touched": mean_agents_touched(mine),
                "misroute_cost_hours": misroute_cost_hours(moved),
                "hold_rate": hold_rate(mine),
                "abandoned_on_hold": int((mine["outcome"] == "abandoned_on_hold").sum()),
                "callbacks_accepted": int(mine["virtual_hold"].sum()),
                "experience": float(mine["experience"].mean()) if len(mine) else math.nan,
            }
        )
        for name in scenario.departments:
            in_department = (visits_now["department"] == name).to_numpy()
            taken_here = visits_now[in_department]
            live = taken_here[~taken_here["callback"].to_numpy()]
            blocked = int(((mine["first_department"] == name) & (mine["outcome"] == "blocked")).sum())
            answered = int(taken_here["answered"].sum())
            by_own = int(
                (taken_here["answered"].to_numpy() & own_agent[visit_interval == index][in_department]).sum()
            )
            from_here = moved[(moved["from"] == name).to_numpy()]
            rows.append(
                {
                    "interval": index,
                    "start": clock,
                    "department": name,
                    "kind": "department",
                    **_visit_row(live, threshold, blocked),
                    "answered": answered,
                    **staffing_row(
                        here[here["pool"] == name],
                        float(schedules[name][index]) if name in schedules else 0.0,
                        index,
                    ),
                    "first_contact_routing": first_contact_routing(mine[mine["answer_department"] == name]),
                    "transfers": len(from_here),
                    "transfers_in": int((moved["to"] == name).sum()),
                    "misroute_cost_hours": misroute_cost_hours(from_here),
                    "answered_by_own_agents": by_own / answered if answered else math.nan,
                }
            )
        for name in groups:
            taken = visits_now[(visit_pool[visit_interval == index] == name).to_numpy()]
            rows.append(
                {
                    "interval": index,
                    "start": clock,
                    "department": name,
                    "kind": "group",
                    "answered": int(taken["answered"].sum()),
                    **staffing_row(here[here["pool"] == name], float(schedules[name][index]), index),
                    **{
                        f"handled_{skill}": int((taken["department"] == skill).sum())
                        for skill in scenario.departments
                    },
                }
            )
    table = pd.DataFrame(rows)
    table["met_target"] = table["service_level"].isna() | (
        table["service_level"] >= scenario.service_level.target
    )
    return table


def _call_row(calls: pd.DataFrame, threshold: float) -> dict[str, Any]:
    return {
        "offered": offered(calls),
        "answered": int((calls["outcome"] == "answered").sum()),
        "abandoned": int((calls["outcome"] == "abandoned").sum()),
        "blocked": int((calls["outcome"] == "blocked").sum()),
        "service_level": service_level(calls, threshold),
        "asa": asa(calls),
        "mean_wait": mean_wait(calls),
        "p90_wait": p90_wait(calls),
        "abandon_rate": abandon_rate(calls),
    }


def _visit_row(visits: pd.DataFrame, threshold: float, blocked: int) -> dict[str, Any]:
    waits = visits["wait_time"]
    return {
        "offered": len(visits) + blocked,
        "answered": int(visits["answered"].sum()),
        "abandoned": int(visits["abandoned"].sum()),
        "blocked": blocked,
        "service_level": visit_service_level(visits, threshold, blocked),
        "asa": visit_asa(visits),
        "mean_wait": float(waits.mean()) if len(visits) else math.nan,
        "p90_wait": float(waits.quantile(0.9)) if len(visits) else math.nan,
        "abandon_rate": float(visits["abandoned"].sum() / (len(visits) + blocked))
        if len(visits) + blocked
        else math.nan,
    }


# --- replications -------------------------------------------------------------------------------------------


def half_width(values: Sequence[float], confidence: float = 0.95) -> float:
    """Half-width of the Student-t confidence interval for the mean of independent replications."""
    data = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(data) < 2:
        return math.nan
    if np.ptp(data) == 0:
        return 0.0
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
