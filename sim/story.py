"""One caller's journey told as a story: ring by ring, queue by queue, agent by agent, with clock times.

Built from the event table alone (and the agents table for names), so it works on a saved run too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.durations import format_clock
from sim.scenario import Scenario

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def ordinal(number: int) -> str:
    """`fourth` for 4; `11th` past ten."""
    if 1 <= number <= len(_ORDINALS):
        return _ORDINALS[number - 1]
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def spoken(seconds: float) -> str:
    """`35s`, `2m 10s`, `1h 05m`: a duration as a trainer would say it."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s" if rest else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@dataclass(frozen=True)
class Line:
    """One step of the story: when (seconds after the start) and what happened."""

    at: float
    text: str


def event_rows(events: pd.DataFrame) -> list[tuple[float, str, str, int, float]]:
    """(t, event, department, agent_id, detail) per row, as plain Python values."""
    return list(
        zip(
            events["t"].astype(float).tolist(),
            events["event"].astype(str).tolist(),
            events["department"].astype(str).tolist(),
            events["agent_id"].astype(int).tolist(),
            events["detail"].astype(float).tolist(),
            strict=True,
        )
    )


def choose_call(calls: pd.DataFrame, call_id: int | None = None, reason: str | None = None) -> int:
    """The call to tell: the given id, else the longest chain (most agents, then most time) overall or for
    `reason`."""
    if call_id is not None:
        if call_id not in set(calls["call_id"]):
            raise ValueError(
                f"no call {call_id} in this run (ids run from 1 to {int(calls['call_id'].max())})"
            )
        return call_id
    pool = calls if reason is None else calls[calls["reason"] == reason]
    if pool.empty:
        raise ValueError(f"no caller with reason {reason!r} in this run")
    spent = pool["ended_at"].fillna(pool["arrived_at"]) - pool["arrived_at"]
    ranked = pool.assign(spent=spent).sort_values(
        ["agents_touched", "n_transfers", "spent", "call_id"], ascending=[False, False, False, True]
    )
    return int(ranked["call_id"].iloc[0])


def tell(
    events: pd.DataFrame, agents: pd.DataFrame, scenario: Scenario, reason_names: list[str], call_id: int
) -> list[Line]:
    """The story of one call, one line per step."""
    names = dict(
        zip(agents["agent_id"], agents["pool"] + " agent " + agents["number"].astype(str), strict=True)
    )
    mine = events[(events["call_id"] == call_id) & (events["event"] != "idle")]
    lines: list[Line] = []
    reason = ""
    agents_met = 0
    transfers = 0
    arrived_at = 0.0
    ring_cycle = scenario.ring.cycle

    def resolves(department: str) -> bool:
        return reason in scenario.resolves(department)

    for t, event, department, agent_id, detail in event_rows(mine):
        agent = names.get(agent_id, f"agent {agent_id}")
        if event == "arrive":
            reason = reason_names[int(detail)]
            arrived_at = t
            lines.append(Line(t, f"calls about {reason}."))
        elif event == "block":
            lines.append(Line(t, "hears a busy signal: every line is taken."))
        elif event == "ivr":
            verdict = (
                "the right department"
                if resolves(department)
                else f"a misroute: {department} cannot resolve {reason}"
            )
            lines.append(Line(t, f"the menu ({spoken(detail)}) sends them to {department} ({verdict})."))
        elif event == "self_service":
            lines.append(Line(t, f"the menu resolves it without an agent after {spoken(detail)}."))
        elif event == "enqueue":
            lines.append(Line(t, f"waits in the {department} queue."))
        elif event == "overflow":
            lines.append(Line(t, f"has waited long enough to be offered to back-up agents for {department}."))
        elif event == "ring":
            waited = f"after {spoken(detail)} in the queue" if detail > 0.5 else "at once"
            rings = round(scenario.ring_time / ring_cycle) if ring_cycle else 0
            ringing = f"; lets it ring {rings} time{'s' if rings != 1 else ''}" if rings else ""
            lines.append(Line(t, f"{agent} picks up {waited}{ringing}."))
        elif event == "answer":
            agents_met += 1
            lines.append(Line(t, f"{agent} answers: the caller's {ordinal(agents_met)} agent."))
        elif event == "abandon":
            where = "while it rang" if agent_id >= 0 else f"in the {department} queue"
            lines.append(Line(t, f"hangs up after {spoken(detail)} {where}: abandoned."))
        elif event == "transfer":
            transfers += 1
            target = list(scenario.departments)[int(detail)]
            mode = scenario.departments[department].transfer_mode or scenario.transfers.mode
            if scenario.departments[department].transfer is not None:
                why = f"sends the caller on to {target} (transfer {transfers})"
            else:
                kind = "the right department" if resolves(target) else "a misroute"
                why = (
                    f"cannot resolve a {reason} question; the caller's {ordinal(agents_met)} agent transfers "
                    f"them {mode} to {target} ({kind})"
                )
            lines.append(Line(t, f"{agent} {why}."))
        elif event == "handover":
            lines.append(
                Line(t, f"{agent} hands over and leaves the line after {spoken(detail)} holding on.")
            )
        elif event == "end":
            total = spoken(t - arrived_at)
            lines.append(
                Line(
                    t,
                    f"{agent} resolves it. Resolved after {agents_met} agent{'s' if agents_met != 1 else ''}, {total}.",
                )
            )
        elif event == "drop":
            lines.append(
                Line(
                    t,
                    f"gives up unresolved after {transfers} transfers, {spoken(t - arrived_at)} after calling.",
                )
            )
    terminal = {"block", "abandon", "end", "drop", "self_service"}
    if len(mine) and str(mine["event"].iloc[-1]) not in terminal:
        lines.append(Line(float(mine["t"].iloc[-1]), "is still in the system when the run stops."))
    return lines


def render(lines: list[Line], scenario: Scenario, call_id: int) -> str:
    """The story as text, one clock-stamped line per step."""
    head = f"Call {call_id}"
    return "\n".join(
        [head] + [f"{format_clock(scenario.start + line.at, True)}  {line.text}" for line in lines]
    )
