"""`callsim sweep`: plan the sweep, check its folder, run it with a progress bar, print the summary.

The sweep itself is `sim.experiments.sweep` (points x replications through an executor, never printing)
and its folder is `sim.output.sweep_folder` (atomic parts, resume, `sweep.json`, plots); this module only
turns their errors into messages and exit statuses and their progress into a bar.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.experiments.executors import Executor, ExecutorError, make_executor
from sim.experiments.sweep import DEFAULT_PLOTS, SweepPlan, check_plots, parse_shard, plan_sweep
from sim.experiments.sweep_design import SweepError
from sim.model.loading import ScenarioError, one_day
from sim.output.console import print_problems, say
from sim.output.folders import (
    ResultsError,
    ResultsExist,
    check_creatable,
    default_run_dir,
    unwritable,
)
from sim.output.sweep_folder import (
    check_folder,
    mark_interrupted,
    read_rows,
    revision_change,
    run_sweep,
)

SUMMARY_KPIS = ("service_level", "abandon_rate", "asa", "occupancy")
"""The headline KPIs of the sweep's terminal summary (labels and units from the registry)."""
CHANNEL_SUMMARY_KPIS = ("chat_service_level", "chat_abandon_rate", "email_within_due", "email_backlog_at_close")
"""Shown after the headline where the sweep's centre has them (chat or email departments); a centre of
several channels has a voice headline (`sim.analysis.channel_kpis`), labelled so."""


def summary_table(plan: SweepPlan, table: pd.DataFrame, limit: int = 25) -> Table:
    """The per-point summary as a terminal table (headline KPIs with ± 95% half-widths)."""
    shown = Table(title=f"sweep summary ({len(table)} point(s))", header_style="bold")
    for key in plan.keys:
        shown.add_column(".".join(key.split(".")[-2:]), justify="right")
    from sim.analysis.kpis import VOICE_HEADLINE, kpi

    several = "voice_offered" in table  # a centre of several channels with calls: the headline is voice's
    channel = "voice" if several else "chat" if {"chat_offered", "email_within_due"} <= set(table) else ""
    columns = [
        (f"{kpi(key).console_label}{f' ({channel})' if channel and key in VOICE_HEADLINE else ''}", key, kpi(key).unit)
        for key in (*SUMMARY_KPIS, *CHANNEL_SUMMARY_KPIS)
        if key in table and (several or not key.startswith("chat_"))  # a chat desk alone: its headline
    ]
    shown.add_column("reps", justify="right")
    for label, _, _ in columns:
        shown.add_column(label, justify="right")
    for (_, row), point in zip(table.head(limit).iterrows(), plan.points, strict=False):
        cells = [point.settings[key] for key in plan.keys] + [str(row["reps"])]
        if row["error"] is not None and row["reps"] == 0:
            cells += [f"failed: {row['error']}"[:80]] + [""] * (len(columns) - 1)
        else:
            cells += [_with_ci(row, kpi, kind) for _, kpi, kind in columns]
        shown.add_row(*cells)
    if len(table) > limit:
        shown.caption = f"... {len(table) - limit} more in summary.csv"
    return shown


def _with_ci(row: pd.Series, kpi: str, kind: str) -> str:
    mean, width = row.get(kpi), row.get(f"{kpi}_ci95")
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    scale, unit = (100.0, "%") if kind == "%" else (1.0, "" if kind == "n" else "s")
    text = f"{scale * mean:.1f}{unit}"
    if width is not None and not math.isnan(width):
        text += f" ± {scale * width:.1f}{unit}"
    return text


