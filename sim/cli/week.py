"""`callsim run` of a scenario with a `week` block: every day in order, one results folder for the week.

Like every CLI module this one imports only typer and rich at the top (tests/test_startup.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.common import FAILED, command_line, err, interrupted, out, refuse
from sim.output.console import progress, say

if TYPE_CHECKING:
    from sim.model.scenario import Scenario


def run_week(
    loaded: Scenario,
    target: Path,
    seed: int | None,
    reps: int,
    jobs: int | None,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Simulate `reps` weeks, write the folder, print the week table (or the summary as JSON)."""
    from sim.experiments.week import replicate_week
    from sim.output.console_week import week_console_table
    from sim.output.folders import ResultsExist, clean_json, unwritable
    from sim.output.week_folder import REPORT, week_summary, write_week

    try:
        with progress(err, reps + 1, "simulating weeks", enabled=not (quiet or as_json)) as step:
            result = replicate_week(loaded, seed, reps, jobs, on_done=lambda _: step())
            step("writing results and report", advance=0)
            try:
                written = write_week(target, result, force, command_line())
            except ResultsExist as error:
                refuse(error)
            except OSError as error:
                refuse(unwritable(error, target), FAILED)
    except KeyboardInterrupt:
        interrupted(target)
    if written != target:
        say(
            err, "warning", f"{target} was taken by another run meanwhile; results are in {written}", "yellow"
        )
    if as_json:
        print(json.dumps(clean_json(week_summary(result)), indent=2))
        return
    if quiet:
        return
    count = len(result.tables)
    title = f"{loaded.name}: week, seed {result.seed}" + (f", {count} replications" if count > 1 else "")
    out.print(week_console_table(result.table, title, loaded.service_level.target))
    out.print(
        f"results: {written}  ({result.first.calls_offered:,} calls in the first week)", highlight=False
    )
    out.print(f"report: {written / REPORT}", highlight=False, soft_wrap=True)


def rerun_week(
    scenario: Scenario,
    seed: int,
    reps: int,
    jobs: int | None,
    target: Path,
    force: bool,
    step: Callable[..., Any],
) -> Path:
    """`callsim rerun` of a week's folder: the same weeks again, written as `callsim run` writes them."""
    from sim.experiments.week import replicate_week
    from sim.output.folders import ResultsExist, unwritable
    from sim.output.week_folder import write_week

    result = replicate_week(scenario, seed, reps, jobs, on_done=lambda _: step())
    step("writing results and report", advance=0)
    try:
        return write_week(target, result, force, command_line())
    except ResultsExist as error:
        refuse(error)
    except OSError as error:
        refuse(unwritable(error, target), FAILED)
