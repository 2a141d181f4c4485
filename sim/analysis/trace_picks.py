"""Which calls to show a trainer: the calls of a run that match what happened to them (took a callback from
hold, hung up on hold, were misrouted by the phone menu, met at least N agents, waited over T in queues, were
about a reason, of a channel, an email overdue or left in the backlog: `sim.analysis.trace_channels`), all
criteria at once. Derived from the event table and the calls and visits tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.tables import calls_table, visits_table
from sim.analysis.trace_channels import CHANNEL_NOUNS, EMAIL_PICKS, by_channel
from sim.engine.day import RunResult
from sim.model.durations import format_duration

PICKS: dict[str, str] = {
    "callback-from-hold": "took a callback from hold",
    "abandoned-on-hold": "hung up on hold",
    "misrouted": "were misrouted by the phone menu",
    **EMAIL_PICKS,
}
"""The `--pick` words and what the calls they pick did (as the count sentence says it)."""


@dataclass(frozen=True)
class Criteria:
    """What the call to show must have been through (every criterion given must hold)."""

    picks: tuple[str, ...] = ()
    min_agents: int | None = None
    waited_over_time: float | None = None
    """Seconds: the call's waits in queues on the line (not while waiting off the line for a callback),
    added up, exceed this."""
    reason: str | None = None
    channel: str | None = None
    """Only contacts that arrived in a department of this channel (`voice`, `chat`, `email`)."""

    def __post_init__(self) -> None:
        unknown = [pick for pick in self.picks if pick not in PICKS]
        if unknown:
            raise ValueError(f"no pick {unknown[0]!r}; choose from {', '.join(PICKS)}")
        if self.channel is not None and self.channel not in CHANNEL_NOUNS:
            raise ValueError(f"--channel {self.channel!r}: choose from {', '.join(CHANNEL_NOUNS)}")
        if self.min_agents is not None and self.min_agents < 1:
            raise ValueError(f"--min-agents must be at least 1, not {self.min_agents}")
        if self.waited_over_time is not None and self.waited_over_time < 0:
            raise ValueError("--waited-over must not be negative")

    @property
    def filters(self) -> bool:
        """Whether anything beyond the reason and the channel is asked (then the first match is shown, not
        the longest)."""
        return bool(self.picks) or self.min_agents is not None or self.waited_over_time is not None

    def describe(self) -> str:
        """`took a callback from hold and met at least 3 agents`: what the matching calls did."""
        parts = [f"were {CHANNEL_NOUNS[self.channel]}"] if self.channel is not None else []
        parts += [PICKS[pick] for pick in dict.fromkeys(self.picks)]
        if self.min_agents is not None:
            parts.append(f"met at least {self.min_agents} agent{'' if self.min_agents == 1 else 's'}")
        if self.waited_over_time is not None:
            parts.append(f"waited over {format_duration(self.waited_over_time)} in queues")
        if self.reason is not None:
            parts.append(f"were about {self.reason}")
        if len(parts) <= 1:
            return parts[0] if parts else "were made"
        return ", ".join(parts[:-1]) + " and " + parts[-1]


def queue_time(result: RunResult) -> pd.Series:
    """Per call id: seconds spent waiting in queues on the line, all visits added up (a visit still waiting
    when the run stops counts up to the stop)."""
    visits = visits_table(result)
    live = visits[~visits["callback"]]
    waited = live["wait_time"].fillna(result.ended_at - live["queued_at"])
    return waited.groupby(live["call_id"]).sum()


def misrouted_by_menu(result: RunResult) -> np.ndarray:
    """Call ids the phone menu sent to a department that cannot resolve their reason."""
    events = result.events
    arrive = events[events["event"] == "arrive"]
    reason_of = dict(zip(arrive["call_id"].tolist(), arrive["detail"].astype(int).tolist(), strict=True))
    menu = events[events["event"] == "ivr"]
    names = result.reason_names
    scenario = result.scenario
    resolving = {name: set(scenario.resolves(name)) for name in scenario.departments}
    wrong = [
        call
        for call, department in zip(menu["call_id"].tolist(), menu["department"].astype(str), strict=True)
        if names[reason_of[call]] not in resolving[department]
    ]
    return np.unique(np.asarray(wrong, dtype=np.int64))


def _with_event(events: pd.DataFrame, event: str, detail: float | None = None) -> np.ndarray:
    rows = events[events["event"] == event]
    if detail is not None:
        rows = rows[rows["detail"] == detail]
    return np.unique(rows["call_id"].to_numpy(dtype=np.int64))


def matching(result: RunResult, criteria: Criteria) -> pd.DataFrame:
    """The calls table's rows that meet every criterion, in order of arrival (then call id)."""
    scenario = result.scenario
    if criteria.reason is not None and criteria.reason not in scenario.reason_mix():
        raise ValueError(
            f"no reason {criteria.reason!r}; callers call about {', '.join(scenario.reason_mix())}"
        )
    if "misrouted" in criteria.picks and scenario.ivr is None:
        raise ValueError("--pick misrouted: this scenario has no phone menu (ivr:), so it misroutes nobody")
    calls = calls_table(result)
    keep = np.ones(len(calls), dtype=bool)
    ids = calls["call_id"].to_numpy(dtype=np.int64)
    events = result.events
    if "callback-from-hold" in criteria.picks:
        keep &= np.isin(ids, _with_event(events, "callback_request", 1.0))
    if "abandoned-on-hold" in criteria.picks:
        keep &= np.isin(ids, _with_event(events, "abandon_on_hold"))
    if "misrouted" in criteria.picks:
        keep &= np.isin(ids, misrouted_by_menu(result))
    if criteria.min_agents is not None:
        keep &= calls["agents_touched"].to_numpy() >= criteria.min_agents
    if criteria.waited_over_time is not None:
        waited = queue_time(result).reindex(ids, fill_value=0.0).to_numpy()
        keep &= waited > criteria.waited_over_time
    if criteria.reason is not None:
        keep &= (calls["reason"].astype(str) == criteria.reason).to_numpy()
    keep &= by_channel(result, calls, criteria.channel, [p for p in criteria.picks if p in EMAIL_PICKS])
    return calls[keep].sort_values(["arrived_at", "call_id"], kind="stable")
