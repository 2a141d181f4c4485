"""Routing policies and queue capacity: the names a scenario may give, and the cross-field checks on them.

Two decisions are policies (see the README, "Routing policies and queue capacity"):
- which idle agent gets an arriving call (`agent_choice`: `longest_idle`, `random`, `in_order`), set for
  the centre in `routing.agent_choice` and per department;
- which waiting call a free agent takes (`call_choice`: `preference`, `longest_waiting`, `weighted`), set
  for the centre in `routing.call_choice` and per agent group.

A department may also cap its queue (`queue_capacity`: 0 is no queue at all) and say what a caller who finds
it full does (`when_full`: `lost`, or `message`).

Written over the scenario's plain fields (no import of `sim.model.scenario`, which calls `policy_problems`
from its own cross-field checks), returning `(path, message)` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from sim.model.durations import shorten

AgentChoice = Literal["longest_idle", "random", "in_order"]
"""Which idle agent gets an arriving call: the one idle longest (today's rule); one drawn uniformly among
every idle agent who serves the department; or the first pool with an idle agent in `agent_order`."""
CallChoice = Literal["preference", "longest_waiting", "weighted"]
"""Which waiting call a free agent takes: by skill preference tier, then priority, then wait (today's rule);
the one waiting longest across all its skills (priority first); or the largest wait times the queue's
`call_weight` (priority first)."""
DEFAULT_AGENT_CHOICE = "longest_idle"
DEFAULT_CALL_CHOICE = "preference"


def agent_choice_of(scenario: Any, department: str) -> str:
    """The agent choice for calls arriving at `department`: its own, or the centre's."""
    own = scenario.departments[department].agent_choice
    return str(own if own is not None else scenario.routing.agent_choice)


def call_choice_of(scenario: Any, group: str | None) -> str:
    """The call choice of an agent group's free agents (None: a department's own agents): the group's own,
    or the centre's."""
    own = scenario.agent_groups[group].call_choice if group is not None else None
    return str(own if own is not None else scenario.routing.call_choice)


def serving_pools(scenario: Any, department: str) -> list[str]:
    """The pools that take `department`'s calls first-hand, in today's order: its own agents (named after
    it), then the agent groups with its skill, in the order the scenario lists them."""
    own = [department] if scenario.departments[department].agents is not None else []
    return own + [name for name, group in scenario.agent_groups.items() if department in group.skills]


def pool_order(scenario: Any, department: str) -> list[str]:
    """The order `in_order` tries pools for `department`: those in its `agent_order`, then the rest of
    `serving_pools` in today's order."""
    listed = list(scenario.departments[department].agent_order or ())
    return listed + [name for name in serving_pools(scenario, department) if name not in listed]


def policy_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """Faults of the routing policies no single field shows: an `agent_order` naming unknown pools, pools
    that do not serve the department, repeats, or given without `in_order`; `when_full` without a capacity."""
    groups = scenario.agent_groups
    for name, department in scenario.departments.items():
        path = f"departments.{name}"
        order = department.agent_order
        if order is not None:
            if agent_choice_of(scenario, name) != "in_order":
                yield (
                    f"{path}.agent_order",
                    "only with agent_choice: in_order (here or in routing.agent_choice)",
                )
            serving = serving_pools(scenario, name)
            seen: set[str] = set()
            for index, pool in enumerate(order):
                where = f"{path}.agent_order[{index}]"
                if pool in seen:
                    yield where, f"{shorten(pool)} is listed twice"
                seen.add(pool)
                if pool in serving:
                    continue
                if pool == name:
                    yield where, f"{shorten(name)} has no agents of its own (no departments.{name}.agents)"
                elif pool in groups:
                    yield where, f"agent group {shorten(pool)} does not serve {shorten(name)} (no skill in it)"
                else:
                    expected = ", ".join(serving) or "none"
                    yield where, f"{shorten(pool)} is not a pool serving {shorten(name)} (pools: {expected})"
        if department.when_full is not None and department.queue_capacity is None:
            yield f"{path}.when_full", "only with queue_capacity (the queue can then be full)"
