"""Unstable days: infinite patience with load at or over the agents is warned about before the run (with
the load), and the run still ends at the close plus the drain, with the callers left counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.stability import overloads
from sim.analysis.tables import calls_table
from sim.cli.app import app
from sim.engine.day import simulate
from sim.model.loading import scenario_from_dict


def day(**changes: Any) -> dict[str, Any]:
    """Two hours at 60 calls an hour, 5-minute calls (5 erlangs), callers who never hang up."""
    data: dict[str, Any] = {
        "name": "unstable",
        "start": "09:00",
        "duration": "2h",
        "interval": "1h",
        "drain": "1h",
        "ring": {"cycle": "6s", "rings": 0},
        "arrivals": {"per_interval": [60, 60]},
        "departments": {"billing": {"agents": {"per_interval": [6, 4]}, "handle_time": "5m"}},
    }
    data.update(changes)
    return data


def test_the_overloaded_interval_is_found_with_its_load() -> None:
    found = overloads(scenario_from_dict(day()))
    assert [(o.where, o.start_at, o.agents) for o in found] == [("billing", 3600.0, 4.0)]
    assert found[0].load == pytest.approx(5.0)
    assert (
        found[0].describe(scenario_from_dict(day()))
        == "billing 10:00-11:00: load 5.0 erlangs on 4 agents (125%)"
    )


def test_load_exactly_at_capacity_is_unstable_too() -> None:
    exact = day(departments={"billing": {"agents": 5, "handle_time": "5m"}})
    assert [o.start_at for o in overloads(scenario_from_dict(exact))] == [0.0, 3600.0]


def test_patience_or_enough_agents_make_it_stable() -> None:
    assert overloads(scenario_from_dict(day(patience={"dist": "exponential", "mean": "3m"}))) == []
    enough = day(departments={"billing": {"agents": 6, "handle_time": "5m"}})
    assert overloads(scenario_from_dict(enough)) == []


def test_agent_groups_are_judged_with_the_whole_centre() -> None:
    data = day(
        arrivals={"per_interval": [60, 60], "reasons": {"billing": 0.5, "sales": 0.5}},
        departments={
            "billing": {"agents": 2, "handle_time": "5m"},
            "sales": {"agents": 2, "handle_time": "5m"},
        },
        agent_groups={"floaters": {"agents": 1, "skills": {"billing": 1, "sales": 1}}},
    )
    found = overloads(scenario_from_dict(data))
    assert {o.where for o in found} == {"the centre"}
    assert [o.agents for o in found] == [5.0, 5.0]


def test_the_cli_warns_before_running_and_the_run_ends_at_close_plus_drain(tmp_path: Path) -> None:
    path = tmp_path / "unstable.yaml"
    path.write_text(yaml.safe_dump(day()))
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "warning: callers never hang up" in said
    assert "billing 10:00-11:00: load 5.0 erlangs on 4 agents (125%)" in said
    validated = CliRunner().invoke(app, ["validate", str(path)])
    assert validated.exit_code == 0 and "load 5.0 erlangs" in " ".join(validated.output.split())


def test_a_hopeless_day_stops_at_the_drain_limit_with_callers_left() -> None:
    hopeless = day(departments={"billing": {"agents": 1, "handle_time": "5m"}})
    result = simulate(scenario_from_dict(hopeless))
    assert result.ended_at == 3 * 3600.0
    calls = calls_table(result)
    left = calls[calls["outcome"] == "in_system"]
    assert len(left) > 0
    served = (calls["outcome"] == "answered").sum()
    assert served <= 3 * 3600 / 300 + 1  # one agent, 5-minute calls, three hours at most
