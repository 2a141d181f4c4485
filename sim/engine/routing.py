"""Who takes which call: pure decisions over queues and pools (no simpy; a random choice is handed its draws).

By default (today's rules):
- An arriving (or newly overflowed) call goes to the longest-idle eligible agent (`longest_idle`).
- A free agent takes the waiting call from the departments it serves by preference tier, then by priority,
  then by longest wait; calls overflowed to its pool come after its own skills (`next_call_for`).
Named policies (`sim.model.policies`, wired by `sim.engine.policies`) replace either decision:
`random_idle` and `idle_in_order` for the first, `longest_waiting` and `weighted_wait` for the second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from sim.engine.centre import WAITING, Agent, Call, Entry, Pool, Queue
from sim.model.scenario import Scenario


def first_department_by_reason(scenario: Scenario) -> list[int]:
    """For each reason (in mix order), the department a caller reaches first: the first that resolves it."""
    names = list(scenario.departments)
    targets = []
    for reason in scenario.reason_mix():
        targets.append(next(i for i, name in enumerate(names) if reason in scenario.resolves(name)))
    return targets


def queue_head(levels: dict[int, deque[Entry]]) -> tuple[Call, deque[Entry]] | None:
    """The call served next from priority levels (best priority, then first come) and the FIFO holding it:
    the first entry still waiting under the visit it was queued for; stale entries are dropped."""
    for entries in levels.values():
        while entries:
            visit, call = entries[0]
            if call.state == WAITING and call.visit == visit:
                return call, entries
            entries.popleft()
    return None


def next_call_for(pool: Pool) -> tuple[Call, deque[Entry]] | None:
    """The call a free agent of `pool` takes next, and the FIFO it stands first in."""
    # (a head found is a pair, never false)
    return first_in_tiers(pool.tiers) or (overflowed_head(pool) if pool.backup_for else None)


def first_in_tiers(tiers: list[list[Queue]]) -> tuple[Call, deque[Entry]] | None:
    """The waiting call first by preference tier, then priority, then wait, and the FIFO it stands first
    in (None: nobody waits in these queues)."""
    for tier in tiers:
        best: tuple[Call, deque[Entry]] | None = None
        for queue in tier:
            if queue.waiting:  # a live entry (stale ones are dropped when it has some)
                head = queue_head(queue.levels)
                if head is not None and (
                    best is None or (head[0].priority, head[0].queued_at) < (best[0].priority, best[0].queued_at)
                ):
                    best = head
        if best is not None:
            return best
    return None


def overflowed_head(pool: Pool) -> tuple[Call, deque[Entry]] | None:
    """After a pool's own skills: the call overflowed to it that goes first (best priority, then first
    come), and the FIFO it stands first in."""
    best: tuple[Call, deque[Entry]] | None = None
    for queue in pool.backup_for:
        head = queue_head(queue.overflowed)
        if head is not None and (
            best is None or (head[0].priority, head[0].queued_at) < (best[0].priority, best[0].queued_at)
        ):
            best = head
    return best


def longest_idle(pools: list[Pool]) -> Pool | None:
    """The pool whose first idle agent has been idle longest (ties: the first listed pool)."""
    best: Pool | None = None
    for pool in pools:
        if pool.idle and (best is None or pool.idle[0].idle_since < best.idle[0].idle_since):
            best = pool
    return best


def random_idle(pools: list[Pool], draw: Callable[[], float]) -> Agent | None:
    """An agent drawn uniformly among every idle agent of `pools`, taken off its idle list (None if none is
    idle, and then nothing is drawn). One uniform draw u in [0, 1) picks index floor(u * n) of the n idle
    agents counted pool by pool in the order given, longest idle first within a pool."""
    total = 0
    for pool in pools:
        total += len(pool.idle)
    if not total:
        return None
    index = min(int(draw() * total), total - 1)
    for pool in pools:
        if index < len(pool.idle):
            agent = pool.idle[index]
            del pool.idle[index]
            return agent
        index -= len(pool.idle)
    raise AssertionError("unreachable: the index lies within the idle agents counted")


def idle_in_order(pools: list[Pool]) -> Agent | None:
    """The longest-idle agent of the first pool in `pools` (in order) that has one, taken off its idle list."""
    for pool in pools:
        if pool.idle:
            return pool.idle.popleft()
    return None


def longest_idle_agent(pools: list[Pool]) -> Agent | None:
    """The agent `longest_idle` picks, taken off its idle list."""
    pool = longest_idle(pools)
    return pool.idle.popleft() if pool is not None else None


def longest_waiting(pool: Pool, now: float) -> tuple[Call, deque[Entry]] | None:
    """The call a free agent of `pool` takes under `longest_waiting`: across every queue it serves,
    preference tiers ignored, the best priority, then the longest wait (ties: the first queue in today's
    order, tiers by preference then the skills' order); calls overflowed to its pool still come after."""
    return _best_head(pool, lambda call, _weight: (call.priority, call.queued_at))


def weighted_wait(pool: Pool, now: float) -> tuple[Call, deque[Entry]] | None:
    """The call a free agent of `pool` takes under `weighted`: across every queue it serves, the best
    priority, then the largest wait times the queue's `call_weight` (ties: as `longest_waiting`)."""
    return _best_head(pool, lambda call, weight: (call.priority, -(now - call.queued_at) * weight))


def _best_head(
    pool: Pool, key: Callable[[Call, float], tuple[float, float]]
) -> tuple[Call, deque[Entry]] | None:
    """The head of the queue `pool` serves that has the least `key` (the first on ties), else the best
    overflowed call as `next_call_for` takes it."""
    best: tuple[Call, deque[Entry]] | None = None
    best_key: tuple[float, float] | None = None
    for tier in pool.tiers:
        for queue in tier:
            if not queue.waiting:
                continue
            head = queue_head(queue.levels)
            if head is not None:
                rank = key(head[0], queue.weight)
                if best_key is None or rank < best_key:
                    best, best_key = head, rank
    if best is not None:
        return best
    return overflowed_head(pool)


def right_department(resolvers: list[int]) -> int:
    """Where a correctly routed caller goes: the first department that resolves its reason."""
    return resolvers[0]


def ivr_route(
    accuracy_draw: float, choice_draw: float, accuracy: float, resolvers: list[int], others: list[int]
) -> int:
    """The IVR's choice: with probability `accuracy` a department that resolves the reason, otherwise one
    chosen uniformly among those that cannot (two uniform draws in [0, 1) decide)."""
    if accuracy_draw < accuracy or not others:
        return right_department(resolvers)
    return others[int(choice_draw * len(others))]


def transfer_target(
    accuracy_draw: float, choice_draw: float, accuracy: float, resolvers: list[int], others: list[int]
) -> int:
    """A misrouted caller's next department: with probability `accuracy` one that resolves the reason,
    otherwise uniformly one of `others` (departments that cannot resolve it and the caller has not visited);
    the right one if none is left."""
    if accuracy_draw < accuracy or not others:
        return right_department(resolvers)
    return others[int(choice_draw * len(others))]


def without(departments: list[int], leave_out: int) -> list[int]:
    """`departments` (in order) less those in the bit set `leave_out`, each of which it holds: a copy and a
    removal per department left out (a caller has visited a few), not a test per department of the centre."""
    kept = departments.copy()
    while leave_out:
        lowest = leave_out & -leave_out
        kept.remove(lowest.bit_length() - 1)
        leave_out ^= lowest
    return kept


def explicit_next(draw: float, targets: list[int], cumulative: list[float]) -> int:
    """In an explicit transfer network, the next department after service, or -1 to leave."""
    for target, bound in zip(targets, cumulative, strict=True):
        if draw < bound:
            return target
    return -1
