"""Where the seconds of one `callsim run` go: the command run in this process with timers wrapped around its
stages (`python bench/run_stages.py SCENARIO OUT`; `bench_run.py --breakdown` runs it and prints the table).

The timers are installed by replacing functions in the modules that call them (nothing in `sim/` knows about
them). A stage's seconds include the stages nested in it (printed indented below it); stages run by the
results writer's threads are marked `(thread)` and overlap the main thread's. The report drawer is a forked
process: its stages are timed there and sent back on standard error, with when it began and ended (seconds
after this process started), so the table shows what overlaps what. Prints one JSON object on standard
output: {"seconds": {stage: seconds}, "began": {stage: first start}}.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECONDS: dict[str, float] = {}
BEGAN: dict[str, float] = {}
"""When each stage first began, seconds after this process started."""
_LOCAL = threading.local()


def timed(owner: Any, attribute: str, name: str) -> None:
    """Replace `owner.attribute` (a function or method) by one that adds its wall seconds to `name`."""
    function: Callable[..., Any] = getattr(owner, attribute)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_LOCAL, "depth", 0)
        thread = "" if threading.current_thread() is threading.main_thread() else " (thread)"
        key = "  " * depth + name + thread
        SECONDS.setdefault(key, 0.0)
        _LOCAL.depth = depth + 1
        started = time.perf_counter()
        BEGAN.setdefault(key, started - STARTED)
        try:
            return function(*args, **kwargs)
        finally:
            _LOCAL.depth = depth
            SECONDS[key] += time.perf_counter() - started

    setattr(owner, attribute, wrapper)


def _drawer_stages() -> None:
    """In the report drawer (forked): time its stages instead of the run's."""
    from sim.output import report

    SECONDS.clear()
    BEGAN.clear()
    timed(report, "load_run", "read the folder")
    timed(report, "write_plots", "plots")
    timed(report, "text_sections", "report text")
    timed(report, "write_report", "report")


def install() -> None:
    """Import the run path and wrap its stages."""
    from sim.cli import run
    from sim.engine import day, log
    from sim.experiments import runner
    from sim.output import drawer, folders, results

    timed(run, "load", "load scenario")
    timed(drawer.ReportDrawer, "start", "fork the drawer")
    timed(runner, "simulate", "simulate")
    timed(day, "build", "build the centre")
    timed(day, "draw_callers", "draw the callers")
    timed(day.Clock, "run", "engine (env.run)")
    timed(log.EventLog, "frame", "event log to a frame")
    timed(runner, "summary", "summary KPIs")
    timed(runner, "interval_table", "interval table")
    timed(run, "write_results", "write the results folder")
    timed(results, "calls_table", "calls table")
    timed(results, "visits_table", "visits table")
    timed(results, "meta", "meta.json")
    timed(results, "write_parquet", "write Parquet")
    timed(results.pd.DataFrame, "to_csv", "write CSV")
    timed(drawer.ReportDrawer, "begin", "hand the folder to the drawer")
    timed(drawer.ReportDrawer, "finish", "wait for the drawer")
    timed(folders, "sync_tree", "flush the folder to disk")
    original = run._report_builder

    def builder() -> Any:
        build = original()
        _drawer_stages()

        def timed_build(folder: Path, pending: tuple[str, ...]) -> None:
            began = time.perf_counter()
            try:
                build(folder, pending)
            finally:
                SECONDS["drawer ended at"] = time.perf_counter() - STARTED
                BEGAN["drawer ended at"] = began - STARTED
                sys.stderr.write("DRAWER " + json.dumps({"seconds": SECONDS, "began": BEGAN}) + "\n")

        return timed_build

    run._report_builder = builder


def main() -> None:
    from sim.cli import app

    SECONDS["start-up and CLI imports"] = time.perf_counter() - STARTED
    imported = time.perf_counter()
    install()
    SECONDS["imports of the run (pandas, engine, output)"] = time.perf_counter() - imported
    began = time.perf_counter()
    sys.argv = ["callsim", "run", sys.argv[1], "--quiet", "--out", sys.argv[2], "--force"]
    try:
        app.main()  # as `callsim` runs it, its exit included
    except SystemExit as done:
        if done.code:
            raise
    finally:
        SECONDS["the run command"] = time.perf_counter() - began
        SECONDS["in process"] = time.perf_counter() - STARTED
        sys.stdout.write(json.dumps({"seconds": SECONDS, "began": BEGAN}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
