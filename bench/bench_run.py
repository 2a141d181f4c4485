"""The whole product against a plain SimPy script: `callsim run` as a user runs it, start to finish.

    python bench/bench_run.py [--calls 200000] [--repeat 1] [--skip-analysis] [--skip-report]
    python bench/bench_run.py --breakdown [--calls 200000] [--repeat 3]

`--breakdown` prints only where the seconds of the whole `callsim run --quiet` go: each stage (imports,
simulation, KPIs, each file written, the wait for the report drawer and the drawer's own stages, the
interpreter's start and exit), timed by `bench/run_stages.py`, the fastest of `--repeat` runs.

1. Whole process, same day, one run each: the plain SimPy script (`bench.models.plain_simpy`: a `Resource`
   request per caller, `req | timeout(patience)`; run as a subprocess of this file with `--reference`) against
   `python cli.py run DAY --quiet --out TMP --force` (simulate, write the tables, draw the report), on an
   M/M/10+M day of about `--calls` calls (120 calls an hour, 4-minute handle times, 3-minute patience, no ring)
   in 1-hour intervals. Prints calls per second of each and the ratio callsim / SimPy (goal >= 2).
2. Analysis against simulation on every shipped scenario and a generated 17-department, 20-group day
   (`bench/bench_analysis.py`; goal: analysis no longer than simulation).
3. The report (`write_report`: every plot and report.html) of one simulated day (the shipped small centre;
   goal under 1 s) and of a year-long run in 1-hour intervals (goal: no slower than the day's).

Every command runs with its bytecode cached, as after a user's first run (`bench/environment.py`).
Prints the figures; asserts nothing about time (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench.environment import fill_cache, user_environment
from bench.models import AGENTS, ARRIVALS_PER_MINUTE, HANDLE_MINUTES, PATIENCE_MINUTES

ROOT = Path(__file__).resolve().parent.parent


def day_yaml(calls: int, interval: str = "1h", per_hour: float = ARRIVALS_PER_MINUTE * 60) -> dict[str, Any]:
    """The benchmark day as scenario data: M/M/10+M at `per_hour` calls an hour, long enough for `calls`."""
    hours = max(1, round(calls / per_hour))
    return {
        "name": "bench-run",
        "seed": 1,
        "start": "00:00",
        "duration": f"{hours}h",
        "interval": interval,
        "arrivals": {"per_hour": per_hour},
        "patience": {"dist": "exponential", "mean": f"{PATIENCE_MINUTES:g}m"},
        "ring": {"rings": 0},
        "departments": {
            "support": {
                "agents": AGENTS,
                "handle_time": {"dist": "exponential", "mean": f"{HANDLE_MINUTES:g}m"},
            }
        },
    }


def reference(calls: int) -> None:
    """The plain SimPy script's body (in a process of its own): simulate, print its figures as JSON."""
    from bench.models import plain_simpy

    print(json.dumps(plain_simpy(calls)))