def _workers(executor: Executor) -> str:
    if executor.name == "serial":
        return "1 job"
    where = "Dask" if executor.name == "dask" else "local"
    return f"{executor.workers} {where} workers"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while a sweep runs, so it keeps what it finished."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def sweep_command(
    scenario: Path,
    grid: Sequence[str],
    design: str,
    samples: int | None,
    reps: int,
    jobs: int | None,
    dask: str | None,
    out_dir: Path | None,
    resume: bool,
    force: bool,
    plots: Sequence[str] | None,
    overrides: Sequence[str],
    seed: int | None,
    quiet: bool,
    out: Console,
    err: Console,
    command: Sequence[str] | None = None,
    shard: str | None = None,
) -> int:
    """`callsim sweep`: plan, run with a progress bar, print the summary; returns the exit status. With
    `shard` (`I/N`), run only the I-th of N shares of the tasks into `out_dir` (`callsim sweep-merge`
    makes the sweep's folder from the N shard folders), and draw no plots."""
    try:
        share = parse_shard(shard) if shard is not None else None
        if share is not None and out_dir is None:
            raise SweepError(
                "--shard needs --out: a folder per shard, e.g. --out sweep-shards/$SLURM_ARRAY_TASK_ID"
            )
        plan = plan_sweep(scenario, grid, design, samples, seed, reps, overrides, shard=share)
        one_day(  # a week is refused: each point would be one day of it
            plan.scenario, None, "sweep", how="sweep its base day with --set week=null (plus a day type's --set)"
        )
    except ScenarioError as error:
        print_problems(err, error)
        return 2
    except SweepError as error:
        say(err, "error", error)
        return 2
    if resume and out_dir is None:
        say(err, "error", "--resume needs the sweep's --out folder")
        return 2
    if resume and force:
        say(err, "error", "choose --resume or --force, not both")
        return 2
    target = out_dir or default_run_dir(Path("results"), f"{plan.scenario.name}-sweep")
    chosen = list(plots) if plots else list(DEFAULT_PLOTS)
    if plan.shard is not None:
        chosen = []  # a shard's summary covers some replications of each point: plots are the merge's
    if plots:
        try:
            check_plots(plan, chosen)
        except SweepError as error:
            say(err, "error", error)
            return 2
    refused = sum(p.scenario is None for p in plan.points)
    if not quiet:
        err.print(
            f"{plan.scenario.name}: {len(plan.points)} point(s) x {plan.reps} replication(s), seed {plan.seed}"
            + (f"; {refused} point(s) refused (recorded as failed)" if refused else ""),
            highlight=False,
        )
    try:
        check_folder(plan, target, resume, force)
    except (ResultsExist, SweepError) as error:
        say(err, "error", error)
        return 2
    if resume and (changed := revision_change(target)):
        say(err, "warning", changed, "yellow")
    try:
        check_creatable(target, "the sweep", inside=True)
    except ResultsError as error:
        say(err, "error", error)
        return 1
    try:
        executor = make_executor(jobs, dask)
    except ExecutorError as error:
        say(err, "error", error)
        return 2
    progress = Progress(
        TextColumn("[bold]sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )
    task = progress.add_task("sweep", total=plan.tasks)

    def on_progress(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    try:
        with sigterm_as_interrupt(), progress:
            outcome = run_sweep(
                plan,
                target,
                executor,
                resume=resume,
                force=force,
                plots=chosen,
                on_progress=on_progress,
                command=command,
            )
    except KeyboardInterrupt:
        mark_interrupted(plan, target)  # if the stop came after the sweep's last word, or before its first
        kept = read_rows(target)
        say(
            err,
            "interrupted",
            f"{int(kept['error'].isna().sum())} of {plan.tasks} row(s) kept in {target}; "
            "run the same command with --resume to complete it",
            "yellow",
        )
        return 130
    except (SweepError, ResultsExist) as error:
        say(err, "error", error)
        return 2
    except OSError as error:
        say(err, "error", unwritable(error, target, "the sweep"))
        return 1
    finally:
        executor.close()
    if not quiet:
        out.print(summary_table(plan, outcome.summary))
        out.print(
            f"sweep: {target}  ({outcome.ran} row(s) run, {outcome.kept} kept from before, "
            f"{outcome.failed} failed; {outcome.wall_time:.1f}s, {_workers(executor)})",
            highlight=False,
        )
        unknown = [k for k in chosen if k not in outcome.summary]
        if unknown:
            say(err, "not plotted (no such KPI)", ", ".join(unknown), "yellow")
    return 0


def merge_command(
    shards: Sequence[Path],
    out_dir: Path,
    force: bool,
    plots: Sequence[str] | None,
    quiet: bool,
    out: Console,
    err: Console,
    command: Sequence[str] | None = None,
) -> int:
    """`callsim sweep-merge`: check the shard folders, write the sweep's folder, print its summary."""
    from sim.output.sweep_merge import merge_plan, merge_shards

    try:
        plan = merge_plan(shards)
        chosen = list(plots) if plots else list(DEFAULT_PLOTS)
        if plots:
            check_plots(plan, chosen)
        outcome = merge_shards(shards, out_dir, force, chosen, command, plan)
    except ScenarioError as error:
        print_problems(err, error)
        return 2
    except (SweepError, ResultsExist) as error:
        say(err, "error", error)
        return 2
    except OSError as error:
        say(err, "error", unwritable(error, out_dir, "the sweep"))
        return 1
    if not quiet:
        out.print(summary_table(plan, outcome.summary))
        out.print(
            f"sweep: {out_dir}  ({len(outcome.rows)} row(s) merged from {len(shards)} shard(s), "
            f"{outcome.failed} failed)",
            highlight=False,
        )
    return 0
