"""Routing policies and queue capacity in the reference model, written as the rules read (plain lists,
scanned): which idle agent an arriving call goes to, which waiting call a free agent takes, and whether a
caller finds the queue full. Same rules and tie-breaks as the fast engine (`sim.engine.routing`,
`sim.engine.policies`), none of its machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.engine.log import Event
from sim.model.policies import agent_choice_of, call_choice_of, pool_order, serving_pools

# The reference model's Centre, Pool, Agent, Call and Visit (`sim.engine.reference_centre`, which calls
# these functions): typed loosely here, so that the two modules do not import each other.
Centre = Any
Pool = Any
Agent = Any
Call = Any
Visit = Any

AGENT_STREAM = "routing.agent"
"""The stream `agent_choice: random` draws from (as the fast engine's)."""


def chosen_agent(
    centre: Centre, department: int, longest_idle: Callable[[Centre, int], Agent | None]
) -> Agent | None:
    """The idle agent an arriving call to `department` goes to under its `agent_choice`: the longest idle
    (the first pool in today's order on a tie), one drawn uniformly (index floor(u * n) of the idle agents
    listed pool by pool, longest idle first), or the longest idle of the first pool in `agent_order` that has
    one idle. `longest_idle` is the model's own rule for the first."""
    name = centre.names[department]
    choice = agent_choice_of(centre.scenario, name)
    if choice == "longest_idle":
        return longest_idle(centre, department)
    by_name = {pool.name: pool for pool in centre.pools}
    order = pool_order(centre.scenario, name) if choice == "in_order" else serving_pools(centre.scenario, name)
    idle = [agent for pool in order for agent in by_name[pool].idle]
    if not idle:
        return None
    if choice == "random":
        return idle[min(int(centre.draw(AGENT_STREAM) * len(idle)), len(idle) - 1)]
    return idle[0]


def policy_next_call(centre: Centre, pool: Pool) -> Visit | None:
    """Under `longest_waiting` or `weighted`, the first in line of every department the pool serves (tiers
    ignored) with the best priority, then the longest wait (times the department's `call_weight` for
    `weighted`); the first on ties. None under `preference`, or when none of its departments has a caller."""
    choice = call_choice_of(centre.scenario, pool.name if pool.home < 0 else None)
    if choice == "preference":
        return None
    heads = [centre.queues[d][0] for tier in pool.tiers for d in tier if centre.queues[d]]
    if not heads:
        return None
    now = centre.env.now
    departments = centre.scenario.departments
    if choice == "longest_waiting":
        return min(heads, key=lambda v: (v.call.priority, v.queued_at))
    return min(
        heads,
        key=lambda v: (v.call.priority, -(now - v.queued_at) * departments[centre.names[v.department]].call_weight),
    )


def turned_away(centre: Centre, call: Call, department: int) -> bool | None:
    """Whether a caller reaching `department` finds its queue full (nobody free, `queue_capacity` callers
    already waiting; a caller held on a warm transfer always joins): None if they join; else, the event
    recorded, True if they leave a message, False if they are lost."""
    name = centre.names[department]
    spec = centre.scenario.departments[name]
    capacity = spec.queue_capacity
    if capacity is None or call.handover is not None or len(centre.queues[department]) < capacity:
        return None
    by_name = {pool.name: pool for pool in centre.pools}
    if any(by_name[pool].idle for pool in serving_pools(centre.scenario, name)):
        return None
    message = spec.when_full == "message"
    centre.record(Event.QUEUE_FULL, call.id, -1, department, 1.0 if message else 0.0)
    return message
