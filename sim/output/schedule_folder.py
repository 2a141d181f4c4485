"""A schedule's folder, written whole or not at all (`sim.output.folders`):

| file | what |
|---|---|
| `roster.csv` | the final roster: department, shift kind, start, end, heads, breaks, paid hours, cost per head |
| `scenario.yaml` | the scenario with the roster as its planned departments' `shifts:` (breaks included): `callsim run` runs it |
| `rounds.csv` | each round: the change, shifts, paid hours, cost, cells missed, the day's service level |
| `intervals.csv` | the final round's figures per interval and department, with the requirement and the verdict |
| `coverage.csv` | per slot and department: required, on duty after breaks (first and final roster) |
| `coverage.png` | heads on duty after breaks against the requirement, a panel per department |
| `report.md`, `summary.json`, `meta.json` | what was asked, the figures, and how it was run |
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.experiments.provenance import search_meta
from sim.experiments.schedule import Schedule
from sim.model.durations import format_clock
from sim.model.loading import resolved_dict
from sim.model.shift_catalogue import describe_kind
from sim.output.folders import write_folder, write_json
from sim.output.plots_style import Margins, new_figure, put_title, save_figure, stairs

ROSTER_SCENARIO = "scenario.yaml"


def scenario_yaml(result: Schedule) -> str:
    """The rostered scenario as YAML (every default filled in, loadable as it stands), with a header."""
    header = (
        f"# callsim schedule: scenario {result.scenario.name} with the roster of {result.paid_hours:g} paid "
        f"hours ({sum(r.heads for r in result.roster)} shifts) for {', '.join(result.requirement)}.\n"
        "# Run it: callsim run <this file> --reps 20\n"
    )
    data = resolved_dict(result.rostered)
    data["name"] = f"{result.scenario.name}-roster"
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)


def schedule_summary(result: Schedule) -> dict[str, Any]:
    """What `summary.json` holds: the inputs in short, the first and final roster's hours and cost, rounds."""
    last = result.rounds.iloc[-1]
    first_hours = float(result.rounds.iloc[0]["paid_hours"])
    return {
        "scenario": result.scenario.name,
        "objective": result.objective,
        "targets": result.targets.record(),
        "judged": "on the mean" if result.strict else "beyond the 95% half-width",
        "seed": result.seed,
        "reps": result.reps,
        "required_agent_hours": {
            name: float(np.sum(counts)) * result.scenario.interval / 3600.0
            for name, counts in result.requirement.items()
        },
        "first_roster": {"paid_hours": first_hours, "cost": float(result.rounds.iloc[0]["cost"])},
        "roster": {
            "paid_hours": result.paid_hours,
            "cost": result.cost,
            "shifts": int(sum(row.heads for row in result.roster)),
            "by_department": {
                name: float(sum(r.heads * r.column.paid_hours for r in result.roster if r.department == name))
                for name in result.requirement
            },
        },
        "rounds": len(result.rounds) - 1,
        "cells_missed": int(last["cells_missed"]),
        "cells_judged": int(last["cells_judged"]),
        "day": {"service_level": float(last["service_level"]), "abandon_rate": float(last["abandon_rate"])},
        "notes": list(result.notes),
        "simulated_days": result.simulated_days,
        "wall_time": result.wall_time,
    }


