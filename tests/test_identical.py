"""Nothing changes by accident: every table of every shipped scenario matches the fingerprints recorded
before the refactors (`tests/golden.py` says how they are made and when they may be rewritten)."""

from __future__ import annotations

import json

import pytest

from tests.golden import SCENARIOS, STORE, fingerprints


@pytest.fixture(scope="module")
def now() -> dict[str, dict[str, str]]:
    return fingerprints()


def test_every_shipped_scenario_has_fingerprints() -> None:
    recorded = json.loads(STORE.read_text(encoding="utf-8"))
    assert sorted(recorded) == sorted(path.stem for path in SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("scenario", sorted(json.loads(STORE.read_text(encoding="utf-8"))))
def test_tables_identical_to_the_recorded_ones(scenario: str, now: dict[str, dict[str, str]]) -> None:
    recorded = json.loads(STORE.read_text(encoding="utf-8"))[scenario]
    changed = [table for table, digest in recorded.items() if now[scenario].get(table) != digest]
    assert not changed, f"{scenario}: tables changed: {', '.join(changed)}"
