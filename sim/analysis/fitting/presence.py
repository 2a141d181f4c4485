"""How many agents were there? Staffing per interval reconstructed from a call log's agent activity.

A log shows when each agent answered and finished calls, not when they logged in. Three readings, from
high to low:

- `distinct`: agents with any call activity in the interval. An upper bound: an agent who took one call in
  the interval's first minutes and then left counts for all of it, so shift changes and breaks inside an
  interval count agents twice (on a real centre this made the model predict 5% abandonment where 13%
  happened).
- `presence` (the default): each agent's sessions of activity. A session runs from an answer to the end of
  the agent's last call (plus wrap-up when the log records it) and ends where the agent's next answer comes
  more than `gap` seconds after the end of their previous call; presence per interval is the time-weighted
  number of agents in a session.
- `busy`: busy time (answer to end, plus wrap-up) in the interval / its length: the agents needed at 100%
  occupancy, a lower bound.

Everything is vectorised: one sort by day, agent and answer, group-wise running maxima, and one bincount
over (department, interval) for all departments at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

METHODS = ("presence", "busy", "distinct")
"""The staffing readings `infer_presence` knows (see the module docstring)."""
DEFAULT_GAP = 900.0
"""Seconds without a call after which an agent is taken to have left (a break or a logout)."""
_REQUIRED = ("agent", "answered_at", "ended_at")
_PERIOD_COLUMNS = ["agent", "department", "day", "start", "end"]


@dataclass(frozen=True)
class PresenceFit:
    """Agents reconstructed from activity: `method` (one of METHODS), `periods` one row per stretch an
    agent is counted (agent, department, day, start, end; seconds after the day's midnight): sessions for
    `presence`, each answered call's busy span (answer to end + wrap-up) for `busy` and `distinct`;
    `days` the days of the log, `gap` the session gap, `assumptions` plain sentences on what the method
    takes for granted, `notes` what was found. `per_interval` turns the periods into agents per
    interval."""

    method: str
    periods: pd.DataFrame
    days: int
    gap: float
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def per_interval(self, interval: float, start: float, duration: float) -> dict[str, np.ndarray]:
        """Department -> mean agents per interval over the log's days, for intervals of `interval` seconds
        from `start` (seconds after midnight) for `duration` seconds (a last partial interval is measured
        over its own length). `presence`/`busy`: time-weighted (agent-seconds in the interval / its
        length); `distinct`: agents with any activity in it."""
        if not (interval > 0 and duration > 0 and math.isfinite(interval + duration + start)):
            raise ValueError(
                f"interval and duration must be positive seconds, got interval={interval}, duration={duration}"
            )
        count = max(1, math.ceil(duration / interval - 1e-9))
        close = start + duration
        edges = np.minimum(start + interval * np.arange(count + 1), close)
        departments = sorted(self.periods["department"].unique().tolist())
        if not departments:
            return {}
        codes = pd.Categorical(self.periods["department"], categories=departments).codes.astype(np.int64)
        begins = self.periods["start"].to_numpy(dtype=float)
        ends = self.periods["end"].to_numpy(dtype=float)
        keep = ((begins < close) & (ends > start)) | ((begins == ends) & (begins >= start) & (begins < close))
        begins, ends, codes = np.maximum(begins[keep], start), np.minimum(ends[keep], close), codes[keep]
        first = np.clip(np.floor((begins - start) / interval).astype(np.int64), 0, count - 1)
        last = np.clip(np.ceil((ends - start) / interval).astype(np.int64) - 1, first, count - 1)
        touched = last - first + 1
        which = np.repeat(np.arange(len(begins)), touched)
        step = np.arange(len(which)) - np.repeat(np.cumsum(touched) - touched, touched)
        slot = first[which] + step
        cell = codes[which] * count + slot
        size = len(departments) * count
        if self.method == "distinct":
            agents = pd.factorize(self.periods["agent"].to_numpy()[keep])[0].astype(np.int64)
            days = self.periods["day"].to_numpy(dtype=np.int64)[keep]
            key = (days[which] * (agents.max(initial=0) + 1) + agents[which]) * size + cell
            cells = np.unique(key) % size
            totals = np.bincount(cells, minlength=size).astype(float)
        else:
            overlap = np.minimum(ends[which], edges[slot + 1]) - np.maximum(begins[which], edges[slot])
            lengths = np.tile(np.diff(edges), len(departments))
            totals = np.bincount(cell, weights=np.maximum(overlap, 0.0), minlength=size) / lengths
        table = totals.reshape(len(departments), count) / max(self.days, 1)
        return {department: table[row] for row, department in enumerate(departments)}


def infer_presence(calls: pd.DataFrame, method: str = "presence", gap: float = DEFAULT_GAP) -> PresenceFit:
    """Agents per interval from a call log's `calls` (a `CallLog.calls` frame: `agent`, `answered_at`,
    `ended_at`, and when present `wrap_time`, `department`, `day`), read by `method` (`presence`, `busy`
    or `distinct`); `gap` (seconds) splits an agent's activity into sessions (`presence`)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not (isinstance(gap, int | float) and math.isfinite(gap) and gap > 0):
        raise ValueError(f"gap must be a positive number of seconds, got {gap!r}")
    missing = [column for column in _REQUIRED if column not in calls.columns]
    if missing:
        raise ValueError(f"the calls lack column(s) {', '.join(missing)}: agents cannot be placed in time")
    days = int(calls["day"].nunique()) if "day" in calls.columns and len(calls) else 1
    spans, wrap_share, anonymous = _busy_spans(calls)
    periods = _sessions(spans, gap) if method == "presence" else spans
    notes = _notes(calls, spans, periods, method, anonymous)
    return PresenceFit(method, periods, days, float(gap), _assumptions(method, gap, wrap_share), notes)


