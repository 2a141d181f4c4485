"""Costs (`costs:`, `sim.analysis.costs`): every figure against a hand computation on tiny deterministic days
(a trace of calls with fixed handle times and patience, one or two agents: known waits, abandonments, line
time and paid hours), overtime of shifts and of a named agent's day, the located refusals of bad prices,
and a run through the CLI showing the costs in the console, summary.json and report.html. Without
`costs:` nothing changes: the same tables and no cost figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.costs import overtime_seconds
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.cli.app import app
from sim.engine.day import simulate
from sim.engine.reference import simulate_reference
from sim.model.loading import ScenarioError, scenario_from_dict

PRICES = {
    "currency": "EUR",
    "wage_per_hour": 20.0,
    "overtime": {"after": "3h", "factor": 1.5},
    "line_per_minute": 0.02,
    "abandoned_call": 3.0,
    "waiting_minute": 0.1,
}


def day(**changes: Any) -> dict[str, Any]:
    """08:00-12:00, one agent on a 4-hour shift; four traced calls: at 08:10 (5 min, answered at once), 08:11
    (patience 30 s: hangs up after waiting 30 s), 08:11:40 (100 s: waits 200 s until 08:15, done 08:16:40)
    and 09:00 (1 min, at once)."""
    data: dict[str, Any] = {
        "name": "costs",
        "start": "08:00",
        "duration": "4h",
        "interval": "30m",
        "arrivals": {
            "trace_times": [600.0, 660.0, 700.0, 3600.0],
            "trace_handle_times": [300.0, 120.0, 100.0, 60.0],
            "trace_patience": [None, 30.0, None, None],
        },
        "departments": {
            "billing": {
                "agents": {"shifts": [{"start": "08:00", "end": "12:00", "count": 1}]},
                "handle_time": 60.0,
            }
        },
        "costs": PRICES,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("run", [simulate, simulate_reference], ids=["engine", "reference"])
def test_cost_figures_of_a_tiny_day_by_hand(run: Any) -> None:
    result = run(scenario_from_dict(day()))
    calls = calls_table(result).set_index("call_id")
    assert calls["wait_time"].tolist() == [0.0, 30.0, 200.0, 0.0]  # the day is as the hand computation says
    assert calls["outcome"].astype(str).tolist() == ["answered", "abandoned", "answered", "answered"]
    costs = summary(result)["costs"]
    wages = 4 * 20.0  # the 4-hour shift, paid throughout
    overtime = (4 - 3) * 20.0 * (1.5 - 1)  # its 4th hour is past `after: 3h`
    # arrival to leaving: 08:10-08:15, 30 s, 08:11:40-08:16:40, 1 min
    lines = (300 + 30 + 300 + 60) / 60 * 0.02
    abandonment = 1 * 3.0
    waiting = (30 + 200) / 60 * 0.1
    total = wages + overtime + lines + abandonment + waiting
    assert costs["wages"] == pytest.approx(wages, rel=1e-12)
    assert costs["overtime"] == pytest.approx(overtime, rel=1e-12)
    assert costs["overtime_hours"] == pytest.approx(1.0, rel=1e-12)
    assert costs["lines"] == pytest.approx(lines, rel=1e-12)
    assert costs["line_hours"] == pytest.approx(690 / 3600, rel=1e-12)
    assert costs["abandonment"] == pytest.approx(abandonment, rel=1e-12)
    assert costs["waiting"] == pytest.approx(waiting, rel=1e-12)
    assert costs["total"] == pytest.approx(total, rel=1e-12)
    assert costs["per_offered_call"] == pytest.approx(total / 4, rel=1e-12)
    assert costs["per_answered_call"] == pytest.approx(total / 3, rel=1e-12)
    billing = summary(result)["by_department"]["billing"]
    assert billing["cost"] == pytest.approx(wages + overtime + abandonment + waiting, rel=1e-12)


def test_an_agent_finishing_a_call_past_its_shift_is_paid_until_it_logs_out() -> None:
    """A 2-hour call from 11:30 keeps the one agent until 13:30: paid 5.5 h, not 4 (the counted day runs to
    the close at 14:00); the roster's overtime is still its 4th hour."""
    data = day(duration="6h", arrivals={"trace_times": [12600.0], "trace_handle_times": [7200.0]})
    costs = summary(simulate(scenario_from_dict(data)))["costs"]
    assert costs["wages"] == pytest.approx(5.5 * 20.0, rel=1e-12)
    assert costs["overtime_hours"] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("run", [simulate, simulate_reference], ids=["engine", "reference"])
