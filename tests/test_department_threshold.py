"""A department's own service-level threshold (`goals.departments.NAME.threshold`, issue 19.1).

A chat desk promising a first response within 60 s in a centre whose phones promise 20 s: each visit is judged
against its department's threshold, each contact's headline wait against its first department's, the centre's
`service_level.threshold` the default. Checked against:
- an independent numpy count on the visits table (summary by department, by channel, interval rows);
- theory: a voice department and a chat desk with one slot and no slow-down, each M/M/c+M on its own Poisson
  share of the arrivals: the chat department's service level against Erlang A's P(answered within 60 s), the
  voice one's against P(within 20 s), with the Student-t tolerance of tests/test_theory.py;
- the goal verdicts, the staffing search's department figures and its Erlang starting point;
- bad input refused at its YAML path; a threshold equal to the centre's changes no table.
"""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.analysis import erlang
from sim.analysis.goals import interval_verdicts, missed_cells, summary_verdicts
from sim.analysis.intervals import interval_table
from sim.analysis.load import queue_models
from sim.analysis.metrics import counted, counted_rows, offered_calls
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.analysis.week import week_calls
from sim.engine.day import simulate
from sim.experiments.runner import parallel_map
from sim.experiments.staffing.figures import department_figures
from sim.experiments.week import simulate_week
from sim.model.loading import ScenarioError, scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import ROOT
from tests.test_erlang import Model
from tests.test_theory import ALPHA, BIAS_SHARE, start_bias

PHONE_PER_HOUR, WEB_PER_HOUR = 50.0, 70.0
PHONE_AGENTS, WEB_AGENTS = 4, 8
PHONE_HANDLE, WEB_HANDLE, PATIENCE = 240.0, 360.0, 180.0
CENTRE, CHAT = 20.0, 60.0


def centre(
    web_threshold: Any = "60s", hours: float = 8.0, warmup: float = 0.0, **goals: Any
) -> dict[str, Any]:
    """Phones (voice, the centre's 20 s) and web chat (one slot, no slow-down) as raw YAML data; the web
    department's own threshold `web_threshold` (None: none)."""
    total = PHONE_PER_HOUR + WEB_PER_HOUR
    web_goals: dict[str, Any] = {"service_level": 0.8, **goals}
    if web_threshold is not None:
        web_goals["threshold"] = web_threshold
    return {
        "name": "two-promises",
        "seed": 11,
        "duration": f"{warmup + hours}h",
        "warmup": f"{warmup}h",
        "interval": "1h",
        "service_level": {"threshold": f"{CENTRE:g}s", "target": 0.8},
        "arrivals": {
            "per_hour": total,
            "reasons": {"phone": PHONE_PER_HOUR / total, "web": WEB_PER_HOUR / total},
        },
        "patience": {"dist": "exponential", "mean": PATIENCE},
        "departments": {
            "phone": {"agents": PHONE_AGENTS, "handle_time": {"dist": "exponential", "mean": PHONE_HANDLE}},
            "web": {
                "channel": "chat",
                "agents": WEB_AGENTS,
                "handle_time": {"dist": "exponential", "mean": WEB_HANDLE},
            },
        },
        "goals": {"departments": {"web": web_goals}},
    }


def _visits(result: Any) -> pd.DataFrame:
    calls = offered_calls(counted(result, calls_table(result)))
    return counted_rows(visits_table(result), calls["call_id"])


def _within(visits: pd.DataFrame, threshold: float) -> float:
    """Independently: answered visits within `threshold` of joining the queue / visits (no callbacks, no
    blocking in this centre)."""
    quick = visits["answered"].to_numpy(dtype=bool) & (
        visits["time_to_answer"].to_numpy(dtype=float) <= threshold
    )
    return float(quick.sum() / len(visits))


@pytest.fixture(scope="module")
def day() -> tuple[Scenario, Any]:
    scenario = scenario_from_dict(centre())
    return scenario, simulate(scenario, 3)


def test_each_department_is_judged_at_its_own_threshold(day: tuple[Scenario, Any]) -> None:
    _, result = day
    kpis = summary(result)
    visits = _visits(result)
    web = visits[(visits["department"] == "web").to_numpy()]
    phone = visits[(visits["department"] == "phone").to_numpy()]
    assert len(web) > 100 and len(phone) > 200
    assert kpis["by_department"]["web"]["service_level"] == pytest.approx(_within(web, CHAT), abs=1e-12)
    assert kpis["by_department"]["phone"]["service_level"] == pytest.approx(_within(phone, CENTRE), abs=1e-12)
    assert _within(web, CHAT) > _within(web, CENTRE) + 0.02  # the threshold makes a difference here
    # each channel holds one department here: within each department's own threshold
    assert kpis["by_channel"]["chat"]["service_level"] == pytest.approx(_within(web, CHAT), abs=1e-12)
    assert kpis["chat_service_level"] == pytest.approx(_within(web, CHAT), abs=1e-12)
    assert kpis["voice_service_level"] == pytest.approx(_within(phone, CENTRE), abs=1e-12)
    assert kpis["service_level"] == pytest.approx(_within(phone, CENTRE), abs=1e-12)  # the voice headline


