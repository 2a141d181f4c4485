"""What produced a result: callsim's git revision and the versions of the packages that decide the numbers
(recorded by runs and sweeps, and checked by reruns)."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sim

_GIT_TIMEOUT = 5.0
"""Seconds a git command may take before the revision is recorded as `unknown`."""


class GitRevision:
    """The callsim source's git revision being found by two git processes started at once (the commit, and
    whether the checkout has uncommitted changes): `result()` waits for them. Started early (`prefetch_git_
    revision`), they run on another core while a run simulates, not when its folder is written."""

    def __init__(self) -> None:
        root = str(Path(sim.__file__).resolve().parent.parent)
        commands = (
            ["git", "-C", root, "rev-parse", "HEAD"],
            # no optional locks: a run stopped mid-way must not leave index.lock in the user's checkout
            ["git", "-C", root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
        )
        self._processes: list[subprocess.Popen[str] | None] = []
        try:
            for command in commands:
                self._processes.append(
                    subprocess.Popen(
                        command,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
        except OSError:  # no git: the revision is unknown
            self._processes.append(None)

    def result(self) -> str:
        """The revision (with `+dirty` for uncommitted changes), or `unknown`."""
        outputs = [_output(process) for process in self._processes]
        if len(outputs) != 2 or None in outputs:
            return "unknown"
        revision, dirty = outputs
        return f"{revision}{'+dirty' if dirty else ''}"


def _output(process: subprocess.Popen[str] | None) -> str | None:
    """What a git process printed (stripped), or None if it could not start, failed or took too long."""
    if process is None:
        return None
    try:
        output, _ = process.communicate(timeout=_GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        process.kill()
        process.communicate()
        return None
    return output.strip() if process.returncode == 0 else None


_PREFETCHED: list[GitRevision] = []
"""A revision being found ahead of time (`prefetch_git_revision`), for the next `git_revision()` to take."""


def prefetch_git_revision() -> None:
    """Start finding the git revision now, for the next `git_revision()` of this process (a run's meta.json):
    the git processes run while the run simulates."""
    if not _PREFETCHED:
        _PREFETCHED.append(GitRevision())


def git_revision() -> str:
    """The callsim source's git revision (with `+dirty` for uncommitted changes), or `unknown`: the one
    prefetched, if any (taken once), else found now."""
    found = _PREFETCHED.pop() if _PREFETCHED else GitRevision()
    return found.result()


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide the numbers."""
    import numpy
    import pandas
    import simpy

    return {
        "callsim": sim.__version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
    }


def search_meta(scenario: str, command: Sequence[str], **facts: Any) -> dict[str, Any]:
    """`meta.json` of a planning search's folder (`staff`, `staff --groups`, `schedule`): the scenario, when,
    the search's own facts (wall time, simulated days), the versions, the git revision and the command."""
    return {
        "scenario": scenario,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **facts,
        "versions": versions(),
        "git_revision": git_revision(),
        "command": list(command),
    }