def _busy_spans(calls: pd.DataFrame) -> tuple[pd.DataFrame, float, int]:
    """Each answered call with an agent as a busy span (answer to end + wrap-up when recorded), sorted by
    day, agent and answer; also the share of spans whose wrap-up the log records, and the answered calls
    that name no agent."""
    answered = calls["answered_at"].to_numpy(dtype=float)
    ended = calls["ended_at"].to_numpy(dtype=float)
    agent = calls["agent"].astype(object)
    has_agent = agent.notna().to_numpy() & (agent.astype(str).str.strip() != "").to_numpy()
    timed = ~np.isnan(answered) & ~np.isnan(ended)
    use = has_agent & timed
    anonymous = int(np.count_nonzero(timed & ~has_agent))
    if "wrap_time" in calls.columns:
        wrap = calls["wrap_time"].to_numpy(dtype=float)[use]
    else:
        wrap = np.full(int(use.sum()), np.nan)
    wrap_share = float(np.mean(~np.isnan(wrap))) if len(wrap) else 0.0
    names = agent.to_numpy()[use].astype(str)
    days = calls["day"].to_numpy(dtype=np.int64)[use] if "day" in calls.columns else np.zeros(len(names), np.int64)
    begins = answered[use]
    ends = np.maximum(ended[use] + np.nan_to_num(wrap, nan=0.0), begins)
    home = _home_departments(calls, use, names)
    order = np.lexsort((begins, names, days))
    spans = pd.DataFrame(
        {
            "agent": names[order],
            "department": home.reindex(names[order]).fillna("").to_numpy(dtype=object),
            "day": days[order],
            "start": begins[order],
            "end": ends[order],
        },
        columns=_PERIOD_COLUMNS,
    )
    return spans, wrap_share, anonymous


SKILL_SHARE = 0.1
"""A department counts among an agent's skills when it has at least this share of the agent's calls..."""
SKILL_CALLS = 3
"""...and at least this many of them (one misrouted call answered does not make a skill)."""
SKILLS_JOIN = "+"
"""Joins the departments of a cross-trained agent's skill set into one name: `billing+technical`."""


def _home_departments(calls: pd.DataFrame, use: np.ndarray, names: np.ndarray) -> pd.Series:
    """Agent -> where they count: the one department they answer for, or, for an agent who answers for
    several (each with at least `SKILL_SHARE` of their calls and `SKILL_CALLS` calls), their skill set
    joined by `SKILLS_JOIN` in name order (a cross-trained group); the department they answered most for
    when none qualifies; empty when the log has no department column."""
    if "department" not in calls.columns:
        return pd.Series(dtype=object)
    department = calls["department"].astype(object).to_numpy()[use]
    pairs = pd.DataFrame({"agent": names, "department": department}).dropna()
    if pairs.empty:
        return pd.Series(dtype=object)
    counts = pairs.groupby(["agent", "department"]).size().rename("calls").reset_index()
    counts["department"] = counts["department"].astype(str)
    counts = counts.sort_values(["agent", "calls", "department"], ascending=[True, False, True])
    most = counts.drop_duplicates("agent").set_index("agent")["department"]
    share = counts["calls"] / counts.groupby("agent")["calls"].transform("sum")
    skilled = counts[(share >= SKILL_SHARE) & (counts["calls"] >= SKILL_CALLS)].sort_values(["agent", "department"])
    sets = skilled.groupby("agent")["department"].agg(SKILLS_JOIN.join)
    return sets.reindex(most.index).fillna(most).astype(str)


