"""callsim's command line: each command parses, calls one `sim` function, and prints a short summary.

Start-up matters (`callsim --help` and `callsim validate` should answer at once), so this module imports
only typer and rich at the top; each command imports the library it uses (pandas, SciPy, matplotlib, the
engine) when it runs. tests/test_startup.py checks that `--help` and `validate` load none of them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from sim.output.console import print_problems, progress, say

if TYPE_CHECKING:
    from sim.experiments.runner import Replicated
    from sim.model.scenario import Scenario

DEFAULT_NAME = "small-centre.yaml"
"""The shipped scenario `callsim run` simulates when given none."""

DASK_MISSING = "--dask needs Dask, which is not installed: pip install 'callsim[dask]'"

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="callsim: a call-centre hold-and-transfer simulator. Scenarios are YAML; times are seconds inside.",
)
out = Console()
err = Console(stderr=True)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario value: dotted.path=value (repeatable), e.g. departments.billing.agents=12",
    ),
]


def default_scenario() -> Path:
    """The shipped small centre: from the installed package (`sim.scenarios`, which the wheel maps onto
    the repository's `scenarios/`), or from the checkout's `scenarios/` when running from source."""
    from importlib.resources import files

    try:
        shipped = Path(str(files("sim.scenarios").joinpath(DEFAULT_NAME)))
    except ModuleNotFoundError:  # a checkout imported from source: no `sim.scenarios` package to find
        shipped = Path(__file__).resolve().parents[2] / "scenarios" / DEFAULT_NAME
    return shipped


def _version() -> str:
    """The installed distribution's version (an editable install's too), read from its metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("callsim")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "unknown (not installed)"


def _show_version(value: bool) -> None:
    if value:
        print(f"callsim {_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print callsim's version and exit"
        ),
    ] = False,
) -> None:
    """callsim: a call-centre hold-and-transfer simulator. Scenarios are YAML; times are seconds inside."""


def _require_dask(address: str | None) -> None:
    """Exit 2 with the install command when `--dask` is given and Dask is not installed (an optional extra)."""
    if address is None:
        return
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        say(err, "error", DASK_MISSING)
        raise typer.Exit(2) from None


def _load(path: Path, overrides: list[str] | None) -> Scenario:
    from sim.model.loading import ScenarioError, load_scenario

    try:
        loaded = load_scenario(path, overrides or [])
    except ScenarioError as error:
        print_problems(err, error)
        raise typer.Exit(2) from None
    _warn_if_unstable(loaded)
    return loaded


def _warn_if_unstable(scenario: Scenario) -> None:
    """Warn before a run whose queues cannot drain: infinite patience and load at or over the agents."""
    from sim.analysis.stability import overloads
    from sim.model.durations import format_duration

    found = overloads(scenario)
    if not found:
        return
    shown = "; ".join(overload.describe(scenario) for overload in found[:4])
    more = f"; and {len(found) - 4} more" if len(found) > 4 else ""
    err.print(
        "[yellow]warning:[/] callers never hang up (no patience) and the offered load reaches the agents: "
        f"{shown}{more}. The queue grows without bound until the close; the run stops "
        f"{format_duration(scenario.drain)} after it and counts callers still waiting as in_system.",
        highlight=False,
    )


