"""The KPI registry describes every figure a run reports, and each definition comes from the function that
computes it."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import pytest

from sim.analysis import kpis, metrics
from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.model.loading import load_scenario
from tests.golden import SCENARIOS


def _figures(node: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of a summary's single figures (numbers), block by block."""
    keys: list[str] = []
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if key in ("agents_touched", "transfer_matrix", "common_chains", "handled"):
                continue
            keys += _figures(value, f"{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool) and name not in kpis.SETTINGS:
            keys.append(name)
    return keys


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_figure_of_every_shipped_scenario_is_registered(path: Any) -> None:
    found = summary(simulate(load_scenario(path, [])))
    unknown = [key for key in _figures(found) if not kpis.known(key)]
    assert not unknown, f"{path.stem}: not in the KPI registry: {unknown}"


def test_definitions_come_from_the_computing_function() -> None:
    for entry in (*kpis.KPIS, *kpis.DEPARTMENT_KPIS):
        if entry.function:
            function = getattr(metrics, entry.function, None)
            assert callable(function), f"{entry.key}: metrics.{entry.function} does not exist"
            assert entry.describe() == " ".join((inspect.getdoc(function) or "").split())
        assert entry.describe(), f"{entry.key} has no definition"
        assert entry.unit in {"%", "s", "h", "n", "x", "money", ""} and entry.better in (-1, 0, 1)


def test_keys_and_labels_are_unique_within_each_table() -> None:
    for table in (kpis.KPIS, kpis.DEPARTMENT_KPIS):
        keys = [entry.key for entry in table]
        labels = [entry.label for entry in table]
        assert len(set(keys)) == len(keys) and len(set(labels)) == len(labels)


def test_nested_keys_resolve() -> None:
    assert kpis.kpi("by_department.billing.asa").unit == "s"
    assert kpis.kpi("experience.mean").group == "experience"
    assert kpis.lookup({"a": {"b": 2}}, "a.b") == 2 and kpis.lookup({"a": 1}, "a.b") is None
    with pytest.raises(KeyError):
        kpis.kpi("by_department.billing.nonsense")