def test_a_callback_holds_a_line_until_the_request_and_from_its_dial(run: Any) -> None:
    """The one agent talks to caller 1 from 08:10 to 08:20; caller 2 (08:11) is offered a callback at once
    (estimated wait 60 s > 30 s), takes it and hangs up; the agent dials at 08:20, the caller answers after the
    15 s dial, and they talk 2 min: lines 600 s + (0 s + 135 s); no live caller waited."""
    data = day(
        arrivals={"trace_times": [600.0, 660.0], "trace_handle_times": [600.0, 120.0]},
        departments={"billing": {"agents": 1, "handle_time": 60.0}},
        callback={
            "offer_when_wait_over": "30s",
            "accept": 1.0,
            "dial_time": "15s",
            "answer_probability": 1.0,
        },
        costs={"line_per_minute": 1.0, "waiting_minute": 1.0},
    )
    result = run(scenario_from_dict(data))
    assert summary(result)["callbacks_accepted"] == 1
    costs = summary(result)["costs"]
    assert costs["lines"] == pytest.approx((600 + 135) / 60, rel=1e-12)
    assert costs["waiting"] == 0.0


def test_wages_per_pool_count_paid_time_with_shrinkage() -> None:
    """Two rostered in billing at 20/h with 50% shrinkage (one available, both paid) and one generalist at
    30/h (`by_pool`), no calls, over 4 h: 2 x 4 x 20 + 1 x 4 x 30; a constant count has no overtime."""
    data = day(
        arrivals={"per_hour": 0},
        departments={"billing": {"agents": 2, "handle_time": 60.0, "shrinkage": 0.5}},
        agent_groups={"generalists": {"agents": 1, "skills": {"billing": 1}}},
        costs={**PRICES, "by_pool": {"generalists": {"wage_per_hour": 30.0}}},
    )
    figures = summary(simulate(scenario_from_dict(data)))
    assert figures["costs"]["wages"] == pytest.approx(2 * 4 * 20.0 + 4 * 30.0, rel=1e-12)
    assert figures["costs"]["overtime"] == 0.0
    assert figures["by_department"]["billing"]["wages"] == pytest.approx(160.0, rel=1e-12)
    assert figures["by_group"]["generalists"]["wages"] == pytest.approx(120.0, rel=1e-12)
    assert figures["paid_hours"] == pytest.approx(12.0, rel=1e-12)


def test_absent_agents_are_paid_and_a_constant_count_has_no_overtime() -> None:
    """Both rostered agents absent (probability 1): nobody logs in, yet both are paid for the 4 hours."""
    data = day(
        arrivals={"per_hour": 0},
        departments={"billing": {"agents": 2, "handle_time": 60.0}},
        absence={"probability": 1.0},
        costs={"wage_per_hour": 10.0, "overtime": {"after": "3h"}},
    )
    figures = summary(simulate(scenario_from_dict(data)))
    assert figures["absent_agents"] == 2
    assert figures["costs"]["wages"] == pytest.approx(2 * 4 * 10.0, rel=1e-12)
    assert figures["costs"]["overtime"] == 0.0


def test_overtime_of_shifts_night_shifts_and_a_named_agents_day(tmp_path: Path) -> None:
    shifts = {"shifts": [{"start": "06:00", "end": "16:00", "count": 2}]}
    data = day(start="08:00", departments={"billing": {"agents": shifts, "handle_time": 60.0}})
    eight_hours = 8 * 3600.0
    for duration, expected in (("6h", 0.0), ("10h", 2 * 2 * 3600.0), ("7h", 2 * 3600.0)):  # 14:00-16:00 x 2
        scenario = scenario_from_dict({**data, "duration": duration})
        assert overtime_seconds(scenario, "billing", eight_hours) == pytest.approx(expected), duration
    night = {"shifts": [{"start": "22:00", "end": "07:00", "count": 1}]}  # 9 h: 06:00-07:00 is overtime
    data = day(start="00:00", duration="24h", departments={"billing": {"agents": night, "handle_time": 60.0}})
    assert overtime_seconds(scenario_from_dict(data), "billing", eight_hours) == pytest.approx(3600.0)
    late = scenario_from_dict({**data, "warmup": "6.5h"})  # the counted day starts at 06:30
    assert overtime_seconds(late, "billing", eight_hours) == pytest.approx(1800.0)
    # ann works 06:00-10:00 and 13:00-19:00 (10 h: 17:00-19:00 past 8 h); an unnamed row of 2 works 08:00-18:00
    (tmp_path / "agents.csv").write_text(
        "agent,start,end,count\nann,13:00,19:00,1\n,08:00,18:00,2\nann,06:00,10:00,1\n", encoding="utf-8"
    )
    data = day(
        start="06:00",
        duration="13h",
        departments={"billing": {"agents": {"file": "agents.csv"}, "handle_time": 60.0}},
    )
    scenario = scenario_from_dict(data, base_dir=tmp_path)
    assert overtime_seconds(scenario, "billing", eight_hours) == pytest.approx(2 * 3600.0 + 2 * 2 * 3600.0)


