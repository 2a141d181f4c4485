"""The interval table's rows per channel, and its email figures (issue 19.5): what `interval_table` adds
for a centre that answers more than one channel, or has email departments.

- Rows of `kind: channel` (`department`: `voice`, `chat` or `email`), one per channel and interval, between
  the `all` row and the department rows, for a centre of several channels: offered, answered, abandoned,
  blocked, service level, ASA, mean and 90th-percentile wait and abandonment over the channel's contacts
  (a contact's channel is its first department's, `sim.analysis.channel_kpis`), with the headline's
  definitions. The `all` rows of such a centre count its voice contacts only, as its headline does; the
  agent figures (occupancy, agents logged in and scheduled) of the `all` rows stay every agent's.
- Email rows (the email channel's and each email department's) are judged by their due time, never by the
  service level: their `service_level` is NaN, and three columns say how the box went: `emails_handled`
  (taken by an agent in the interval), `email_within_due` (of the emails settled in the interval, the
  share taken by their due time; settled = taken in it, or, in the last interval, left at the close past
  due: the summary's `email_within_due` over the day) and `email_backlog` (emails waiting at the
  interval's end, the close last). Emails count over the whole day, warm-up included (the backlog is the
  day's), as in `sim.analysis.email`.

Every figure is one grouped pass (keys interval x channel, interval x department; the backlog a cumulative
count of entries and exits per key), so the cost grows with the contacts and the rows, not with a pass per
interval, channel or department.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.channel_kpis import CHANNELS, channels_of, contact_channels
from sim.analysis.columns import Columns
from sim.analysis.email import email_columns, settled
from sim.analysis.grouping import Groups, count_where, equals, pair_keys, ratio
from sim.analysis.metrics import abandon_rate, asa, mean_wait, offered, p90_wait, service_level
from sim.analysis.thresholds import call_thresholds
from sim.engine.day import RunResult
from sim.model.email import email_departments

EMAIL_COLUMNS = ("emails_handled", "email_within_due", "email_backlog")
"""The interval table's email columns (email channel and email department rows; NaN elsewhere)."""


def channel_rows(
    result: RunResult, calls: Columns, call_interval: np.ndarray, count: int, clocks: np.ndarray
) -> dict[str, Any]:
    """The `kind: channel` rows, interval-major (each interval's channels in `channels_of` order), from the
    counted offered calls of every channel and each one's interval."""
    scenario = result.scenario
    present = channels_of(scenario)
    size = len(present)
    position = np.full(len(CHANNELS) + 1, -1, dtype=np.int64)
    position[[CHANNELS.index(channel) for channel in present]] = np.arange(size)
    key = pair_keys(call_interval, position[contact_channels(scenario, calls)], size)
    groups = Groups(key, count * size)
    level = service_level(calls, call_thresholds(scenario, calls), by=groups)  # each its department's
    is_email = np.tile(np.array([channel == "email" for channel in present]), count)
    return {
        "interval": np.repeat(np.arange(count), size),
        "start": np.repeat(clocks, size),
        "department": np.tile(np.array(present, dtype=object), count),
        "kind": "channel",
        "offered": offered(calls, by=groups),
        "answered": count_where(equals(calls, "outcome", "answered"), groups),
        "abandoned": count_where(equals(calls, "outcome", "abandoned"), groups),
        "blocked": count_where(equals(calls, "outcome", "blocked"), groups),
        "service_level": np.where(is_email, math.nan, level),
        "asa": asa(calls, by=groups),
        "mean_wait": mean_wait(calls, by=groups),
        "p90_wait": p90_wait(calls, by=groups),
        "abandon_rate": abandon_rate(calls, by=groups),
    }


def email_department_figures(result: RunResult, edges: np.ndarray, departments: list[str]) -> dict[str, Any]:
    """`EMAIL_COLUMNS` per interval and department (interval-major): each email department's emails; NaN
    in a department of another channel."""
    emails = email_columns(result)  # built once for the summary, the department and the channel rows
    target = pd.Index(departments).get_indexer(pd.Index(emails["department"].astype(str))).astype(np.int64)
    emailed = email_departments(result.scenario)
    named = np.array([name in emailed for name in departments])
    return _email_cells(result, emails, edges, target, named)


def email_channel_figures(result: RunResult, edges: np.ndarray, channels: list[str]) -> dict[str, Any]:
    """`EMAIL_COLUMNS` per interval and channel (interval-major): every email department's emails together
    in the `email` channel's rows; NaN in the others."""
    emails = email_columns(result)
    named = np.array([channel == "email" for channel in channels])
    target = np.full(len(emails), int(np.argmax(named)) if named.any() else -1, dtype=np.int64)
    return _email_cells(result, emails, edges, target, named)


def _email_cells(
    result: RunResult, emails: pd.DataFrame, edges: np.ndarray, target: np.ndarray, named: np.ndarray
) -> dict[str, Any]:
    """`EMAIL_COLUMNS` per interval and row (interval-major) of `named.size` rows a interval, each email
    going to its `target` row (-1: none); NaN in the rows not `named`."""
    count, size = len(edges) - 1, len(named)
    cells = count * size
    handled_at = emails["handled_at"].to_numpy()
    handled, in_time, left_late = settled(
        handled_at, emails["left_age"].to_numpy(), emails["due_at"].to_numpy(), result.scenario.duration
    )
    handled_interval = np.clip(np.searchsorted(edges, handled_at, side="right") - 1, 0, count - 1)
    settled_interval = np.where(handled, handled_interval, count - 1)  # left late: the close's interval
    by_handled = Groups(pair_keys(handled_interval, target, size), cells)
    settled_count = count_where(handled | left_late, Groups(pair_keys(settled_interval, target, size), cells))
    keep = target >= 0
    entered_at = np.where(emails["from_backlog"].to_numpy(), 0.0, emails["arrived_at"].to_numpy())
    gone_at = np.where(handled, handled_at, math.inf)  # left at the close: waiting till then
    waiting = _waiting_at_ends(entered_at[keep], gone_at[keep], target[keep], edges[1:], size)
    mask = np.tile(named, count)
    return {
        "emails_handled": np.where(mask, count_where(handled, by_handled), math.nan),
        "email_within_due": np.where(mask, ratio(count_where(in_time, by_handled), settled_count), math.nan),
        "email_backlog": np.where(mask, waiting, math.nan),
    }


def _waiting_at_ends(
    entered_at: np.ndarray, gone_at: np.ndarray, target: np.ndarray, ends: np.ndarray, size: int
) -> np.ndarray:
    """Per interval end and target (interval-major), the emails in the queue then: entered at or before
    the end and not yet gone (taken after it, or never), as cumulative counts of entries and exits."""
    count = len(ends)
    entry = np.searchsorted(ends, entered_at, side="left")  # the first end at or after the entry
    exit_ = np.searchsorted(ends, gone_at, side="left")
    width = count + 1  # the last slot: after the close (never taken)
    entries = np.bincount(target * width + entry, minlength=size * width).reshape(size, width)
    exits = np.bincount(target * width + exit_, minlength=size * width).reshape(size, width)
    level = np.cumsum(entries - exits, axis=1)[:, :count]
    return level.T.reshape(-1).astype(float)
