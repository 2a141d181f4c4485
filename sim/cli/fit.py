"""`callsim fit LOG`: a call log in, a scenario folder out (scenario.yaml, its CSV files, fit.json and
fit_report.html) that `callsim run FOLDER/scenario.yaml` takes as it is. Parses, calls `sim.analysis.fitting.fit.fit_log` and
`sim.output.fit_folder.write_fit`, prints a short summary. Imports only typer and rich at the top."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import FAILED, QuietOption, check_free, command_line, err, interrupted, out, refuse
from sim.output.console import say


def fit(
    log: Annotated[Path, typer.Argument(help="Call log (CSV or Parquet, one row per call)")],
    log_format: Annotated[
        Path | None, typer.Option("--format", help="log_format.yaml: column and outcome mapping")
    ] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option(
            "--columns", help="Column mapping: LOG_COLUMN=FILE_COLUMN,... (e.g. arrived_at=CallStart)"
        ),
    ] = None,
    outcomes: Annotated[
        list[str] | None,
        typer.Option("--outcomes", help="Outcome mapping: CODE=outcome,... (e.g. ABAND=abandoned)"),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Skip (and count) bad rows instead of refusing the log")
    ] = False,
    interval: Annotated[str, typer.Option(help="Interval length (30m, 15m, 1h)")] = "30m",
    start: Annotated[
        str | None, typer.Option(help="Opening clock time (default: the first arrival, rounded down)")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Closing clock time (default: the last arrival, rounded up)")
    ] = None,
    day_type: Annotated[
        str | None,
        typer.Option(
            "--day-type", help="Fit only these days: weekday, weekend or a weekday name (monday, ...)"
        ),
    ] = None,
    staffing: Annotated[
        str, typer.Option(help="How agents present are inferred: presence (sessions), busy or distinct")
    ] = "presence",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Scenario folder (default: fitted/<log name>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder")] = False,
    quiet: QuietOption = False,
) -> None:
    """Fit a runnable scenario to a call log: arrivals, times, patience and staffing, with a fit report."""
    from sim.analysis.fitting.days import FitError
    from sim.analysis.fitting.fit import fit_log
    from sim.model.call_log import read_call_log
    from sim.model.durations import parse_clock, parse_duration
    from sim.model.log_file import CallLogError
    from sim.model.log_format import LogFormatError, load_log_format
    from sim.output.fit_folder import write_fit
    from sim.output.folders import ResultsExist, unwritable

    if staffing not in ("presence", "busy", "distinct"):
        refuse(f"--staffing {staffing!r}: expected presence, busy or distinct")
    try:
        seconds = parse_duration(interval)
    except ValueError as error:
        refuse(f"--interval {interval!r}: {error}")
    try:
        form = load_log_format(log_format, columns or [], outcomes or [], "skip" if skip_bad_rows else None)
    except LogFormatError as error:
        refuse(error)
    target = out_dir or Path("fitted") / (log.name.split(".")[0] or "log")
    check_free(target, force, "fitted scenario")
    try:
        hours = [None if text is None else parse_clock(text) for text in (start, end)]
    except ValueError as error:
        refuse(f"--start/--end: {error}")
    try:
        fitted = fit_log(read_call_log(log, form), seconds, hours[0], hours[1], day_type, staffing)
    except (CallLogError, FitError) as error:
        refuse(error)
    try:
        written = write_fit(target, fitted, force=force, command=command_line())
    except ResultsExist as error:
        refuse(error)
    except KeyboardInterrupt:
        interrupted(target)
    except OSError as error:
        refuse(unwritable(error, target), FAILED)
    if quiet:
        return
    window = fitted.window
    out.print(
        f"{fitted.name}: {len(window.calls):,} calls on {window.day_count} day(s), "
        f"{len(fitted.volumes.types)} call type(s), {len(fitted.scenario['departments'])} department(s)",
        highlight=False,
    )
    for kind in fitted.volumes.types:
        handle = fitted.handle.get(kind)
        patience = fitted.patience[kind].spec
        out.print(
            f"  {kind}: handle {handle.spec['dist'] if handle else '-'}, "
            f"patience {patience['dist'] + ' mean ' + format(patience.get('mean', 0), '.0f') + 's' if patience else 'infinite'}",
            highlight=False,
        )
    for line in fitted.cannot_tell:
        say(err, "note", line, "yellow")
    out.print(f"scenario: {written / 'scenario.yaml'}", highlight=False, soft_wrap=True)
    out.print(f"report: {written / 'fit_report.html'}", highlight=False, soft_wrap=True)
