"""`callsim schedule`: a roster of shifts for a requirement, by integer programming, simulated and repaired.

Parse, call the library (`sim.experiments.schedule`), write the folder (`sim.output.schedule_folder`), print
a line per round. Like every CLI module this one imports only typer and rich at the top; the library is
imported when the command runs (tests/test_startup.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from sim.cli.common import (
    DaskOption,
    DayOption,
    JobsOption,
    QuietOption,
    SeedOption,
    SetOption,
    command_line,
    err,
    folder_and_executor,
    out,
    require_dask,
    searched,
    written_folder,
)
from sim.output.console import say

if TYPE_CHECKING:
    from sim.experiments.schedule import Schedule


def schedule(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    shifts: Annotated[
        Path, typer.Option("--shifts", help="Shift catalogue YAML (shifts:, agents:, break_step:)")
    ],
    requirements: Annotated[
        Path,
        typer.Option(
            "--requirements",
            help="Agents required per interval: a `callsim staff` folder (its plan.csv) or a CSV "
            "start,department,required",
        ),
    ],
    objective: Annotated[
        str, typer.Option(help="hours (least paid hours) or cost (least wages, from costs:)")
    ] = "hours",
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target", help="A floor every interval must reach: service_level=0.8 (as callsim staff)"
        ),
    ] = None,
    ceiling: Annotated[
        list[str] | None,
        typer.Option(
            "--max", help="A ceiling every interval must respect: abandon_rate=0.05 (as callsim staff)"
        ),
    ] = None,
    reps: Annotated[int, typer.Option(min=2, help="Replications per round (the same seed every round)")] = 20,
    max_rounds: Annotated[
        int, typer.Option(min=0, help="Most repair rounds (0: simulate, do not repair)")
    ] = 20,
    time_limit: Annotated[
        float,
        typer.Option(
            min=1, help="Seconds the integer programme may take per department (then: its best roster)"
        ),
    ] = 60.0,
    strict: Annotated[
        bool,
        typer.Option(help="Repair a cell missing a target on the mean (default: only beyond its 95% CI)"),
    ] = False,
    seed: SeedOption = None,
    jobs: JobsOption = None,
    dask: DaskOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Schedule folder (default: results/<name>-schedule-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder")] = False,
    overrides: SetOption = None,
    quiet: QuietOption = False,
    day: DayOption = None,
) -> None:
    """Build the roster of shifts of least paid hours (or cost) covering a requirement, with breaks, by
    integer programming; simulate it and add the cheapest shift where a goal is missed, round by round."""
    require_dask(dask)
    code = schedule_command(
        scenario,
        shifts,
        requirements,
        objective,
        target or [],
        ceiling or [],
        reps,
        max_rounds,
        strict,
        time_limit,
        seed,
        jobs,
        dask,
        out_dir,
        force,
        overrides or [],
        quiet,
        day,
    )
    raise typer.Exit(code)


def schedule_command(
    scenario: Path,
    shifts: Path,
    requirements: Path,
    objective: str,
    targets: list[str],
    ceilings: list[str],
    reps: int,
    max_rounds: int,
    strict: bool,
    time_limit: float,
    seed: int | None,
    jobs: int | None,
    dask: str | None,
    out_dir: Path | None,
    force: bool,
    overrides: list[str],
    quiet: bool,
    day: str | None = None,
) -> int:
    """Load, build and repair, write; returns the exit status (0, 1 the disk failed, 2 input refused)."""
    from sim.experiments.schedule import schedule as build
    from sim.experiments.shift_milp import OBJECTIVES, ScheduleError
    from sim.experiments.staffing import StaffingError, parse_targets
    from sim.model.loading import ScenarioError, load_scenario, one_day
    from sim.model.requirements import read_requirements
    from sim.model.shift_catalogue import department_problems, load_catalogue
    from sim.output.console import print_problems
    from sim.output.folders import (
        default_run_dir,
    )
    from sim.output.schedule_folder import write_schedule

    if objective not in OBJECTIVES:
        say(err, "error", f"--objective {objective!r}: expected one of {', '.join(OBJECTIVES)}")
        return 2
    try:
        base = one_day(load_scenario(scenario, overrides), day, "schedule", scenario.parent)
        catalogue = load_catalogue(shifts)
        requirement = read_requirements(requirements, base)
        problems = department_problems(catalogue, requirement)
        if problems:
            raise ScenarioError(problems, str(shifts))
        goals = parse_targets(targets, ceilings, base)
    except ScenarioError as error:
        print_problems(err, error)
        return 2
    except (StaffingError, ValueError) as error:
        say(err, "error", error)
        return 2
    target_dir = out_dir or default_run_dir(Path("results"), f"{base.name}-schedule")
    executor, code = folder_and_executor(target_dir, force, "the schedule", jobs, dask)
    if executor is None:
        return code
    if not quiet:
        say(err, "targets", goals.describe(), "cyan")
    result, code = searched(
        executor,
        lambda: build(
            base,
            catalogue,
            requirement,
            goals,
            objective=objective,
            reps=reps,
            seed=seed,
            max_rounds=max_rounds,
            strict=strict,
            time_limit=time_limit,
            executor=executor,
            progress=None if quiet else lambda record: print_round(err, record),
        ),
        ScheduleError,
    )
    if result is None:
        return code
    written, code = written_folder(
        lambda: write_schedule(target_dir, result, force, command_line()), target_dir, "the schedule"
    )
    if written is None:
        return code
    if not quiet:
        print_outcome(out, err, result, written)
    return 0


def print_round(console: Console, record: dict[str, Any]) -> None:
    """One line per round: the change, paid hours, cost (when priced), cells missed, the day's figures."""
    worst = f", worst {record['worst_miss']}" if record["worst_miss"] else ""
    cost = f", cost {record['cost']:,.2f}" if record["cost"] else ""
    console.print(
        f"round {record['round']}: {record['change']}: {record['shifts']} shifts, {record['paid_hours']:.1f} "
        f"paid hours{cost}; {record['cells_missed']}/{record['cells_judged']} interval cells missed{worst}; "
        f"day service level {100 * _number(record['service_level']):.1f}%, "
        f"abandonment {100 * _number(record['abandon_rate']):.1f}%",
        highlight=False,
    )


