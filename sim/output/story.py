"""One caller's journey told as a story: ring by ring, queue by queue, agent by agent, with clock times.

Built from the event table alone (and the agents table for names), so it works on a saved run too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

import pandas as pd

from sim.model.chat import chat_departments
from sim.model.durations import format_clock
from sim.model.scenario import Scenario
from sim.output.story_channels import beside, chats_in_hand, customer_calls, with_customer_calls
from sim.output.story_channels import handler as channel_handler
from sim.output.words import ordinal as ordinal  # the words, re-exported: callers import them from here
from sim.output.words import plural as plural
from sim.output.words import spoken as spoken

Row = tuple[float, str, str, int, float]
"""One event of a call: (t, event, department, agent_id, detail)."""

TERMINAL = frozenset(
    {"block", "abandon", "end", "drop", "self_service", "abandon_on_hold", "callback_failed", "queue_full",
     "email_left"}
)  # fmt: skip
"""Events that end a call (one per call; none for a call still in the system at the stop)."""

_NO_ESTIMATE = 1e9
"""An estimated wait logged at or over this means nobody was on duty to estimate it."""


@dataclass(frozen=True)
class Line:
    """One step of the story: when (seconds after the start) and what happened."""

    at: float
    text: str


def event_rows(events: pd.DataFrame) -> list[Row]:
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


def agent_names(agents: pd.DataFrame) -> dict[int, str]:
    """`billing agent 3` by agent id."""
    labels = agents["pool"] + " agent " + agents["number"].astype(str)
    return dict(zip(agents["agent_id"].astype(int).tolist(), labels.tolist(), strict=True))


def redials(events: pd.DataFrame) -> dict[int, tuple[float, int]]:
    """For each call whose caller called again: (when, the new call's id)."""
    rows = events[events["event"] == "redial"]
    return {
        int(previous): (float(t), int(new))
        for t, new, previous in zip(rows["t"], rows["call_id"], rows["detail"], strict=True)
    }


def choose_call(
    calls: pd.DataFrame,
    call_id: int | None = None,
    reason: str | None = None,
    stopped_at: float | None = None,
) -> int:
    """The call to tell: the given id, else (overall or for `reason`) the longest chain: most agents touched,
    then most time in the system (arrival to end, or to `stopped_at` for calls still there), then lowest id."""
    if call_id is not None:
        if call_id not in set(calls["call_id"]):
            raise ValueError(
                f"no call {call_id} in this run (ids run from 1 to {int(calls['call_id'].max())})"
            )
        return call_id
    pool = calls if reason is None else calls[calls["reason"] == reason]
    if pool.empty:
        raise ValueError(f"no caller with reason {reason!r} in this run")
    still_there_at = pool["arrived_at"] if stopped_at is None else stopped_at
    spent = pool["ended_at"].fillna(still_there_at) - pool["arrived_at"]
    ranked = pool.assign(spent=spent).sort_values(
        ["agents_touched", "spent", "call_id"], ascending=[False, False, True]
    )
    return int(ranked["call_id"].iloc[0])


@dataclass
class _Teller:
    """Walks one call's events, keeping what the story needs to remember (who, how many, where)."""

    scenario: Scenario
    reason_names: list[str]
    names: dict[int, str]
    previous_call: dict[int, int]
    call_id: int
    lines: list[Line] = field(default_factory=list)
    reason: str = ""
    arrived_at: float = 0.0
    agents_met: int = 0
    met: set[int] = field(default_factory=set)
    transfers: int = 0
    dials: int = 0
    dialled_at: float | None = None
    callback_queued: bool = False
    where: str = "on the line"
    following: Row | None = None
    channel: dict[str, Any] = field(default_factory=dict)
    """Notes of `sim.output.story_channels` (emails, their due times, work carried across days)."""

    def say(self, at: float, text: str) -> None:
        self.lines.append(Line(at, text))

    def agent(self, agent_id: int) -> str:
        return self.names.get(agent_id, f"agent {agent_id}")

    def chat(self, department: str) -> bool:
        """Whether `department` is a chat department (its contacts are chats: no ring, several at once)."""
        return department in chat_departments(self.scenario)

    def resolves(self, department: str) -> bool:
        return self.reason in self.scenario.resolves(department)

    def step(self, row: Row, following: Row | None) -> None:
        """Tell one event (`following` is the next one, if any)."""
        handler = channel_handler(self, row) or _HANDLERS.get(row[1])  # an email's events told as an email's
        if handler is not None:
            self.following = following
            handler(self, row)

    # The caller reaches the centre.

    def arrive(self, row: Row) -> None:
        t, _, _, _, detail = row
        self.reason = self.reason_names[int(detail)]
        self.arrived_at = t
        self.where = "in the phone menu" if self.scenario.ivr is not None else "on the line"
        chain = [self.call_id]
        while chain[-1] in self.previous_call:
            chain.append(self.previous_call[chain[-1]])
        if len(chain) == 1:
            self.say(t, f"{'starts a chat' if self.chat(row[2]) else 'calls'} about {self.reason}.")
            return
        earlier = f"first call {chain[-1]}" + (f", last call {chain[1]}" if len(chain) > 2 else "")
        self.say(t, f"calls again (attempt {len(chain)}; {earlier}) about {self.reason}.")

    def block(self, row: Row) -> None:
        self.say(row[0], "hears a busy signal: every line is taken. Blocked.")

    def ivr(self, row: Row) -> None:
        t, _, department, _, detail = row
        verdict = (
            "the right department"
            if self.resolves(department)
            else f"a misroute: {department} cannot resolve {self.reason}"
        )
        self.say(t, f"the menu ({spoken(detail)}) sends them to {department} ({verdict}).")

    def self_service(self, row: Row) -> None:
        self.say(row[0], f"the menu resolves it without an agent after {spoken(row[4])}: self-service.")

    # Queues and callbacks instead of waiting.

    def enqueue(self, row: Row) -> None:
        self.where = f"waiting in the {row[2]} queue"
        self.say(row[0], f"waits in the {row[2]} queue.")

    def queue_full(self, row: Row) -> None:
        ending = "the caller left a message" if row[4] == 1.0 else "the caller is lost. Blocked"
        self.say(row[0], f"nobody in {row[2]} is free and the queue was full; {ending}.")

    def overflow(self, row: Row) -> None:
        self.say(row[0], f"has waited long enough to be offered to back-up agents for {row[2]}.")

    def callback_offer(self, row: Row) -> None:
        estimate = "nobody on duty" if row[4] >= _NO_ESTIMATE else f"estimated wait {spoken(row[4])}"
        declines = self.following is None or self.following[1] != "callback_request"
        self.say(row[0], f"is offered a callback ({estimate}){' and declines' if declines else ''}.")

    def callback_request(self, row: Row) -> None:
        t, _, _, _, detail = row
        self.where = "waiting for a callback"
        self.dials = 0
        self.callback_queued = False
        if detail == 1.0:
            self.say(t, "takes a callback instead of holding, and hangs up.")
            return
        if detail == 2.0:
            self.say(t, "this time asks to be called back: a callback request, not a live call.")
            return
        callback = self.scenario.callback
        if callback is None or callback.keep_place:
            self.say(t, "accepts a callback and hangs up; keeps their place in the queue.")
        else:
            self.say(t, "accepts a callback and hangs up; the callback comes after the callers on the line.")

    def callback_queue(self, row: Row) -> None:
        again = " again" if self.callback_queued else f" in the {row[2]} queue"
        self.callback_queued = True
        self.where = "waiting for a callback"
        self.say(row[0], f"the callback waits for an agent{again}.")

    def callback_due(self, row: Row) -> None:
        self.say(row[0], "the callback's window is running out: it moves to the front of the queue.")

    def callback_dial(self, row: Row) -> None:
        t, _, _, agent_id, detail = row
        self.dials += 1
        self.dialled_at = t
        self.where = f"being dialled by {self.agent(agent_id)}"
        again = "" if self.dials == 1 else f" again (try {self.dials})"
        when = f", {spoken(detail)} after the request" if detail >= 0.5 else " at once"
        self.say(t, f"{self.agent(agent_id)} dials the caller back{again}{when}.")

    def callback_missed(self, row: Row) -> None:
        self.dialled_at = None
        self.where = "waiting for a callback"
        self.say(row[0], f"no answer after {spoken(row[4])} of ringing.")

    def callback_failed(self, row: Row) -> None:
        tries = "1 try" if self.dials == 1 else f"{self.dials} tries"
        self.say(row[0], f"the centre gives up calling back after {tries}: callback failed.")

    # Agents.

    def ring(self, row: Row) -> None:
        t, _, _, agent_id, detail = row
        if self.where == "waiting for a callback":
            return  # the dial-out is told by callback_dial
        self.where = f"waiting for {self.agent(agent_id)} to pick up"
        waited = f"after {spoken(detail)} in the queue" if detail > 0.5 else "at once"
        if self.chat(row[2]):  # no ring: told with the answer, at the same instant
            return
        cycle = self.scenario.ring.cycle
        rings = round(self.scenario.ring_time / cycle) if cycle else 0
        ringing = f"; lets it ring {plural(rings, 'time')}" if rings else ""
        self.say(t, f"{self.agent(agent_id)} picks up {waited}{ringing}.")

    def answer(self, row: Row) -> None:
        t, _, _, agent_id, _ = row
        self.agents_met += 1
        agent = self.agent(agent_id)
        self.where = f"talking to {agent}"
        nth = ordinal(self.agents_met)
        if self.dialled_at is not None:
            who = f"{agent} again" if agent_id in self.met else agent
            self.say(
                t,
                f"the caller answers the callback after {spoken(t - self.dialled_at)}: {who}, the caller's {nth} agent.",
            )
            self.dialled_at = None
        elif self.chat(row[2]):  # the agent responds as it takes the chat, beside any others in hand
            waited = f"after {spoken(row[4])} in the queue" if row[4] > 0.5 else "at once"
            self.say(t, f"{agent} takes the chat {waited}{beside(self)} and responds: the contact's {nth} agent.")
        else:
            self.say(t, f"{agent} answers: the caller's {nth} agent.")
        self.met.add(agent_id)

    def abandon(self, row: Row) -> None:
        t, _, department, agent_id, detail = row
        where = "while it rang" if agent_id >= 0 else f"in the {department} queue"
        gives_up = "leaves the chat unanswered" if self.chat(department) else "hangs up"
        self.say(t, f"{gives_up} after {spoken(detail)} {where}: abandoned.")

    def transfer(self, row: Row) -> None:
        t, _, department, agent_id, detail = row
        self.transfers += 1
        target = list(self.scenario.departments)[int(detail)]
        settings = self.scenario.departments[department]
        mode = settings.transfer_mode or self.scenario.transfers.mode
        if settings.transfer is not None:
            why = f"sends the caller on to {target} (transfer {self.transfers})"
        else:
            kind = "the right department" if self.resolves(target) else "a misroute"
            how = "by conference" if mode == "conference" else mode
            why = (
                f"cannot resolve a {self.reason} question; the caller's {ordinal(self.agents_met)} agent "
                f"transfers them {how} to {target} ({kind})"
            )
        self.say(t, f"{self.agent(agent_id)} {why}.")

    def handover(self, row: Row) -> None:
        t, _, _, agent_id, detail = row
        self.say(
            t, f"{self.agent(agent_id)} hands over and leaves the line after {spoken(detail)} holding on."
        )

    def end(self, row: Row) -> None:
        t, _, _, agent_id, _ = row
        total = spoken(t - self.arrived_at)
        self.say(
            t,
            f"{self.agent(agent_id)} resolves it. Resolved after {plural(self.agents_met, 'agent')}, {total}.",
        )

    def drop(self, row: Row) -> None:
        t, _, department, agent_id, _ = row
        if self._conference_missed(department):
            self.say(
                t,
                f"{self.agent(agent_id)} finds nobody free to bring in on a conference; the caller leaves "
                f"unresolved, {spoken(t - self.arrived_at)} after calling: dropped.",
            )
            return
        cannot = f"{self.agent(agent_id)} cannot resolve a {self.reason} question"
        after = f"after {plural(self.transfers, 'transfer')} the caller gives up unresolved"
        self.say(t, f"{cannot}; {after}, {spoken(t - self.arrived_at)} after calling: dropped.")

    def conference_missed(self, row: Row) -> None:
        t, _, _, agent_id, detail = row
        target = list(self.scenario.departments)[int(detail)]
        alone = self.scenario.transfers.if_nobody_free == "alone"
        then = "serves the caller alone" if alone else "cannot keep the caller"
        self.say(t, f"{self.agent(agent_id)} finds nobody in {target} free to join a conference, so {then}.")

    def _conference_missed(self, department: str) -> bool:
        """Whether a drop at `department` is a conference that found nobody free (not too many transfers)."""
        settings = self.scenario.departments.get(department)
        transfers = self.scenario.transfers
        mode = (settings.transfer_mode if settings is not None else None) or transfers.mode
        return mode == "conference" and transfers.if_nobody_free == "lost"

    # Holds.

    def hold(self, row: Row) -> None:
        t, _, _, agent_id, detail = row
        self.where = f"on hold with {self.agent(agent_id)}"
        self.say(t, f"{self.agent(agent_id)} puts the caller on hold, promising {spoken(detail)}.")

    def check_back(self, row: Row) -> None:
        t, _, _, agent_id, detail = row
        following = self.following
        self.where = f"talking to {self.agent(agent_id)}"
        self.say(t, f"the promise runs out: {self.agent(agent_id)} checks back ({spoken(detail)}).")
        if following is not None and following[1] in ("check_back", "unhold", "abandon_on_hold"):
            self.where = f"on hold with {self.agent(agent_id)}"
            self.say(t + detail, "the caller keeps holding.")

    def unhold(self, row: Row) -> None:
        t, _, _, agent_id, detail = row
        self.where = f"talking to {self.agent(agent_id)}"
        self.say(t, f"{self.agent(agent_id)} comes back with the answer after {spoken(detail)} on hold.")

    def abandon_on_hold(self, row: Row) -> None:
        self.say(row[0], f"hangs up on hold after {spoken(row[4])}: abandoned on hold.")


_HANDLERS: dict[str, Callable[[_Teller, Row], None]] = {
    name: getattr(_Teller, name)
    for name in (
        "arrive", "block", "ivr", "self_service", "enqueue", "overflow", "callback_offer", "callback_request",
        "callback_queue", "callback_due", "callback_dial", "callback_missed", "callback_failed", "ring",
        "answer", "abandon", "transfer", "handover", "end", "drop", "hold", "check_back", "unhold",
        "abandon_on_hold", "queue_full", "conference_missed",
    )
}  # fmt: skip


def tell(
    events: pd.DataFrame,
    agents: pd.DataFrame,
    scenario: Scenario,
    reason_names: list[str],
    call_id: int,
    stopped_at: float | None = None,
) -> list[Line]:
    """The story of one call, one line per step; a call still in the system ends at `stopped_at` (the end
    of the run; default its last event), and a caller who calls again says so at the end."""
    again = redials(events)
    rows = event_rows(events[(events["call_id"] == call_id) & (events["event"] != "idle")])
    previous = {new: old for old, (_, new) in again.items()}
    names = agent_names(agents)
    customer, in_hand = customer_calls(events), chats_in_hand(events, scenario)
    return _told(
        rows, again, previous, names, scenario, reason_names, call_id, stopped_at, customer=customer, in_hand=in_hand
    )


def tell_each(
    events: pd.DataFrame,
    agents: pd.DataFrame,
    scenario: Scenario,
    reason_names: list[str],
    stopped_at: float | None = None,
) -> dict[int, list[Line]]:
    """Every call's story by call id (`tell` for each), from one pass over the event table: a replay of
    the floor embeds them all, and filtering the table once per call would cost a day's calls squared."""
    again = redials(events)
    previous = {new: old for old, (_, new) in again.items()}
    names = agent_names(agents)
    told = events[(events["call_id"] >= 0) & (events["event"] != "idle")].sort_values("call_id", kind="stable")
    stories: dict[int, list[Line]] = {}
    customer, in_hand = customer_calls(events), chats_in_hand(events, scenario)
    for call_id, group in groupby(zip(told["call_id"].tolist(), event_rows(told), strict=True), itemgetter(0)):
        rows = [row for _, row in group]
        stories[call_id] = _told(
            rows, again, previous, names, scenario, reason_names, call_id, stopped_at, customer=customer,
            in_hand=in_hand,
        )  # fmt: skip
    return stories


def _told(
    rows: list[Row],
    again: dict[int, tuple[float, int]],
    previous: dict[int, int],
    names: dict[int, str],
    scenario: Scenario,
    reason_names: list[str],
    call_id: int,
    stopped_at: float | None,
    *,
    customer: dict[int, list[tuple[float, int]]] | None = None,
    in_hand: dict[int, list[int]] | None = None,
) -> list[Line]:
    """The story of one call from its rows (idle rows left out), `redials` and agent names (and for an
    email, the calls its customer made when it was overdue: `customer`, by email id; for a chat, the chats
    its agent had in hand at each answer: `in_hand`, by chat id)."""
    teller = _Teller(scenario, reason_names, names, previous, call_id)
    if in_hand and call_id in in_hand:
        teller.channel["in_hand"] = in_hand[call_id]
    for index, row in enumerate(rows):
        teller.step(row, rows[index + 1] if index + 1 < len(rows) else None)
    if rows and not any(row[1] in TERMINAL for row in rows):
        at = rows[-1][0] if stopped_at is None else max(stopped_at, rows[-1][0])
        teller.say(at, f"is still {teller.where} when the run stops.")
    if customer and call_id in customer:
        with_customer_calls(teller, customer[call_id])
    if call_id in again:
        at, new = again[call_id]
        teller.say(at, f"calls again at {format_clock(scenario.start + at)} (call {new}).")
    return teller.lines


def render(lines: list[Line], scenario: Scenario, call_id: int, noun: str = "Call") -> str:
    """The story as text, one clock-stamped line per step, under `Call 12` (or `Email 12`: `noun`)."""
    head = f"{noun} {call_id}"
    return "\n".join(
        [head] + [f"{format_clock(scenario.start + line.at, True)}  {line.text}" for line in lines]
    )
