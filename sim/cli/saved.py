"""`callsim report`, `callsim rerun` and `callsim compare`: what to do with results folders already written
(draw their report again, run them again bit for bit, set two side by side).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli.common import (
    FAILED,
    JobsOption,
    QuietOption,
    check_free,
    command_line,
    err,
    interrupted,
    load,
    out,
    refuse,
    write_results,
)
from sim.output.console import progress, say

if TYPE_CHECKING:
    from sim.output.saved import SavedRun

RunFolder = Annotated[Path, typer.Argument(help="A results folder written by callsim run")]


def report(results_dir: RunFolder, quiet: QuietOption = False) -> None:
    """Rebuild a saved run's pictures (plots/) and report.html from its files."""
    from sim.output.report import write_report
    from sim.output.saved import NotARun

    try:
        with progress(err, 1, "drawing plots and report", enabled=not quiet) as step:
            built = write_report(results_dir)
            step()
    except NotARun as error:
        refuse(error)
    if not quiet:
        for plot in built.plots:
            out.print(
                f"plot: {plot.path}" if plot.drawn else f"not drawn: {plot.path.name} ({plot.note})",
                highlight=False,
                soft_wrap=True,
            )
        out.print(f"report: {built.html}", highlight=False, soft_wrap=True)


def rerun(
    results_dir: RunFolder,
    jobs: JobsOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the rerun (default: results/<name>-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder at --out")] = False,
    quiet: QuietOption = False,
) -> None:
    """Run a saved run again from its folder (resolved scenario, seed, replications) and check that every
    table comes out identical (exit 1 if any differs)."""
    from sim.experiments.runner import replicate
    from sim.output.folders import default_run_dir
    from sim.output.rerun import (
        NotRerunnable,
        current_versions,
        differences,
        rerun_plan,
        version_changes,
    )

    try:
        plan = rerun_plan(results_dir)
    except NotRerunnable as error:
        refuse(error)
    target = out_dir or default_run_dir(Path("results"), plan.scenario.name)
    if target.resolve() == results_dir.resolve():
        refuse("--out must differ from the folder being rerun")
    check_free(target, force)
    for name, (then, now) in version_changes(plan.versions, current_versions()).items():
        say(err, "warning", f"{name} was {then} for the original run, {now} now", "yellow")
    try:
        with progress(err, plan.reps + 1, f"rerunning {results_dir}", enabled=not quiet) as step:
            if plan.scenario.week is not None:  # a week's folder: the weeks again (`sim.cli.week`)
                from sim.cli.week import rerun_week

                target = rerun_week(plan.scenario, plan.seed, plan.reps, jobs, target, force, step)
            else:
                result = replicate(plan.scenario, plan.seed, plan.reps, jobs, on_done=lambda _: step())
                step("writing results and report", advance=0)
                target = write_results(target, result, force)
    except KeyboardInterrupt:
        interrupted(target)
    found = differences(results_dir, target)
    for line in found:
        say(err, "differs", line)
    if found:
        raise typer.Exit(FAILED)
    if not quiet:
        out.print(
            f"identical: {target} reproduces {results_dir} (seed {plan.seed}, {plan.reps} replication(s))",
            highlight=False,
            soft_wrap=True,
        )


def compare(
    run_a: Annotated[Path, typer.Argument(help="Run A: a results folder or a scenario YAML")],
    run_b: Annotated[Path, typer.Argument(help="Run B: a results folder or a scenario YAML")],
    set_a: Annotated[
        list[str] | None,
        typer.Option("--set-a", help="Override for scenario A: dotted.path=value (repeatable)"),
    ] = None,
    set_b: Annotated[
        list[str] | None,
        typer.Option("--set-b", help="Override for scenario B: dotted.path=value (repeatable)"),
    ] = None,
    label_a: Annotated[
        str | None,
        typer.Option("--label-a", help="What to call A (default: what differs from B, e.g. agents.count=8)"),
    ] = None,
    label_b: Annotated[
        str | None,
        typer.Option("--label-b", help="What to call B, e.g. 'hire two' (default: what differs from A)"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for scenarios (default: each scenario's)")] = None,
    reps: Annotated[int, typer.Option(min=1, help="Replications for scenarios (>= 2 for significance)")] = 1,
    jobs: JobsOption = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Comparison folder (default: results/compare-<A>-vs-<B>-<time>)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing comparison folder")] = False,
    quiet: QuietOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print comparison.json to stdout")] = False,
) -> None:
    """Two runs side by side: KPIs, differences, significance with replications, service level by interval."""
    from sim.output.compare import compare as compare_runs
    from sim.output.compare import comparison_frame, comparison_json, write_comparison
    from sim.output.compare_goals import goal_comparison, goal_table
    from sim.output.console import comparison_table
    from sim.output.folders import ResultsExist, clean_json, default_run_dir, unwritable, write_folder

    show = not (quiet or as_json)
    if out_dir is not None:
        check_free(out_dir, force, "the comparison")
    runs_root = (
        out_dir.parent if out_dir is not None else Path("results")
    )  # scenarios run beside the comparison
    a = _saved_run(run_a, set_a, seed, reps, jobs, show, runs_root)
    b = _saved_run(run_b, set_b, seed, reps, jobs, show, runs_root)
    result = compare_runs(a, b, (label_a, label_b))
    labels = result.labels
    target = out_dir or default_run_dir(Path("results"), f"compare-{a.scenario.name}-vs-{b.scenario.name}")

    def fill(folder: Path) -> None:
        write_comparison(result, folder)

    try:
        target = write_folder(target, force, fill)
    except ResultsExist as error:
        refuse(error)
    except OSError as error:
        refuse(unwritable(error, target, "the comparison"), FAILED)
    if as_json:
        print(json.dumps(clean_json(comparison_json(result)), indent=2))
    elif not quiet:
        out.print(
            f"A: {labels[0]}  ({a.folder})\nB: {labels[1]}  ({b.folder})",
            highlight=False,
            soft_wrap=True,
            markup=False,  # a label may hold brackets (`channel_priority=[chat, voice]`), not markup
        )
        out.print(comparison_table(comparison_frame(result), labels, result.test.kind != "none"))
        out.print(goal_table(goal_comparison(a, b), labels))
        out.print(f"significance: {result.test.explanation}.", highlight=False)
        if result.test.kind != "none":
            out.print("n.s.: the difference is not significant at the 5% level.", highlight=False)
        out.print(
            f"comparison: {target}  (comparison.csv, comparison.json, service_level.png)",
            highlight=False,
            soft_wrap=True,
        )


def _saved_run(
    path: Path,
    overrides: list[str] | None,
    seed: int | None,
    reps: int,
    jobs: int | None,
    show: bool,
    results_root: Path,
) -> SavedRun:
    """A results folder as it is, or a scenario file run now into a new folder in `results_root`."""
    from sim.experiments.runner import replicate
    from sim.output.folders import default_run_dir
    from sim.output.results import write_run
    from sim.output.saved import NotARun, load_run

    if path.is_dir():
        if overrides:
            refuse(f"--set applies to scenarios, and {path} is a results folder")
        try:
            return load_run(path)
        except NotARun as error:
            refuse(error)
    loaded = load(path, overrides)
    target = default_run_dir(results_root, loaded.name)
    with progress(err, reps + 1, f"simulating {loaded.name}", enabled=show) as step:
        result = replicate(loaded, seed, reps, jobs, on_done=lambda _: step())
        step(f"writing {target}", advance=0)
        written = write_run(target, result, command=command_line())
    return load_run(written)
