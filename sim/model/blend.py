"""Blended agents and channel priorities (issue 19, deliverable 4): which channel a free agent serves first.

```yaml
routing:
  channel_priority: [voice, chat, email]   # the centre's default (this is the default itself)
agent_groups:
  floor:
    agents: 8
    skills: {billing: 1, webchat: 1, email: 1}   # voice, chat and email departments in one group
    chat: {slots: 2, slowdown: [1.0, 1.25]}      # its agents' desk: the chats one of them holds at once
    channel_priority: [chat, voice, email]       # exactly the channels the group serves, each once
```

A pool's channels are those of its skills (`departments.<name>.channel`). Its free agents look at its queues
channel by channel in its `channel_priority` (the group's own, else `routing.channel_priority` restricted to
the channels the group serves, else voice, chat, email), and within a channel by the preference tiers as
today. The default keeps today's behaviour exactly: voice and chat before email (email last, as
`sim.engine.email` has always arranged it), voice before chat.

A pool serving chat and another channel (a blended pool, `sim.engine.blend`) has a chat desk for every agent
(`chat: {slots, slowdown}`): a chat takes one slot; a voice call or an email takes the whole agent. An agent
with nothing in hand takes the next contact by channel priority; an agent with chats in hand takes only
further chats into free slots, and none while a contact of a channel it ranks above chat waits in its
queues (it drains, to come free for that contact). An arriving voice call or email goes only to an agent
with nothing in hand; an arriving chat to the agent with the fewest chats in hand, never to one draining.

Not modelled with blended pools, refused at their YAML path: a `call_choice` other than `preference` (the
channel order is a preference order), an `agent_choice` other than `longest_idle` for a chat department they
serve, overflow to a blended group and overflow from a department one serves; and, as before, overflow
across channels and an outbound pool serving chat.

Written over the scenario's plain fields (no import of `sim.model.scenario`, which calls `blend_problems`
from its own cross-field checks), returning `(path, message)` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sim.model.durations import shorten

CHANNELS = ("voice", "chat", "email")
"""Every channel, in the default priority: voice, then chat, then email."""


def channel_of(scenario: Any, department: str) -> str:
    """The channel of a department's contacts (voice unless it says otherwise)."""
    return str(scenario.departments[department].channel or "voice")


def group_channels(scenario: Any, group: str) -> set[str]:
    """The channels an agent group serves (those of its skills that name departments)."""
    departments = scenario.departments
    return {
        channel_of(scenario, skill) for skill in scenario.agent_groups[group].skills if skill in departments
    }


def is_blended(scenario: Any, group: str) -> bool:
    """Whether an agent group serves chat and another channel (its agents have a desk and blend rules)."""
    channels = group_channels(scenario, group)
    return "chat" in channels and len(channels) > 1


def blended_groups(scenario: Any) -> list[str]:
    """The agent groups serving chat and another channel, in the scenario's order."""
    return [name for name in scenario.agent_groups if is_blended(scenario, name)]


def channel_priority(scenario: Any, group: str) -> tuple[str, ...]:
    """The order in which a group's free agents look at its channels: its own `channel_priority`, else the
    centre's restricted to the group's channels, else voice, chat, email (each: only the group's channels)."""
    served = group_channels(scenario, group)
    own = scenario.agent_groups[group].channel_priority
    if own is not None:
        return tuple(own)
    default = scenario.routing.channel_priority
    order = tuple(default) if default is not None else CHANNELS
    return tuple(channel for channel in order if channel in served)


def blend_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """Faults of channel priorities and blended groups no single field shows: a priority listing a channel
    twice, leaving one out or naming one not served; and what is not modelled with blended pools."""
    departments = scenario.departments
    used = {channel_of(scenario, name) for name in departments}
    centre_order = scenario.routing.channel_priority
    if centre_order is not None:
        yield from _repeats("routing.channel_priority", centre_order)
        missing = sorted(used - set(centre_order), key=CHANNELS.index)
        if missing:
            yield (
                "routing.channel_priority",
                f"leaves out {', '.join(missing)}, which the centre's departments use "
                f"(list each channel once: {', '.join(c for c in CHANNELS if c in used)})",
            )
    blended = set(blended_groups(scenario))
    for name, group in scenario.agent_groups.items():
        path = f"agent_groups.{name}"
        served = group_channels(scenario, name)
        order = group.channel_priority
        if order is not None:
            yield from _repeats(f"{path}.channel_priority", order)
            for index, channel in enumerate(order):
                if channel not in served:
                    yield (
                        f"{path}.channel_priority[{index}]",
                        f"the group serves no {channel} department (its channels: "
                        f"{', '.join(c for c in CHANNELS if c in served)})",
                    )
            missing = sorted(served - set(order), key=CHANNELS.index)
            if missing:
                yield (
                    f"{path}.channel_priority",
                    f"leaves out {', '.join(missing)}, which the group serves (list each of its channels once)",
                )
        if name not in blended:
            continue
        if group.call_choice not in (None, "preference"):
            yield (
                f"{path}.call_choice",
                "a group serving chat and another channel takes contacts by channel priority, then preference; "
                "other call choices are not modelled with blended agents",
            )
        elif group.call_choice is None and scenario.routing.call_choice != "preference":
            yield (
                "routing.call_choice",
                f"blended group {shorten(name)} (chat and another channel) takes contacts by channel priority, "
                "then preference; set its own call_choice: preference, or use preference for the centre",
            )
    for name, department in departments.items():
        path = f"departments.{name}"
        overflow = department.overflow
        for index, target in enumerate(overflow.to if overflow is not None else ()):
            if target in blended:
                yield (
                    f"{path}.overflow.to[{index}]",
                    f"overflow to blended group {shorten(target)} (chat and another channel) is not modelled",
                )
        serving = [group for group in blended if name in scenario.agent_groups[group].skills]
        if not serving:
            continue
        if overflow is not None:
            yield (
                f"{path}.overflow",
                f"overflow from a department blended agents serve ({', '.join(serving)}) is not modelled",
            )
        if channel_of(scenario, name) == "chat":
            own = department.agent_choice
            choice = own if own is not None else scenario.routing.agent_choice
            if choice != "longest_idle":
                where = f"{path}.agent_choice" if own is not None else "routing.agent_choice"
                yield (
                    where,
                    f"chat department {shorten(name)} is served by blended agents ({', '.join(serving)}): an "
                    "arriving chat goes to the agent with the fewest chats in hand (longest_idle); "
                    f"{choice} is not modelled there",
                )


def _repeats(path: str, order: Iterable[str]) -> Iterable[tuple[str, str]]:
    """A channel listed twice in a priority."""
    seen: set[str] = set()
    for index, channel in enumerate(order):
        if channel in seen:
            yield f"{path}[{index}]", f"{channel} is listed twice"
        seen.add(channel)
