"""`callsim backtest LOG SCENARIO`: how well a scenario predicts what a call log says happened. Reads the log
(through a log format when the ACD's names differ), simulates the scenario's day `--reps` times, prints the
error summaries and writes the backtest folder (`sim.output.backtest_folder`).

Like every CLI module this one imports only typer and rich at the top; the library is imported when the
command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli.common import (
    FAILED,
    DayOption,
    JobsOption,
    QuietOption,
    SeedOption,
    SetOption,
    check_free,
    command_line,
    err,
    interrupted,
    load,
    out,
    refuse,
)
from sim.output.console import progress, say

if TYPE_CHECKING:
    from sim.experiments.backtest import Backtest


def backtest(
    log: Annotated[Path, typer.Argument(help="Call log (CSV or Parquet, one row per call)")],
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML to set against the log")],
    log_format: Annotated[
        Path | None,
        typer.Option("--format", help="Log format YAML mapping the ACD's columns and outcome codes"),
    ] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option(help="Column mapping, e.g. arrived_at=CallStart,answered_at=AnswerTime (repeatable)"),
    ] = None,
    outcomes: Annotated[
        list[str] | None, typer.Option(help="Outcome codes, e.g. ABAND=abandoned (repeatable)")
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Skip (and count) bad rows instead of refusing the log")
    ] = False,
    overrides: SetOption = None,
    reps: Annotated[int, typer.Option(min=2, help="Simulated days (the band of a day is their spread)")] = 20,
    seed: SeedOption = None,
    jobs: JobsOption = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Backtest folder (default: results/backtest-<name>-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing backtest folder")] = False,
    quiet: QuietOption = False,
    day: DayOption = None,
) -> None:
    """Set a scenario against a call log: offered, service level, abandonment and ASA per interval and call
    type, each logged day against the band of a simulated day, with error summaries."""
    from sim.experiments.backtest import backtest as run_backtest
    from sim.model.call_log import CallLogError, read_call_log
    from sim.model.log_format import LogFormatError, load_log_format
    from sim.output.backtest_folder import default_backtest_dir, write_backtest
    from sim.output.folders import ResultsExist, unwritable

    loaded = load(scenario, overrides, day, "backtest")
    try:
        form = load_log_format(log_format, columns or [], outcomes or [], "skip" if skip_bad_rows else None)
        calls = read_call_log(log, form)
    except (LogFormatError, CallLogError) as error:
        refuse(error)
    if out_dir is not None:
        check_free(out_dir, force)  # before simulating: the folder is free and could be made
    try:
        with progress(err, reps, "simulating days", enabled=not quiet) as step:
            try:
                result = run_backtest(calls, loaded, reps, seed, jobs, progress=lambda done, total: step())
            except ValueError as error:
                refuse(error)
        target = out_dir or default_backtest_dir(result)
        try:
            written = write_backtest(target, result, force, command_line())
        except ResultsExist as error:
            refuse(error)
        except OSError as error:  # a file in the way, a full or read-only disk
            refuse(unwritable(error, target, "the backtest"), FAILED)
    except KeyboardInterrupt:
        interrupted(out_dir or Path("results"))
    if not quiet:
        for note in result.notes[1:-1]:
            say(err, "note", note, "yellow")
        _print_errors(result)
    out.print(f"backtest: {written}", highlight=False, soft_wrap=True)


def _print_errors(result: Backtest) -> None:
    """The error summaries as a table: per KPI and call type, logged and simulated means, mean absolute
    error, bias (flagged red when beyond its bound) and coverage against the coverage expected."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from sim.output import kpi_labels
    from sim.output.report_format import number

    table = Table(
        title=f"{result.scenario.name} against {escape(Path(result.source).name)}: "
        f"{len(result.dates)} logged day(s), {result.reps} simulated",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )
    for name in ("KPI", "call type", "logged", "simulated", "MAE", "bias", "inside", "expected"):
        table.add_column(name, justify="left" if name in ("KPI", "call type") else "right", overflow="fold")
    for row in result.errors.to_dict("records"):
        unit = kpi_labels.unit(str(row["kpi"]))
        bias = float(row["bias"])
        shown = ("+" if bias >= 0 else "-") + number(abs(bias), unit)
        table.add_row(
            str(row["kpi"]),
            escape(str(row["call_type"])),
            number(row["actual_mean"], unit),
            number(row["simulated_mean"], unit),
            number(row["mean_absolute_error"], unit),
            f"[red]{shown}[/]" if row["bias_flagged"] else shown,
            f"{100 * float(row['coverage']):.0f}%",
            f"{100 * float(row['expected_coverage']):.0f}%",
        )
    out.print(table)
    out.print(
        "MAE: mean absolute error over logged intervals; bias: logged - simulated mean, red when beyond its "
        "Student-t 95% bound; inside: logged intervals inside the band of a single simulated day, and the "
        "share expected of a right model",
        highlight=False,
    )
