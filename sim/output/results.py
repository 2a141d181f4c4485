"""Where a run goes: a self-describing results folder (the resolved scenario, meta.json, tables, summary,
report and plots), written whole through `sim.output.folders` so that nothing is left half-written."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pyarrow as pa
import yaml

from sim.analysis.email import email_backlog
from sim.analysis.rows import flatten
from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import RunResult
from sim.experiments.provenance import git_revision, versions
from sim.experiments.runner import Replicated
from sim.model.email import email_departments
from sim.model.loading import resolved_dict
from sim.output.call_log_export import LOG_FILE, write_call_log
from sim.output.drawer import ReportDrawer
from sim.output.folders import (
    DISK_ERRORS,
    clean_json,
    fsync_path,
    parquet_bytes,
    write_csv,
    write_folder,
    write_json,
    write_parquet,
)
from sim.output.saved import report_tables


def meta(run: Replicated, command: list[str] | None = None) -> dict[str, Any]:
    """What `meta.json` records: enough to rerun the run bit for bit."""
    return {
        "scenario": run.scenario.name,
        "seed": run.seed,
        "reps": len(run.replications),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time": run.wall_time,
        "calls_simulated": run.calls_offered,
        "ended_at": run.first.ended_at,
        "versions": versions(),
        "git_revision": git_revision(),
        "command": command if command is not None else sys.argv,
        **({"precision": clean_json(run.precision)} if run.precision else {}),
    }


def write_run(
    target: Path,
    run: Replicated,
    force: bool = False,
    command: list[str] | None = None,
    report: bool = True,
    release_events: bool = False,
    drawer: ReportDrawer | None = None,
    log: bool = False,
    encoded: EncodedTables | None = None,
) -> Path:
    """Write a run's results folder: scenario, meta, calls, events, visits, intervals, summary, and (unless
    `report` is false) the pictures in `plots/` and `report.html`, built from those files. A report that
    fails leaves `report_error.txt` instead (the results are kept; `callsim report` retries). With
    `release_events`, the run's event log is let go once written (`RunResult.release_events`). A `drawer`
    (`sim.output.drawer`, started before the run) draws the report's pictures if it can, starting as soon as
    the files the report reads are written, while this process writes the event log, the rest and the
    report's text; otherwise they are drawn here.
    With `log`, the calls of every replication also go to `calls_log.csv` in the call-log format
    (`sim.output.call_log_export`). `encoded`: the Parquet files of `run.first`, encoded while its KPIs
    were computed (`EncodedTables`)."""
    if encoded is not None and encoded.result is not run.first:
        raise ValueError("encoded: the tables of another run")
    tables = encoded or EncodedTables(run.first, ahead=False)

    def fill(folder: Path) -> None:
        try:
            write_files(folder)
        except BaseException:  # stopped or failed: the drawer gone before the folder it draws into is removed
            if drawer is not None:
                drawer.close()
            raise

    def write_files(folder: Path) -> None:
        # what the report reads first, so that a drawer can draw while the rest is written: the text files
        # by this thread, meta.json (which waits for git) by another; the calls and visits are handed to
        # the drawer in memory, while threads write their Parquet files (Arrow encodes and compresses them
        # without the GIL)
        calls, visits = calls_table(run.first), visits_table(run.first)
        with ThreadPoolExecutor(3, thread_name_prefix="results") as writers:
            files = [writers.submit(tables.write, folder, (name,)) for name in EARLY_TABLES]
            described = writers.submit(lambda: write_json(folder / "meta.json", meta(run, command)))
            (folder / "scenario.yaml").write_text(
                yaml.safe_dump(resolved_dict(run.scenario), sort_keys=False), encoding="utf-8"
            )
            write_csv(run.intervals, folder / "intervals.csv")
            if email_departments(run.scenario):  # the email backlog and its age at each interval's end
                write_csv(email_backlog(run.first), folder / "backlog.csv")
            if len(run.replications) > 1:
                write_csv(replications_frame(run), folder / "replications.csv")
            write_json(folder / "summary.json", run.summary)
            described.result()  # written (or its error raised here)
            finish_report = (
                begin_fill_report(folder, (*EARLY_TABLES, *LATE_FILES), report_tables(calls, visits), drawer)
                if report
                else None
            )
            for written in files:
                written.result()
        del calls, visits
        tables.write(folder, ("events.parquet", "agents.parquet"))
        if log:
            write_call_log(run, folder / LOG_FILE)
        run.first.derived.clear()  # the report reads the tables back from the files: hold them once
        if release_events:
            run.first.release_events()
            _give_back_memory()
        if finish_report is not None:
            if drawer is not None:  # flushed while the drawer draws: the flush before the rename is short
                for name in ("calls.parquet", "visits.parquet", "events.parquet"):
                    fsync_path(folder / name)
            finish_report()

    return write_folder(target, force, fill)


class EncodedTables:
    """The Parquet files of a run's replication 0 (its calls, visits, event log and agents), encoded ahead
    by a thread: started as soon as the run's event log is made, Arrow encodes and compresses them (without
    the GIL, on the second core) while the run's KPIs are computed, and `write_run` writes the bytes once
    its folder exists. The event log and agents are handed to the thread at once; the calls and visits
    tables are made here first (the KPIs read them next: made once) and follow. The files are the same as
    `write_parquet` writes. With `ahead=False`, nothing ahead: `write` writes them as `write_parquet` does."""

    TABLES: ClassVar[dict[str, Callable[[RunResult], pd.DataFrame]]] = {
        "events.parquet": lambda result: result.events,
        "agents.parquet": lambda result: result.agents,
        "calls.parquet": calls_table,
        "visits.parquet": visits_table,
    }
    """Each file, and how its table is made from the run (in the order they are encoded)."""

    def __init__(self, result: RunResult, ahead: bool = True) -> None:
        self.result = result
        self._encoded: dict[str, Future[bytes]] = {}
        if ahead:
            encoder = ThreadPoolExecutor(1, thread_name_prefix="encoded-tables")
            for name, table in self.TABLES.items():
                self._encoded[name] = encoder.submit(parquet_bytes, table(result))
            encoder.shutdown(wait=False)  # returns at once: the thread ends when all are encoded

    def write(self, folder: Path, names: Sequence[str]) -> None:
        """Write the files `names` into `folder` (waiting for their encoding, if ahead; its error raised
        here)."""
        for name in names:
            encoded = self._encoded.get(name)
            if encoded is None:
                write_parquet(self.TABLES[name](self.result), folder / name)
            else:
                (folder / name).write_bytes(encoded.result())


def _give_back_memory() -> None:
    """Return memory freed by the event log to the system before the report (Arrow's pool, and glibc's
    heap where it has one): a million-call run then peaks lower."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


