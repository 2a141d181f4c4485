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

import importlib.abc
import importlib.util
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


def _report_stages(tag: str) -> None:
    """In a forked process, at its end: its stages on standard error, marked with `tag`."""
    sys.stderr.write(tag + " " + json.dumps({"seconds": SECONDS, "began": BEGAN}) + "\n")
    sys.stderr.flush()


def _simulation_stages(module: Any) -> None:
    """In the forked simulation (`sim.experiments.beside`): time its stages instead of the run's, and send
    them back when it has simulated."""
    simulate_day = module.simulate_day

    def timed_simulation(*args: Any, **kwargs: Any) -> Any:
        SECONDS.clear()
        BEGAN.clear()
        began = time.perf_counter()
        try:
            return simulate_day(*args, **kwargs)
        finally:
            SECONDS["simulate (forked)"] = time.perf_counter() - began
            BEGAN["simulate (forked)"] = began - STARTED
            _report_stages("SIMULATION")

    module.simulate_day = timed_simulation


def _drawer_stages(module: Any) -> None:
    """In the report drawer (forked as the run starts): time its imports and its drawing instead of the
    run's stages, and send them back when it has drawn."""
    prepare = module.prepare

    def timed_prepare() -> Any:
        SECONDS.clear()
        BEGAN.clear()
        began = time.perf_counter()
        draw = prepare()
        SECONDS["import matplotlib, warm up"] = time.perf_counter() - began
        BEGAN["import matplotlib, warm up"] = began - STARTED

        def timed_draw(jobs: Any) -> None:
            began = time.perf_counter()
            try:
                draw(jobs)
            finally:
                SECONDS["draw the pictures"] = time.perf_counter() - began
                BEGAN["draw the pictures"] = began - STARTED
                _report_stages("DRAWER")

        return timed_draw

    module.prepare = timed_prepare


PATCHES: dict[str, list[tuple[str, str]]] = {
    "sim.cli.run": [("load", "load scenario"), ("write_results", "write the results folder")],
    "sim.experiments.beside": [
        ("SimulationBeside.start", "fork the simulation"),
        ("SimulationBeside.result", "wait for the simulation and make its tables"),
    ],
    "sim.engine.day": [
        ("simulate", "simulate (in this process)"),
        ("build", "build the centre"),
        ("draw_callers", "draw the callers"),
        ("Clock.run", "engine (env.run)"),
        ("run_result", "the event log and agents as frames"),
    ],
    "sim.experiments.runner": [
        ("summary", "summary KPIs"),
        ("interval_table", "interval table"),
    ],
    "sim.output.drawer": [
        ("ReportDrawer.start", "fork the drawer"),
        ("ReportDrawer.begin", "hand the pictures to the drawer"),
        ("ReportDrawer.finish", "wait for the drawer"),
    ],
    "sim.output.drawing": [],
    "sim.output.report": [
        ("begin_report", "read the run, sketch the pictures"),
        ("text_sections", "report text"),
        ("render", "report page"),
    ],
    "sim.output.folders": [("sync_tree", "flush the folder to disk")],
    "sim.output.results": [
        ("calls_table", "calls table"),
        ("visits_table", "visits table"),
        ("meta", "meta.json"),
        ("write_parquet", "write Parquet"),
        ("pd.DataFrame.to_csv", "write CSV"),
    ],
}
"""Per module, the functions timed (a dotted path inside the module) and the stage each is. A module is
patched when it is imported, so the run imports what it imports when it would (the simulation is forked
before pandas is imported: importing the run path up front would time another command)."""


def _patch(module: Any) -> None:
    if module.__name__ == "sim.experiments.beside":
        _simulation_stages(module)
    if module.__name__ == "sim.output.drawing":
        _drawer_stages(module)
    for path, name in PATCHES.get(module.__name__, []):
        *owners, attribute = path.split(".")
        owner = module
        for part in owners:
            owner = getattr(owner, part)
        timed(owner, attribute, name)


class _Patcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of a module named in `PATCHES` to patch it once executed."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            execute(module)
            _patch(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Time the run's stages: the modules already imported now, the others when the run imports them."""
    for name in PATCHES:
        if name in sys.modules:
            _patch(sys.modules[name])
    sys.meta_path.insert(0, _Patcher())


def main() -> None:
    from sim.cli import app

    SECONDS["start-up and CLI imports"] = time.perf_counter() - STARTED
    install()
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
