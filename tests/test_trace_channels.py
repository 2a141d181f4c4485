"""`callsim trace` by channel: an email's story (the backlog at the open with its age, due times, taken when
no call waited, handled within or after its due time, overdue, the call its customer makes, left in the
backlog at the close and carried to the next day), picks by channel and by what happened to an email, and a
campaign record's dials (`sim.output.story_channels`, `sim.analysis.trace_channels`,
`sim.output.trace_records`). Each story is checked against the event log it is told from."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.trace_picks import Criteria, matching
from sim.cli.app import app
from sim.engine.day import RunResult, simulate
from sim.model.loading import load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from sim.output.story import render, tell
from sim.output.story_channels import chats_in_hand
from sim.output.trace import trace
from sim.output.trace_records import record_segments, trace_record
from tests.conftest import ROOT

runner = CliRunner()


def mail_desk(**email: Any) -> Scenario:
    """Billing calls and a letters box (due 1 h) answered by 3 blended agents: a backlog at the open of
    emails 3 h, 2 h and 30 m old (two of them past due), every overdue email's customer calling billing 10
    minutes later; 20 calls and 20 emails an hour, 4 hours."""
    settings: dict[str, Any] = {
        "due": "1h",
        "backlog": ["3h", "2h", "30m"],
        "overdue_calls": {"share": 1.0, "delay": "10m", "department": "billing"},
        **email,
    }
    return scenario_from_dict(
        {
            "name": "mail-desk",
            "seed": 5,
            "start": "08:00",
            "duration": "4h",
            "interval": "1h",
            "arrivals": {"per_hour": 40, "reasons": {"billing": 0.5, "letters": 0.5}},
            "patience": {"dist": "exponential", "mean": "3m"},
            "departments": {
                "billing": {"handle_time": {"dist": "exponential", "mean": "4m"}},
                "mail": {
                    "channel": "email",
                    "resolves": ["letters"],
                    "handle_time": {"dist": "exponential", "mean": "10m"},
                    "email": settings,
                },
            },
            "agent_groups": {"blended": {"agents": 3, "skills": {"billing": 1, "mail": 2}}},
        }
    )


@pytest.fixture(scope="module")
def day() -> RunResult:
    return simulate(mail_desk(), 1)


def story(result: RunResult, call_id: int) -> str:
    lines = tell(result.events, result.agents, result.scenario, result.reason_names, call_id, result.ended_at)
    return render(lines, result.scenario, call_id, "Email")


def first(result: RunResult, event: str, **where: float) -> pd.Series:
    rows = result.events[result.events["event"] == event]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return rows.iloc[0]


def test_an_overdue_email_of_the_backlog_tells_its_age_its_due_time_and_its_customers_call(
    day: RunResult,
) -> None:
    oldest = first(day, "email_backlog", detail=3 * 3600.0)  # the 3-hour-old email: due at 06:00
    email = int(oldest["call_id"])
    told = story(day, email)
    assert told.splitlines()[0] == f"Email {email}"
    assert (
        "08:00:00  an email about letters is waiting in the mail backlog at the open, 3h 00m old "
        "(it arrived 05:00): overdue since 06:00." in told
    )
    call = first(day, "email_call", detail=float(email))  # its customer calls 10 minutes after the open
    assert call["t"] == pytest.approx(600.0)
    assert f"08:10:00  its customer calls about it (call {int(call['call_id'])})" in told
    answer = first(day, "answer", call_id=email)
    agent = day.agents.set_index("agent_id").loc[int(answer["agent_id"])]
    taken = f"blended agent {agent['number']} takes the email when no call waited"
    assert taken in told, told  # a blended agent: billing calls come first
    end = first(day, "end", call_id=email)
    late = round(end["t"] + 3 * 3600 - 3600) // 60  # minutes after its due time (06:00)
    assert re.search(
        rf"Handled \dh \d\dm after it arrived, {late // 60}h {late % 60:02d}m after its due time", told
    )


def test_the_overdue_call_tells_which_email_it_chases(day: RunResult) -> None:
    call = first(day, "email_call")
    told = story(day, int(call["call_id"]))
    assert f"calls about billing, chasing their email (email {int(call['detail'])})" in told
    assert told.splitlines()[1].endswith("not answered by its due time.")


def test_an_email_that_falls_due_waits_on_and_is_left_in_the_backlog_at_the_close(day: RunResult) -> None:
    left = first(day, "email_left")
    email = int(left["call_id"])
    told = story(day, email)
    arrived = first(day, "arrive", call_id=email)["t"]
    overdue = first(day, "email_overdue", call_id=email)
    assert overdue["t"] == pytest.approx(arrived + 3600)
    assert "its due time passes with nobody on it: overdue, 1h 00m old. It keeps waiting." in told
    age = round(left["detail"]) // 60
    assert told.splitlines()[-1].startswith("12:00:00  still waiting at the close, ")
    assert f"{age // 60}h {age % 60:02d}m old (overdue): left in the backlog." in told.splitlines()[-1]
    assert "when the run stops" not in told  # the close ends an email's story


def test_an_email_handled_in_time_says_how_much_time_was_to_spare() -> None:
    quiet = simulate(mail_desk(backlog=["30m"], overdue_calls=None), 1)
    email = int(first(quiet, "email_backlog")["call_id"])
    end = first(quiet, "end", call_id=email)
    spare = round(3600 - 1800 - end["t"])
    told = story(quiet, email)
    assert "due by 08:30" in told
    minutes, seconds = divmod(spare, 60)
    assert f"within its due time ({minutes}m {seconds:02d}s to spare)" in told


def test_a_weeks_day_carries_the_emails_left_and_tells_where_they_came_from() -> None:
    scenario = mail_desk()
    monday = simulate(scenario, 1, carry_out=True)
    left = first(monday, "email_left")
    told_monday = story(monday, int(left["call_id"]))
    assert "the email is carried to tomorrow's backlog." in told_monday
    tuesday = simulate(scenario, 1, day=1, carried_in=monday.carried_out)
    carried = first(tuesday, "carry_in", detail=float(left["call_id"]))
    told = story(tuesday, int(carried["call_id"]))
    assert f"yesterday's close left it (email {int(left['call_id'])} yesterday)" in told
    assert "(it arrived yesterday " in told


# --- picks by channel and by what happened to an email --------------------------------------------------------


@pytest.mark.parametrize(
    ("pick", "event"),
    [("overdue", "email_overdue"), ("from-backlog", "email_backlog"), ("left-in-backlog", "email_left")],
)
def test_email_picks_pick_exactly_the_emails_with_that_event(day: RunResult, pick: str, event: str) -> None:
    picked = set(matching(day, Criteria((pick,))).call_id)
    expected = set(day.events.loc[day.events["event"] == event, "call_id"])
    assert picked == expected and picked


def test_a_channel_picks_its_contacts_and_the_overdue_call_pick_the_chasing_calls(day: RunResult) -> None:
    emails = matching(day, Criteria(channel="email"))
    assert set(emails["first_department"].astype(str)) == {"mail"}
    chasing = matching(day, Criteria(("overdue-call",), channel="voice"))
    assert set(chasing.call_id) == set(day.events.loc[day.events["event"] == "email_call", "call_id"])


def test_trace_of_a_channel_says_contacts_and_names_the_email(day: RunResult) -> None:
    traced = trace(mail_desk(), 1, criteria=Criteria(("overdue",), channel="email"))
    assert re.match(
        r"\d+ of \d+ contacts were emails and passed their due time unhandled; showing email ", traced.note
    )
    assert traced.text.startswith(f"Email {traced.call_id}\n")


@pytest.mark.parametrize(
    ("scenario", "args", "says"),
    [
        ("chat-desk.yaml", ["--channel", "email"], "no email department (its channels: chat)"),
        ("chat-desk.yaml", ["--channel", "fax"], "--channel 'fax': choose from voice, chat, email"),
        ("busy-day.yaml", ["--pick", "overdue"], "--pick overdue: this scenario has no email department"),
        ("busy-day.yaml", ["--pick", "nuisance"], "this scenario dials no campaign (outbound:)"),
        (
            "blended-desk.yaml",
            ["--pick", "nuisance", "--pick", "misrouted"],
            "--pick misrouted picks a caller",
        ),
        ("blended-desk.yaml", ["--record", "299"], "record 299 was never dialled in this run"),
    ],
)
def test_bad_channel_picks_say_what_is_wrong(
    scenario: str, args: list[str], says: str, tmp_path: Any
) -> None:
    told = runner.invoke(
        app, ["trace", str(ROOT / "scenarios" / scenario), *args, "--out", str(tmp_path / "t.png")]
    )
    assert told.exit_code != 0 and says in " ".join(told.output.split()), told.output


def test_a_chat_that_waited_is_picked_by_channel_and_wait(tmp_path: Any) -> None:
    told = runner.invoke(
        app,
        ["trace", str(ROOT / "scenarios" / "chat-desk.yaml"), "--channel", "chat", "--waited-over", "2m",
         "--out", str(tmp_path / "t.png")],
    )  # fmt: skip
    assert told.exit_code == 0, told.output
    assert "were chats and waited over 2m in queues; showing chat " in told.output
    waited = re.search(r"takes the chat after (\d+)m (\d+)s in the queue", told.output)
    assert waited is not None and int(waited[1]) * 60 + int(waited[2]) > 120


# --- campaign records ------------------------------------------------------------------------------------------


def test_a_progressive_record_tells_each_dial_and_the_talk() -> None:
    scenario = scenario_from_dict(
        {**_blended(), "outbound": {**_blended()["outbound"], "right_party": 0.5, "attempts": 3}}
    )
    traced = trace_record(scenario, 1, None, ["right-party", "dialled-again"])
    record = traced.call_id
    events = traced.result.events if traced.result is not None else pd.DataFrame()
    own = events[(events["call_id"] < 0) & (events["detail"] == float(record))]
    dials = int((own["event"] == "dial_out").sum())
    assert dials >= 2
    text = traced.text
    assert text.startswith(f"Record {record}\n")
    assert text.count("dials the record") == dials
    assert "more than 2 agents of billing are idle, so an idle one dials." in text
    assert "no answer from the right person after" in text and "it goes back to the end of the list" in text
    assert re.search(r"the right person answers after \d+s; billing agent \d+ talks\.", text)
    assert "finishes the call and its wrap-up after" in text or "still on the call when the run stops" in text
    drawn = record_segments(events, traced.result.agents, record, traced.result.ended_at)  # type: ignore[union-attr]
    kinds = [segment.kind for segment in drawn]
    assert kinds.count("campaign miss") == dials - 1 and kinds.count("campaign dial") == 1
    answered = own.loc[own["event"] == "right_party", "t"].iloc[0]
    assert [s.start for s in drawn if s.kind == "talk"] == [answered]


def test_a_predictive_nuisance_call_is_told_as_one() -> None:
    data = _blended()
    data["outbound"] = {**data["outbound"], "mode": "predictive", "pace": 3, "right_party": 0.8}
    traced = trace_record(scenario_from_dict(data), 1, None, ["nuisance"])
    assert (
        "the dialler dials the record with nobody reserved: more than 2 agents of billing are idle."
        in traced.text
    )
    assert (
        "no agent is free to take the answer: the line is dropped, a nuisance call. The record is spent."
        in (traced.text)
    )
    assert re.match(r"\d+ of \d+ records dialled ended in a nuisance call", traced.note)


def _blended() -> dict[str, Any]:
    """A billing desk of 6 dialling a list of 30 records while more than 2 are idle, 2 hours."""
    return {
        "name": "blended",
        "seed": 3,
        "start": "13:00",
        "duration": "2h",
        "interval": "1h",
        "arrivals": {"per_hour": 50},
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {"billing": {"agents": 6, "handle_time": {"dist": "exponential", "mean": "4m"}}},
        "outbound": {
            "pool": "billing",
            "list": 30,
            "dial_time": {"dist": "uniform", "low": "10s", "high": "30s"},
            "right_party": 0.35,
            "talk_time": {"dist": "exponential", "mean": "4m"},
            "threshold": 2,
            "attempts": 3,
        },
    }


def test_a_chat_says_how_many_chats_its_agent_had_in_hand() -> None:
    """`beside N others`: N counted here by walking each agent's rows one by one (chats answered and not yet
    ended), never more than the desk's slots less one; the story of a chat says it."""
    scenario = scenario_from_dict(
        {
            "name": "desk",
            "seed": 2,
            "duration": "2h",
            "arrivals": {"per_hour": 60},
            "patience": {"dist": "exponential", "mean": "4m"},
            "departments": {
                "chat": {
                    "channel": "chat",
                    "agents": 3,
                    "handle_time": {"dist": "exponential", "mean": "6m"},
                    "chat": {"slots": 3},
                }
            },
        }
    )
    result = simulate(scenario, 1)
    rows = result.events[(result.events["agent_id"] >= 0) & result.events["event"].isin(["answer", "end"])]
    held: dict[int, set[int]] = {}
    expected: dict[int, int] = {}
    for event, agent, call in zip(rows["event"].astype(str), rows["agent_id"], rows["call_id"], strict=True):
        hand = held.setdefault(int(agent), set())
        if event == "answer":
            expected[int(call)] = len(hand)
            hand.add(int(call))
        else:
            hand.discard(int(call))
    assert max(expected.values()) == 2 and min(expected.values()) == 0  # 3 slots: at most 2 others
    found = chats_in_hand(result.events, scenario)
    assert {call: counts[0] for call, counts in found.items()} == expected
    busy = next(call for call, others in expected.items() if others == 2)
    alone = next(call for call, others in expected.items() if others == 0)
    assert "takes the chat" in story(result, busy) and ", beside 2 others, and responds" in story(
        result, busy
    )
    assert "beside" not in story(result, alone)


def test_only_a_blended_agent_takes_an_email_when_no_call_waited() -> None:
    """In email-backlog, blended agents serve billing first and email-only agents only email: the clause
    is told for the first and not for the second."""
    scenario = load_scenario(ROOT / "scenarios" / "email-backlog.yaml")
    result = simulate(scenario, 1)
    answers = result.events[(result.events["event"] == "answer") & (result.events["department"] == "email")]
    pools = result.agents.set_index("agent_id")["pool"]
    by_pool = {
        pools[int(agent)]: int(call)
        for agent, call in zip(answers["agent_id"], answers["call_id"], strict=True)
    }
    assert set(by_pool) == {"blended", "email-only"}
    assert "takes the email when no call waited: it is" in story(result, by_pool["blended"])
    reserved = story(result, by_pool["email-only"])
    assert "email-only agent" in reserved and "takes the email: it is" in reserved
