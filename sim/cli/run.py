"""`callsim run` and `callsim validate`: simulate a scenario into a results folder, or only check it.

`validate` must answer at once: it loads the scenario model and nothing heavier (no pandas, SciPy,
matplotlib or pyarrow); `run` imports the engine and the output layer when it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli.common import (
    REFUSED,
    JobsOption,
    QuietOption,
    SeedOption,
    SetOption,
    check_free,
    err,
    interrupted,
    load,
    out,
    refuse,
    warn_if_unstable,
    write_results,
)
from sim.output.console import print_problems, progress, say

if TYPE_CHECKING:
    from sim.experiments.beside import SimulationBeside
    from sim.experiments.runner import Replicated
    from sim.model.scenario import Scenario
    from sim.output.drawer import ReportDrawer

DEFAULT_NAME = "small-centre.yaml"
"""The shipped scenario `callsim run` simulates when given none."""


def default_scenario() -> Path:
    """The shipped small centre: from the installed package (`sim.scenarios`, which the wheel maps onto
    the repository's `scenarios/`), or from the checkout's `scenarios/` when running from source."""
    from importlib.resources import files

    try:
        shipped = Path(str(files("sim.scenarios").joinpath(DEFAULT_NAME)))
    except ModuleNotFoundError:  # a checkout imported from source: no `sim.scenarios` package to find
        shipped = Path(__file__).resolve().parents[2] / "scenarios" / DEFAULT_NAME
    return shipped


def run(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML (default: the shipped small centre)")
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    reps: Annotated[int, typer.Option(min=1, help="Independent replications (KPIs get 95% CIs)")] = 1,
    jobs: JobsOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Results folder (default: results/<name>-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing results folder")] = False,
    quiet: QuietOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout")] = False,
    until_ci: Annotated[
        list[str] | None,
        typer.Option(
            "--until-ci",
            help="Add replications until this KPI's 95% half-width is reached: KPI=HALFWIDTH (repeatable), "
            "e.g. service_level=0.01, asa=2s, by_department.billing.abandon_rate=0.005",
        ),
    ] = None,
    max_reps: Annotated[
        int, typer.Option(min=2, help="With --until-ci: at most this many replications")
    ] = 200,
    log: Annotated[
        bool,
        typer.Option(
            "--log",
            help="Also write the calls as a call log (calls_log.csv): one day per replication, "
            "dated 2026-01-05, 2026-01-06, ...",
        ),
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay", help="Also write replay.html: the floor animated, for trainers (see callsim replay)"
        ),
    ] = False,
) -> None:
    """Simulate a scenario and write its results folder."""
    from sim.output.drawer import ReportDrawer
    from sim.output.drawing import prepare
    from sim.output.folders import default_run_dir

    # the report's pictures are drawn by a process forked first: it imports matplotlib while this one
    # loads the scenario, simulates and computes the tables (and is ended if the run goes no further)
    drawer = ReportDrawer.start(prepare)
    try:
        path = scenario or default_scenario()
        loaded = load(path, overrides)
        goals = _precision_goals(until_ci or [])
        target = out_dir or default_run_dir(Path("results"), loaded.name)
        check_free(target, force)  # before simulating: the folder is free and could be made
        if loaded.week is not None:  # several days in order, one folder for the week (`sim.cli.week`)
            if goals or log:
                refuse("--until-ci and --log are for single days; a week scenario runs with --reps")
            from sim.cli.week import run_week

            if drawer is not None:
                drawer.close()
            run_week(loaded, target, seed, reps, jobs, force, quiet, as_json)
            return
        from sim.experiments.beside import SimulationBeside

        beside = SimulationBeside.start(loaded, seed)  # replication 0 simulates while the rest is imported
        try:
            result, target = _simulate_and_write(
                loaded, beside, drawer, target, seed, reps, jobs, goals, max_reps, force, log, quiet or as_json
            )
        finally:
            if beside is not None:
                beside.close()
    finally:
        if drawer is not None:
            drawer.close()
    if replay:
        from sim.output.replay import write_replay

        write_replay(target, force=True)  # the folder is complete: the page is written beside and renamed
    summary = result.summary
    if as_json:
        from sim.output.folders import clean_json

        print(json.dumps(clean_json(summary), indent=2))
    elif not quiet:
        from sim.output.console import print_run

        count = len(result.replications)
        title = f"{loaded.name}: seed {result.seed}" + (f", {count} replications" if count > 1 else "")
        print_run(out, summary, result.intervals, title, loaded)
        if result.precision:
            from sim.output.precision_text import precision_line

            out.print(precision_line(result.precision), highlight=False, soft_wrap=True)
        out.print(
            f"results: {target}  ({result.calls_offered:,} calls simulated in {_took(result.wall_time)})",
            highlight=False,
        )
        _print_report_line(target)
        if log:
            out.print(f"call log: {target / 'calls_log.csv'}", highlight=False, soft_wrap=True)
        if replay:
            out.print(f"replay: {target / 'replay.html'}", highlight=False, soft_wrap=True)


def _simulate_and_write(
    loaded: Scenario,
    beside: SimulationBeside | None,
    drawer: ReportDrawer | None,
    target: Path,
    seed: int | None,
    reps: int,
    jobs: int | None,
    goals: dict[str, float],
    max_reps: int,
    force: bool,
    log: bool,
    quiet: bool,
) -> tuple[Replicated, Path]:
    """The run's replications (replication 0 from `beside` if it simulated it) and its results folder
    with the report (its pictures drawn by `drawer` if there is one); the folder written (another run may
    have taken `target` meanwhile)."""
    from sim.experiments.provenance import prefetch_git_revision
    from sim.experiments.runner import first_replication, replicate, replicate_until
    from sim.output.results import EncodedTables

    prefetch_git_revision()  # git finds the revision for meta.json while the run simulates, not after
    try:
        with progress(err, (max_reps if goals else reps) + 1, "simulating", enabled=not quiet) as step:
            first = first_replication(loaded, seed, beside.result() if beside is not None else None)
            encoded = EncodedTables(first)  # its Parquet files encoded while its KPIs are computed
            if goals:
                try:
                    result = replicate_until(
                        loaded, goals, seed, reps, max_reps, jobs, on_done=lambda _: step(), first=first
                    )
                except ValueError as error:
                    refuse(f"--until-ci: {error}")
            else:
                result = replicate(loaded, seed, reps, jobs, on_done=lambda _: step(), first=first)
            step("writing results and report", advance=0)
            return result, write_results(target, result, force, drawer, log=log, encoded=encoded)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM while writing: nothing is left half-written
        interrupted(target)


def _took(seconds: float) -> str:
    """A simulation's wall time as a person reads it: `2.4s`, or `38 ms` under a second (not `0.0s`)."""
    return f"{seconds:.1f}s" if seconds >= 1 else f"{1000 * seconds:.0f} ms"


def _precision_goals(texts: list[str]) -> dict[str, float]:
    """`--until-ci KPI=HALFWIDTH` options as {KPI: half-width} (exit 2 if malformed)."""
    from sim.model.durations import parse_duration

    goals: dict[str, float] = {}
    for text in texts:
        key, sep, raw = text.partition("=")
        try:
            goals[key.strip()] = parse_duration(raw.strip())
            if not sep or not key.strip():
                raise ValueError
        except ValueError:
            refuse(f"--until-ci {text!r}: expected KPI=HALFWIDTH, e.g. service_level=0.01")
    return goals


def _print_report_line(folder: Path) -> None:
    """Where the report is, or why there is none."""
    from sim.output.report import ERROR, REPORT

    if (folder / REPORT).exists():
        out.print(f"report: {folder / REPORT}", highlight=False, soft_wrap=True)
    elif (folder / ERROR).exists():
        say(
            err,
            "warning",
            f"the report could not be built (see {folder / ERROR}); retry with: callsim report {folder}",
            "yellow",
        )


def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files")],
    overrides: SetOption = None,
) -> None:
    """Check scenario files without running them (exit 2 if any is refused)."""
    from sim.model.loading import ScenarioError, load_scenario

    failed = 0
    for path in scenarios:
        try:
            loaded = load_scenario(path, overrides or [])
        except ScenarioError as error:
            print_problems(err, error)
            failed += 1
            continue
        warn_if_unstable(loaded)
        out.print(
            f"[green]ok[/] {path}: {loaded.name}, {len(loaded.departments)} department(s), "
            f"{loaded.interval_count} intervals",
            highlight=False,
        )
    if failed:
        raise typer.Exit(REFUSED)
