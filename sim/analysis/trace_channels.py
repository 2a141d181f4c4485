"""Which contacts to show a trainer, by channel (`callsim trace --channel chat`) and by what happened to an
email (`--pick overdue`, `from-backlog`, `left-in-backlog`, `overdue-call`): masks over the calls table,
from the event table in one pass each (`sim.analysis.trace_picks` combines them with the other criteria)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.channels import department_channels
from sim.engine.day import RunResult
from sim.model.scenario import Scenario

CHANNEL_NOUNS: dict[str, str] = {"voice": "calls", "chat": "chats", "email": "emails"}
"""The channels a trace can pick by, and what their contacts are called."""
CHANNELS = tuple(CHANNEL_NOUNS)
"""The channels in a fixed order (the replay page's codes)."""


def noun(result: RunResult, call_id: int) -> str:
    """`Call`, `Chat` or `Email`: what the contact `call_id` is, by the department it arrived in."""
    arrive = result.events[(result.events["call_id"] == call_id) & (result.events["event"] == "arrive")]
    if arrive.empty:
        return "Call"
    scenario = result.scenario
    of = dict(zip(scenario.departments, department_channels(scenario), strict=True))
    return CHANNEL_NOUNS.get(of.get(str(arrive["department"].iloc[0]), "voice"), "calls")[:-1].capitalize()


def contacts_word(result: RunResult) -> str:
    """`calls` (`chats`, `emails` in a centre of that channel alone), or `contacts` in a centre of more than
    one channel: what a count of the calls table is."""
    channels = set(department_channels(result.scenario))
    return "contacts" if len(channels) > 1 else CHANNEL_NOUNS.get(channels.pop(), "calls")


EMAIL_PICKS: dict[str, str] = {
    "overdue": "passed their due time unhandled",
    "from-backlog": "waited in the backlog at the open",
    "left-in-backlog": "were left in the backlog at the close",
    "overdue-call": "chased an overdue email",
}
"""The `--pick` words about emails, and what the contacts they pick did (as the count sentence says it)."""

_EVENT_OF = {"overdue": "email_overdue", "from-backlog": "email_backlog", "left-in-backlog": "email_left"}


def contact_channels(scenario: Scenario, calls: pd.DataFrame) -> np.ndarray:
    """Each call's channel: that of the department it arrived in (`first_department`)."""
    of = dict(zip(scenario.departments, department_channels(scenario), strict=True))
    return calls["first_department"].astype(str).map(of).fillna("voice").to_numpy(dtype=object)


def arrival_channels(scenario: Scenario, events: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """The channel of each call of `ids` by the department of its `arrive` in the event table (a saved
    run's calls table may not hold `first_department`); `voice` for a call without one."""
    arrive = events[events["event"] == "arrive"]
    of = dict(zip(scenario.departments, department_channels(scenario), strict=True))
    channel = pd.Series(arrive["department"].astype(str).map(of).to_numpy(), index=arrive["call_id"].to_numpy())
    channel = channel[~channel.index.duplicated()]
    return channel.reindex(ids).fillna("voice").to_numpy(dtype=object)


def by_channel(
    result: RunResult, calls: pd.DataFrame, channel: str | None, picks: Sequence[str]
) -> np.ndarray:
    """Which of `calls` are of `channel` (any, when None) and went through every email pick in `picks`.
    Raises ValueError when the scenario has no department of the channel asked, or no email department for
    an email pick."""
    keep = np.ones(len(calls), dtype=bool)
    channels = department_channels(result.scenario)
    present = list(dict.fromkeys(channels))
    if channel is not None:
        if channel not in present:
            raise ValueError(
                f"--channel {channel}: this scenario has no {channel} department (its channels: {', '.join(present)})"
            )
        keep &= contact_channels(result.scenario, calls) == channel
    if picks and "email" not in present:
        raise ValueError(f"--pick {picks[0]}: this scenario has no email department (`channel: email`)")
    events = result.events
    ids = calls["call_id"].to_numpy(dtype=np.int64)
    for pick in dict.fromkeys(picks):
        if pick == "overdue-call":
            rows = events[events["event"] == "email_call"]
        else:
            rows = events[events["event"] == _EVENT_OF[pick]]
        keep &= np.isin(ids, rows["call_id"].to_numpy(dtype=np.int64))
    return keep
