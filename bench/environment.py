"""The environment the whole-process benchmarks run their commands in: the one a user's second run has.

A user's Python caches each module's compiled bytecode (`__pycache__`) the first time it imports it, so
every run after the first skips compiling. CI and some sandboxes set `PYTHONDONTWRITEBYTECODE`, and then
every run compiles callsim's modules afresh (about 0.15 s of the default `callsim run`, on the critical
path): a cost no user pays. The benchmarks therefore run their commands with that setting removed and the
bytecode cached in a scratch folder of their own (`PYTHONPYCACHEPREFIX`, so the checkout is not written),
after one unmeasured run that fills the cache; the references (`import pandas`, the plain SimPy script) run
in the same environment, so both sides are measured alike.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path


def user_environment(scratch: Path) -> dict[str, str]:
    """This process's environment with bytecode cached under `scratch` (created) and figures drawn
    without a display."""
    cache = scratch / "pycache"
    cache.mkdir(parents=True, exist_ok=True)
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**environment, "PYTHONPYCACHEPREFIX": str(cache), "MPLBACKEND": "Agg"}


def run_quietly(command: list[str], environment: dict[str, str], cwd: Path) -> None:
    """Run `command` to its end in `environment`, its output discarded; it must succeed."""
    subprocess.run(
        command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment
    )


def fill_cache(commands: Iterable[list[str]], environment: dict[str, str], cwd: Path) -> None:
    """Run each command once, unmeasured, so every module it imports is compiled into the cache."""
    for command in commands:
        run_quietly(command, environment, cwd)
