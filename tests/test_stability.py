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


def test_the_plain_python_check_agrees_with_the_numpy_one() -> None:
    """`callsim validate` judges a common scenario without numpy (`_plain_overloads`); on every such case the
    overloads found, their loads and their agents are those of the numpy check (`_array_overloads`)."""
    from sim.analysis.stability import _array_overloads, _plain_overloads

    night = {"shifts": [{"start": "22:00", "end": "06:00", "count": 2}, {"start": "05:00", "end": "13:00", "count": 3}]}
    six = {
        "duration": "6h",
        "arrivals": {"per_interval": [5, 60, 120, 200, 90, 10]},
        "departments": {"billing": {"agents": {"per_interval": [6, 4, 9, 15, 9, 1]}, "handle_time": "5m"}},
    }
    two_departments = {
        **six,
        "arrivals": {"per_hour": 90, "reasons": {"billing": 0.7, "technical": 0.3}},
        "departments": {
            "billing": {"agents": 3, "handle_time": "4m"},
            "technical": {"agents": {"per_interval": [1, 2, 0, 4, 2, 1]}, "handle_time": "6m", "wrap_time": "30s"},
        },
        "agent_groups": {"flex": {"agents": night, "skills": {"technical": 1}}},
    }
    cases = [
        day(),
        day(**six),
        day(**two_departments),
        day(duration="3d", start="00:00", arrivals={"per_hour": 40},
            departments={"billing": {"agents": night, "handle_time": "4m"}}),
        day(**{**six, "arrivals": {"per_interval_by_reason": {"billing": [10, 20, 30, 90, 30, 20]}}},
            ring={"cycle": "6s", "rings": 2}),
    ]
    judged = 0
    for data in cases:
        scenario = scenario_from_dict(data)
        plain = _plain_overloads(scenario)
        assert plain is not None
        expected = _array_overloads(scenario)
        assert [(o.where, o.start_at, o.end_at) for o in plain] == [
            (o.where, o.start_at, o.end_at) for o in expected
        ]
        for mine, theirs in zip(plain, expected, strict=True):
            assert mine.load == pytest.approx(theirs.load, rel=1e-12)
            assert mine.agents == pytest.approx(theirs.agents, rel=1e-12)
        judged += len(expected)
    assert judged >= 5  # the cases do find overloads to compare
    trace = day(arrivals={"trace_times": [1.0, 2.0], "trace_reasons": ["billing", "billing"]})
    assert _plain_overloads(scenario_from_dict(trace)) is None  # left to the numpy check