LATE_FILES = ("events.parquet", "agents.parquet", LOG_FILE)
"""Files of a results folder that a drawer's report does not read, written while it draws."""
EARLY_TABLES = ("calls.parquet", "visits.parquet")
"""Files of a results folder a drawer's report reads from the tables handed to it, written while it draws."""


def fill_report(
    folder: Path, pending: tuple[str, ...] = (), tables: Mapping[str, pd.DataFrame] | None = None
) -> None:
    """Plots and report.html for the results in `folder`; on failure, the traceback in `report_error.txt`
    (the results are kept). A full or failing disk is not a report failure: it fails the whole write.
    `pending`: files still being written meanwhile; `tables`: the calls and visits among them, handed over
    in memory."""
    begin_fill_report(folder, pending, tables)()


def begin_fill_report(
    folder: Path,
    pending: tuple[str, ...] = (),
    tables: Mapping[str, pd.DataFrame] | None = None,
    drawer: ReportDrawer | None = None,
) -> Callable[[], None]:
    """Begin `fill_report`'s report (`sim.output.report.begin_report`: its pictures sketched and, given a
    `drawer`, drawn there while the caller goes on writing the `pending` files); the function that finishes
    it. A report that fails at either end leaves `report_error.txt`, as `fill_report`."""
    from sim.output.report import begin_report

    try:
        underway = begin_report(folder, pending, tables, drawer)
    except Exception as error:
        _report_failed(folder, error)
        return lambda: None

    def finish() -> None:
        try:
            underway.finish()
        except Exception as error:
            _report_failed(folder, error)

    return finish


def _report_failed(folder: Path, error: Exception) -> None:
    """Record a failed report (its traceback in `report_error.txt`, what it left half-written removed), or
    raise a disk error: a full or failing disk fails the whole write. Called in the `except` block."""
    import traceback

    from sim.output.report import ERROR

    for leftover in folder.glob(".*.partial"):  # what the report left half-written
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    if isinstance(error, OSError) and error.errno in DISK_ERRORS:
        raise error
    (folder / ERROR).write_text(traceback.format_exc(), encoding="utf-8")


def replications_frame(run: Replicated) -> pd.DataFrame:
    """One row per replication with every KPI as a flat column."""
    return pd.DataFrame([{"replication": r.replication, **flatten(r.summary)} for r in run.replications])
