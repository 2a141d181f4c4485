"""A staffing plan's folder: `staffing.yaml` (the plan, ready to paste into the scenario), `plan.csv`,
`search.csv`, `summary.json` and `meta.json`, written whole or not at all (`sim.output.folders`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.analysis.costs import plan_wages
from sim.experiments.provenance import search_meta
from sim.experiments.staffing import StaffingPlan, plan_overrides, plan_yaml
from sim.experiments.staffing.result import verdict_counts
from sim.output.folders import write_folder, write_json


def staffing_header(result: StaffingPlan) -> str:
    """The comment atop `staffing.yaml`: what the plan meets, on what evidence, and its `--set` options."""
    confirmation = result.confirmation
    scope = f", re-planning {result.only} only" if result.only else ""
    return (
        f"callsim staff: the fewest agents per interval meeting {result.targets.describe()} in simulation\n"
        f"(scenario {result.scenario.name}{scope}, seed {result.seed}, {result.reps} replications; confirmed "
        f"with seed {result.confirm_seed}, {result.confirm_reps} replications, met "
        f"{confirmation['criterion']}:\n{verdict_counts(confirmation)}).\n"
        + _email_text(confirmation)
        + "Paste into the scenario, or apply with --set:\n"
        + "\n".join(f"  --set '{o}'" for o in plan_overrides(result.plan))
    )


def _email_text(confirmation: dict[str, Any]) -> str:
    """The plan's email outcome and its warning, one line each ('' without email departments)."""
    emails = confirmation.get("emails")
    if emails is None:
        return ""
    return emails["line"] + "\n" + (f"warning: {emails['warning']}\n" if emails["warning"] else "")


def write_staffing(target: Path, result: StaffingPlan, force: bool, command: Sequence[str]) -> Path:
    """The staffing folder: `staffing.yaml` (the plan), `plan.csv`, `search.csv`, `summary.json`, `meta.json`."""

    def fill(folder: Path) -> None:
        (folder / "staffing.yaml").write_text(
            plan_yaml(result.plan, staffing_header(result)), encoding="utf-8"
        )
        result.table.to_csv(folder / "plan.csv", index=False, float_format="%.6g")
        result.steps.to_csv(folder / "search.csv", index=False, float_format="%.6g")
        write_json(folder / "summary.json", staffing_summary(result))
        meta = search_meta(
            result.scenario.name, command, wall_time=result.wall_time, simulated_days=result.simulated_days
        )
        write_json(folder / "meta.json", meta)

    return write_folder(target, force, fill)


def staffing_summary(result: StaffingPlan) -> dict[str, Any]:
    """What `summary.json` holds: targets, seeds, the plan, agent-hours against Erlang, the confirmation."""
    table = result.table
    return {
        "scenario": result.scenario.name,
        "only": result.only,
        "targets": result.targets.record(),
        "seed": result.seed,
        "reps": result.reps,
        "plan": result.plan,
        "erlang_a": result.erlang_a,
        "erlang_c": result.erlang_c,
        "agent_hours": result.hours(),
        **(
            {"wages": {name: plan_wages(hours, costs) for name, hours in result.hours().items()}}
            if (costs := result.scenario.costs) is not None
            else {}
        ),
        "difference_from_erlang_a": {
            "max_agents": int((table["simulated"] - table["erlang_a"]).abs().max()),
            "mean_agents": float((table["simulated"] - table["erlang_a"]).mean()),
        },
        "unreachable": [{"interval": i, "department": d} for i, d in result.unreachable],
        "confirmation": {k: v for k, v in result.confirmation.items() if k != "table"},
        "simulated_days": result.simulated_days,
        "wall_time": result.wall_time,
    }
