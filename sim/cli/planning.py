"""The options of the planning commands: `callsim sweep` and `sweep-merge` (what if a parameter changed)
and `callsim staff` and `erlang` (how many agents).

Their work is in `sim/cli/sweep.py` and `sim/cli/staff.py`, which load pandas as they are imported; so
this module only declares the options, and each command imports its module when it runs (`--help` stays
light, tests/test_startup.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    DaskOption,
    DayOption,
    JobsOption,
    QuietOption,
    SeedOption,
    SetOption,
    command_line,
    err,
    out,
    require_dask,
)


def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid",
            help="A swept parameter (repeatable): departments.billing.agents=8:16 (inclusive; 8:16:2 steps), "
            "patience.mean=2m,3m,5m (a list), patience.mean=2m:5m (continuous, --design lhs)",
        ),
    ],
    design: Annotated[str, typer.Option(help="grid (full factorial) or lhs (Latin hypercube)")] = "grid",
    samples: Annotated[int | None, typer.Option(min=1, help="Points of a Latin hypercube")] = None,
    reps: Annotated[int, typer.Option(min=1, help="Replications per point (the same for every point)")] = 1,
    jobs: JobsOption = None,
    dask: DaskOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Sweep folder (default: results/<name>-sweep-<time>)")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Complete an interrupted sweep in --out")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing sweep folder")] = False,
    plot: Annotated[
        list[str] | None,
        typer.Option(
            "--plot",
            help="KPI to plot against each parameter (repeatable; default: service_level, "
            "abandon_rate, asa, occupancy)",
        ),
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    quiet: QuietOption = False,
    shard: Annotated[
        str | None,
        typer.Option(
            help="Run only share I of N of the tasks (an array job: --shard $SLURM_ARRAY_TASK_ID/N) into "
            "--out; `callsim sweep-merge` joins the N shard folders"
        ),
    ] = None,
) -> None:
    """Run a scenario over a grid of parameter values with common random numbers; a tidy table of every
    point and replication, a summary with 95% CIs, and plots."""
    require_dask(dask)
    from sim.cli.sweep import sweep_command

    code = sweep_command(
        scenario,
        grid,
        design,
        samples,
        reps,
        jobs,
        dask,
        out_dir,
        resume,
        force,
        plot,
        overrides or [],
        seed,
        quiet,
        out,
        err,
        command_line(),
        shard=shard,
    )
    if code:
        raise typer.Exit(code)


def sweep_merge(
    shards: Annotated[list[Path], typer.Argument(help="The shard folders (made with --shard I/N, all N)")],
    out_dir: Annotated[Path, typer.Option("--out", help="The sweep folder to write")],
    force: Annotated[bool, typer.Option(help="Replace an existing sweep folder")] = False,
    plot: Annotated[
        list[str] | None,
        typer.Option("--plot", help="KPI to plot against each parameter (repeatable)"),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Join the shards of a sweep (`callsim sweep ... --shard I/N`) into its folder: the same tables, byte
    for byte, as the sweep run whole."""
    from sim.cli.sweep import merge_command

    code = merge_command(shards, out_dir, force, plot, quiet, out, err, command_line())
    if code:
        raise typer.Exit(code)


def staff(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="A floor every interval must reach: service_level=0.8; scoped to a channel's departments, "
            "chat.service_level=0.8 (voice, chat); email.within_due=0.95 sizes the email-only pools to a day goal "
            "after the plan (flat headcount; else email departments keep their staffing) (default: the "
            "scenario's `goals`, each department its own, when neither --target nor --max is given; else its "
            "service-level target)",
        ),
    ] = None,
    ceiling: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            help="A ceiling every interval must respect: abandon_rate=0.05, asa=30s, "
            "mean_wait=1m, p90_wait=2m, or a channel's: chat.abandon_rate=0.1; email.backlog_at_close=0 sizes the "
            "email-only pools (repeatable; default: the "
            "scenario's goals, see --target)",
        ),
    ] = None,
    reps: Annotated[int, typer.Option(min=2, help="Replications per evaluated plan")] = 20,
    confirm_reps: Annotated[
        int | None, typer.Option(min=2, help="Replications of the confirmation run (default: --reps)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the search (the confirmation uses seed + 1)")
    ] = None,
    jobs: JobsOption = None,
    dask: DaskOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Staffing folder (default: results/<name>-staffing-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder")] = False,
    overrides: SetOption = None,
    quiet: QuietOption = False,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="DEPARTMENT",
            help="Re-plan this department alone; the others keep their staffing",
        ),
    ] = None,
    confidence: Annotated[
        float | None,
        typer.Option(
            "--confidence",
            help="Meet each goal with this one-sided confidence: the Student-t bound of the interval's mean "
            "over replications must clear the goal (0.95; default: the scenario's goals.confidence, else "
            "the mean)",
        ),
    ] = None,
    days_met: Annotated[
        float | None,
        typer.Option(
            "--days-met",
            help="Meet every goal on at least this share of the simulated days, interval by interval "
            "(0.9; with arrivals.busyness, of busy and quiet days; default: the scenario's goals.days_met)",
        ),
    ] = None,
    groups: Annotated[
        bool,
        typer.Option(
            "--groups",
            help="Staff the agent groups too: every pool's count per interval a decision, least cost (wages "
            "from `costs`, else agent-hours), shown beside the separate-queues and fully pooled answers",
        ),
    ] = False,
    day: DayOption = None,
) -> None:
    """Find the fewest agents per interval and department that meet the targets in simulation, and
    compare with Erlang C and Erlang A."""
    require_dask(dask)
    from sim.cli.staff import staff_command

    code = staff_command(
        scenario,
        target or [],
        ceiling or [],
        reps,
        confirm_reps,
        seed,
        jobs,
        dask,
        out_dir,
        force,
        overrides or [],
        quiet,
        out,
        err,
        only=only,
        confidence=confidence,
        days_met=days_met,
        groups=groups,
        day=day,
    )
    if code:
        raise typer.Exit(code)


def erlang(
    per_hour: Annotated[float, typer.Option("--per-hour", help="Calls per hour")],
    aht: Annotated[str, typer.Option(help="Mean handle time, talk + wrap (4m, 240)")],
    patience: Annotated[
        str | None, typer.Option(help="Mean patience for Erlang A (3m); absent: nobody abandons")
    ] = None,
    threshold: Annotated[str, typer.Option(help="Service-level threshold (20s)")] = "20s",
    target: Annotated[float, typer.Option(help="Service-level target (0.8)")] = 0.8,
    max_abandon: Annotated[
        float, typer.Option("--max-abandon", help="Abandonment ceiling for Erlang A (0.05)")
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answers as JSON")] = False,
    slots: Annotated[
        int, typer.Option(help="Chat: chats one agent holds at once (each agent is that many servers)")
    ] = 1,
    slowdown: Annotated[
        str | None,
        typer.Option(help="Chat: slow-down with 1, 2, ... chats in hand, one factor per slot (1,1.25,1.5)"),
    ] = None,
) -> None:
    """The analytic answers for one queue: agents needed by Erlang C (M/M/c) and Erlang A (M/M/c+M); with
    --slots, for a chat queue whose agents hold several chats at once."""
    from sim.cli.staff import erlang_command

    code = erlang_command(
        per_hour, aht, patience, threshold, target, max_abandon, as_json, out, err, slots, slowdown
    )
    if code:
        raise typer.Exit(code)