def _sessions(spans: pd.DataFrame, gap: float) -> pd.DataFrame:
    """Busy spans (sorted by day, agent, answer) merged into sessions: a session ends where the next
    answer comes more than `gap` after the latest end so far of the agent's day."""
    if spans.empty:
        return spans.copy()
    group = spans.groupby(["day", "agent"], sort=False).ngroup().to_numpy()
    latest = spans.groupby(["day", "agent"], sort=False)["end"].cummax().to_numpy(dtype=float)
    begins = spans["start"].to_numpy(dtype=float)
    fresh = np.ones(len(spans), dtype=bool)
    fresh[1:] = (group[1:] != group[:-1]) | (begins[1:] - latest[:-1] > gap)
    heads = np.flatnonzero(fresh)
    return pd.DataFrame(
        {
            "agent": spans["agent"].to_numpy()[heads],
            "department": spans["department"].to_numpy()[heads],
            "day": spans["day"].to_numpy()[heads],
            "start": begins[heads],
            "end": np.maximum.reduceat(latest, heads),
        },
        columns=_PERIOD_COLUMNS,
    )


def _assumptions(method: str, gap: float, wrap_share: float) -> list[str]:
    """What the method takes for granted, in plain sentences."""
    wrap = " and its wrap-up" if wrap_share > 0 else ""
    said = []
    if method == "presence":
        said += [
            f"An agent counts as present from an answer to the end of their last call{wrap}, in sessions: "
            f"a wait of more than {_human(gap)} from the end of one call{wrap} to the next answer is taken "
            "as a break or a logout and ends the session.",
            "Idle time before an agent's first call and after their last call of a session is not seen: "
            "presence is understated at shift starts and ends, and an idle agent who waited longer than "
            f"{_human(gap)} for a call counts as absent meanwhile.",
        ]
    elif method == "busy":
        said.append(
            "Agents per interval = busy time (answer to end of call, plus wrap-up when recorded) in the "
            "interval / its length: the agents needed at 100% occupancy, a lower bound on those present, "
            "who are also idle some of the time."
        )
    else:
        said.append(
            "Agents per interval = agents with any call activity in the interval: an upper bound, since "
            "an agent who took one call and then left counts for the whole interval; shift changes and "
            "breaks inside an interval count agents twice."
        )
    said += [
        "Agents logged in but never answering a call (idle all along, or on other work) are invisible.",
        "A call belongs to the agent who answered it first, from the answer to the call's end (a "
        "transferred call's later legs count for them).",
        f"Each agent counts for the department they answer for; an agent who answers for several (each "
        f"with at least {SKILL_SHARE:.0%} of their calls and {SKILL_CALLS} calls) counts for a cross-trained "
        "group with those skills, at equal preference.",
    ]
    if wrap_share == 0:
        said.append(
            "The log does not record wrap-up: after-call work is not seen, so busy time and sessions end "
            "when the call ends."
        )
    elif wrap_share < 1:
        said.append(f"The log records wrap-up for {wrap_share:.0%} of answered calls; the others count none.")
    return said


def _notes(
    calls: pd.DataFrame, spans: pd.DataFrame, periods: pd.DataFrame, method: str, anonymous: int
) -> list[str]:
    """What was found: agents, calls, sessions, calls without an agent."""
    if spans.empty:
        return ["the log names no agent on an answered call: staffing cannot be inferred from activity"]
    agents = spans["agent"].nunique()
    notes = [f"{agents} agent(s) answered {len(spans)} call(s) with a known end"]
    if method == "presence":
        lengths = (periods["end"] - periods["start"]).to_numpy(dtype=float)
        notes.append(
            f"{len(periods)} session(s), {len(periods) / max(agents, 1):.1f} per agent, median length "
            f"{_human(float(np.median(lengths)))}"
        )
    if anonymous:
        notes.append(f"{anonymous} answered call(s) name no agent: left out of the staffing")
    return notes


def _human(seconds: float) -> str:
    """`45 s`, `15 min`, `2.5 h`: a duration for a sentence."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
