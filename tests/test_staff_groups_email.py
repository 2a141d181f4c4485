"""Staffing by group a centre with email departments (`staff --groups`, `sim.experiments.staffing.groups`):
voice and chat rows judged interval by interval, the emails riding along on what the plan leaves, and the
plan's email outcome (handled, within due, overdue, left at the close) reported from a confirmation run on
another seed, with a warning when the plan does not clear them. The single-skill `staff` reports the same
outcome for the email departments that keep their agents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.cli.app import app
from sim.engine.day import simulate
from sim.experiments.executors import SerialExecutor
from sim.experiments.staffing import search
from sim.experiments.staffing.groups import search_groups, with_pools
from sim.experiments.staffing.targets import StaffingError, Targets
from sim.model.loading import load_scenario, scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import ROOT

TARGETS = Targets({"service_level": 0.8})


def mail_desk(backlog: int, email_only: int, billing_agents: int | None = 2) -> Scenario:
    """Two hours of a billing line (50 calls an hour of 4 minutes) and an email box (10 an hour of 6
    minutes, due 2 h after arrival, `backlog` waiting at the open); a blended group serving both (calls
    first) and `email_only` agents taking only email (kept at their staffing)."""
    departments: dict[str, Any] = {
        "billing": {"handle_time": {"dist": "exponential", "mean": "4m"}},
        "mail": {
            "channel": "email",
            "handle_time": {"dist": "exponential", "mean": "6m"},
            "email": {"due": "2h", "backlog": backlog},
        },
    }
    if billing_agents is not None:
        departments["billing"]["agents"] = billing_agents
    return scenario_from_dict(
        {
            "name": "mail-desk",
            "seed": 9,
            "duration": "2h",
            "interval": "1h",
            "service_level": {"threshold": "20s", "target": 0.8},
            "arrivals": {"per_hour": 60, "reasons": {"billing": 50 / 60, "mail": 10 / 60}},
            "patience": {"dist": "exponential", "mean": "3m"},
            "departments": departments,
            "agent_groups": {
                "blended": {"agents": 3, "skills": {"billing": 1, "mail": 2}},
                "email-only": {"agents": email_only, "skills": {"mail": 1}},
            },
        }
    )


def test_the_all_channels_plan_judges_voice_and_chat_rows_only() -> None:
    """The shipped blended floor (billing, tech, chat, email): the plan sizes billing's, tech's and the
    floor's agents, every judged row is a voice or chat department's and meets the targets, and the email
    department appears in no judged row; its outcome comes with the plan. Chat has no agents of its own, so
    there is no separate-queues answer."""
    scenario = load_scenario(ROOT / "scenarios" / "all-channels.yaml")
    result = search_groups(scenario, TARGETS, reps=2, executor=SerialExecutor())
    assert result.judged == ("billing", "tech", "chat")
    assert set(result.plan) == {"billing", "tech", "floor"}
    assert result.met.shape == (scenario.interval_count, 3) and result.met.all()
    from sim.output.group_staffing import group_figures, group_summary

    figures = group_figures(result)
    assert set(figures["department"]) == {"billing", "tech", "chat"}
    assert len(figures) == 3 * scenario.interval_count
    assert result.separate is None and "separate_queues" not in result.summary()
    assert result.emails is not None and result.emails.reps == 2
    assert group_summary(result)["emails"]["mean"]["emails_handled"] > 0


def test_the_email_outcome_is_the_confirmation_runs_summary() -> None:
    """The outcome's per-day figures are those of the plan's staffing simulated on seed + 1: emails handled
    and left at the close counted here from the calls table (answered / still in the system), within due and
    overdue from the run summary; the means are the days' means."""
    scenario = mail_desk(backlog=30, email_only=1)
    result = search_groups(scenario, TARGETS, reps=3, executor=SerialExecutor())
    assert result.emails is not None
    assert result.kept == ("email-only",) and "email-only" not in result.plan
    staffed = with_pools(scenario, result.plan)
    assert staffed.agent_groups["email-only"].agents.count == 1  # kept as it was
    for replication, day in enumerate(result.emails.days):
        run = simulate(staffed, scenario.seed + 1, replication)
        calls = calls_table(run)
        mail = calls[calls["first_department"] == "mail"]
        assert day["emails_handled"] == (mail["outcome"] == "answered").sum()
        assert day["email_backlog_at_close"] == (mail["outcome"] == "in_system").sum()
        assert day["emails_arrived"] + day["email_backlog_at_open"] == len(mail)
        figures = summary(run)
        assert day["email_within_due"] == pytest.approx(figures["email_within_due"], nan_ok=True)
        assert day["emails_overdue"] == figures["emails_overdue"]
    handled = [day["emails_handled"] for day in result.emails.days]
    assert result.emails.mean["emails_handled"] == pytest.approx(np.mean(handled))


