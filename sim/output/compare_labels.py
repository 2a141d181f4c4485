"""What to call the two runs of a comparison, so a planner can tell which was "hire two": by what differs
between them (the scenario values, as `--set` would write them, and the seed), not by their folders'
timestamps (`monday-plan-20261202-170026` against `...170051`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from sim.model.durations import clip
from sim.model.scenario import Scenario
from sim.output.report_readable import readable_scenario
from sim.output.saved import SavedRun

SHOWN_CHANGES = 2
"""At most this many differences name a run (`+3 more` says how many were left out)."""
VALUE_LENGTH = 40
"""A value longer than this is cut (a list of shifts)."""
IGNORED = frozenset({"description"})
"""Scenario keys that change nothing a run computes."""


def _flow(value: Any) -> str:
    """A value as `--set` takes it: plain scalars, YAML flow style for lists and mappings."""
    if isinstance(value, str | int | float | bool) or value is None:
        text = yaml.safe_dump(value, default_flow_style=True).strip()
        return text.removesuffix("...").strip()
    return yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()


def differences(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, A's value, B's value) for every leaf where two scenario mappings differ, in A's order
    then B's; a value only one side has (agents by `shifts` in A, by `count` in B) is None on the other."""
    found = []
    for key in [*a, *(k for k in b if k not in a)]:
        if not prefix and key in IGNORED:
            continue
        here = f"{prefix}{key}"
        left, right = a.get(key), b.get(key)
        if left == right:
            continue
        if isinstance(left, Mapping) and isinstance(right, Mapping):
            found += differences(left, right, f"{here}.")
        else:
            found.append((here, left, right))
    return found


def _scenario(scenario: Scenario) -> dict[str, Any]:
    data = yaml.safe_load(readable_scenario(scenario))
    return data if isinstance(data, dict) else {}


def _named(changes: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{key}={clip(value, VALUE_LENGTH)}" for key, value in changes[:SHOWN_CHANGES])
    more = len(changes) - SHOWN_CHANGES
    return shown + (f" (+{more} more)" if more > 0 else "")


def change_labels(a: SavedRun, b: SavedRun) -> tuple[str, str]:
    """Two results folders named by what differs between them (`difference_labels`); folders that differ in
    nothing by their names."""
    fallback = a.folder.resolve().name, b.folder.resolve().name
    return difference_labels(
        (a.scenario, a.meta.get("seed"), a.reps), (b.scenario, b.meta.get("seed"), b.reps), fallback
    )


def difference_labels(
    a: tuple[Scenario, Any, int], b: tuple[Scenario, Any, int], fallback: tuple[str, str]
) -> tuple[str, str]:
    """A and B, each (scenario, seed, replications), named by what differs between them: another scenario
    by its name; the same scenario by the values that differ (`departments.billing.agents.count=8` against
    `=9`, clock times and durations as a scenario writes them), the seed and the replications; `fallback`
    when nothing differs."""
    if a[0].name != b[0].name:
        return a[0].name, b[0].name
    found = differences(_scenario(a[0]), _scenario(b[0]))
    for key, left, right in (("seed", a[1], b[1]), ("reps", a[2], b[2])):
        if left != right:
            found.append((key, left, right))
    if not found:
        return fallback
    return _named(_side(found, 1)), _named(_side(found, 2))


def _side(found: list[tuple[str, Any, Any]], side: int) -> list[tuple[str, str]]:
    """One run's side of the differences: the values it has (a key only the other run has is left out,
    unless that is all there is)."""
    values = [(change[0], change[side]) for change in found]
    present = [(key, _flow(value)) for key, value in values if value is not None]
    return present or [(key, "(none)") for key, _ in values]
