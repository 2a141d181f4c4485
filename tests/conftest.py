"""Shared fixtures: small scenarios built from dictionaries, and the shipped scenario files."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

BASE: dict[str, Any] = {
    "name": "tiny",
    "duration": "1h",
    "interval": "30m",
    "arrivals": {"per_hour": 60},
    "departments": {"support": {"agents": 2, "handle_time": {"dist": "exponential", "mean": "2m"}}},
}


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` merged in (mappings recursively; a None value deletes the key)."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@pytest.fixture
def make_scenario() -> Callable[..., Scenario]:
    """Build a validated scenario from the tiny base plus changes."""

    def build(changes: dict[str, Any] | None = None, **overrides: Any) -> Scenario:
        data = deep_merge(BASE, changes or {})
        data.update(overrides)
        return scenario_from_dict(data)

    return build
