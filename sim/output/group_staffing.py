"""A cross-trained staffing plan (`staff --groups`) as a planner reads it: per interval, every pool's count
in the cross-trained answer beside the separate-queues answer and the fully pooled bound, each answer's
agent-hours and cost, the email outcome of the plan where the centre has email departments, and the folder
that holds them (`staffing.yaml`, `plan.csv`, `figures.csv`, `summary.json`, `meta.json`), written whole or
not at all (`sim.output.folders`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.provenance import search_meta
from sim.experiments.staffing.groups import GroupPlan
from sim.model.durations import format_clock
from sim.output.folders import write_folder, write_json


def group_plan_table(result: GroupPlan) -> pd.DataFrame:
    """One row per interval: its start, each pool's cross-trained count (`<pool>`), each pool's count in
    the separate-queues answer (`<pool>_separate`, where that answer exists), and the fully pooled bound
    (`fully_pooled`)."""
    scenario = result.scenario
    count = scenario.interval_count
    columns: dict[str, Any] = {
        "interval": list(range(count)),
        "start": [format_clock(scenario.start + i * scenario.interval) for i in range(count)],
    }
    for name, counts in result.plan.items():
        columns[name] = counts
    for name, counts in (result.separate or {}).items():
        columns[f"{name}_separate"] = counts
    columns["fully_pooled"] = result.pooled
    return pd.DataFrame(columns)


def group_figures(result: GroupPlan) -> pd.DataFrame:
    """Per interval and judged (voice or chat) department, the cross-trained plan's figures over the
    search's replications and whether every target is met there (`met`); email departments are not judged
    by interval (their outcome is in `summary.json`)."""
    frame = result.figures.frame().reset_index()
    judged = list(result.judged) or list(result.scenario.departments)
    frame = frame[frame["department"].isin(judged)].reset_index(drop=True)
    frame["met"] = result.met.reshape(-1)
    return frame


def group_yaml(result: GroupPlan) -> str:
    """The cross-trained plan as scenario YAML: each department's and group's `agents: {per_interval}`."""
    import yaml

    departments = {
        name: {"agents": {"per_interval": counts}}
        for name, counts in result.plan.items()
        if name in result.scenario.departments
    }
    groups = {
        name: {"agents": {"per_interval": counts}}
        for name, counts in result.plan.items()
        if name in result.scenario.agent_groups
    }
    header = (
        f"# callsim staff --groups: the least-cost counts of every pool meeting {result.targets.describe()}\n"
        f"# in simulation (scenario {result.scenario.name}); merge into the scenario's departments and groups.\n"
    )
    header += "".join(f"# {line}\n" for line in email_lines(result))
    body = {"departments": departments, "agent_groups": groups}
    return header + yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=1000)


def group_summary(result: GroupPlan) -> dict[str, Any]:
    """What `summary.json` holds: the targets, each answer's agent-hours and cost, the wages, the plan, the
    departments judged, the pools that kept their staffing, and the plan's email outcome (None without
    email departments)."""
    return {
        "scenario": result.scenario.name,
        "targets": result.targets.record(),
        "answers": result.summary(),
        "wages": result.wage,
        "cells_met": int(result.met.sum()),
        "cells": int(result.met.size),
        "simulated_days": result.simulated_days,
        "plan": result.plan,
        "separate_queues": result.separate,
        "fully_pooled": result.pooled,
        "judged_departments": list(result.judged),
        "kept_staffing": list(result.kept),
        "emails": None if result.emails is None else result.emails.record(),
    }


def write_group_staffing(target: Path, result: GroupPlan, force: bool, command: Sequence[str]) -> Path:
    """The folder of a cross-trained plan (see the module)."""

    def fill(folder: Path) -> None:
        (folder / "staffing.yaml").write_text(group_yaml(result), encoding="utf-8")
        group_plan_table(result).to_csv(folder / "plan.csv", index=False)
        group_figures(result).to_csv(folder / "figures.csv", index=False, float_format="%.6g")
        write_json(folder / "summary.json", group_summary(result))
        write_json(folder / "meta.json", search_meta(result.scenario.name, command))

    return write_folder(target, force, fill)


def email_lines(result: GroupPlan) -> list[str]:
    """The plan's email outcome (and the warning when it leaves emails overdue or a backlog at the close),
    and the pools that kept their staffing; nothing for a centre without email departments."""
    lines = []
    if result.kept:
        groups = result.scenario.agent_groups
        kept = [f"{name} (group)" if name in groups else name for name in result.kept]
        lines.append(f"email departments keep their staffing: {', '.join(kept)}")
    if result.emails is not None:
        lines.append(result.emails.line())
        warning = result.emails.warning()
        if warning:
            lines.append(f"warning: {warning}")
    return lines


def answers_lines(result: GroupPlan) -> list[str]:
    """The three answers as a planner compares them: agent-hours and cost."""
    labels = {
        "cross_trained": "cross-trained (simulated)",
        "separate_queues": "separate queues (simulated)",
        "fully_pooled": "fully pooled (Erlang A bound)",
    }
    lines = [f"{'answer':<32}{'agent-hours':>12}{'cost':>12}"]
    for key, figures in result.summary().items():
        lines.append(f"{labels[key]:<32}{figures['agent_hours']:>12,.1f}{figures['cost']:>12,.1f}")
    return lines
