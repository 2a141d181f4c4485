"""`compare` judges each run against its own scenario's goals (issue 18.2: every view marks each goal met or
missed): the verdicts are read back from summary.json here and judged by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim.cli.app as cli
from sim.output.compare import compare, comparison_json
from sim.output.compare_goals import goal_comparison
from sim.output.saved import load_run
from tests.report_runs import better_run, replicated_run


def _by_hand(summary: dict, scope: str, target: float) -> tuple[float, str]:
    """A service-level floor judged from summary.json directly."""
    source = summary if scope == "all" else summary["by_department"][scope]
    value = float(source["service_level"])
    return value, "met" if value >= target else "missed"


def test_each_run_is_judged_against_its_own_goals() -> None:
    a, b = load_run(replicated_run()), load_run(better_run())
    frame = goal_comparison(a, b)
    assert set(frame["scope"]) == {"all", *a.scenario.departments}
    service = frame[frame["goal"] == "service_level"]
    assert len(service) == len(frame["scope"].unique())
    for row in service.to_dict(orient="records"):
        for side, run in (("a", a), ("b", b)):
            value, verdict = _by_hand(run.summary, row["scope"], run.scenario.service_level.target)
            assert row[f"{side}_value"] == pytest.approx(value)
            assert row[f"{side}_verdict"] == verdict
    record = comparison_json(compare(a, b))
    assert record["goals"] == frame.to_dict(orient="records")


def test_compare_prints_the_goals_table(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        cli.app, ["compare", str(replicated_run()), str(better_run()), "--out", str(tmp_path / "c")]
    )
    assert done.exit_code == 0, done.output
    assert "goals: A and B each against its scenario's goals" in done.output
    written = json.loads((tmp_path / "c" / "comparison.json").read_text(encoding="utf-8"))
    verdicts = {row["a_verdict"] for row in written["goals"]} | {row["b_verdict"] for row in written["goals"]}
    assert verdicts <= {"met", "missed", "no calls"} and verdicts
    for row in written["goals"]:
        if row["goal"] == "service_level":
            shown = f"{100 * row['a_value']:.1f}% {row['a_verdict']}"
            assert shown in done.output
