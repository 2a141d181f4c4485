"""Which channel each contact is, and the figures each channel is judged by (issue 19.5).

A centre whose departments answer more than one channel (voice, chat, email) reports:

- its headline call figures (offered, answered, abandoned, service level, ASA, waits, abandonment, AHT,
  first-contact routing, holds, callbacks, redials, experience) over its **voice** contacts only, labelled
  so (`offered calls (voice)`, `sim.analysis.kpis.VOICE_HEADLINE`): a chat's first response and an email's hours in the box are not calls'
  waits, and mixing them made a service level no channel had. Occupancy and agent time stay every
  agent's work, whatever the channel.
- each voice and chat channel by its own figures, flat in the summary as `voice_KEY` and `chat_KEY`
  (`CHANNEL_FIGURES`: offered, answered, abandoned, service level, ASA, mean wait, abandonment), computed
  over the channel's calls-table rows with the headline's own functions. A chat's service level is its
  first response (an agent answering a chat responds at once: the wait) within its first department's
  threshold (`goals.departments.NAME.threshold`, else the centre's `service_level.threshold`), so a
  channel's service level is "within each department's own threshold"; the target may be a chat
  department's own too (`goals.departments.NAME.service_level`, `sim.analysis.goals`).
- email by the email figures of `sim.analysis.email` (handled, within due, backlog, overdue), never by a
  service level: an email department's `service_level` (seconds against hours of due time) is left
  unknown (NaN), in the summary and in the interval table.

A contact's channel is its first department's (a call with no department, resolved in the phone menu, is
voice). A centre of chats and emails without calls counts its chats in the headline instead (labelled
`(chat)`). A voice-only centre has none of this: its summary is exactly as before. A chat-only centre keeps
its headline (its only channel) and gains the `chat_KEY` figures, so a sweep or a comparison can name
them alike in every centre.

One vectorised pass: each contact's channel is a lookup of its department code; the per-channel figures
are the headline functions grouped by channel (`Groups`), whatever the number of departments.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from sim.analysis.channels import department_channels
from sim.analysis.columns import Columns
from sim.analysis.grouping import Groups, codes_of, count_where, equals, rows_where
from sim.analysis.metrics import abandon_rate, asa, mean_wait, offered, service_level
from sim.model.scenario import Scenario

T = TypeVar("T", bound=Columns)

CHANNELS = ("voice", "chat", "email")
"""Every channel, in the order the views list them."""
CHANNEL_FIGURES = ("offered", "answered", "abandoned", "service_level", "asa", "mean_wait", "abandon_rate")
"""The figures of a voice or chat channel, each `CHANNEL_KEY` in the summary (`voice_service_level`)."""
QUEUED_CHANNELS = ("voice", "chat")
"""The channels whose contacts wait on a line and are judged by a service level (email is judged by its
due time)."""


def channels_of(scenario: Scenario) -> list[str]:
    """The channels the centre's departments answer, in `CHANNELS` order."""
    present = set(department_channels(scenario))
    return [channel for channel in CHANNELS if channel in present]


def several_channels(scenario: Scenario) -> bool:
    """Whether the centre answers more than one channel (its headline is then voice's)."""
    return len(channels_of(scenario)) > 1


def headline_channel(scenario: Scenario) -> str | None:
    """The channel whose contacts a centre of several channels counts in its headline: voice, or, in a
    centre of chats and emails without calls, chat (the live one); None for a centre of one channel."""
    present = channels_of(scenario)
    return present[0] if len(present) > 1 else None  # `CHANNELS` order: voice, then chat


def contact_channels(scenario: Scenario, calls: Columns) -> np.ndarray:
    """Per row of a calls table, its channel's position in `CHANNELS` (its first department's channel;
    none, as a call the phone menu resolved: voice)."""
    code = np.array([CHANNELS.index(channel) for channel in department_channels(scenario)] + [0])
    return code[codes_of(calls, "first_department", list(scenario.departments))]


def voice_headline(scenario: Scenario, *tables: T) -> tuple[T, ...]:
    """The calls tables (counted arrivals, offered calls) the headline counts: as given in a centre of one
    channel, their voice rows in a centre of several (chat rows without voice: `headline_channel`)."""
    channel = headline_channel(scenario)
    if channel is None:
        return tables
    code = CHANNELS.index(channel)
    return tuple(rows_where(table, contact_channels(scenario, table) == code) for table in tables)


def add_channel_figures(out: dict[str, Any], scenario: Scenario, calls: Columns, threshold: float | np.ndarray) -> None:
    """Add `voice_KEY` and `chat_KEY` (`CHANNEL_FIGURES`) for the voice and chat channels of a centre that
    is not voice-only, from its counted offered calls (every channel's), and leave an email department's
    service level unknown in `by_department` and `by_channel`."""
    present = channels_of(scenario)
    if present == ["voice"]:
        return
    groups = Groups(contact_channels(scenario, calls), len(CHANNELS))
    figures = {
        "offered": offered(calls, by=groups),
        "answered": count_where(equals(calls, "outcome", "answered"), groups),
        "abandoned": count_where(equals(calls, "outcome", "abandoned"), groups),
        "service_level": service_level(calls, threshold, by=groups),
        "asa": asa(calls, by=groups),
        "mean_wait": mean_wait(calls, by=groups),
        "abandon_rate": abandon_rate(calls, by=groups),
    }
    for channel in QUEUED_CHANNELS:
        if channel not in present:
            continue
        at = CHANNELS.index(channel)
        for key in CHANNEL_FIGURES:
            value = figures[key][at]
            out[f"{channel}_{key}"] = int(value) if key in ("offered", "answered", "abandoned") else float(value)
    emails = {name for name, own in scenario.departments.items() if own.channel == "email"}
    for name in emails:
        out["by_department"][name]["service_level"] = math.nan
    if "email" in out.get("by_channel", {}):
        out["by_channel"]["email"]["service_level"] = math.nan