def test_interval_rows_goal_verdicts_and_the_staffing_figures_use_it(day: tuple[Scenario, Any]) -> None:
    _, result = day
    table = interval_table(result)
    visits = _visits(result)
    hour = np.clip((visits["queued_at"].to_numpy(dtype=float) // 3600).astype(int), 0, 7)
    web_visit = (visits["department"] == "web").to_numpy()
    expected = [_within(visits[web_visit & (hour == i)], CHAT) for i in range(8)]
    rows = table[(table["kind"] == "department") & (table["department"] == "web")]
    np.testing.assert_allclose(rows["service_level"].to_numpy(dtype=float), expected, atol=1e-12)
    # the chat channel's rows: its contacts (calls table) by the hour they arrived, first response in 60 s
    calls = offered_calls(counted(result, calls_table(result)))
    chats = calls[(calls["first_department"] == "web").to_numpy()]
    arrived = np.clip((chats["arrived_at"].to_numpy(dtype=float) // 3600).astype(int), 0, 7)
    quick = (chats["outcome"] == "answered").to_numpy() & (
        chats["time_to_answer"].to_numpy(dtype=float) <= CHAT
    )
    expected = [quick[arrived == i].mean() for i in range(8)]
    channel = table[(table["kind"] == "channel") & (table["department"] == "chat")]
    np.testing.assert_allclose(channel["service_level"].to_numpy(dtype=float), expected, atol=1e-12)
    # the staffing search's figures: the department rows, at the department's threshold
    figures = department_figures(result)
    mine = figures[figures["department"] == "web"]["service_level"].to_numpy(dtype=float)
    rows = table[(table["kind"] == "department") & (table["department"] == "web")]
    np.testing.assert_allclose(mine, rows["service_level"].to_numpy(dtype=float), atol=1e-12)
    # a verdict at 60 s where 20 s would miss: the goal 0.8 sits between the two service levels
    web = visits[(visits["department"] == "web").to_numpy()]
    goal = (_within(web, CHAT) + _within(web, CENTRE)) / 2
    judged = scenario_from_dict(centre(service_level=goal))
    verdict = summary_verdicts(summary(result), judged)["web"]["service_level"]
    assert verdict["verdict"] == "met" and verdict["goal"].endswith("within 60s")
    blunt = scenario_from_dict(centre(None, service_level=goal))
    assert summary_verdicts(summary(simulate(blunt, 3)), blunt)["web"]["service_level"]["verdict"] == "missed"
    # per interval: a web cell misses exactly where its 60 s service level is under the goal
    cells = missed_cells(interval_verdicts(table, judged))
    web_missed = set(cells[cells["scope"] == "web"]["interval"])
    level = rows["service_level"].to_numpy(dtype=float)
    assert web_missed == {i for i in range(8) if level[i] < goal - 1e-12}  # its one goal: the service level
    assert 0 < len(web_missed) < 8 or abs(level - goal).min() > 0.05  # cells on either side, where any


def test_the_erlang_starting_point_uses_the_department_threshold() -> None:
    models = queue_models(scenario_from_dict(centre()))
    assert models["web"].threshold == CHAT  # a chat does not ring: the first response is the wait
    assert models["phone"].threshold == CENTRE  # no ring by default


def test_a_threshold_equal_to_the_centre_changes_no_table() -> None:
    """The per-row path (an array of thresholds) and the scalar path give the same tables."""
    plain = simulate(scenario_from_dict(centre(None)), 5)
    same = simulate(scenario_from_dict(centre(f"{CENTRE:g}s")), 5)
    assert json.dumps(summary(same), sort_keys=True, default=str) == json.dumps(
        summary(plain), sort_keys=True, default=str
    )
    pd.testing.assert_frame_equal(interval_table(same), interval_table(plain))


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"web_threshold": "-5s"}, r"goals\.departments\.web\.threshold", ""),
        ({"web_threshold": "soon"}, r"goals\.departments\.web\.threshold", ""),
        ({"web_threshold": True}, r"goals\.departments\.web\.threshold", ""),
    ],
)
def test_a_bad_threshold_is_refused_at_its_path(change: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(centre(**change))
    assert re.search(path, str(caught.value)), str(caught.value)


def test_a_threshold_for_an_unknown_or_email_department_is_refused() -> None:
    data = centre()
    data["goals"]["departments"]["webchat"] = {"threshold": "60s"}
    with pytest.raises(ScenarioError, match=r"goals\.departments\.webchat.*no such department"):
        scenario_from_dict(data)
    data = centre()
    data["arrivals"]["reasons"] = {"phone": 0.5, "web": 0.3, "mail": 0.2}
    data["departments"]["mail"] = {
        "channel": "email",
        "agents": 1,
        "handle_time": "5m",
        "email": {"due": "24h"},
    }
    data["goals"]["departments"]["mail"] = {"threshold": "60s"}
    with pytest.raises(ScenarioError, match=r"goals\.departments\.mail\.threshold: an email department"):
        scenario_from_dict(data)


# --- theory: each department an M/M/c+M queue on its Poisson share ------------------------------------------


def _one(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    kpis = summary(simulate(scenario, seed, replication))
    return {
        "phone": float(kpis["by_department"]["phone"]["service_level"]),
        "web": float(kpis["by_department"]["web"]["service_level"]),
        "chat": float(kpis["chat_service_level"]),
        "in_system": float(kpis["in_system"]),
    }


def _bias(scenario: Scenario, model: Model, threshold: float) -> float:
    """The start-up bias of the department's service level, from its own transient chain."""
    at = SimpleNamespace(
        warmup=scenario.warmup, duration=scenario.duration, service_level=SimpleNamespace(threshold=threshold)
    )
    return start_bias(at, model)["service_level"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reps", "hours", "seed"), [pytest.param(30, 20, 71), pytest.param(120, 40, 1071, marks=pytest.mark.slow)]
)
def test_each_department_meets_erlang_a_at_its_own_threshold(reps: int, hours: float, seed: int) -> None:
    scenario = scenario_from_dict(centre(hours=hours, warmup=1.0))
    rows = list(parallel_map(_one, [(scenario, seed, r) for r in range(reps)], 2))
    days = {key: np.array([row[key] for row in rows]) for key in rows[0]}
    assert (days["in_system"] == 0).all()
    np.testing.assert_allclose(days["chat"], days["web"], atol=1e-12)  # one chat department: its channel
    crit = float(stats.t.isf(ALPHA / 2, reps - 1))
    cases = (
        ("phone", PHONE_PER_HOUR, PHONE_HANDLE, PHONE_AGENTS, CENTRE),
        ("web", WEB_PER_HOUR, WEB_HANDLE, WEB_AGENTS, CHAT),
    )
    for name, per_hour, handle, agents, threshold in cases:
        rate = per_hour / 3600
        theory = erlang.erlang_a_figures(rate, handle, PATIENCE, agents, threshold).service_level
        values = days[name]
        se = values.std(ddof=1) / math.sqrt(reps)
        bias = _bias(scenario, Model(rate, 1 / handle, agents, 1 / PATIENCE), threshold)
        assert se > 0
        assert abs(bias) <= BIAS_SHARE * se, f"{name}: start-up bias {bias:.2e} against SE {se:.2e}"
        error = values.mean() - theory
        assert abs(error) <= crit * se, f"{name}: {values.mean():.5f} vs Erlang A {theory:.5f} (SE {se:.5f})"
    # the test can tell the web desk's 60 s from the centre's 20 s
    at_centre = erlang.erlang_a_figures(WEB_PER_HOUR / 3600, WEB_HANDLE, PATIENCE, WEB_AGENTS, CENTRE)
    assert days["web"].mean() - at_centre.service_level > 2 * crit * days["web"].std(ddof=1) / math.sqrt(reps)


def test_the_week_table_judges_each_call_at_its_department_threshold() -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "week.yaml").read_text(encoding="utf-8"))
    (only,) = data["departments"]
    data.setdefault("goals", {}).setdefault("departments", {})[only] = {"threshold": "45s"}
    run = simulate_week(scenario_from_dict(data), 7)
    calls = week_calls(run.results)
    quick = (calls["outcome"] == "answered").to_numpy() & (
        calls["time_to_answer"].to_numpy(dtype=float) <= 45.0
    )
    at_centre = (calls["outcome"] == "answered").to_numpy() & (
        calls["time_to_answer"].to_numpy(dtype=float) <= 20.0
    )
    assert quick.mean() > at_centre.mean()
    assert run.table.iloc[-1]["service_level"] == pytest.approx(quick.mean(), abs=1e-12)


def test_the_fully_pooled_bound_is_judged_at_the_loosest_threshold() -> None:
    """The group search's fully pooled Erlang A bound pools the departments' calls, so it is judged at the
    loosest of their thresholds (a lower bound on any plan): with every department at 60 s it equals the
    bound for a centre whose own threshold is 60 s, and it is below the bound at 20 s."""
    from sim.experiments.staffing.groups import fully_pooled
    from sim.experiments.staffing.targets import Targets

    targets = Targets({"service_level": 0.8})
    both = centre()
    both["goals"]["departments"]["phone"] = {"threshold": "60s"}
    loose = fully_pooled(scenario_from_dict(both), targets)
    plain = centre(web_threshold=None)
    at_60 = fully_pooled(
        scenario_from_dict({**plain, "service_level": {"threshold": "60s", "target": 0.8}}), targets
    )
    at_20 = fully_pooled(scenario_from_dict(plain), targets)
    assert loose == at_60
    assert sum(at_60) < sum(at_20)
    mixed = fully_pooled(scenario_from_dict(centre()), targets)  # phone 20 s, web 60 s: the loosest is 60 s
    assert mixed == at_60
