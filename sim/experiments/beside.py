"""A simulation run beside: one replication simulated in a forked process while this one imports what comes
after it (pandas, the analysis, the report's libraries, some second and a half on a 2-core machine), so
that a whole `callsim run` costs its simulation and its tables, not its imports as well.

The forked process needs only the engine (no pandas: `sim.engine.day.simulate_day`), and sends back the
event log's numpy columns and the run facts (`SimulatedDay`, pickled through a pipe); this process makes the
tables (`run_result`). The results are the same as `simulate` in this process, event for event: the same
code, the same scenario object (inherited by the fork), the same named random streams.

Nothing depends on it: where this process may use one core only or cannot fork, `start` gives None; where
the forked process fails or is stopped, `result` gives None. The caller then simulates in-process, so every
error surfaces where it always did.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import time
from typing import TYPE_CHECKING

from sim.engine.day import SimulatedDay, run_result, simulate_day
from sim.experiments.processes import fork_piped, reap

if TYPE_CHECKING:
    from sim.engine.day import RunResult
    from sim.model.scenario import Scenario

_BUFFER = 1 << 20
"""Bytes the pipe's reader and writer buffer: the event columns of a 200,000-call day are some 30 MB."""


class SimulationBeside:
    """A replication of `scenario` being simulated by a forked process (`start`)."""

    def __init__(self, scenario: Scenario, pid: int, channel: int) -> None:
        self.scenario = scenario
        self._pid = pid
        self._channel = channel
        self._done = False

    @classmethod
    def start(
        cls, scenario: Scenario, seed: int | None = None, replication: int = 0
    ) -> SimulationBeside | None:
        """Fork the process that simulates (None where this process has one core or cannot fork)."""
        seed = scenario.seed if seed is None else seed
        forked = fork_piped()
        if forked is None:
            return None
        pid, reading, writing = forked
        if pid == 0:  # the simulating process: never returns
            os.close(reading)
            _simulate_into(writing, scenario, seed, replication)
        os.close(writing)
        return cls(scenario, pid, reading)

    def result(self) -> RunResult | None:
        """Wait for the simulation and make its tables; None if the forked process failed or was stopped
        (the caller then simulates in-process: `sim.engine.day.simulate`)."""
        if self._done:
            return None
        self._done = True
        simulated = None  # unless the process sends a whole result
        try:
            with os.fdopen(self._channel, "rb", buffering=_BUFFER) as source:
                simulated = pickle.load(source)
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        finally:
            status = reap(self._pid)
        if status != 0 or not isinstance(simulated, SimulatedDay):
            return None
        # its wall time: the simulation's own, and the tables made here (not the wait while this process
        # was busy importing)
        return run_result(self.scenario, simulated, time.perf_counter() - simulated.wall_time)

    def close(self) -> None:
        """Stop a simulation whose result is no longer wanted (the run failed or was interrupted); harmless
        after `result`."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            os.close(self._channel)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGTERM)
        reap(self._pid)


def _simulate_into(channel: int, scenario: Scenario, seed: int, replication: int) -> None:
    """The forked process's life: simulate, send the result, leave at once (no exit handlers, none of the
    parent's buffers flushed twice). Any failure or stop sends nothing: the parent simulates again and meets
    the error there."""
    status = 1
    try:
        simulated = simulate_day(scenario, seed, replication)
        with os.fdopen(channel, "wb", buffering=_BUFFER) as sink:
            pickle.dump(simulated, sink, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    except BaseException:  # stopped, or failed: the parent simulates in-process
        status = 1
    finally:
        os._exit(status)
