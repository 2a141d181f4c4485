"""How well: every KPI, defined once, computed after the run from the calls and visits tables.

Each KPI function's docstring is its definition; the report quotes them (`sim/analysis/kpis.py` names the
function of each KPI). Calls arriving before the warm-up ends are simulated but not counted. The day's summary
is `sim/analysis/summary.py`, the interval table `sim/analysis/intervals.py`, the means and half-widths over
replications `sim/analysis/confidence.py`; the grouped passes the KPIs are made of, `sim/analysis/grouping.py`.

A KPI function takes a table either as a DataFrame (the API's `calls_table`, ...) or as its numpy `Columns`
(`calls_columns`, ..., what the summary and the interval table pass: no pandas overhead per figure); both
give the same floats.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.analysis.columns import Columns
from sim.analysis.grouping import (
    Groups,
    T,
    Table,
    column,
    count_where,
    distinct_count,
    equals,
    figure,
    groups_of,
    mean_where,
    present,
    quantile_where,
    ratio,
    rows_where,
    sum_where,
)
from sim.engine.day import RunResult

# --- KPI definitions (one line each) ------------------------------------------------------------------------
# Each takes an optional `by` (Groups): then it returns one figure per group, from one pass over the table.


def offered(calls: Table, by: Groups | None = None) -> Any:
    """Calls offered to agents: arrivals not resolved in the phone menu, whatever became of them."""
    if by is None:
        return len(calls)
    return count_where(np.ones(len(calls), dtype=bool), by)


def service_level(calls: Table, threshold: float | np.ndarray, by: Groups | None = None) -> Any:
    """Calls answered within the threshold (queue wait + ring) / offered; abandons and blocks count as misses.
    `threshold`: one for all, or one per row (each call's first department's, `sim.analysis.thresholds`)."""
    groups = groups_of(calls, by)
    in_time = equals(calls, "outcome", "answered") & (column(calls, "time_to_answer") <= threshold + 1e-9)
    return figure(
        ratio(count_where(in_time, groups), count_where(np.ones(len(calls), dtype=bool), groups)), by
    )


def service_level_live(calls: Table, threshold: float | np.ndarray, by: Groups | None = None) -> Any:
    """Service level over offered calls that did not take a callback instead of waiting (virtual hold)."""
    live = ~column(calls, "virtual_hold").astype(bool)
    if isinstance(threshold, np.ndarray):
        threshold = threshold[live]
    return service_level(rows_where(calls, live), threshold, by.subset(live) if by is not None else None)


def answered_within_rings(calls: Table, ring_cycle: float, rings: int, by: Groups | None = None) -> Any:
    """Calls answered within `rings` ring cycles of joining the queue / offered."""
    return service_level(calls, ring_cycle * rings, by)


def asa(calls: Table, by: Groups | None = None) -> Any:
    """Average speed of answer: mean first queue wait of calls an agent answered (seconds)."""
    answered = present(calls, "answered_at")
    return figure(mean_where(column(calls, "wait_time"), answered, groups_of(calls, by)), by)


def mean_wait(calls: Table, by: Groups | None = None) -> Any:
    """Mean queue wait of calls not blocked, until an agent took it or the caller hung up (0 if at once)."""
    reached = _reached_a_queue(calls)
    return figure(mean_where(column(calls, "wait_time"), reached, groups_of(calls, by)), by)


def p90_wait(calls: Table, by: Groups | None = None) -> Any:
    """90th percentile of the queue wait of calls not blocked (seconds)."""
    reached = _reached_a_queue(calls)
    return figure(quantile_where(column(calls, "wait_time"), reached, groups_of(calls, by), 0.9), by)


def p_wait(calls: Table, by: Groups | None = None) -> Any:
    """Share of calls not blocked that waited more than zero in a queue."""
    groups = groups_of(calls, by)
    reached = _reached_a_queue(calls)
    waited = reached & (column(calls, "wait_time").astype(float) > 1e-9)
    return figure(ratio(count_where(waited, groups), count_where(reached, groups)), by)


def abandon_rate(calls: Table, by: Groups | None = None) -> Any:
    """Abandoned / offered (hang-ups while queued or ringing, in any queue of the call's journey)."""
    groups = groups_of(calls, by)
    every = np.ones(len(calls), dtype=bool)
    return figure(
        ratio(count_where(equals(calls, "outcome", "abandoned"), groups), count_where(every, groups)), by
    )


def _reached_a_queue(calls: Table) -> np.ndarray:
    """Calls that reached a queue: not blocked (busy signal, or lost at a full queue), no message left."""
    return ~equals(calls, "outcome", "blocked") & ~equals(calls, "outcome", "message")


def message_rate(calls: Table, by: Groups | None = None) -> Any:
    """Callers who found a department's queue full and left a message (`when_full: message`) / offered."""
    groups = groups_of(calls, by)
    every = np.ones(len(calls), dtype=bool)
    return figure(
        ratio(count_where(equals(calls, "outcome", "message"), groups), count_where(every, groups)), by
    )


def block_rate(calls: Table, by: Groups | None = None) -> Any:
    """Blocked / offered: a busy signal (no free trunk line), or lost at a department's full queue
    (`queue_capacity`, `when_full: lost`), as in Erlang B."""
    groups = groups_of(calls, by)
    every = np.ones(len(calls), dtype=bool)
    return figure(
        ratio(count_where(equals(calls, "outcome", "blocked"), groups), count_where(every, groups)), by
    )


def aht(calls: Table, by: Groups | None = None) -> Any:
    """Average handle time: mean agent talk + hold + wrap-up, over all agents, of calls an agent answered (seconds)."""
    answered = present(calls, "answered_at")
    handle = column(calls, "talk_time") + column(calls, "hold_time") + column(calls, "wrap_time")
    return figure(mean_where(handle, answered, groups_of(calls, by)), by)


def occupancy(busy_seconds: Any, logged_in_seconds: Any) -> Any:
    """Busy agent-seconds (ringing, talking, wrapping up; outbound dials and contacts too) / logged-in
    agent-seconds (an agent on a break, or away to shrinkage or absence, is not logged in; `utilisation` is
    over paid time)."""
    if np.ndim(busy_seconds) == 0:
        return busy_seconds / logged_in_seconds if logged_in_seconds > 0 else math.nan
    logged = np.asarray(logged_in_seconds, dtype=float)
    return np.divide(busy_seconds, logged, out=np.full(len(logged), math.nan), where=logged > 0)


def chat_occupancy(busy_seconds: Any, logged_in_seconds: Any) -> Any:
    """Chat pools: agent-seconds with at least one chat in hand (from its answer to the end of its wrap-up)
    / logged-in agent-seconds (a chat pool's `occupancy`, however many chats each agent holds)."""
    return occupancy(busy_seconds, logged_in_seconds)


def slot_use(chat_seconds: Any, slot_seconds: Any) -> Any:
    """Chat pools: chat-seconds in hand (each chat from its answer to the end of its wrap-up) / slot-seconds
    (slots per agent x logged-in agent-seconds): the share of the chat capacity in use."""
    return occupancy(chat_seconds, slot_seconds)


def outbound_contacts_per_agent_hour(contacts: int, logged_in_seconds: float) -> float:
    """Outbound right-party contacts put through to an agent after the warm-up / the dialling pool's
    logged-in agent-hours over the counted day (blended agents: inbound time included)."""
    return contacts / (logged_in_seconds / 3600.0) if logged_in_seconds > 0 else math.nan


def nuisance_rate(nuisance: int, right_party: int) -> float:
    """Predictive dialling: right-party answers that found no agent free and were dropped / right-party
    answers (0 in progressive mode, where the dialling agent is on the line)."""
    return nuisance / right_party if right_party else math.nan


def outbound_list_left(records: int, reached: np.ndarray, dials_missed: np.ndarray, attempts: int) -> int:
    """Campaign records neither reached by the right person (nor dropped as a nuisance call) nor spent
    (missed `attempts` times) by the end of the run: the list left at the close."""
    done = reached | (dials_missed >= attempts)
    return int(records - np.count_nonzero(done))


def first_contact_routing(calls: Table, by: Groups | None = None) -> Any:
    """Share of answered callers whose first answering agent belonged to a department that resolves their reason."""
    groups = groups_of(calls, by)
    answered = present(calls, "answered_at")
    routed = answered & column(calls, "first_contact_routed").astype(bool)
    return figure(ratio(count_where(routed, groups), count_where(answered, groups)), by)


def first_contact_resolution(calls: Table, by: Groups | None = None) -> Any:
    """Share of answered callers resolved by the first agent, with no transfer and no callback."""
    groups = groups_of(calls, by)
    answered = present(calls, "answered_at")
    first = (
        column(calls, "resolved").astype(bool)
        & (column(calls, "agents_touched") == 1)
        & (column(calls, "n_transfers") == 0)
        & ~column(calls, "callback_requested").astype(bool)
    )
    return figure(ratio(count_where(first & answered, groups), count_where(answered, groups)), by)


def transfers_per_call(calls: Table, by: Groups | None = None) -> Any:
    """Mean number of transfers over calls an agent answered."""
    answered = present(calls, "answered_at")
    return figure(mean_where(column(calls, "n_transfers"), answered, groups_of(calls, by)), by)


def mean_agents_touched(calls: Table, by: Groups | None = None) -> Any:
    """Mean number of agents who answered the caller, over calls an agent answered."""
    answered = present(calls, "answered_at")
    return figure(mean_where(column(calls, "agents_touched"), answered, groups_of(calls, by)), by)


def agents_touched_distribution(calls: Table) -> dict[str, float]:
    """Share of answered calls that met 1, 2, 3, 4 and 5+ agents."""
    touched = np.minimum(column(calls, "agents_touched")[present(calls, "answered_at")], 5)
    counts = np.bincount(touched, minlength=6)
    total = int(counts.sum())
    return {("5+" if n == 5 else str(n)): (float(counts[n] / total) if total else 0.0) for n in range(1, 6)}


def misroute_cost_hours(transfers: Table, by: Groups | None = None) -> Any:
    """Agent-hours spent on call segments that ended in a transfer (talk until the transfer)."""
    groups = groups_of(transfers, by)
    every = np.ones(len(transfers), dtype=bool)
    return figure(sum_where(column(transfers, "segment_time"), every, groups) / 3600.0, by)


def conference_missed_rate(events: pd.DataFrame, counted: Any, departments: list[str], waits: bool) -> float:
    """Conference transfers that found nobody of the next department free / conference transfers tried, for
    the counted calls: from the `departments` that transfer by conference, each attempt is a transfer that
    connected or a miss (a miss that then waits, `if_nobody_free: wait`, also records its transfer)."""
    mine = events["call_id"].isin(counted).to_numpy()
    kinds = events["event"]
    missed = int((mine & (kinds == "conference_missed").to_numpy()).sum())
    sent = int(
        (mine & (kinds == "transfer").to_numpy() & events["department"].isin(departments).to_numpy()).sum()
    )
    tried = sent if waits else sent + missed
    return missed / tried if tried else math.nan


def transfer_matrix(transfers: Table) -> list[dict[str, Any]]:
    """Transfers counted by (from department, to department)."""
    if not isinstance(transfers, Columns):
        counts = transfers.groupby(["from", "to"], observed=True).size().reset_index(name="count")
        return [
            {"from": str(f), "to": str(t), "count": int(n)}
            for f, t, n in zip(counts["from"], counts["to"], counts["count"], strict=True)
        ]
    # the pairs that occur, in the order of the departments' codes (from, then to), as pandas groups them
    names_from, names_to = transfers.categories["from"], transfers.categories["to"]
    origin, target = transfers["from"].astype(np.int64), transfers["to"].astype(np.int64)
    both = (origin >= 0) & (target >= 0)
    width = len(names_to)
    pairs = np.bincount(origin[both] * width + target[both], minlength=len(names_from) * width)
    return [
        {"from": str(names_from[pair // width]), "to": str(names_to[pair % width]), "count": int(pairs[pair])}
        for pair in np.flatnonzero(pairs).tolist()
    ]


def common_chains(calls: Table, top: int = 10) -> dict[str, int]:
    """The most common sequences of departments whose agents answered a caller (`billing > technical`)."""
    # pandas' `value_counts`: by count, most first, ties in order of first appearance (a stable sort).
    # `pd.factorize` numbers the chains in order of first appearance in one C pass over the strings (twice
    # as fast as a `Counter` of them), and a count per number is a bincount. A chain is a string, never
    # missing (a missing one would be numbered -1 and make the bincount fail loudly, not miscount).
    numbers, chains = pd.factorize(column(calls, "chain")[present(calls, "answered_at")])
    counts = np.bincount(numbers, minlength=len(chains))
    ranked = np.argsort(-counts, kind="stable")[:top]
    return {str(chains[rank]): int(counts[rank]) for rank in ranked.tolist()}


def hold_rate(calls: Table, by: Groups | None = None) -> Any:
    """Share of answered calls put on hold at least once."""
    groups = groups_of(calls, by)
    answered = present(calls, "answered_at")
    held = answered & (column(calls, "holds") > 0)
    return figure(ratio(count_where(held, groups), count_where(answered, groups)), by)


def mean_hold_time(holds: Table) -> float:
    """Mean time a caller spends on one hold (check-backs excluded), seconds."""
    return _mean(column(holds, "hold_time")) if len(holds) else math.nan


def p90_hold_time(holds: Table) -> float:
    """90th percentile of the time on one hold, seconds."""
    return _quantile(column(holds, "hold_time"), 0.9) if len(holds) else math.nan


def hold_overrun_rate(holds: Table) -> float:
    """Share of holds that outlasted their promise (the agent had to check back)."""
    return _share(column(holds, "overrun").astype(bool)) if len(holds) else math.nan


def callback_promise_kept(callbacks: Table, window: float) -> float:
    """Share of callback requests first dialled within the promised window (never dialled: not kept)."""
    if not len(callbacks):
        return math.nan
    return _share(column(callbacks, "time_to_callback").astype(float) <= window + 1e-9)


def mean_time_to_callback(callbacks: Table) -> float:
    """Mean time from a callback request to its first dial-out, seconds."""
    waits = column(callbacks, "time_to_callback").astype(float)
    dialled = waits[~np.isnan(waits)]
    return _mean(dialled) if len(dialled) else math.nan


def callback_answer_rate(callbacks: Table) -> float:
    """Dial-outs the caller answered / dial-outs made."""
    dials = int(column(callbacks, "dials").sum())
    return float(np.sum(column(callbacks, "reached")) / dials) if dials else math.nan


def attempts_per_caller(calls: Table) -> float:
    """Calls (attempts, redials included) / unique callers."""
    return len(calls) / distinct_count(column(calls, "caller_id")) if len(calls) else math.nan


def mean_wait_per_caller(calls: Table) -> float:
    """Mean over callers (people) of their total wait in the queue across all their calls, redials included
    (a busy signal counts as no wait), seconds."""
    if not len(calls):
        return math.nan
    wait = pd.Series(column(calls, "wait_time")).fillna(0.0)
    return float(wait.groupby(column(calls, "caller_id")).sum().mean())


def experience_summary(calls: Table) -> dict[str, float]:
    """Mean, 10th percentile and share below 5 of the modelled experience score (0-10, peak-end rule)."""
    scores = column(calls, "experience")
    if not len(scores):
        return {"mean": math.nan, "p10": math.nan, "share_below_5": math.nan}
    return {
        "mean": _mean(scores),
        "p10": _quantile(scores, 0.1),
        "share_below_5": _share(scores < 5),
    }


def _mean(values: np.ndarray) -> float:
    """The mean of a column as pandas takes it: NaN skipped (summed as zeros in place, so numpy's pairwise
    sum adds the same floats in the same order), over the values present."""
    return float(mean_where(values, np.ones(len(values), dtype=bool), groups_of(values, None))[0])


def _quantile(values: np.ndarray, q: float) -> float:
    """The `q` quantile of a column, NaN skipped, as pandas (and numpy) interpolate it."""
    return float(quantile_where(values, np.ones(len(values), dtype=bool), groups_of(values, None), q)[0])


def _share(flags: np.ndarray) -> float:
    """The share of rows where `flags` holds (the mean of a boolean column)."""
    return int(np.count_nonzero(flags)) / len(flags)


def visit_service_level(
    visits: Table, threshold: float | np.ndarray, blocked: Any = 0, by: Groups | None = None
) -> Any:
    """Visits answered within the threshold of joining this department's queue / (visits + callers blocked
    on their way to it). `threshold`: one for all, or one per visit (its department's)."""
    groups = groups_of(visits, by)
    in_time = column(visits, "answered").astype(bool) & (column(visits, "time_to_answer") <= threshold + 1e-9)
    reached = count_where(np.ones(len(visits), dtype=bool), groups) + np.asarray(blocked)
    return figure(ratio(count_where(in_time, groups), reached), by)


def visit_asa(visits: Table, by: Groups | None = None) -> Any:
    """Mean queue wait of a department's answered visits (seconds)."""
    answered = column(visits, "answered").astype(bool)
    return figure(mean_where(column(visits, "wait_time"), answered, groups_of(visits, by)), by)


# --- which calls count ---------------------------------------------------------------------------------------


def counted(result: RunResult, calls: T) -> T:
    """Calls that count: those arriving after the warm-up (self-served calls included)."""
    return rows_where(calls, column(calls, "arrived_at") >= result.scenario.warmup)


def counted_rows(table: T, counted_ids: pd.Series | np.ndarray) -> T:
    """The rows (visits, transfers, ...) of counted calls: a caller who arrived in the warm-up is not
    counted anywhere, even in queues it reaches after the warm-up."""
    ids = column(table, "call_id")
    wanted = np.asarray(counted_ids)
    if len(ids) == 0:
        return table
    if len(wanted) == 0:
        return (
            cast(T, table.where(np.zeros(len(ids), dtype=bool)))
            if isinstance(table, Columns)
            else table.iloc[:0]
        )
    # call ids are small dense integers: a lookup array, not a hash set of a million ids
    keep = np.zeros(int(max(ids.max(), wanted.max())) + 1, dtype=bool)
    keep[wanted] = True
    return rows_where(table, keep[ids])


def offered_calls(calls: T) -> T:
    """The counted calls offered to agents (not resolved in the IVR)."""
    return rows_where(calls, ~equals(calls, "outcome", "self_service"))


def within_due_share(in_time: int, settled: int) -> float:
    """Email departments: emails an agent took by their due time (arrival + `email.due`) / emails settled,
    i.e. taken during the day, or left waiting at the close already past their due time (emails left
    before their due time are undecided and not counted); the backlog at the open included."""
    return in_time / settled if settled else math.nan