def whole_process(command: list[str], environment: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of a command run to the end as a subprocess, and its standard output."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return time.perf_counter() - started, done.stdout


def prepared(folder: Path) -> dict[str, str]:
    """The commands' environment, its bytecode cache filled by a small `callsim run` and reference run."""
    environment = user_environment(folder)
    fill_cache(
        [
            [sys.executable, __file__, "--reference", "100"],
            [sys.executable, str(ROOT / "cli.py"), "run", "--quiet", "--force", "--out", str(folder / "warm")],
        ],
        environment,
        ROOT,
    )
    return environment


def run_against_simpy(calls: int, repeat: int, folder: Path) -> None:
    """Goal 1: whole `callsim run` against the whole plain SimPy script, calls per second and ratio."""
    scenario = folder / "bench-run.yaml"
    scenario.write_text(yaml.safe_dump(day_yaml(calls), sort_keys=False), encoding="utf-8")
    out = folder / "out"
    environment = prepared(folder)
    print(f"== whole process, {calls:,} calls, 1-hour intervals (best of {repeat}) ==")
    best_reference = best_callsim = float("inf")
    figures: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    for _ in range(repeat):
        seconds, stdout = whole_process([sys.executable, __file__, "--reference", str(calls)], environment)
        best_reference = min(best_reference, seconds)
        figures = json.loads(stdout)
        seconds, _ = whole_process(
            [
                sys.executable,
                str(ROOT / "cli.py"),
                "run",
                str(scenario),
                "--quiet",
                "--out",
                str(out),
                "--force",
            ],
            environment,
        )
        best_callsim = min(best_callsim, seconds)
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    simpy_rate = figures["calls"] / best_reference
    callsim_rate = summary["offered"] / best_callsim
    print(
        f"plain SimPy script  {figures['calls']:>9,.0f} calls {best_reference:7.2f} s {simpy_rate:9,.0f} calls/s"
        f"  abandonment {figures['abandon_rate']:.4f}"
    )
    print(
        f"callsim run --quiet {summary['offered']:>9,d} calls {best_callsim:7.2f} s {callsim_rate:9,.0f} calls/s"
        f"  abandonment {summary['abandon_rate']:.4f}"
    )
    print(f"ratio callsim / SimPy: {callsim_rate / simpy_rate:.2f} (goal >= 2)")


def breakdown(calls: int, repeat: int, folder: Path) -> None:
    """Where the whole command's seconds go: `bench/run_stages.py` (the command with timers around its
    stages) run `repeat` times on the benchmark day; the fastest run's stages, when each began, the report
    drawer's stages, and what is left outside the process (interpreter start and exit)."""
    scenario = folder / "bench-stages.yaml"
    scenario.write_text(yaml.safe_dump(day_yaml(calls), sort_keys=False), encoding="utf-8")
    command = [sys.executable, str(ROOT / "bench" / "run_stages.py"), str(scenario), str(folder / "stages")]
    environment = prepared(folder)
    best: tuple[float, str, str] | None = None
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
        seconds = time.perf_counter() - started
        if best is None or seconds < best[0]:
            best = (seconds, done.stdout, done.stderr)
    assert best is not None
    whole, stdout, stderr = best
    print(f"== where the seconds of `callsim run --quiet` go, {calls:,} calls (fastest of {repeat}) ==")
    print(f"{'stage':<48s} {'seconds':>8s} {'from':>7s}")
    stages = json.loads(stdout.strip().splitlines()[-1])
    forked = {"DRAWER ": "report drawer (a forked process):", "SIMULATION ": "the simulation (a forked process):"}
    children = [
        (title, json.loads(line[len(tag) :]))
        for line in stderr.splitlines()
        for tag, title in forked.items()
        if line.startswith(tag)
    ]
    for title, part in [("", stages), *children]:
        if title:
            print(title)
        for name, seconds in part["seconds"].items():
            began = part["began"].get(name)
            print(f"{name:<48s} {seconds:8.3f} {'' if began is None else f'{began:7.3f}'}")
    inside = stages["seconds"]["in process"]
    print(f"{'interpreter start and exit (outside the timers)':<48s} {whole - inside:8.3f}")
    print(f"{'whole process':<48s} {whole:8.3f}")


def report_times(folder: Path) -> None:
    """Goal 4: `write_report` of one simulated day and of a year-long run (in this process, imports done)."""
    from sim.output.report import write_report

    year = folder / "year.yaml"
    year.write_text(  # a year of a quiet line: 12 calls an hour on 10 agents, 8,760 hourly intervals
        yaml.safe_dump({**day_yaml(12 * 24 * 365, per_hour=12), "name": "bench-year"}, sort_keys=False),
        encoding="utf-8",
    )
    runs = [("small-centre day", ROOT / "scenarios" / "small-centre.yaml"), ("year, hourly", year)]
    print("== report (plots and report.html) ==")
    for name, path in runs:
        out = folder / f"report-{path.stem}"
        subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "run", str(path), "--quiet", "--out", str(out), "--force"],
            check=True,
        )
        write_report(out)  # once to warm the imports and font caches
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            write_report(out)
            best = min(best, time.perf_counter() - started)
        meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
        print(f"{name:<18s} {meta.get('calls_simulated', 0):>9,d} calls  report {best:6.2f} s")
    print("goals: the day's report under 1 s; the year's no slower than the day's")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-analysis", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument(
        "--breakdown", action="store_true", help="only print where the whole command's seconds go, by stage"
    )
    parser.add_argument("--reference", type=int, help=argparse.SUPPRESS)  # the plain SimPy child process
    args = parser.parse_args()
    if args.reference:
        reference(args.reference)
        return
    with tempfile.TemporaryDirectory(prefix="bench-run-") as temporary:
        folder = Path(temporary)
        if args.breakdown:
            breakdown(args.calls, args.repeat, folder)
            return
        run_against_simpy(args.calls, args.repeat, folder)
        if not args.skip_analysis:
            from bench.bench_analysis import report

            print("== analysis against simulation (in process, best of 3) ==")
            report(3)
        if not args.skip_report:
            report_times(folder)


if __name__ == "__main__":
    main()