@app.command()
def run(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML (default: the shipped small centre)")
    ] = None,
    overrides: SetOption = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's)")] = None,
    reps: Annotated[int, typer.Option(min=1, help="Independent replications (KPIs get 95% CIs)")] = 1,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Results folder (default: results/<name>-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing results folder")] = False,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
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
) -> None:
    """Simulate a scenario and write its results folder."""
    from sim.experiments.runner import replicate, replicate_until
    from sim.output.console import print_run
    from sim.output.folders import ResultsError, ResultsExist, check_target, clean_json, default_run_dir

    path = scenario or default_scenario()
    loaded = _load(path, overrides)
    goals = _precision_goals(until_ci or [])
    target = out_dir or default_run_dir(Path("results"), loaded.name)
    try:
        check_target(target, force)  # before simulating: the folder is free and could be made
    except ResultsError as error:
        say(err, "error", error)
        raise typer.Exit(2 if isinstance(error, ResultsExist) else 1) from None
    try:
        with progress(
            err, (max_reps if goals else reps) + 1, "simulating", enabled=not (quiet or as_json)
        ) as step:
            if goals:
                try:
                    result = replicate_until(
                        loaded, goals, seed, reps, max_reps, jobs, on_done=lambda _: step()
                    )
                except ValueError as error:
                    say(err, "error", f"--until-ci: {error}")
                    raise typer.Exit(2) from None
            else:
                result = replicate(loaded, seed, reps, jobs, on_done=lambda _: step())
            step("writing results and report", advance=0)
            target = _write_results(target, result, force)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM while writing: nothing is left half-written
        say(err, "interrupted", f"no results written to {target}", "yellow")
        raise typer.Exit(130) from None
    summary = result.summary
    if as_json:
        print(json.dumps(clean_json(summary), indent=2))
    elif not quiet:
        count = len(result.replications)
        title = f"{loaded.name}: seed {result.seed}" + (f", {count} replications" if count > 1 else "")
        print_run(out, summary, result.intervals, title, loaded)
        if result.precision:
            from sim.experiments.runner import precision_line

            out.print(precision_line(result.precision), highlight=False)
        out.print(
            f"results: {target}  ({result.calls_offered:,} calls in {result.wall_time:.1f}s)", highlight=False
        )
        _print_report_line(target)


def _write_results(target: Path, result: Replicated, force: bool) -> Path:
    """Write the results folder and say where it went (another run may have taken `target` meanwhile), or
    exit with why not (2: it exists; 1: the disk or folder failed us)."""
    from sim.output.folders import ResultsExist, unwritable
    from sim.output.results import write_run

    try:
        written = write_run(
            target, result, force=force, command=["callsim", *sys.argv[1:]], release_events=True
        )
    except ResultsExist as error:
        say(err, "error", error)
        raise typer.Exit(2) from None
    except OSError as error:  # ResultsUnwritable: a file in the way, a full or read-only disk
        say(err, "error", unwritable(error, target))
        raise typer.Exit(1) from None
    if written != target:
        say(
            err, "warning", f"{target} was taken by another run meanwhile; results are in {written}", "yellow"
        )
    return written


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
            say(err, "error", f"--until-ci {text!r}: expected KPI=HALFWIDTH, e.g. service_level=0.01")
            raise typer.Exit(2) from None
    return goals


def _print_report_line(folder: Path) -> None:
    """Where the report is, or why there is none."""
    from sim.output.report import ERROR, REPORT

    if (folder / REPORT).exists():
        out.print(f"report: {folder / REPORT}", highlight=False, soft_wrap=True)
    elif (folder / ERROR).exists():
        err.print(
            f"[yellow]warning:[/] the report could not be built (see {folder / ERROR}); "
            f"retry with: callsim report {folder}",
            highlight=False,
        )


@app.command()
def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    call: Annotated[int | None, typer.Option("--call", help="Tell this call id")] = None,
    longest: Annotated[
        bool, typer.Option("--longest", help="Tell the caller with the longest chain (default)")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="The longest chain among callers with this reason")
    ] = None,
    picture: Annotated[
        Path | None, typer.Option("--out", help="Save the timeline picture here (PNG)")
    ] = None,
    overrides: SetOption = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's)")] = None,
) -> None:
    """For trainers: one caller's journey, ring by ring and agent by agent, as a story and a timeline."""
    from sim.output.trace import trace as trace_call

    loaded = _load(scenario, overrides)
    if sum(x is not None and x is not False for x in (call, reason, longest or None)) > 1:
        err.print("[red]error:[/] choose one of --call, --longest or --reason", highlight=False)
        raise typer.Exit(2)
    try:
        traced = trace_call(loaded, seed, call, reason, picture)
    except ValueError as error:
        say(err, "error", error)
        raise typer.Exit(2) from None
    out.print(traced.text, highlight=False, markup=False, soft_wrap=True)
    if traced.picture is not None:
        out.print(f"timeline: {traced.picture}", highlight=False)


@app.command()
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
        _warn_if_unstable(loaded)
        out.print(
            f"[green]ok[/] {path}: {loaded.name}, {len(loaded.departments)} department(s), "
            f"{loaded.interval_count} intervals",
            highlight=False,
        )
    if failed:
        raise typer.Exit(2)