@pytest.mark.parametrize(
    ("costs", "path", "words"),
    [
        ({"wage_per_hour": -1}, "costs.wage_per_hour", "must be >= 0"),
        ({"waiting_minute": True}, "costs.waiting_minute", "boolean"),
        ({"overtime": {"after": "8h", "factor": 0.5}}, "costs.overtime.factor", "must be >= 1"),
        ({"overtime": {"after": "30h"}}, "costs.overtime.after", "at most a day"),
        ({"by_pool": {"nobody": {"wage_per_hour": 3}}}, "costs.by_pool.nobody", "no such department"),
        ({"wages": 3}, "costs.wages", "unknown key"),
    ],
)
def test_bad_prices_are_refused_at_their_path(costs: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(day(costs=costs))
    problems = {problem.path: problem.message for problem in caught.value.problems}
    assert path in problems, problems
    assert words in problems[path]


def test_without_costs_the_tables_are_the_same_and_no_cost_is_reported() -> None:
    data = day(arrivals={"per_hour": 90}, departments={"billing": {"agents": 2, "handle_time": 60.0}})
    with_costs = simulate(scenario_from_dict(data), seed=3)
    without = simulate(scenario_from_dict({k: v for k, v in data.items() if k != "costs"}), seed=3)
    pd.testing.assert_frame_equal(calls_table(with_costs), calls_table(without))
    pd.testing.assert_frame_equal(visits_table(with_costs), visits_table(without))
    plain, priced = summary(without), summary(with_costs)
    assert "costs" not in plain and "cost" not in plain["by_department"]["billing"]
    assert priced["costs"]["wages"] == pytest.approx(2 * 4 * 20.0, rel=1e-12)
    priced.pop("costs")
    for name in ("cost", "wages", "overtime", "waiting_cost", "abandonment_cost"):
        priced["by_department"]["billing"].pop(name)
    assert json.dumps(priced, sort_keys=True, default=str) == json.dumps(plain, sort_keys=True, default=str)


def test_a_run_with_costs_shows_them_in_the_console_summary_and_report(tmp_path: Path) -> None:
    scenario = tmp_path / "priced.yaml"
    scenario.write_text(yaml.safe_dump(day()), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    total = 80 + 10 + 690 / 60 * 0.02 + 3 + 230 / 60 * 0.1
    assert f"total cost │ {total:,.2f}" in text
    assert "overtime premium │ 10.00" in text
    saved = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert saved["costs"]["total"] == pytest.approx(total, rel=1e-12)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Costs (money in EUR): wage 20 EUR per paid hour" in html
    assert f"<td>{total:,.2f}</td>" in html


def test_staff_prices_its_plan_at_the_wage(tmp_path: Path) -> None:
    """`callsim staff` on a priced scenario: the plan's wage bill is its agent-hours x the wage (the fewest
    agents per interval are the cheapest plan), in the console and summary.json."""
    data = day(
        arrivals={"per_interval": [40, 60]},
        duration="1h",
        patience={"dist": "exponential", "mean": "3m"},
        departments={"billing": {"agents": 3, "handle_time": {"dist": "exponential", "mean": "4m"}}},
        costs={"currency": "EUR", "wage_per_hour": 25.0},
    )
    scenario = tmp_path / "priced.yaml"
    scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    folder = tmp_path / "plan"
    arguments = ["staff", str(scenario), "--target", "service_level=0.8", "--reps", "4"]
    arguments += ["--confirm-reps", "2", "--jobs", "1", "--out", str(folder)]
    result = CliRunner().invoke(app, arguments, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    saved = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    hours = saved["agent_hours"]["simulated"]["total"]
    assert hours > 0
    assert saved["wages"]["simulated"]["total"] == pytest.approx(25.0 * hours, rel=1e-12)
    assert f"wages (EUR): simulated {25.0 * hours:,.2f}" in " ".join(result.output.split())
