"""What every command shares: the consoles, the options spelt alike everywhere, loading a scenario, and
turning library errors into one message and an exit status.

Exit statuses: 0 done; 1 the disk, a folder or a check failed us (`FAILED`); 2 the input was refused (a
scenario, an option, an existing folder: `REFUSED`); 130 interrupted (`INTERRUPTED`, as shells count Ctrl-C).
Like every CLI module this one imports only typer and rich at the top (tests/test_startup.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from sim.output.console import PipedConsole, print_problems, say

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.experiments.executors import Executor
    from sim.experiments.runner import Replicated
    from sim.model.scenario import Scenario
    from sim.output.drawer import ReportDrawer
    from sim.output.results import EncodedTables

FAILED = 1
"""Exit status: the disk or a folder failed us, or a rerun differs."""
REFUSED = 2
"""Exit status: a scenario, an option or an existing folder was refused; nothing was run."""
INTERRUPTED = 130
"""Exit status: Ctrl-C (or SIGTERM while writing); nothing was left half-written."""

DASK_MISSING = "--dask needs Dask, which is not installed: pip install 'callsim[dask]'"

out = PipedConsole()  # piped: tables at full width, never wrapped at 80 columns
err = PipedConsole(stderr=True)
T = TypeVar("T")

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario value: dotted.path=value (repeatable), e.g. departments.billing.agents=12",
    ),
]
SeedOption = Annotated[int | None, typer.Option(help="Seed (default: the scenario's)")]
JobsOption = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")]
QuietOption = Annotated[bool, typer.Option(help="Print nothing but errors")]
DayOption = Annotated[
    str | None,
    typer.Option(
        "--day",
        metavar="DAY",
        help="A week scenario's day (Monday) or day type (peak): this command works on one day",
    ),
]
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask", help="Send the work to this Dask scheduler (tcp://host:8786) instead of local cores"
    ),
]


def command_line() -> list[str]:
    """The command as typed, recorded in the folders a command writes (`meta.json`)."""
    return ["callsim", *sys.argv[1:]]


def refuse(message: object, code: int = REFUSED) -> NoReturn:
    """Print `error: message` and exit with `code` (call it inside `except`: the traceback is dropped)."""
    say(err, "error", message)
    raise typer.Exit(code) from None


def require_dask(address: str | None) -> None:
    """Exit 2 with the install command when `--dask` is given and Dask is not installed (an optional extra)."""
    if address is None:
        return
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        refuse(DASK_MISSING)


def load(
    path: Path, overrides: list[str] | None, day: str | None = None, command: str | None = None
) -> Scenario:
    """The scenario at `path` with `--set` overrides, warned about if its queues cannot drain; exit 2 with
    every problem listed if it is refused. For a `command` that works on one day, a week's `day` (`--day`;
    `sim.model.loading.one_day`)."""
    from sim.model.loading import ScenarioError, load_scenario, one_day

    try:
        loaded = load_scenario(path, overrides or [])
        if command is not None:
            loaded = one_day(loaded, day, command, Path(path).parent)
    except ScenarioError as error:
        print_problems(err, error)
        raise typer.Exit(REFUSED) from None
    warn_if_unstable(loaded)
    return loaded


def warn_if_unstable(scenario: Scenario) -> None:
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


def check_free(target: Path, force: bool, what: str = "results") -> None:
    """Before any work: `target` is free (or `--force` given) and could be made; else exit 2 (it exists) or 1
    (the disk or a folder in the way)."""
    from sim.output.folders import ResultsError, ResultsExist, check_target

    try:
        check_target(target, force, what)
    except ResultsError as error:
        refuse(error, REFUSED if isinstance(error, ResultsExist) else FAILED)


def interrupted(target: Path) -> NoReturn:
    """Ctrl-C (or SIGTERM while writing) during a run: say nothing was written, exit 130."""
    say(err, "interrupted", f"no results written to {target}", "yellow")
    raise typer.Exit(INTERRUPTED) from None


def write_results(
    target: Path,
    result: Replicated,
    force: bool,
    drawer: ReportDrawer | None = None,
    log: bool = False,
    encoded: EncodedTables | None = None,
) -> Path:
    """Write the results folder (its report built by `drawer` if one was started; with `log`, the calls as
    `calls_log.csv`; `encoded`: its Parquet files, encoded ahead) and say where it went (another run may have taken `target` meanwhile), or exit with
    why not (2: it exists; 1: the disk or folder failed us)."""
    from sim.output.folders import ResultsExist, unwritable
    from sim.output.results import write_run

    try:
        written = write_run(
            target,
            result,
            force=force,
            command=command_line(),
            release_events=True,
            drawer=drawer,
            log=log,
            encoded=encoded,
        )
    except ResultsExist as error:
        refuse(error)
    except OSError as error:  # ResultsUnwritable: a file in the way, a full or read-only disk
        refuse(unwritable(error, target), FAILED)
    if written != target:
        say(
            err, "warning", f"{target} was taken by another run meanwhile; results are in {written}", "yellow"
        )
    return written


def folder_and_executor(
    target: Path, force: bool, what: str, jobs: int | None, dask: str | None
) -> tuple[Executor | None, int]:
    """Before a planning search (`staff`, `staff --groups`, `schedule`): the folder `target` is free (or
    `force`) and the executor starts; (the executor, 0), or (None, the exit status) after saying why not
    (1: the disk or a folder in the way; 2: the folder exists or the executor cannot start)."""
    from sim.experiments.executors import ExecutorError, make_executor
    from sim.output.folders import ResultsError, ResultsUnwritable, check_target

    try:
        check_target(target, force, what)
        return make_executor(jobs, dask), 0
    except (ResultsError, ExecutorError) as error:
        say(err, "error", error)
        return None, 1 if isinstance(error, ResultsUnwritable) else 2


def searched(executor: Executor, work: Callable[[], T], refused: type[Exception]) -> tuple[T | None, int]:
    """A planning search run on `executor`, closed whatever happens: (what `work()` returned, 0), or (None,
    2) after saying why the search could not run (`refused`: its error type, a `StaffingError` or a
    `ScheduleError`)."""
    try:
        return work(), 0
    except refused as error:
        say(err, "error", error)
        return None, 2
    finally:
        executor.close()


def written_folder(write: Callable[[], Path], target: Path, what: str) -> tuple[Path | None, int]:
    """After a planning search: write its folder with `write()`; (where it went, 0), or (None, the exit
    status) after saying why not (2: it exists, taken meanwhile; 1: the disk failed)."""
    from sim.output.console import say
    from sim.output.folders import ResultsExist, unwritable

    try:
        return write(), 0
    except ResultsExist as error:
        say(err, "error", error)
        return None, 2
    except OSError as error:
        say(err, "error", unwritable(error, target, what))
        return None, 1
