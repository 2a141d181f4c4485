"""Every shipped scenario validates and runs; the tiny base scenario conserves calls."""

from __future__ import annotations

import pytest

from sim.engine import simulate
from sim.loading import load_scenario
from sim.metrics import summary
from tests.conftest import SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_runs(path):
    scenario = load_scenario(path, ["duration=2h"] if "busy" not in path.stem else [])
    result = simulate(scenario)
    kpis = summary(result)
    assert kpis["offered"] > 0
    assert kpis["answered"] + kpis["abandoned"] + kpis["blocked"] + kpis["in_system"] == kpis["offered"]
    assert 0.0 <= kpis["occupancy"] <= 1.0
