"""Chat: contacts an agent handles several at once (issue 19, the first channel besides voice).

```yaml
departments:
  webchat:
    channel: chat                 # default voice
    resolves: [web]
    agents: 6
    handle_time: {dist: exponential, mean: 6m}   # a chat's work when it is the agent's only one
    chat: {slots: 3, slowdown: [1.0, 1.25, 1.5]} # its own agents' desk (agent groups set their own)
```

A chat department's contacts arrive, wait and may abandon as calls do (patience, per reason through
`call_types`), but an agent answering one responds at once (no ring: the first response is the wait), and
they have no holds, transfers, IVR, trunk lines or callbacks. A pool serving chat departments (the
department's own agents, or an agent group with chat departments among its skills) has a desk: each agent
holds up to `slots` chats, and while n are in hand every one progresses at 1 / slowdown[n-1] of its own
pace (default: no slow-down). A group mixing chat with voice or email departments is a blended group: its
agents have the same desk, and a voice call or an email takes the whole agent (`sim.model.blend`).

Written over the scenario's plain fields (no import of `sim.model.scenario`, which calls `chat_problems`
from its own cross-field checks), returning `(path, message)` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sim.model.durations import not_boolean, shorten

Channel = Literal["voice", "chat", "email"]
"""How a department's contacts reach it: phone calls (default), chats or emails (`sim.model.email`)."""
MAX_SLOTS = 20
"""The most chats one agent may hold at once."""

Factor = Annotated[float, BeforeValidator(not_boolean), Field(ge=1, le=100, allow_inf_nan=False)]


class ChatDesk(BaseModel):
    """A chat pool's desk: each agent holds up to `slots` chats; while n are in hand, every chat's work
    left runs down at 1 / `slowdown[n-1]` per second (one factor per number in hand, the first usually 1;
    unset: no slow-down)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    slots: Annotated[int, BeforeValidator(not_boolean), Field(ge=1, le=MAX_SLOTS)] = 1
    slowdown: tuple[Factor, ...] | None = None

    @model_validator(mode="after")
    def _one_factor_per_slot(self) -> ChatDesk:
        if self.slowdown is not None and len(self.slowdown) != self.slots:
            raise ValueError(
                f"slowdown needs one factor per number of chats in hand (slots {self.slots}), "
                f"got {len(self.slowdown)}"
            )
        return self

    def capacity(self) -> float:
        """The most chats' work one agent clears at once: the largest n / slowdown[n-1] (the number in hand
        that keeps the queue down fastest)."""
        return max(n / factor for n, factor in enumerate(self.factors(), start=1))

    def factors(self) -> tuple[float, ...]:
        """The slow-down with 1, 2, ..., `slots` chats in hand."""
        return self.slowdown if self.slowdown is not None else (1.0,) * self.slots


NO_DESK = ChatDesk()


def chat_departments(scenario: Any) -> set[str]:
    """The departments whose contacts are chats."""
    return {name for name, department in scenario.departments.items() if department.channel == "chat"}


def chat_desks(scenario: Any) -> dict[str, ChatDesk]:
    """Per pool serving chat departments (a department's own agents by its name, or an agent group), its
    desk (one chat at a time where the scenario sets none)."""
    chats = chat_departments(scenario)
    desks = {
        name: department.chat or NO_DESK
        for name, department in scenario.departments.items()
        if name in chats and department.agents is not None
    }
    for name, group in scenario.agent_groups.items():
        if set(group.skills) & chats:  # all chat, or blended with voice or email (`sim.model.blend`)
            desks[name] = group.chat or NO_DESK
    return desks


_NOT_FOR_CHAT = {
    "hold": "chat departments have no holds",
    "transfer": "chat departments do not transfer",
    "transfer_mode": "chat departments do not transfer",
    "listen_time": "chat departments do not transfer (no listening to send a contact on)",
    "routing_accuracy": "chat departments do not transfer (no routing decision)",
    "transfer_time": "chat departments do not transfer",
    "linked_handle_time": "chat departments are never reached by a transfer",
}


def chat_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """Faults of chat settings no single field shows: a `chat` desk where no chat pool is, what a chat
    department cannot have (holds, transfers), overflows across channels (`sim.model.blend` checks blended
    groups), and the
    centre-wide features not modelled for chats yet (trunk lines, IVR, callbacks)."""
    chats = chat_departments(scenario)
    departments = scenario.departments
    groups = scenario.agent_groups
    for name, department in departments.items():
        path = f"departments.{name}"
        if department.chat is not None:
            if name not in chats:
                yield f"{path}.chat", "a chat desk only on a chat department (channel: chat)"
            elif department.agents is None:
                yield f"{path}.chat", "the desk of the department's own agents, and it has none (agents)"
        for field, message in _NOT_FOR_CHAT.items():
            if name in chats and getattr(department, field) is not None:
                yield f"{path}.{field}", message
        for target in department.transfer or ():
            if target in chats and name not in chats:
                yield (
                    f"{path}.transfer.{target}",
                    f"a caller cannot be transferred to chat department {shorten(target)}",
                )
        overflow = department.overflow
        for index, target in enumerate(overflow.to if overflow is not None else ()):
            kind = "chat" if name in chats else "voice"
            if _channel_of_pool(scenario, target, chats) not in (None, kind):
                yield (
                    f"{path}.overflow.to[{index}]",
                    f"a {kind} department overflows only to {kind} agents ({shorten(target)} serves the other channel)",
                )
    for name, group in groups.items():
        if group.chat is not None and not set(group.skills) & chats:
            yield (
                f"agent_groups.{name}.chat",
                "a chat desk only for a group with chat departments among its skills",
            )
    if not chats:
        return
    if scenario.lines is not None:
        yield (
            "lines",
            "trunk lines carry voice calls; not modelled yet with chat departments (chats hold no line)",
        )
    if scenario.ivr is not None:
        yield "ivr", "the phone menu is for voice calls; not modelled yet with chat departments"
    if scenario.callback is not None:
        yield "callback", "callbacks are offered in every queue; not modelled yet with chat departments"


def _channel_of_pool(scenario: Any, pool: str, chats: set[str]) -> str | None:
    """The channel a pool serves (a department's own agents, or a group's skills; None: unknown or mixed)."""
    if pool in scenario.departments:
        return "chat" if pool in chats else "voice"
    group = scenario.agent_groups.get(pool)
    if group is None:
        return None
    kinds = {"chat" if skill in chats else "voice" for skill in group.skills}
    return kinds.pop() if len(kinds) == 1 else None
