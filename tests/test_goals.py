"""Service goals (`goals:`): verdicts decided once (`sim.analysis.goals`) and shown the same everywhere.

The bug this guards: on one run of busy-day the console counted 8 missed intervals (departments only), the
report's headline 1 (all calls only) and the report's intervals section 9 (both). Now each view counts the
missed interval cells of `sim.analysis.goals.missed_cells`."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.goals import interval_verdicts, judged_cells, missed_cells, summary_verdicts
from sim.cli.app import app
from sim.experiments.staffing.targets import Targets, parse_targets
from sim.model.loading import ScenarioError, scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import ROOT

BUSY = ROOT / "scenarios" / "busy-day.yaml"
GOALS = {
    "service_level": 0.8,
    "abandon_rate": 0.05,
    "asa": "20s",
    "occupancy": [0.5, 0.95],
    "departments": {"technical": {"service_level": 0.85, "asa": "10s"}},
}
COUNT = re.compile(r"(\d+)\s+of\s+(\d+)\s+interval\s+cells")


def busy(goals: dict[str, Any] | None = None) -> dict[str, Any]:
    data = yaml.safe_load(BUSY.read_text(encoding="utf-8"))
    if goals is not None:
        data["goals"] = goals
    return data


def scenario(goals: dict[str, Any] | None = None) -> Scenario:
    return scenario_from_dict(busy(goals), base_dir=BUSY.parent)


def run_cli(path: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def counts(out: Path, console: str) -> dict[str, tuple[int, int]]:
    """The (missed, judged) interval-cell counts of the console, the report's headline and intervals section."""
    page = (out / "report.html").read_text(encoding="utf-8")
    headline = page.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    section = page.split('<section id="intervals">', 1)[1].split("</section>", 1)[0]
    found = {}
    for view, text in (("console", console), ("headline", headline), ("section", section)):
        match = COUNT.search(text)
        found[view] = (int(match[1]), int(match[2])) if match else (0, -1)
    return found


@pytest.mark.parametrize("reps", [1, 3])
def test_console_headline_and_section_count_the_same_missed_intervals(tmp_path, reps):
    out = tmp_path / "run"
    console = run_cli(BUSY, out, "--reps", str(reps), "--jobs", "1")
    found = counts(out, console)
    assert found["console"][0] > 0  # busy-day misses some: the counts below are not all zero
    assert found["console"] == found["headline"] == found["section"], found
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "goals" not in summary  # no `goals` block: summary.json as it always was


def _table() -> pd.DataFrame:
    nan = math.nan
    rows = [
        # interval, start, department, kind, offered, service_level, abandon_rate, asa, occupancy
        (0, "08:00", "all", "all", 10, 0.85, 0.02, 15.0, 0.70),
        (0, "08:00", "billing", "department", 5, 0.85, 0.05, 25.0, 0.96),
        (0, "08:00", "technical", "department", 5, 0.90, 0.00, 11.0, 0.80),
        (0, "08:00", "sales", "department", 0, nan, nan, nan, 0.10),
        (0, "08:00", "flex", "group", 0, nan, nan, nan, 0.99),
        (1, "08:30", "all", "all", 4, 0.80, 0.10, nan, 0.60),
        (1, "08:30", "billing", "department", 2, 0.95, 0.00, 20.0, 0.90),
        (1, "08:30", "technical", "department", 1, 0.85, 0.00, 10.0, 0.50),
        (1, "08:30", "sales", "department", 1, 0.50, 0.00, 5.0, nan),
    ]
    columns = ["interval", "start", "department", "kind", "offered", "service_level", "abandon_rate", "asa"]
    return pd.DataFrame(rows, columns=[*columns, "occupancy"])


def test_verdicts_of_a_hand_made_interval_table():
    verdicts = interval_verdicts(_table(), scenario(GOALS))
    table = verdicts.set_index(["interval", "scope", "goal"])["verdict"]
    expected = {
        (0, "all"): ("met", "met", "met", "met"),
        (0, "billing"): ("met", "met", "missed", "missed"),  # 25s > 20s; 96% above the band
        (0, "technical"): ("met", "met", "missed", "met"),  # its own ASA goal: 11s > 10s
        (0, "sales"): ("no calls",) * 4,
        (1, "all"): ("met", "missed", "missed", "met"),  # SL exactly 80%: met; no call answered: no ASA
        (1, "billing"): ("met", "met", "met", "met"),  # ASA exactly 20s, occupancy exactly 90%: met
        (1, "technical"): ("met", "met", "met", "met"),  # its own SL goal 85%: exactly met
        (1, "sales"): ("missed", "met", "met", "missed"),  # no agent occupancy although calls came
    }
    goals = ("service_level", "abandon_rate", "asa", "occupancy")
    for (interval, scope), wanted in expected.items():
        got = tuple(table[(interval, scope, goal)] for goal in goals)
        assert got == wanted, (interval, scope)
    assert "flex" not in set(verdicts["scope"])  # agent groups are never judged
    cells = missed_cells(verdicts)
    assert list(zip(cells["interval"], cells["scope"], strict=True)) == [
        (0, "billing"),
        (0, "technical"),
        (1, "all"),
        (1, "sales"),
    ]
    assert cells["what"].tolist()[0] == "ASA 25.0s, occupancy 96.0%"
    assert judged_cells(verdicts) == 7  # eight cells, sales had no calls at 08:00


