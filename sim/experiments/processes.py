"""Cores and forked processes, for the parts of a run that use a second core (`sim.experiments.beside`, the
report's drawers in `sim.output`): small, and importing nothing heavy, since they start before the rest."""

from __future__ import annotations

import os


def cores() -> int:
    """Cores this process may use (its CPU affinity where the system has one, else the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def reap(pid: int) -> int:
    """Wait for a forked child; its exit status (-1 if it cannot be waited for)."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return -1
        return os.waitstatus_to_exitcode(status)


def fork_piped() -> tuple[int, int, int] | None:
    """A pipe, then a fork of this process: (pid, read end, write end), both ends open in both processes and
    pid 0 in the child; None where this process may use one core only, cannot fork, or the pipe or the fork
    fails (the caller then does the work itself)."""
    if cores() < 2 or not hasattr(os, "fork"):
        return None
    try:
        reading, writing = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reading)
        os.close(writing)
        return None
    return pid, reading, writing
