"""`callsim staff --target email.within_due=0.95` / `--max email.backlog_at_close=0`: size the email-only
pools to a day-level email goal (`sim.experiments.staffing.email_sizing`) after the voice and chat plan
(`staff`, `staff --groups`), or alone for a centre with only email work to size."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from sim.cli.common import command_line, folder_and_executor, searched, written_folder
from sim.experiments.executors import Executor
from sim.experiments.staffing.email_sizing import EmailGoal, EmailSizing, size_email_pools
from sim.experiments.staffing.group_pools import judged_departments
from sim.experiments.staffing.targets import StaffingError
from sim.model.scenario import Scenario
from sim.output.console import say
from sim.output.email_sizing_folder import add_email_sizing, write_email_sizing
from sim.output.folders import default_run_dir


def email_work_only(scenario: Scenario) -> bool:
    """Whether the centre has no voice or chat department (nothing for the interval search to staff)."""
    return not judged_departments(scenario)


def sizing_progress(quiet: bool, err: Console) -> Callable[[str], None]:
    """A line per simulated candidate on stderr (nothing when `quiet`)."""
    started = time.perf_counter()

    def report(line: str) -> None:
        if not quiet:
            err.print(f"sizing email pools: {line} ({time.perf_counter() - started:.1f}s)", highlight=False)

    return report


def size_after_plan(
    staffed: Scenario,
    goal: EmailGoal,
    reps: int,
    seed: int | None,
    executor: Executor,
    quiet: bool,
    err: Console,
) -> EmailSizing:
    """The email pools sized on the scenario as the voice and chat plan staffs it (`staffed`)."""
    return size_email_pools(
        staffed, goal, reps=reps, seed=seed, executor=executor, progress=sizing_progress(quiet, err)
    )


def print_sizing(out: Console, sizing: EmailSizing) -> None:
    """The sizes, the outcome at them and at one agent fewer per pool."""
    for line in sizing.lines():
        out.print(line, highlight=False)


def written_plan(
    write: Callable[[], Path], target: Path, sizing: EmailSizing | None, err: Console
) -> tuple[Path | None, int]:
    """Write a staffing plan's folder (`common.written_folder`) and merge the email sizing into it, if
    any: (where it went, 0), or (None, the exit status) after saying why not (1 when the disk fails)."""
    written, code = written_folder(write, target, "the staffing plan")
    if written is None or sizing is None:
        return written, code
    try:
        add_email_sizing(written, sizing)
    except OSError as error:
        say(err, "error", f"could not add the email sizing to {written}: {error}")
        return None, 1
    return written, 0


def email_only_command(
    base: Scenario,
    goal: EmailGoal,
    reps: int,
    seed: int | None,
    jobs: int | None,
    dask: str | None,
    out_dir: Path | None,
    force: bool,
    quiet: bool,
    out: Console,
    err: Console,
) -> int:
    """A centre with only email work: size its email pools, write the folder, print; the exit status."""
    target = out_dir or default_run_dir(Path("results"), f"{base.name}-email-staffing")
    executor, code = folder_and_executor(target, force, "the staffing plan", jobs, dask)
    if executor is None:
        return code
    sizing, code = searched(
        executor, lambda: size_after_plan(base, goal, reps, seed, executor, quiet, err), StaffingError
    )
    if sizing is None:
        return code
    written, code = written_folder(
        lambda: write_email_sizing(target, sizing, force, command_line()), target, "the staffing plan"
    )
    if written is None:
        return code
    if not quiet:
        print_sizing(out, sizing)
        out.print(f"staffing: {written / 'staffing.yaml'}", highlight=False, soft_wrap=True)
    return 0
