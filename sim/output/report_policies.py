"""The report's model assumptions about routing policies and queue capacity, in plain sentences (nothing
when the scenario keeps today's rules: longest-idle agent, calls by preference, unlimited queues, email
last), and each blended group's channel priority (`sim.model.blend`)."""

from __future__ import annotations

from sim.model.blend import CHANNELS, channel_priority, group_channels, is_blended
from sim.model.policies import DEFAULT_CALL_CHOICE, agent_choice_of, call_choice_of, pool_order
from sim.model.scenario import Scenario

_CALL_CHOICES = {
    "preference": "by skill preference, then priority, then longest wait",
    "longest_waiting": "the call waiting longest across all their skills (priority first, preferences ignored)",
    "weighted": "the largest wait times the department's call_weight across all their skills (priority first)",
}


def policy_assumptions(scenario: Scenario) -> list[str]:
    """One sentence per department or agent group whose routing differs from today's rules."""
    items = []
    for name, department in scenario.departments.items():
        choice = agent_choice_of(scenario, name)
        if choice == "random":
            items.append(
                f"{name}: an arriving call goes to an idle agent drawn uniformly among all who serve it "
                "(agent_choice: random), not the longest-idle one."
            )
        elif choice == "in_order":
            items.append(
                f"{name}: an arriving call goes to the longest-idle agent of the first pool with one idle, "
                f"in this order: {', '.join(pool_order(scenario, name))} (agent_choice: in_order)."
            )
        capacity = department.queue_capacity
        if capacity is not None:
            fate = "leaves a message" if department.when_full == "message" else "is lost (counted as blocked)"
            room = (
                "no queue: a caller who finds nobody free cannot wait and"
                if capacity == 0
                else f"at most {capacity} callers wait: a caller who finds nobody free and {capacity} waiting"
            )
            items.append(f"{name}: {room} {fate}.")
    own_agents = any(department.agents is not None for department in scenario.departments.values())
    if own_agents and call_choice_of(scenario, None) != DEFAULT_CALL_CHOICE:
        choice = call_choice_of(scenario, None)
        items.append(f"Departments' own agents: a free agent takes {_CALL_CHOICES[choice]} (call_choice: {choice}).")
    for group in scenario.agent_groups:
        choice = call_choice_of(scenario, group)
        if choice != DEFAULT_CALL_CHOICE:
            items.append(f"Agent group {group}: a free agent takes {_CALL_CHOICES[choice]} (call_choice: {choice}).")
    for group in scenario.agent_groups:
        served = group_channels(scenario, group)
        ranked = channel_priority(scenario, group)
        if len(served) > 1 and (is_blended(scenario, group) or ranked != tuple(c for c in CHANNELS if c in served)):
            order = ", ".join(ranked)
            sentence = f"Agent group {group}: a free agent serves its channels in the order {order} (channel_priority)"
            if is_blended(scenario, group):
                sentence += (
                    "; a call or an email takes the whole agent, chats share its slots, and an agent with chats "
                    "takes no new one while a contact ranked above chat waits"
                )
            items.append(sentence + ".")
    return items
