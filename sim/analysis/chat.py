"""Chat pools' figures for the day's summary: `chat_occupancy` (time with at least one chat in hand) and
`slot_use` (chats in hand over the slots), centre-wide over every chat pool, per department for its own
chat agents and per agent group (`sim.analysis.metrics` defines both; `sim.analysis.kpis` names them).

Both come from the event log in one vectorised pass (`agent_time.chat_levels`, and the busy step function,
which for a chat pool counts agents with at least one chat): no loop over agents or intervals. A blended
pool (`sim.model.blend`) is busy with calls and emails too: its `chat_occupancy` is its agents' time with at
least one chat in hand (`agent_time.chat_held_levels`), its `slot_use` counts chats only, both over its whole
logged-in time; its `occupancy` is any contact in hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.agent_time import chat_held_levels, chat_levels
from sim.analysis.metrics import chat_occupancy, slot_use
from sim.engine.day import RunResult
from sim.model.blend import blended_groups
from sim.model.chat import chat_desks


def add_chat(
    out: dict[str, Any], result: RunResult, pool_names: list[str], logged_in: np.ndarray, busy: np.ndarray
) -> None:
    """Add the chat figures to a summary `out` (which has `by_department`, and `by_group` with groups), given
    each pool's logged-in and busy seconds over the counted day (`agent_levels`' order)."""
    scenario = result.scenario
    desks = chat_desks(scenario)
    window = np.array([scenario.warmup, scenario.duration])
    names, in_hand = chat_levels(result, window)
    assert names == pool_names
    chat_seconds = in_hand[:, 0] + 0.0
    slots = np.array([desks[name].slots if name in desks else 0 for name in pool_names], dtype=float)
    chat = slots > 0
    mixing = set(blended_groups(scenario))
    blended = [index for index, name in enumerate(pool_names) if name in mixing]
    if blended:  # a blended pool is busy with calls and emails too: its chat occupancy counts chats only
        busy = busy + 0.0
        busy[blended] = chat_held_levels(result, window)[1][blended, 0]
    out["chat_occupancy"] = chat_occupancy(float(busy[chat].sum()), float(logged_in[chat].sum()))
    out["slot_use"] = slot_use(float(chat_seconds[chat].sum()), float((slots * logged_in)[chat].sum()))
    for index, name in enumerate(pool_names):
        if not chat[index]:
            continue
        figures = {
            "chat_occupancy": chat_occupancy(float(busy[index]), float(logged_in[index])),
            "slot_use": slot_use(float(chat_seconds[index]), float(slots[index] * logged_in[index])),
        }
        if name in scenario.departments:
            out["by_department"][name].update(figures)
        elif name in (out.get("by_group") or {}):
            out["by_group"][name].update(figures)
