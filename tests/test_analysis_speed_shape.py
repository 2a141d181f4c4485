"""The analysis is computed in grouped, vectorised passes: per-group figures equal the figure of each group's
rows taken alone (bit for bit, as the golden fingerprints need), and the number of grouped passes does not grow
with the number of intervals, departments or agent groups (the shape of the cost, not a wall-clock limit)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from sim.analysis import departments, grouping, intervals, metrics
from sim.analysis.grouping import Groups
from sim.analysis.intervals import interval_table
from sim.analysis.levels import integrate_levels
from sim.analysis.metrics import counted, offered_calls
from sim.analysis.tables import calls_table, integrate_levels_by
from sim.engine.day import simulate
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario


def centre(departments: int, interval: str, duration: str = "4h") -> Scenario:
    """`departments` queues, each with its own agents and a cross-trained group helping it and the next."""
    names = [f"d{i}" for i in range(departments)]
    return scenario_from_dict(
        {
            "name": f"shape-{departments}",
            "seed": 4,
            "duration": duration,
            "interval": interval,
            "arrivals": {"per_hour": 60 * departments, "reasons": {n: 1 / departments for n in names}},
            "patience": {"dist": "exponential", "mean": "2m"},
            "departments": {
                n: {"agents": 3, "handle_time": {"dist": "exponential", "mean": "3m"}} for n in names
            },
            "agent_groups": {
                f"g{i}": {"agents": 1, "skills": {names[i]: 1, names[(i + 1) % departments]: 2}}
                for i in range(departments)
            },
        }
    )


def test_pairwise_sums_are_numpys_sums_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    lengths = np.array([0, 1, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129, 130, 255, 256, 1000, 4099, 20_001])
    values = rng.exponential(30.0, size=int(lengths.sum())) * rng.choice(
        [1.0, 1e-3, 1e3], size=int(lengths.sum())
    )
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    sums = grouping.pairwise_sums(values, starts, lengths)
    expected = np.array([values[a : a + n].sum() for a, n in zip(starts, lengths, strict=True)])
    assert np.array_equal(sums, expected)


@pytest.fixture(scope="module")
def calls_by_interval() -> tuple[Any, np.ndarray, int]:
    scenario = centre(3, "15m")
    result = simulate(scenario)
    calls = offered_calls(counted(result, calls_table(result)))
    edges = np.arange(scenario.interval_count + 1) * scenario.interval
    key = np.clip(np.searchsorted(edges, calls["arrived_at"].to_numpy(), side="right") - 1, 0, len(edges) - 2)
    return calls, key, len(edges) - 1


@pytest.mark.parametrize(
    "kpi",
    [
        metrics.asa,
        metrics.mean_wait,
        metrics.p90_wait,
        metrics.p_wait,
        metrics.abandon_rate,
        metrics.aht,
        metrics.first_contact_resolution,
        metrics.transfers_per_call,
        metrics.hold_rate,
        lambda calls, by=None: metrics.service_level(calls, 20.0, by=by),
    ],
)
def test_a_kpi_by_group_is_the_kpi_of_each_groups_rows(kpi: Any, calls_by_interval: Any) -> None:
    calls, key, size = calls_by_interval
    grouped = kpi(calls, by=Groups(key, size))
    alone = np.array([kpi(calls[key == i]) for i in range(size)])
    assert len(grouped) == size
    assert np.array_equal(grouped, alone, equal_nan=True)


def test_levels_integrated_by_group_are_each_groups_levels() -> None:
    rng = np.random.default_rng(3)
    group = rng.integers(0, 5, size=400)
    times = rng.uniform(0, 1000, size=400)
    deltas = rng.choice([1.0, -1.0], size=400)
    edges = np.linspace(0, 1200, 13)
    by_group = integrate_levels_by(group, times, deltas, edges, 6)
    for g in range(6):
        assert np.array_equal(by_group[g], integrate_levels(times[group == g], deltas[group == g], edges))


def passes(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many grouped passes (counts, sums, means, quantiles) `interval_table` makes on this scenario."""
    made: Counter[str] = Counter()

    def counting(module: Any, name: str) -> Any:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            made[name] += 1
            return original(*args, **kwargs)

        return wrapper

    with monkeypatch.context() as patch:
        # each module that makes grouped passes calls them by its own name for them: count through each
        for module in (grouping, metrics, departments, intervals):
            for name in ("count_where", "sum_where", "mean_where", "quantile_where"):
                if hasattr(module, name):
                    patch.setattr(module, name, counting(module, name))
        table = interval_table(simulate(scenario))
    assert len(table) == scenario.interval_count * (1 + 2 * len(scenario.departments))
    return made


def test_interval_table_passes_do_not_grow_with_intervals_departments_or_groups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    few = passes(centre(2, "1h"), monkeypatch)
    more_intervals = passes(centre(2, "10m"), monkeypatch)
    more_departments = passes(centre(6, "1h"), monkeypatch)
    assert sum(few.values()) > 10
    assert more_intervals == few
    assert more_departments == few