@app.command()
def report(
    results_dir: Annotated[Path, typer.Argument(help="A results folder written by callsim run")],
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
) -> None:
    """Rebuild a saved run's pictures (plots/) and report.html from its files."""
    from sim.output.report import write_report
    from sim.output.saved import NotARun

    try:
        with progress(err, 1, "drawing plots and report", enabled=not quiet) as step:
            built = write_report(results_dir)
            step()
    except NotARun as error:
        say(err, "error", error)
        raise typer.Exit(2) from None
    if not quiet:
        for plot in built.plots:
            out.print(
                f"plot: {plot.path}" + (f"  ({plot.note})" if plot.note else ""),
                highlight=False,
                soft_wrap=True,
            )
        out.print(f"report: {built.html}", highlight=False, soft_wrap=True)


@app.command()
def rerun(
    results_dir: Annotated[Path, typer.Argument(help="A results folder written by callsim run")],
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the rerun (default: results/<name>-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder at --out")] = False,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
) -> None:
    """Run a saved run again from its folder (resolved scenario, seed, replications) and check that every
    table comes out identical (exit 1 if any differs)."""
    from sim.experiments.runner import replicate
    from sim.output.folders import ResultsError, ResultsExist, check_target, default_run_dir
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
        say(err, "error", error)
        raise typer.Exit(2) from None
    target = out_dir or default_run_dir(Path("results"), plan.scenario.name)
    if target.resolve() == results_dir.resolve():
        err.print("[red]error:[/] --out must differ from the folder being rerun", highlight=False)
        raise typer.Exit(2)
    try:
        check_target(target, force)
    except ResultsError as error:
        say(err, "error", error)
        raise typer.Exit(2 if isinstance(error, ResultsExist) else 1) from None
    for name, (then, now) in version_changes(plan.versions, current_versions()).items():
        say(err, "warning", f"{name} was {then} for the original run, {now} now", "yellow")
    try:
        with progress(err, plan.reps + 1, f"rerunning {results_dir}", enabled=not quiet) as step:
            result = replicate(plan.scenario, plan.seed, plan.reps, jobs, on_done=lambda _: step())
            step("writing results and report", advance=0)
            target = _write_results(target, result, force)
    except KeyboardInterrupt:
        say(err, "interrupted", f"no results written to {target}", "yellow")
        raise typer.Exit(130) from None
    found = differences(results_dir, target)
    for line in found:
        say(err, "differs", line)
    if found:
        raise typer.Exit(1)
    if not quiet:
        out.print(
            f"identical: {target} reproduces {results_dir} (seed {plan.seed}, {plan.reps} replication(s))",
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
) -> object:
    """A results folder as it is, or a scenario file run now into a new folder in `results_root`."""
    from sim.experiments.runner import replicate
    from sim.output.folders import default_run_dir
    from sim.output.results import write_run
    from sim.output.saved import NotARun, load_run

    if path.is_dir():
        if overrides:
            err.print(
                f"[red]error:[/] --set applies to scenarios, and {path} is a results folder", highlight=False
            )
            raise typer.Exit(2)
        try:
            return load_run(path)
        except NotARun as error:
            say(err, "error", error)
            raise typer.Exit(2) from None
    loaded = _load(path, overrides)
    target = default_run_dir(results_root, loaded.name)
    with progress(err, reps + 1, f"simulating {loaded.name}", enabled=show) as step:
        result = replicate(loaded, seed, reps, jobs, on_done=lambda _: step())
        step(f"writing {target}", advance=0)
        written = write_run(target, result, command=["callsim", *sys.argv[1:]])
    return load_run(written)


@app.command()
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
    seed: Annotated[int | None, typer.Option(help="Seed for scenarios (default: each scenario's)")] = None,
    reps: Annotated[int, typer.Option(min=1, help="Replications for scenarios (>= 2 for significance)")] = 1,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Comparison folder (default: results/compare-<A>-vs-<B>-<time>)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing comparison folder")] = False,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print comparison.json to stdout")] = False,
) -> None:
    """Two runs side by side: KPIs, differences, significance with replications, service level by interval."""
    from sim.output.compare import compare as compare_runs
    from sim.output.compare import comparison_frame, comparison_json, write_comparison
    from sim.output.console import comparison_table
    from sim.output.folders import (
        ResultsError,
        ResultsExist,
        check_target,
        clean_json,
        default_run_dir,
        unwritable,
        write_folder,
    )
    from sim.output.saved import SavedRun

    show = not (quiet or as_json)
    if out_dir is not None:
        try:
            check_target(out_dir, force, "the comparison")
        except ResultsError as error:
            say(err, "error", error)
            raise typer.Exit(2 if isinstance(error, ResultsExist) else 1) from None
    runs_root = (
        out_dir.parent if out_dir is not None else Path("results")
    )  # scenarios run beside the comparison
    a = _saved_run(run_a, set_a, seed, reps, jobs, show, runs_root)
    b = _saved_run(run_b, set_b, seed, reps, jobs, show, runs_root)
    assert isinstance(a, SavedRun) and isinstance(b, SavedRun)
    result = compare_runs(a, b)
    labels = result.labels
    target = out_dir or default_run_dir(Path("results"), f"compare-{a.scenario.name}-vs-{b.scenario.name}")

    def fill(folder: Path) -> None:
        write_comparison(result, folder)

    try:
        target = write_folder(target, force, fill)
    except ResultsExist as error:
        say(err, "error", error)
        raise typer.Exit(2) from None
    except OSError as error:
        say(err, "error", unwritable(error, target, "the comparison"))
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(clean_json(comparison_json(result)), indent=2))
    elif not quiet:
        out.print(f"A: {a.folder}\nB: {b.folder}", highlight=False, soft_wrap=True)
        out.print(comparison_table(comparison_frame(result), labels, result.test.kind != "none"))
        out.print(f"significance: {result.test.explanation}.", highlight=False)
        if result.test.kind != "none":
            out.print("n.s.: the difference is not significant at the 5% level.", highlight=False)
        out.print(
            f"comparison: {target}  (comparison.csv, comparison.json, service_level.png)",
            highlight=False,
            soft_wrap=True,
        )


