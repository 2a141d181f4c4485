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
