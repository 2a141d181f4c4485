"""The story of an email, and of the call its customer makes when it is overdue, told as a trainer would:
waiting in the backlog at the open (with its age) or arriving, its due time, taken when no call waited (by a
blended agent) or by an email-only agent, handled within or after its due time, overdue, left in the backlog
at the close and carried to the next day (on a week's day).

`sim.output.story` walks a contact's events and asks `handler` here first: the events of an email
department's rows, the customer's call that an overdue email brings (`email_call`) and work carried across
a week's days (`carry_in`, `carry_out`). Nothing here runs for a centre without email or a week.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim.model.chat import chat_departments
from sim.model.durations import format_clock
from sim.model.email import email_departments, email_settings
from sim.output.words import spoken

Row = tuple[float, str, str, int, float]
"""One event of a contact: (t, event, department, agent_id, detail), as `sim.output.story` walks them."""


class _Teller(Protocol):
    """What the handlers here use of the story's teller (`sim.output.story._Teller`, which imports this)."""

    scenario: Any
    reason_names: list[str]
    names: dict[int, str]
    lines: list[Any]
    reason: str
    arrived_at: float
    agents_met: int
    met: set[int]
    where: str
    channel: dict[str, Any]

    def say(self, at: float, text: str) -> None: ...

    def agent(self, agent_id: int) -> str: ...


_DAY = 86400.0
_LEAVES = ("end", "drop", "transfer")
"""Events with which an agent's chat conversation ends (the agent leaves it)."""
_DAYS = {-1: "yesterday ", 0: "", 1: "tomorrow "}


def clock(scenario: Any, at: float) -> str:
    """`09:40`, `yesterday 17:55`, `tomorrow 08:00`: an instant (seconds after the open) on the clock."""
    of_day = scenario.start + at
    day = math.floor(of_day / _DAY)
    before = _DAYS.get(day, f"day {day:+d} ")
    return f"{before}{format_clock(of_day - day * _DAY)}"


def chats_in_hand(events: pd.DataFrame, scenario: Any) -> dict[int, list[int]]:
    """Per chat (by id), at each of its answers the chats its agent already had in hand: one pass over
    the event table (per agent, +1 at each chat answer, -1 at each chat conversation's end, in log order)."""
    chats = chat_departments(scenario)
    if not chats:
        return {}
    rows = events[events["department"].isin(list(chats)).to_numpy() & (events["agent_id"] >= 0).to_numpy()]
    kind = rows["event"].astype(str)
    step = np.where(kind == "answer", 1, np.where(kind.isin(_LEAVES), -1, 0))
    held = pd.Series(step, index=rows.index).groupby(rows["agent_id"].to_numpy()).cumsum().to_numpy()
    answers = (kind == "answer").to_numpy()
    found: dict[int, list[int]] = {}
    for call, before in zip(
        rows["call_id"].to_numpy()[answers].tolist(), (held[answers] - 1).tolist(), strict=True
    ):
        found.setdefault(int(call), []).append(int(before))
    return found


def customer_calls(events: pd.DataFrame) -> dict[int, list[tuple[float, int]]]:
    """Per email id, the calls its customer made because it was overdue: (when, the call's id)."""
    rows = events[events["event"] == "email_call"]
    found: dict[int, list[tuple[float, int]]] = {}
    for t, call, email in zip(
        rows["t"].tolist(), rows["call_id"].tolist(), rows["detail"].tolist(), strict=True
    ):
        found.setdefault(int(email), []).append((float(t), int(call)))
    return found


def _state(teller: _Teller) -> dict[str, Any]:
    """The teller's notes about channels (the email departments, this email's age at the open ...)."""
    notes = teller.channel
    if "emails" not in notes:
        notes["emails"] = email_departments(teller.scenario)
    return notes


def handler(teller: _Teller, row: Row) -> Callable[[_Teller, Row], None] | None:
    """The email telling of `row`, if it has one (else None: the story's own)."""
    event, department = row[1], row[2]
    if event in _ANY_DEPARTMENT:
        return _ANY_DEPARTMENT[event]
    notes = _state(teller)
    if department in notes["emails"]:
        return _EMAIL.get(event)
    if event == "arrive" and "about_email" in notes:
        return _overdue_call_arrives
    return None


# An email's own events.


def _backlog(teller: _Teller, row: Row) -> None:
    """Waiting at the open: told with its reason at its `arrive`, which follows."""
    _state(teller)["age_at_open"] = row[4]


def _arrive(teller: _Teller, row: Row) -> None:
    t, _, department, _, detail = row
    notes = _state(teller)
    teller.reason = teller.reason_names[int(detail)]
    due = email_settings(teller.scenario)[department].due
    age = notes.get("age_at_open", 0.0)
    arrived_at = t - age
    teller.arrived_at = arrived_at
    notes["due_at"] = arrived_at + due
    teller.where = f"waiting in the {department} queue"
    scenario = teller.scenario
    about = "" if teller.reason in (department, "email") else f" about {teller.reason}"
    due_by = clock(scenario, arrived_at + due)
    if "age_at_open" not in notes:
        teller.say(t, f"an email arrives{about}, due within {spoken(due)} (by {due_by}).")
        return
    carried = notes.get("carried_from")
    left = f"; yesterday's close left it (email {carried} yesterday)" if carried is not None else ""
    late = f"overdue since {due_by}" if age >= due else f"due by {due_by}"
    teller.say(
        t,
        f"an email{about} is waiting in the {department} backlog at the open, {spoken(age)} old "
        f"(it arrived {clock(scenario, arrived_at)}): {late}{left}.",
    )


