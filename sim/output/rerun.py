"""Rerunning a saved run bit for bit: the resolved scenario, seed and replications its folder records, run
again, and every table of the new folder compared with the old one.

A difference means the numbers are not reproducible here (a changed package version, or a bug); the check
names the table and the first differing column, and the versions that changed since the original run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.provenance import git_revision, versions
from sim.model.loading import ScenarioError, load_scenario
from sim.model.scenario import Scenario

TABLES = ("calls.parquet", "events.parquet", "visits.parquet", "agents.parquet")
TEXTS = ("intervals.csv", "replications.csv")


class NotRerunnable(ValueError):
    """The folder lacks what a rerun needs (a readable scenario.yaml and meta.json with seed and reps)."""


@dataclass(frozen=True)
class RerunPlan:
    """What the original run was: its resolved scenario, seed, replications and package versions."""

    scenario: Scenario
    seed: int
    reps: int
    versions: dict[str, str]


def rerun_plan(folder: Path) -> RerunPlan:
    """Read what decides a saved run's numbers from its folder (raises `NotRerunnable`)."""
    scenario_path, meta_path = folder / "scenario.yaml", folder / "meta.json"
    if not scenario_path.is_file() or not meta_path.is_file():
        raise NotRerunnable(f"{folder} is not a callsim results folder (needs scenario.yaml and meta.json)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        seed, reps = int(meta["seed"]), int(meta.get("reps") or 1)
    except (ValueError, KeyError, TypeError) as error:
        raise NotRerunnable(f"{meta_path}: no seed and replications to rerun with ({error})") from None
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as error:
        raise NotRerunnable(f"{scenario_path} cannot be read back: {error}") from None
    versions = meta.get("versions") if isinstance(meta.get("versions"), dict) else {}
    recorded = {str(k): str(v) for k, v in versions.items()}
    if isinstance(meta.get("git_revision"), str) and meta["git_revision"] != "unknown":
        recorded["callsim revision"] = meta["git_revision"]
    return RerunPlan(scenario, seed, reps, recorded)


def version_changes(before: dict[str, str], now: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Packages (and callsim's own revision) whose version differs between the original run and this one:
    {name: (then, now)}; a revision that cannot be read now is not a change."""
    return {
        name: (before[name], now.get(name, "?"))
        for name in before
        if before[name] != now.get(name, "?") and now.get(name) != "unknown"
    }


def current_versions() -> dict[str, str]:
    """This process's package versions and callsim revision, to compare with a saved run's."""
    return {**versions(), "callsim revision": git_revision()}


def differences(original: Path, again: Path) -> list[str]:
    """How the rerun's tables differ from the original's (empty when identical to the bit)."""
    found = []
    for name in TABLES:
        found.extend(_frame_difference(name, original / name, again / name, pd.read_parquet))
    for name in TEXTS:
        found.extend(_frame_difference(name, original / name, again / name, pd.read_csv))
    before, after = _summary(original), _summary(again)
    if before != after:
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        found.append(f"summary.json: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''} differ")
    return found


def _summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    loaded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return loaded if isinstance(loaded, dict) else {}


def _frame_difference(name: str, before: Path, after: Path, read: Any) -> list[str]:
    if not before.exists() and not after.exists():
        return []
    if before.exists() != after.exists():
        return [f"{name}: present in only one of the two folders"]
    old, new = read(before), read(after)
    if list(old.columns) != list(new.columns):
        return [f"{name}: columns differ"]
    if len(old) != len(new):
        return [f"{name}: {len(old):,} rows then, {len(new):,} now"]
    for column in old.columns:
        if not old[column].equals(new[column]):
            return [f"{name}: column {column!r} differs"]
    return []