def print_outcome(out: Console, err: Console, result: Schedule, folder: Path) -> None:
    """The roster in short (shifts and paid hours per department and kind), its hours and cost, notes, and
    where the folder is (roster.csv has every row)."""
    from rich import box
    from rich.table import Table

    table = result.table
    kinds = list(dict.fromkeys(table["shift"]))
    shown = Table(title="roster (every row in roster.csv)", header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("department", *kinds, "shifts", "paid hours"):
        shown.add_column(column, justify="left" if column == "department" else "right")
    for name, rows in table.groupby("department", sort=False):
        heads = rows.groupby("shift")["heads"].sum()
        shown.add_row(
            str(name),
            *(str(int(heads.get(kind, 0))) for kind in kinds),
            str(int(rows["heads"].sum())),
            f"{float((rows['heads'] * rows['paid_hours']).sum()):.1f}",
        )
    out.print(shown)
    required = sum(sum(c) for c in result.requirement.values()) * result.scenario.interval / 3600.0
    cost = f"; cost {result.cost:,.2f}" if result.cost else ""
    out.print(
        f"paid hours: {result.paid_hours:.1f} (integer programme {result.rounds.iloc[0]['paid_hours']:.1f}; "
        f"required on duty {required:.1f} agent-hours){cost}; {sum(r.heads for r in result.roster)} shifts; "
        f"{int(result.rounds.iloc[-1]['cells_missed'])} interval cells missed after "
        f"{len(result.rounds) - 1} repair round(s)",
        highlight=False,
    )
    for note in result.notes:
        say(err, "note", note, "yellow")
    out.print(
        f"schedule: {folder / 'roster.csv'}  (run it: callsim run {folder / 'scenario.yaml'})",
        highlight=False,
    )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