def _quiet(teller: _Teller, row: Row) -> None:
    """An email joins its queue and is taken without a ring: `_arrive` and `_answer` tell it."""
    if row[1] == "enqueue":
        teller.where = f"waiting in the {row[2]} queue"


def _overdue(teller: _Teller, row: Row) -> None:
    t, _, _, _, age = row
    notes = _state(teller)
    if "due_at" not in notes:  # overdue at the open: `_arrive` says so with the backlog
        return
    notes["overdue"] = True
    teller.say(t, f"its due time passes with nobody on it: overdue, {spoken(age)} old. It keeps waiting.")


def _answer(teller: _Teller, row: Row) -> None:
    t, _, department, agent_id, _ = row
    notes = _state(teller)
    teller.agents_met += 1
    teller.met.add(agent_id)
    agent = teller.agent(agent_id)
    teller.where = f"being answered by {agent}"
    others = _other_channels(teller, agent_id, department)
    waited = f" when no {' or '.join(others)} waited" if others else ""
    late = ", overdue" if t > notes.get("due_at", math.inf) else ""
    teller.say(t, f"{agent} takes the email{waited}: it is {spoken(t - teller.arrived_at)} old{late}.")


def _end(teller: _Teller, row: Row) -> None:
    t, _, _, agent_id, detail = row
    due_at = _state(teller).get("due_at", math.inf)
    after = spoken(t - teller.arrived_at)
    if t <= due_at:
        verdict = f"within its due time ({spoken(due_at - t)} to spare)"
    else:
        verdict = f"{spoken(t - due_at)} after its due time"
    _state(teller)["handled_at"] = t
    teller.say(
        t,
        f"{teller.agent(agent_id)} answers it in {spoken(detail)}. Handled {after} after it arrived, {verdict}.",
    )


def _left(teller: _Teller, row: Row) -> None:
    t, _, _, _, age = row
    late = " (overdue)" if t > _state(teller).get("due_at", math.inf) else ""
    teller.say(t, f"still waiting at the close, {spoken(age)} old{late}: left in the backlog.")


def _other_channels(teller: _Teller, agent_id: int, department: str) -> list[str]:
    """What else the agent's pool serves that comes first (`call`, `chat`): an email is taken only when
    none of them waits."""
    notes = _state(teller)
    pools = notes.setdefault("pools", {})
    if agent_id not in pools:
        scenario = teller.scenario
        pool = teller.names.get(agent_id, "").rsplit(" agent ", 1)[0]
        group = scenario.agent_groups.get(pool)
        served = list(group.skills) if group is not None else [pool]
        kinds = {
            scenario.departments[name].channel or "voice" for name in served if name in scenario.departments
        }
        pools[agent_id] = [word for kind, word in (("voice", "call"), ("chat", "chat")) if kind in kinds]
    found: list[str] = pools[agent_id]
    return found


# Across departments and days.


def _email_call(teller: _Teller, row: Row) -> None:
    """A call an overdue email brings: told with the call's `arrive`, which follows."""
    _state(teller)["about_email"] = int(row[4])


def _overdue_call_arrives(teller: _Teller, row: Row) -> None:
    t, _, _, _, detail = row
    notes = _state(teller)
    teller.reason = teller.reason_names[int(detail)]
    teller.arrived_at = t
    email = notes.pop("about_email")
    teller.say(
        t, f"calls about {teller.reason}, chasing their email (email {email}), not answered by its due time."
    )


def _carry_in(teller: _Teller, row: Row) -> None:
    notes = _state(teller)
    notes["carried_from"] = int(row[4])
    if row[2] not in notes["emails"]:
        teller.say(
            row[0],
            f"comes back at the open: yesterday's close left it waiting (call {int(row[4])} yesterday).",
        )


def _carry_out(teller: _Teller, row: Row) -> None:
    kept = {
        0.0: "the callback, not yet dialled, is kept for tomorrow's open",
        1.0: "the caller would call again after the close: they call tomorrow",
        2.0: "the email is carried to tomorrow's backlog",
    }
    teller.say(row[0], f"{kept.get(row[4], 'it is kept for tomorrow')}.")


_EMAIL: dict[str, Callable[[_Teller, Row], None]] = {
    "email_backlog": _backlog,
    "arrive": _arrive,
    "enqueue": _quiet,
    "ring": _quiet,
    "answer": _answer,
    "end": _end,
    "email_overdue": _overdue,
    "email_left": _left,
}
_ANY_DEPARTMENT: dict[str, Callable[[_Teller, Row], None]] = {
    "email_call": _email_call,
    "carry_in": _carry_in,
    "carry_out": _carry_out,
}


def beside(teller: _Teller) -> str:
    """`, beside 2 others,` for a chat taken by an agent with two in hand already (empty with none), from
    the counts `chats_in_hand` found for this contact (`teller.channel["in_hand"]`), answer by answer."""
    counts: list[int] = teller.channel.get("in_hand", [])
    told = teller.channel.get("answers_told", 0)
    teller.channel["answers_told"] = told + 1
    if told >= len(counts) or counts[told] <= 0:
        return ""
    return f", beside {counts[told]} other{'' if counts[told] == 1 else 's'},"


def with_customer_calls(teller: _Teller, calls: list[tuple[float, int]]) -> None:
    """Put the calls an overdue email's customer made into the email's story, in time order."""
    handled_at = _state(teller).get("handled_at", math.inf)
    for at, call in calls:
        was = f", though it was answered at {clock(teller.scenario, handled_at)}" if at >= handled_at else ""
        teller.say(at, f"its customer calls about it (call {call}){was}.")
    teller.lines.sort(key=lambda line: line.at)
