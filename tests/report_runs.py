"""Small saved runs shared by the report, plot, compare and browser tests: each is simulated and written
once per test session (into a temporary folder removed at exit)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sim.experiments.runner import replicate
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario
from sim.output.results import write_run

# Two departments behind a menu that misroutes 30% of callers, so agents transfer; 2 hours from 08:00.
SCENARIO: dict[str, Any] = {
    "name": "report-test",
    "description": "Two departments behind a poor menu, for the report tests.",
    "seed": 5,
    "start": "08:00",
    "duration": "2h",
    "interval": "30m",
    "service_level": {"threshold": "20s", "target": 0.8},
    "ring": {"cycle": "6s", "rings": 1},
    "arrivals": {"per_hour": 90, "reasons": {"billing": 0.6, "technical": 0.4}},
    "patience": {"dist": "exponential", "mean": "2m"},
    "ivr": {"menu_time": "10s", "accuracy": 0.7},
    "routing": {"listen_time": "15s", "accuracy": 0.9, "transfer_time": "5s"},
    "departments": {
        "billing": {"agents": 3, "handle_time": {"dist": "exponential", "mean": "3m"}, "wrap_time": "10s"},
        "technical": {"agents": 2, "handle_time": {"dist": "exponential", "mean": "4m"}},
    },
}


@functools.cache
def _root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="callsim-report-tests-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def scenario(**changes: Any) -> Scenario:
    """The test scenario, with top-level changes (`departments=...` replaces that whole block)."""
    return scenario_from_dict({**SCENARIO, **changes})


def _write(name: str, model: Scenario, reps: int, seed: int | None = None, report: bool = True) -> Path:
    run = replicate(model, seed, reps, jobs=1)
    return write_run(_root() / name, run, command=["callsim", "test", name], report=report)


@functools.cache
def single_run() -> Path:
    """One replication with transfers, report included."""
    return _write("single", scenario(), 1)


@functools.cache
def replicated_run() -> Path:
    """Three replications (seed 5), report included."""
    return _write("replicated", scenario(), 3)


@functools.cache
def better_run() -> Path:
    """The same seed and replications with twice the agents (common random numbers), no report."""
    departments = {
        "billing": {**SCENARIO["departments"]["billing"], "agents": 6},
        "technical": {**SCENARIO["departments"]["technical"], "agents": 4},
    }
    return _write("better", scenario(departments=departments), 3, report=False)


@functools.cache
def other_seed_run() -> Path:
    """Three replications of the same scenario with another seed (independent), no report."""
    return _write("other-seed", scenario(), 3, seed=11, report=False)


@functools.cache
def quiet_run() -> Path:
    """A run with no transfers (a perfect menu), report included."""
    return _write("no-transfers", scenario(ivr={"menu_time": "10s", "accuracy": 1.0}), 1)