def report_markdown(result: Schedule) -> str:
    """A short report: inputs, the roster's hours and cost, each round, and notes."""
    summary = schedule_summary(result)
    currency = (result.scenario.costs.currency if result.scenario.costs else "") or "money"
    lines = [
        f"# Roster for {result.scenario.name}",
        "",
        f"Objective: least {'paid hours' if result.objective == 'hours' else 'cost'}; targets "
        f"{result.targets.describe()} per interval and department, judged {summary['judged']} "
        f"({result.reps} replications, seed {result.seed}, the same every round).",
        "",
        "Shift catalogue:",
        "",
        *(f"- {describe_kind(name, kind)}" for name, kind in result.catalogue.shifts.items()),
        "",
        f"Required: {sum(summary['required_agent_hours'].values()):.1f} agent-hours on duty. The integer "
        f"programme's roster: {summary['first_roster']['paid_hours']:.1f} paid hours; after "
        f"{summary['rounds']} repair round(s): **{result.paid_hours:.1f} paid hours**, cost "
        f"{result.cost:,.2f} {currency}, {summary['roster']['shifts']} shifts; "
        f"{summary['cells_missed']} of {summary['cells_judged']} interval cells missed.",
        "",
        "| round | change | shifts | paid hours | cost | cells missed | service level | abandonment |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['round']} | {r['change']} | {r['shifts']} | {r['paid_hours']:.1f} | {r['cost']:,.2f} | "
            f"{r['cells_missed']} / {r['cells_judged']} | {100 * r['service_level']:.1f}% | "
            f"{100 * r['abandon_rate']:.1f}% |"
            for r in result.rounds.to_dict("records")
        ),
        "",
        *(f"Note: {note}" for note in result.notes),
        "",
        "Files: `roster.csv` (the roster), `scenario.yaml` (runs it: `callsim run scenario.yaml`), "
        "`rounds.csv`, `intervals.csv`, `coverage.csv` and `coverage.png` (agents on duty after breaks "
        "against the requirement).",
        "",
    ]
    return "\n".join(lines)


def draw_coverage(result: Schedule, path: Path) -> None:
    """Heads on duty after breaks (final roster, and the integer programme's if repairs changed it) against
    the requirement, per slot, a panel per department."""
    coverage = result.coverage()
    names = list(result.requirement)
    margins = Margins(top=1.0, down=0.45)
    figure = new_figure((10.0, 2.3 * len(names) + 1.4), margins, grid=(len(names), 1))
    axes = figure.subplots(len(names), 1, squeeze=False)[:, 0]
    grid = result.grid
    edges = np.arange(grid.slots + 1) * grid.slot / 3600.0
    repaired = result.roster != result.first
    for ax, name in zip(axes, names, strict=True):
        mine = coverage[coverage["department"] == name]
        ax.stairs(
            mine["on_duty"].to_numpy(dtype=float),
            edges,
            fill=True,
            color="#9ecae1",
            label="on duty after breaks",
        )
        if repaired:
            stairs(
                ax,
                mine["on_duty_first"].to_numpy(dtype=float),
                edges,
                color="#1f77b4",
                linewidth=1.0,
                linestyle="--",
                label="on duty, integer programme's roster",
            )
        stairs(
            ax,
            mine["required"].to_numpy(dtype=float),
            edges,
            color="#c0392b",
            linewidth=1.6,
            label="required",
        )
        ax.set_title(name, fontsize=10, loc="left")
        ax.set_ylabel("agents")
        ax.set_ylim(bottom=0)
        ticks = np.arange(0, edges[-1] + 1e-9, 1.0 if edges[-1] <= 16 else 2.0)
        ax.set_xticks(ticks)
        ax.set_xticklabels([format_clock(grid.start + t * 3600.0) for t in ticks], fontsize=8)
    axes[0].legend(loc="lower center", bbox_to_anchor=(0.5, 1.12), ncol=3, fontsize=8, frameon=False)
    axes[-1].set_xlabel("clock")
    put_title(
        figure,
        "Agents on duty after breaks against the requirement",
        f"{result.scenario.name}: {result.paid_hours:g} paid hours, {len(result.rounds) - 1} repair round(s)",
    )
    save_figure(figure, path)


def write_schedule(target: Path, result: Schedule, force: bool, command: Sequence[str]) -> Path:
    """The schedule's folder (module docstring), atomically; never over a folder without `force`."""

    def fill(folder: Path) -> None:
        result.table.to_csv(folder / "roster.csv", index=False, float_format="%.6g")
        (folder / ROSTER_SCENARIO).write_text(scenario_yaml(result), encoding="utf-8")
        result.rounds.to_csv(folder / "rounds.csv", index=False, float_format="%.6g")
        result.cells.to_csv(folder / "intervals.csv", index=False, float_format="%.6g")
        result.coverage().to_csv(folder / "coverage.csv", index=False)
        draw_coverage(result, folder / "coverage.png")
        (folder / "report.md").write_text(report_markdown(result), encoding="utf-8")
        write_json(folder / "summary.json", schedule_summary(result))
        meta = search_meta(
            result.scenario.name, command, wall_time=result.wall_time, simulated_days=result.simulated_days
        )
        write_json(folder / "meta.json", meta)

    return write_folder(target, force, fill)
