"""Start-up: how long the quick commands take, whole process, against `python -c "import pandas"`.

The goals (issue 15, goal 3): `callsim --help` and `callsim validate <shipped scenario>` finish in less time
than importing pandas on the same machine (ratio < 1), and the default `callsim run` (simulate the small
centre, write its tables, draw its report) in under 2 s. Each command runs in a fresh process, interleaved
with the others round by round (so a busy minute slows all of them alike), and the best of N is kept;
bytecode is cached as after a user's first run (`bench/environment.py`; one unmeasured round fills it).

    python bench/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.environment import fill_cache, run_quietly, user_environment

ROOT = Path(__file__).resolve().parent.parent
RUN_GOAL = 2.0
"""Seconds: the default `callsim run`, whole process."""


def callsim() -> list[str]:
    """The installed `callsim` script beside this interpreter, else `python cli.py` from the checkout."""
    script = Path(sys.executable).with_name("callsim")
    if script.exists():
        return [str(script)]
    found = shutil.which("callsim")
    return [found] if found else [sys.executable, str(ROOT / "cli.py")]


def seconds(command: list[str], environment: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of `command` in a fresh process (its output
    discarded; it must succeed). CPU time tells the work apart from the waiting on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run_quietly(command, environment, ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command; the best is kept")
    args = parser.parse_args()
    entry = callsim()
    with tempfile.TemporaryDirectory() as scratch:
        commands = {
            'python -c "import pandas"': [sys.executable, "-c", "import pandas"],
            "callsim --help": [*entry, "--help"],
            "callsim validate small-centre": [*entry, "validate", "scenarios/small-centre.yaml"],
            "callsim validate erlang-c (no patience)": [*entry, "validate", "scenarios/erlang-c.yaml"],
            "callsim run (default day)": [*entry, "run", "--quiet", "--force", "--out", f"{scratch}/run"],
        }
        environment = user_environment(Path(scratch))
        fill_cache(commands.values(), environment, ROOT)
        best = dict.fromkeys(commands, float("inf"))
        cpu = dict.fromkeys(commands, float("inf"))
        for _ in range(args.repeat):
            for name, command in commands.items():
                wall, used = seconds(command, environment)
                best[name], cpu[name] = min(best[name], wall), min(cpu[name], used)
    reference, reference_cpu = best['python -c "import pandas"'], cpu['python -c "import pandas"']
    print(f"callsim via {' '.join(Path(part).name for part in entry)}; best of {args.repeat}, whole process")
    print(f"{'command':40} {'wall s':>7} {'ratio':>6} {'CPU s':>7} {'ratio':>6}  goal (wall)")
    for name, value in best.items():
        if name.startswith("python"):
            goal = "(reference)"
        elif name.startswith("callsim run"):
            goal = f"< {RUN_GOAL:.0f} s: {'met' if value < RUN_GOAL else 'NOT met'}"
        else:
            goal = f"ratio < 1: {'met' if value < reference else 'NOT met'}"
        print(
            f"{name:40} {value:7.2f} {value / reference:6.2f} {cpu[name]:7.2f} "
            f"{cpu[name] / reference_cpu:6.2f}  {goal}"
        )


if __name__ == "__main__":
    main()
