"""Agent groups against theory: a fully pooled cross-trained group with equal preferences serves every
call first come first served, so two departments fed at rates l1 and l2 behave as one M/M/c at l1 + l2.

Tolerance: Z = 4 standard errors of the replication mean (false alarm about 1 in 16,000 per check).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis.erlang import erlang_c_figures
from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.model.loading import scenario_from_dict

Z = 4.0


def _pooled(hours: int) -> dict:
    return {
        "name": "pooled",
        "duration": f"{hours}h",
        "interval": "1h",
        "warmup": "1h",
        "arrivals": {"per_hour": 100, "reasons": {"billing": 0.6, "technical": 0.4}},
        "departments": {
            "billing": {"handle_time": {"dist": "exponential", "mean": "5m"}},
            "technical": {"handle_time": {"dist": "exponential", "mean": "5m"}},
        },
        "agent_groups": {"everyone": {"agents": 10, "skills": {"billing": 1, "technical": 1}}},
    }


def _check_pooled(reps: int, hours: int) -> None:
    scenario = scenario_from_dict(_pooled(hours))
    theory = erlang_c_figures(100 / 3600, 300.0, 10, scenario.service_level.threshold)
    runs = [summary(simulate(scenario, replication=r)) for r in range(reps)]
    for key, expected in (
        ("p_wait", theory.p_wait),
        ("asa", theory.asa),
        ("service_level", theory.service_level),
    ):
        values = np.array([run[key] for run in runs])
        se = values.std(ddof=1) / math.sqrt(reps)
        z = (values.mean() - expected) / se
        assert abs(z) <= Z, (
            f"{key}: simulated {values.mean():.4g} vs Erlang C {expected:.4g} (SE {se:.3g}, z {z:+.2f})"
        )
    occupancy = np.array([run["by_group"]["everyone"]["occupancy"] for run in runs])
    se = occupancy.std(ddof=1) / math.sqrt(reps)
    assert abs(occupancy.mean() - theory.occupancy) <= Z * se


def test_fully_pooled_group_matches_erlang_c() -> None:
    _check_pooled(reps=12, hours=48)


@pytest.mark.slow
def test_fully_pooled_group_matches_erlang_c_long() -> None:
    _check_pooled(reps=30, hours=240)


def test_group_handles_both_skills_and_reports_them() -> None:
    result = simulate(scenario_from_dict(_pooled(4)))
    kpis = summary(result)
    handled = kpis["by_group"]["everyone"]["handled"]
    assert handled["billing"] > 0 and handled["technical"] > 0
    assert kpis["in_system"] == 0 and kpis["abandoned"] == 0  # no patience: every caller is answered
    assert handled["billing"] + handled["technical"] == kpis["answered"]
