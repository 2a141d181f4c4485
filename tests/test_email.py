"""Email departments (issue 19, deliverable 2): emails wait without giving up, are taken only when no call
waits in a queue the agent serves, carry a due time, make a backlog at the open and at the close, and,
overdue, may bring their customers' calls.

- Theory: a pool serving calls (first) and emails (only when no call waits), exponential work of one mean,
  is the non-preemptive priority M/M/c queue; Cobham's formula gives each class's mean wait,
  W_k = (C(c, a) / (c mu)) / ((1 - sigma_{k-1})(1 - sigma_k)), sigma_k the load of classes 1..k over c.
  Student-t tolerances from replications, as in `tests/test_theory.py`.
- Bookkeeping from the event table: no email taken while a call waits for that agent, overdue exactly at
  the due time of an email still waiting, backlog conserved (arrived + backlog at the open - handled =
  backlog at the close), overdue calls at the stated share (binomial tolerance) and delay.
- Located refusals, the reference model's refusal, and the shipped scenario.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis import erlang
from sim.analysis.email import email_backlog, email_columns
from sim.analysis.summary import summary
from sim.engine.day import RunResult, simulate
from sim.engine.reference import simulate_reference
from sim.experiments.runner import parallel_map, replicate
from sim.experiments.week import simulate_week
from sim.model.loading import ScenarioError, load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from sim.output.results import write_run
from tests.conftest import ROOT
from tests.test_theory import ALPHA


def _crit(reps: int) -> float:
    return float(stats.t.isf(ALPHA / 2, reps - 1))


def blended(**email: Any) -> dict[str, Any]:
    """Phone calls and emails (raw YAML data): a blended group takes calls first, emails when no call
    waits; a small reserved group takes only emails."""
    return {
        "name": "blended",
        "seed": 7,
        "duration": "8h",
        "ring": {"rings": 1},
        "arrivals": {"per_hour": 100, "reasons": {"phone": 0.5, "mail": 0.5}},
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {
            "phone": {"resolves": ["phone"], "handle_time": {"dist": "exponential", "mean": "4m"}},
            "email": {
                "channel": "email",
                "resolves": ["mail"],
                "handle_time": {"dist": "exponential", "mean": "7m"},
                "email": {"due": "1h", "backlog": 25, **email},
            },
        },
        "agent_groups": {
            "blend": {"agents": 6, "skills": {"phone": 1, "email": 2}},
            "reserved": {"agents": 1, "skills": {"email": 1}},
        },
    }


# --- the priority queue: calls first, emails only when no call waits ------------------------------------

AGENTS, HANDLE, PER_HOUR, CALL_SHARE = 3, 240.0, 31.5, 0.5
TAIL = 3 * 3600.0
"""Only items arriving this long before the close are counted (a wait longer than this is astronomically
rare at this load), so no email left at the close censors the mean."""


def _priority(hours: float, warmup: float) -> Scenario:
    return scenario_from_dict(
        {
            "name": "priority",
            "seed": 3,
            "duration": f"{warmup + hours}h",
            "warmup": f"{warmup}h",
            "arrivals": {"per_hour": PER_HOUR, "reasons": {"phone": CALL_SHARE, "mail": 1 - CALL_SHARE}},
            "departments": {
                "phone": {"resolves": ["phone"], "handle_time": {"dist": "exponential", "mean": HANDLE}},
                "email": {
                    "channel": "email",
                    "resolves": ["mail"],
                    "handle_time": {"dist": "exponential", "mean": HANDLE},
                    "email": {"due": "1000h"},
                },
            },
            "agent_groups": {"blend": {"agents": AGENTS, "skills": {"phone": 1, "email": 1}}},
        }
    )


def _mean_waits(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """Per class, the mean wait of the counted arrivals (after the warm-up, before the tail)."""
    events = simulate(scenario, seed, replication).events
    answered = events[events["event"] == "answer"]
    arrived_at = answered["t"].to_numpy() - answered["detail"].to_numpy()
    counted = (arrived_at >= scenario.warmup) & (arrived_at < scenario.duration - TAIL)
    department = answered["department"].to_numpy()
    waits = answered["detail"].to_numpy()
    arrivals = events[(events["event"] == "arrive")]
    arrived = arrivals["t"].to_numpy()
    offered = ((arrived >= scenario.warmup) & (arrived < scenario.duration - TAIL)).sum()
    return {
        "calls": float(waits[counted & (department == "phone")].mean()),
        "emails": float(waits[counted & (department == "email")].mean()),
        "unanswered": float(offered - counted.sum()),
    }


def cobham(rates: list[float], mu: float, servers: int) -> list[float]:
    """Mean waits of the classes of a non-preemptive priority M/M/c queue (equal service rates), best
    class first: W_k = (C(c, a) / (c mu)) / ((1 - sigma_{k-1})(1 - sigma_k))."""
    load = sum(rates) / mu
    wait_any = erlang.erlang_c(servers, load) / (servers * mu)
    sigma = np.cumsum([0.0, *rates]) / (servers * mu)
    return [wait_any / ((1 - sigma[k - 1]) * (1 - sigma[k])) for k in range(1, len(rates) + 1)]


@pytest.mark.parametrize(
    ("reps", "hours", "seed"), [pytest.param(24, 60, 11), pytest.param(80, 200, 1011, marks=pytest.mark.slow)]
)
def test_emails_wait_as_the_low_class_of_a_non_preemptive_priority_queue(
    reps: int, hours: float, seed: int
) -> None:
    scenario = _priority(hours, 3.0)
    rows = list(parallel_map(_mean_waits, [(scenario, seed, r) for r in range(reps)], 2))
    lam = PER_HOUR / 3600
    theory = cobham([lam * CALL_SHARE, lam * (1 - CALL_SHARE)], 1 / HANDLE, AGENTS)
    assert theory[1] > 3 * theory[0]  # the test tells the classes apart (FIFO would give both one wait)
    crit = _crit(reps)
    for name, expected in zip(("calls", "emails"), theory, strict=True):
        values = np.array([row[name] for row in rows])
        se = values.std(ddof=1) / math.sqrt(reps)
        assert se > 0
        assert abs(values.mean() - expected) <= crit * se, (
            f"{name}: {values.mean():.1f} s vs Cobham {expected:.1f} s (SE {se:.1f})"
        )
    assert all(row["unanswered"] == 0 for row in rows)  # nobody hangs up, and the tail is long enough


# --- bookkeeping from the event table --------------------------------------------------------------------


@pytest.fixture(scope="module")
def day() -> RunResult:
    data = blended(overdue_calls={"share": 0.4, "delay": "20m", "department": "phone"})
    data["departments"]["email"]["email"]["due"] = "45m"
    return simulate(scenario_from_dict(data), seed=2)


def test_no_email_is_taken_while_a_call_waits_for_that_agent(day: RunResult) -> None:
    events = day.events
    name = events["event"].to_numpy()
    department = events["department"].to_numpy()
    phone = department == "phone"
    joined = phone & (name == "enqueue")
    left_queue = phone & ((name == "ring") | ((name == "abandon") & (events["agent_id"].to_numpy() < 0)))
    waiting = np.cumsum(joined.astype(int) - left_queue.astype(int))  # after each row, in log order
    before = np.concatenate([[0], waiting[:-1]])
    blend_agents = set(day.agents.loc[day.agents["pool"] == "blend", "agent_id"])
    email_rings = (department == "email") & (name == "ring")
    by_blend = email_rings & np.isin(events["agent_id"].to_numpy(), list(blend_agents))
    assert by_blend.sum() > 50 and (waiting > 0).sum() > 100  # both happen often
    assert (before[by_blend] == 0).all()
    # no ring for an email: answered at the instant it is taken
    answers = events[(name == "answer") & (department == "email")]
    rings = events[email_rings]
    assert np.array_equal(answers["t"].to_numpy(), rings["t"].to_numpy())


def test_overdue_exactly_at_the_due_time_of_an_email_still_waiting(day: RunResult) -> None:
    emails = email_columns(day)
    events = day.events
    overdue = events[events["event"] == "email_overdue"].set_index("call_id")["t"]
    assert len(overdue) > 30 and overdue.index.is_unique
    due_at = emails.set_index("call_id")["due_at"]
    assert np.allclose(overdue.to_numpy(), np.maximum(due_at[overdue.index].to_numpy(), 0.0))
    # overdue <=> still waiting at its due time (taken later, or never), the due time within the day
    handled_at = emails["handled_at"].fillna(math.inf).to_numpy()
    late = (handled_at > emails["due_at"].to_numpy()) & (emails["due_at"].to_numpy() < day.scenario.duration)
    assert np.array_equal(emails["overdue"].to_numpy(), late)
    within = summary(day)["email_within_due"]
    settled = np.isfinite(handled_at) | late
    assert within == pytest.approx((handled_at <= emails["due_at"].to_numpy()).sum() / settled.sum())


@pytest.mark.parametrize("backlog", [0, 25, [0.0, 600.0, 7200.0]])
def test_the_backlog_is_conserved_from_the_open_to_the_close(backlog: Any) -> None:
    result = simulate(scenario_from_dict(blended(backlog=backlog)), seed=4)
    figures = summary(result)
    at_open = 3 if isinstance(backlog, list) else backlog
    assert figures["email_backlog_at_open"] == at_open
    assert (
        figures["emails_arrived"] + at_open - figures["emails_handled"] == figures["email_backlog_at_close"]
    )
    assert figures["email_backlog_at_close"] > 0  # the day leaves some
    through = email_backlog(result)
    assert through["backlog"].iloc[-1] == figures["email_backlog_at_close"]
    assert through["max_age"].iloc[-1] == pytest.approx(figures["email_backlog_max_age"])
    assert through["mean_age"].iloc[-1] == pytest.approx(figures["email_backlog_mean_age"])
    left = result.events[result.events["event"] == "email_left"]
    assert (left["t"] == result.scenario.duration).all() and len(left) == figures["email_backlog_at_close"]
    if isinstance(backlog, list):  # an email 2 h old at the open is overdue at once (due 1 h)
        first = result.events[result.events["event"] == "email_overdue"].iloc[0]
        assert first["t"] == 0.0 and first["detail"] == 7200.0


def test_a_week_carries_the_backlog_left_at_a_close_to_the_next_open() -> None:
    data = blended(backlog=10, due="4h")
    data["week"] = {
        "day_types": {"normal": {}},
        "days": [{"name": d, "type": "normal"} for d in ("mon", "tue", "wed")],
    }
    week = simulate_week(scenario_from_dict(data), seed=3)
    days = week.results
    assert summary(days[0])["email_backlog_at_open"] == 10
    for before, after in itertools.pairwise(days):
        figures_before, figures_after = summary(before), summary(after)
        left = before.events[before.events["event"] == "email_left"]
        carried = before.events[(before.events["event"] == "carry_out") & (before.events["detail"] == 2.0)]
        assert len(left) > 0 and sorted(left["call_id"]) == sorted(carried["call_id"])
        # tomorrow's backlog at the open is today's at the close, each one a day older (overnight included)
        assert figures_after["email_backlog_at_open"] == figures_before["email_backlog_at_close"]
        brought = after.events[after.events["event"] == "carry_in"].set_index("call_id")["detail"]
        ages = after.events[after.events["event"] == "email_backlog"].set_index("call_id")["detail"]
        age_at_close = left.set_index("call_id")["detail"]
        expected = (
            age_at_close[brought.astype(np.int64).to_numpy()].to_numpy() + 86400.0 - before.scenario.duration
        )
        assert np.allclose(ages[brought.index].to_numpy(), expected)
    assert summary(days[-1])["email_backlog_at_close"] > 0  # the last day keeps its own (nothing carried)
    assert not (days[-1].events["event"] == "carry_out").any()


def test_overdue_customers_call_at_the_stated_share_and_delay() -> None:
    share, delay = 0.3, 1200.0
    data = blended(overdue_calls={"share": share, "delay": delay, "department": "phone"})
    data["duration"] = "40h"
    data["departments"]["email"]["email"]["due"] = "20m"
    result = simulate(scenario_from_dict(data), seed=9)
    events = result.events
    overdue = events[events["event"] == "email_overdue"]
    eligible = overdue[overdue["t"] + delay < result.scenario.duration]
    calls = events[events["event"] == "email_call"]
    n = len(eligible)
    assert n > 500
    crit = _crit(10**6)  # the binomial count is near normal at this size
    assert abs(len(calls) - n * share) <= crit * math.sqrt(n * share * (1 - share))
    made_at = eligible.set_index("call_id")["t"][calls["detail"].astype(np.int64).to_numpy()]
    assert np.allclose(calls["t"].to_numpy() - made_at.to_numpy(), delay)
    assert (calls["department"] == "phone").all()
    arrive = events[events["event"] == "arrive"].set_index("call_id")
    assert np.array_equal(arrive.loc[calls["call_id"], "t"].to_numpy(), calls["t"].to_numpy())
    assert summary(result)["email_overdue_calls"] == len(calls)


# --- refusals and the shipped scenario -------------------------------------------------------------------


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"due": "0s"}, r"departments\.email\.email\.due", ""),
        ({"backlog": -1}, r"departments\.email\.email\.backlog", ""),
        ({"overdue_calls": {"share": 1.5, "department": "phone"}}, r"overdue_calls\.share", ""),
        (
            {"overdue_calls": {"share": 0.5, "department": "sales"}},
            r"overdue_calls\.department",
            "no department",
        ),
        ({"overdue_calls": {"share": 0.5, "department": "email"}}, r"overdue_calls\.department", "voice"),
        ({"late": 1}, r"departments\.email\.email\.late", ""),
    ],
)
def test_bad_email_settings_are_refused_where_they_are_written(
    change: dict[str, Any], path: str, message: str
) -> None:
    text = _refused(blended(**change))
    assert re.search(path, text), text
    assert message in text


def test_what_emails_do_not_do_is_refused_where_it_is_written() -> None:
    data = blended()
    data["departments"]["email"]["hold"] = {"probability": 0.2, "duration": "1m"}
    assert "departments.email.hold: email departments have no holds" in _refused(data)
    data = blended()
    data["departments"]["phone"]["email"] = {"due": "1h"}
    assert "departments.phone.email: email settings only on an email department" in _refused(data)
    data = blended()
    data["departments"]["phone"]["overflow"] = {"after": "30s", "to": ["reserved"]}
    assert "departments.phone.overflow.to[0]: calls do not overflow to agents serving email" in _refused(data)
    data = blended()
    data["lines"] = 10
    assert "lines: trunk lines carry voice calls" in _refused(data)


def test_the_reference_model_refuses_emails_by_name() -> None:
    with pytest.raises(ValueError, match=r"email departments \(email\)"):
        simulate_reference(scenario_from_dict(blended()))


def test_the_shipped_email_scenario_answers_its_question(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "email-backlog.yaml")
    figures = summary(simulate(scenario))
    folder = write_run(tmp_path / "run", replicate(scenario, reps=1), report=False)
    backlog = pd.read_csv(folder / "backlog.csv")
    assert list(backlog.columns) == ["t", "backlog", "mean_age", "max_age"]
    assert len(backlog) == scenario.interval_count and backlog["backlog"].iloc[0] > 0
    assert "email" in (scenario.description or "")
    assert figures["emails_handled"] > 100
    assert 0.0 <= figures["email_within_due"] <= 1.0
    assert figures["by_department"]["billing"]["answered"] > 500
