"""Every shipped scenario validates and runs; the tiny base scenario conserves calls."""

from __future__ import annotations

import pytest

from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.model.loading import load_scenario
from tests.conftest import SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_runs(path):
    scenario = load_scenario(path)
    if scenario.duration > 10 * 3600 and scenario.arrivals.per_interval is None:
        scenario = load_scenario(path, ["duration=4h"])  # the long theory days, shortened
    result = simulate(scenario)
    kpis = summary(result)
    assert kpis["offered"] > 0
    endings = (
        "answered",
        "abandoned",
        "blocked",
        "in_system",
        "dropped",
        "abandoned_on_hold",
        "callbacks_failed",
    )
    assert sum(kpis[key] for key in endings) == kpis["offered"]
    assert 0.0 <= kpis["occupancy"] <= 1.0
