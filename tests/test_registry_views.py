"""Views that read the KPI registry (`sim/analysis/kpis.py`) instead of writing KPI names, units and
directions out again: relabel or re-unit a KPI in the registry and the console's department and group
tables, the sweep's terminal summary and the staffing search's targets follow."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import pytest
from rich.console import Console

from sim.analysis import kpis
from sim.experiments.staffing import targets as staffing_targets


def _patched_department(monkeypatch: pytest.MonkeyPatch, key: str, **changes: Any) -> None:
    table = dict(kpis._BY_DEPARTMENT_KEY)
    table[key] = dataclasses.replace(table[key], **changes)
    monkeypatch.setattr(kpis, "_BY_DEPARTMENT_KEY", table)


def _patched(monkeypatch: pytest.MonkeyPatch, key: str, **changes: Any) -> None:
    table = dict(kpis._BY_KEY)
    table[key] = dataclasses.replace(table[key], **changes)
    monkeypatch.setattr(kpis, "_BY_KEY", table)


def _text(table: Any) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


SUMMARY = {
    "by_department": {
        "billing": {
            "visits": 10,
            "answered": 9,
            "abandoned": 1,
            "service_level": 0.8,
            "asa": 12.5,
            "occupancy": 0.75,
        },
    },
    "by_group": {"floor": {"occupancy": 0.5, "handled": {"billing": 4}}},
}


def test_the_console_department_and_group_tables_follow_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.output.console import department_table, group_table

    before = _text(department_table(SUMMARY))
    assert "ASA" in before and "12.5s" in before and "75.0%" in before
    _patched_department(monkeypatch, "asa", label="time to answer", unit="h")
    _patched_department(monkeypatch, "occupancy", label="busy share")
    after = _text(department_table(SUMMARY))
    assert "time to answer" in after and "12.5h" in after and "ASA" not in after
    assert "busy share" in after and "busy share" in _text(group_table(SUMMARY))


def test_the_sweep_summary_follows_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.cli.sweep import summary_table

    plan = type("Plan", (), {"keys": ["departments.billing.agents"], "points": []})()
    table = pd.DataFrame(
        [
            {
                "departments.billing.agents": 8,
                "reps": 2,
                "error": None,
                "abandon_rate": 0.05,
                "abandon_rate_ci95": 0.01,
                "asa": 20.0,
                "asa_ci95": 2.0,
            }
        ]
    )
    plan.points = [type("Point", (), {"settings": {"departments.billing.agents": "8"}})()]
    shown = _text(summary_table(plan, table))  # type: ignore[arg-type]
    assert kpis.kpi("abandon_rate").console_label in shown and "5.0% ± 1.0%" in shown
    _patched(monkeypatch, "abandon_rate", label="hung up", short="")
    _patched(monkeypatch, "asa", unit="%")
    shown = _text(summary_table(plan, table))  # type: ignore[arg-type]
    assert "hung up" in shown and "2000.0% ± 200.0%" in shown


def test_staffing_floors_and_ceilings_are_the_registrys_directions() -> None:
    for key in staffing_targets.FLOORS:
        assert kpis.kpi(key).better > 0, key
    for key in staffing_targets.CEILINGS:
        assert kpis.kpi(key).better < 0, key
    assert "service_level" in staffing_targets.FLOORS and "abandon_rate" in staffing_targets.CEILINGS
    judged = set(staffing_targets.FLOORS) | set(staffing_targets.CEILINGS)
    assert judged == {key for key in staffing_targets.FIGURES if kpis.kpi(key).better != 0}


def test_the_reports_headline_cards_follow_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.output.report import headline_section
    from sim.output.report_format import number
    from sim.output.saved import load_run
    from tests.report_runs import single_run

    run = load_run(single_run())
    assert kpis.kpi("abandon_rate").label in headline_section(run)
    _patched(monkeypatch, "abandon_rate", label="callers who gave up")
    _patched(monkeypatch, "agent_hours", unit="s")
    shown = headline_section(run)
    assert "callers who gave up" in shown and kpis.kpi("asa").label in shown
    assert (
        number(run.summary["agent_hours"], "s") in shown
        and number(run.summary["agent_hours"], "h") not in shown
    )