JobsOption = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")]
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask", help="Send the work to this Dask scheduler (tcp://host:8786) instead of local cores"
    ),
]


@app.command()
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
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's)")] = None,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
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
    _require_dask(dask)
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
        ["callsim", *sys.argv[1:]],
        shard=shard,
    )
    if code:
        raise typer.Exit(code)


@app.command("sweep-merge")
def sweep_merge(
    shards: Annotated[list[Path], typer.Argument(help="The shard folders (made with --shard I/N, all N)")],
    out_dir: Annotated[Path, typer.Option("--out", help="The sweep folder to write")],
    force: Annotated[bool, typer.Option(help="Replace an existing sweep folder")] = False,
    plot: Annotated[
        list[str] | None,
        typer.Option("--plot", help="KPI to plot against each parameter (repeatable)"),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
) -> None:
    """Join the shards of a sweep (`callsim sweep ... --shard I/N`) into its folder: the same tables, byte
    for byte, as the sweep run whole."""
    from sim.cli.sweep import merge_command

    code = merge_command(shards, out_dir, force, plot, quiet, out, err, ["callsim", *sys.argv[1:]])
    if code:
        raise typer.Exit(code)


@app.command()
def staff(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="A floor every interval must reach: service_level=0.8 "
            "(default: the scenario's service-level target)",
        ),
    ] = None,
    ceiling: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            help="A ceiling every interval must respect: abandon_rate=0.05, asa=30s, "
            "mean_wait=1m, p90_wait=2m (repeatable)",
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
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="DEPARTMENT",
            help="Re-plan this department alone; the others keep their staffing",
        ),
    ] = None,
) -> None:
    """Find the fewest agents per interval and department that meet the targets in simulation, and
    compare with Erlang C and Erlang A."""
    _require_dask(dask)
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
    )
    if code:
        raise typer.Exit(code)


@app.command()
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
) -> None:
    """The analytic answers for one queue: agents needed by Erlang C (M/M/c) and Erlang A (M/M/c+M)."""
    from sim.cli.staff import erlang_command

    code = erlang_command(per_hour, aht, patience, threshold, target, max_abandon, as_json, out, err)
    if code:
        raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
