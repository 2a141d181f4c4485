"""The channel pictures' data side: each channel's interval rows and each email department's backlog, read
from the interval table's `kind: channel` rows and email columns (`sim.analysis.channel_intervals`) with
pandas, never recomputed here; and the calls a centre of several channels counts in its headline. The
drawing side (`plots_channels.py`) draws from the plain `ChannelInputs` and `BacklogInputs` this module
computes, without importing pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.channel_kpis import headline_channel
from sim.analysis.channels import department_channels
from sim.output.plots_service_data import interval_rows

if TYPE_CHECKING:
    from sim.model.scenario import Scenario
    from sim.output.plots_channels import BacklogInputs, BacklogLine, ChannelInputs, ChannelLine


def channel_names(intervals: pd.DataFrame) -> list[str]:
    """The channels of the interval table's `kind: channel` rows, in their order (none: one channel)."""
    if "kind" not in intervals.columns:
        return []
    rows = intervals[intervals["kind"].astype(str) == "channel"]
    return list(dict.fromkeys(rows["department"].astype(str).tolist()))


def email_lines(intervals: pd.DataFrame) -> list[tuple[str, str]]:
    """`(name, kind)` of the rows whose email backlog the backlog picture draws: each email department's,
    and the email channel's too when there are several departments of email."""
    if "email_backlog" not in intervals.columns:
        return []
    rows = intervals[intervals["email_backlog"].notna()]
    kinds = rows["kind"].astype(str) if "kind" in rows.columns else pd.Series("department", index=rows.index)
    departments = list(dict.fromkeys(rows.loc[kinds == "department", "department"].astype(str).tolist()))
    lines = [(name, "department") for name in departments]
    if len(departments) > 1 and (kinds == "channel").any():
        lines.append(("email", "channel"))
    return lines


def headline_calls(calls: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """A calls table's rows the headline counts: all of them in a centre of one channel, its voice
    calls (first department of channel voice; none: voice) in a centre of several (its chats in a
    centre of chats and emails, `headline_channel`)."""
    wanted = headline_channel(scenario)
    if wanted is None or "first_department" not in calls.columns:
        return calls
    channel = dict(zip(scenario.departments, department_channels(scenario), strict=True))
    first = calls["first_department"].astype(object).map(channel).fillna("voice")
    return calls[(first == wanted).to_numpy()]


def channel_inputs(
    intervals: pd.DataFrame, target: float, threshold: float, subtitle: str, within: dict[str, str] | None = None
) -> ChannelInputs:
    """What `plots_channels.channel_figure` draws: per channel (`channel_names`), its interval rows' judged
    figure (voice and chat: service level; email: share handled within due) with its legend's words, and
    its contacts offered. `within`: per channel, the words for its threshold where departments have their
    own (`60 s`), else `threshold`."""
    lines: list[ChannelLine] = []
    starts: list[str] = []
    for name in channel_names(intervals):
        rows = interval_rows(intervals, name, kind="channel")
        starts = starts or rows["start"].astype(str).tolist()
        if name == "email":
            judged, label = rows["email_within_due"].to_numpy(dtype=float), "email: handled within due"
        else:
            judged = rows["service_level"].to_numpy(dtype=float)
            words = (within or {}).get(name, f"{threshold:g} s")
            label = f"{name}: {'first response' if name == 'chat' else 'answered'} within {words}"
        lines.append(
            {"name": name, "judged": judged, "label": label, "offered": rows["offered"].to_numpy(dtype=float)}
        )
    return {"lines": lines, "starts": starts, "target": float(target), "subtitle": subtitle}


def backlog_inputs(intervals: pd.DataFrame, subtitle: str, at_open: float | None = None) -> BacklogInputs:
    """What `plots_channels.backlog_figure` draws: the emails waiting at each interval's end for each row of
    `email_lines` (the first point `at_open`, every email department's backlog at the open, when given,
    on the channel's line or the one department's), and the emails handled per interval, every email
    department's together (None: no email department)."""
    lines = email_lines(intervals)
    drawn: list[BacklogLine] = []
    handled: np.ndarray | None = None
    starts: list[str] = []
    for name, kind in lines:
        rows = interval_rows(intervals, name, kind=kind)
        starts = starts or rows["start"].astype(str).tolist()
        x = np.arange(len(rows))
        if kind == "department":
            taken = rows["emails_handled"].to_numpy(dtype=float)
            handled = taken if handled is None else handled + taken
        at = x + 0.5  # at the interval's end (an interval is drawn centred on its position)
        waiting = rows["email_backlog"].to_numpy(dtype=float)
        if at_open is not None and (kind == "channel" or len(lines) == 1):
            at, waiting = np.r_[-0.5, at], np.r_[float(at_open), waiting]
        drawn.append({"name": name, "kind": kind, "at": at, "waiting": waiting})
    return {"lines": drawn, "handled": handled, "starts": starts, "subtitle": subtitle}