def test_a_plan_that_leaves_emails_warns_and_one_that_clears_them_does_not(tmp_path: Path) -> None:
    """200 emails at the open, due in 2 h, and nobody reserved for them: the plan sized for the calls
    cannot clear them, and the console, `summary.json` and `staffing.yaml` say so. With no backlog and four
    agents reserved for 0.5 erlangs of email, every email is taken as it arrives: no warning."""
    runner = CliRunner()
    outcomes = {}
    for name, scenario in {
        "behind": mail_desk(backlog=200, email_only=0),
        "cleared": mail_desk(backlog=0, email_only=4),
    }.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(scenario.model_dump(mode="json")), encoding="utf-8")
        out = tmp_path / name
        done = runner.invoke(
            app, ["staff", str(path), "--groups", "--reps", "2", "--jobs", "1", "--out", str(out)]
        )
        assert done.exit_code == 0, done.output
        written = json.loads((out / "summary.json").read_text(encoding="utf-8"))["emails"]
        outcomes[name] = (done.output, written, (out / "staffing.yaml").read_text(encoding="utf-8"))
    output, written, plan = outcomes["behind"]
    assert "warning: the plan does not clear the emails" in output
    assert written["cleared"] is False and written["mean"]["email_backlog_at_close"] > 0
    assert "# warning: the plan does not clear the emails" in plan
    assert "left at the close" in output and "within due" in output
    output, written, plan = outcomes["cleared"]
    assert written["cleared"] is True and written["warning"] is None
    assert "warning" not in output and "warning" not in plan
    assert "email departments keep their staffing: email-only (group)" in output


def test_the_all_channels_command_runs(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app,
        [
            "staff",
            str(ROOT / "scenarios" / "all-channels.yaml"),
            "--groups",
            "--reps",
            "2",
            "--out",
            str(tmp_path / "p"),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "emails (seed 38, 2 replications" in done.output
    assert "no separate-queues answer" in done.output
    assert (tmp_path / "p" / "plan.csv").exists()


def test_a_centre_whose_groups_serve_only_email_is_refused() -> None:
    """Billing staffed by its own agents, both groups serving only email: nothing for --groups to decide."""
    data = mail_desk(backlog=0, email_only=1).model_dump(mode="json")
    data["agent_groups"]["blended"]["skills"] = {"mail": 1}
    with pytest.raises(StaffingError, match="no agent groups serving a call or chat department"):
        search_groups(scenario_from_dict(data), TARGETS, reps=2, executor=SerialExecutor())


def test_the_api_result_carries_the_email_outcome() -> None:
    answer = sim.staff_groups(mail_desk(backlog=30, email_only=1), ["service_level=0.8"], reps=2, jobs=1)
    assert answer.emails is not None and answer.emails.seed == answer.scenario.seed + 1
    assert set(answer.emails.mean) >= {"emails_handled", "email_within_due", "email_backlog_at_close"}


def test_the_single_skill_search_reports_the_kept_email_departments_outcome() -> None:
    """`staff` without --groups: the email box keeps its two agents, and the confirmation's email outcome
    is the mean of its days' run summaries."""
    data = mail_desk(backlog=40, email_only=0).model_dump(mode="json")
    data["agent_groups"] = {}
    data["departments"]["mail"]["agents"] = 1
    scenario = scenario_from_dict(data)
    result = search(scenario, ["service_level=0.8"], reps=2, confirm_reps=3, executor=SerialExecutor())
    emails = result.confirmation["emails"]
    assert set(result.plan) == {"billing"}
    staffed = with_pools(scenario, result.plan)
    backlog = [summary(simulate(staffed, result.confirm_seed, r))["email_backlog_at_close"] for r in range(3)]
    assert emails["mean"]["email_backlog_at_close"] == pytest.approx(np.mean(backlog))
    assert emails["warning"] is not None  # 40 at the open, one agent, 2 h: not cleared