def test_departments_without_own_goals_keep_the_default_service_level_target():
    verdicts = interval_verdicts(_table(), scenario())
    assert set(verdicts["goal"]) == {"service_level"}
    cells = missed_cells(verdicts)
    assert list(zip(cells["interval"], cells["scope"], strict=True)) == [(1, "sales")]


def test_replicated_day_verdict_is_of_the_mean_with_the_share_of_days_and_the_ci():
    days = [{"offered": 100, "service_level": level} for level in (0.75, 0.85, 0.86)]
    mean = {"offered": 100, "service_level": float(np.mean([0.75, 0.85, 0.86])), "ci95": {"service_level": 0.14}}
    entry = summary_verdicts(mean, scenario({"service_level": 0.8}), days)["all"]["service_level"]
    assert entry["verdict"] == "met"
    assert entry["replications_met"] == pytest.approx(2 / 3)
    assert entry["within_ci"] is True  # 0.82 ± 0.14 straddles 0.8: a met that more days could turn
    narrow = summary_verdicts({**mean, "ci95": {"service_level": 0.01}}, scenario({"service_level": 0.8}), days)
    assert narrow["all"]["service_level"]["within_ci"] is False


def test_goals_by_department_show_the_same_count_in_console_summary_and_report(tmp_path):
    path = tmp_path / "goals.yaml"
    path.write_text(yaml.safe_dump(busy({**GOALS, "asa": "3s"})), encoding="utf-8")
    out = tmp_path / "run"
    console = run_cli(path, out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["goals"]
    found = counts(out, console)
    assert found["console"] == found["headline"] == found["section"]
    assert found["console"] == (summary["missed_cells"], summary["interval_cells"])
    assert any("ASA" in name for name in summary["missed"])  # the ASA goal, not only the service level
    assert set(summary["day"]) == {"all", "billing", "technical", "sales"}
    assert summary["day"]["technical"]["service_level"]["goal"] == ">= 85%"
    assert "service goals (day)" in console
    assert 'id="goals"' in (out / "report.html").read_text(encoding="utf-8")


def test_staff_takes_the_scenario_goals_when_no_target_is_given():
    given = scenario(GOALS)
    found = parse_targets([], [], given)
    # the strictest of all for the centre as a whole; each department judged by its own goals
    assert (found.floors, found.ceilings) == ({"service_level": 0.85}, {"abandon_rate": 0.05, "asa": 10.0})
    assert found.of("technical") == Targets({"service_level": 0.85}, {"abandon_rate": 0.05, "asa": 10.0})
    assert found.of("billing") == Targets({"service_level": 0.8}, {"abandon_rate": 0.05, "asa": 20.0})
    assert found.of("sales") == found.of("billing")
    assert "technical: service_level >= 0.85" in found.describe()
    assert parse_targets(["service_level=0.7"], [], given) == Targets({"service_level": 0.7}, {})
    assert parse_targets([], [], scenario()) == Targets({"service_level": 0.8}, {})


def refused(goals: dict[str, Any], **changes: Any) -> dict[str, str]:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict({**busy(goals), **changes}, base_dir=BUSY.parent)
    return {problem.path: problem.message for problem in caught.value.problems}


def test_bad_goals_are_refused_at_their_yaml_path():
    assert "low <= high" in refused({"occupancy": [0.9, 0.7]})["goals.occupancy"]
    assert "no such department" in refused({"departments": {"billling": {"asa": "20s"}}})["goals.departments.billling"]
    assert "goals.departments.sales.abandon_rate" in refused({"departments": {"sales": {"abandon_rate": 1.5}}})
    assert "goals.service_level" in refused({"service_level": -0.1})
    assert "one place" in refused({"service_level": 0.9})["goals.service_level"]  # service_level.target 0.8
    assert "goals.colour" in refused({"colour": 1})


def test_a_goal_set_only_in_goals_becomes_the_service_level_target():
    data = busy({"service_level": 0.9})
    del data["service_level"]["target"]
    loaded = scenario_from_dict(data, base_dir=BUSY.parent)
    assert loaded.service_level.target == 0.9


def test_callsim_staff_searches_for_the_scenario_goals(tmp_path, monkeypatch):
    """The plumbing from the CLI to the search, without running the search."""
    import sim.cli.staff
    from sim.experiments.staffing import StaffingError

    seen: list[Targets] = []

    def search(base: Scenario, goals: Targets, *args: Any, **kwargs: Any) -> None:
        seen.append(goals)
        raise StaffingError("stopped by the test")

    monkeypatch.setattr(sim.cli.staff, "search", search)
    path = tmp_path / "goals.yaml"
    path.write_text(yaml.safe_dump(busy(GOALS)), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["staff", str(path), "--out", str(tmp_path / "plan")], catch_exceptions=False)
    assert result.exit_code == 2
    given = ["staff", str(path), "--max", "asa=60s", "--out", str(tmp_path / "plan")]
    runner.invoke(app, given, catch_exceptions=False)
    own = Targets({"service_level": 0.8}, {"abandon_rate": 0.05, "asa": 20.0})
    technical = Targets({"service_level": 0.85}, {"abandon_rate": 0.05, "asa": 10.0})
    assert seen == [
        Targets(
            {"service_level": 0.85},
            {"abandon_rate": 0.05, "asa": 10.0},
            departments={"billing": own, "technical": technical, "sales": own},
        ),
        Targets({"service_level": 0.8}, {"asa": 60.0}),  # an option given: the scenario's goals step aside
    ]
