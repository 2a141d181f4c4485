"""Nothing changes by accident: every table of every shipped scenario matches the fingerprints recorded
before the refactors (`tests/golden.py` says how they are made, why they tolerate last-bit noise from the
wheels and nothing more, and when they may be rewritten)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.golden import SCENARIOS, STORE, differences, fingerprints


def _recorded() -> dict[str, dict[str, Any]]:
    recorded: dict[str, dict[str, Any]] = json.loads(STORE.read_text(encoding="utf-8"))
    return recorded


@pytest.fixture(scope="module")
def now() -> dict[str, dict[str, Any]]:
    return fingerprints()


def test_every_shipped_scenario_has_fingerprints() -> None:
    assert sorted(_recorded()) == sorted(path.stem for path in SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("scenario", sorted(_recorded()))
def test_tables_identical_to_the_recorded_ones(scenario: str, now: dict[str, dict[str, Any]]) -> None:
    changed = differences(_recorded()[scenario], now[scenario])
    assert not changed, f"{scenario}: tables changed:\n" + "\n".join(changed[:20])


def test_the_comparison_sees_a_small_change_and_a_swap_of_rows(now: dict[str, dict[str, Any]]) -> None:
    """The tolerance is wide enough for last-bit noise and no wider: a value moved by one part in ten
    million, two rows swapped, an outcome renamed and a summary figure nudged are all reported."""
    base = now["small-centre"]
    assert differences(base, copy.deepcopy(base)) == []

    noisy = copy.deepcopy(base)
    signature = noisy["calls"]["floats"]["wait_time"]
    signature[2] *= 1 + 1e-13  # last-bit noise: accepted
    assert differences(base, noisy) == []

    from tests.golden import _frame_fingerprint
    from tests.golden_api import run_tables

    tables = run_tables(SCENARIOS / "small-centre.yaml", 1)
    calls = tables["calls"]
    reference = _frame_fingerprint(calls)

    nudged = calls.copy()
    nudged.loc[nudged.index[5], "talk_time"] *= 1 + 1e-7
    assert any(
        "talk_time" in line
        for line in differences({"calls": reference}, {"calls": _frame_fingerprint(nudged)})
    )

    swapped = calls.copy()
    first, second = swapped.index[3], swapped.index[40]
    row = swapped.loc[first, "talk_time"]
    swapped.loc[first, "talk_time"] = swapped.loc[second, "talk_time"]
    swapped.loc[second, "talk_time"] = row
    assert any(
        "talk_time" in line
        for line in differences({"calls": reference}, {"calls": _frame_fingerprint(swapped)})
    )

    renamed = calls.copy()
    renamed.loc[renamed.index[7], "outcome"] = "abandoned"
    assert differences({"calls": reference}, {"calls": _frame_fingerprint(renamed)}) == [
        "calls: exact differs"
    ]

    summary = copy.deepcopy(base)
    key = next(k for k, v in summary["summary"].items() if isinstance(v, float) and v > 0)
    summary["summary"][key] *= 1 + 1e-9
    assert differences(base, summary) == [
        f"summary: {key} was {base['summary'][key]!r}, now {summary['summary'][key]!r}"
    ]
