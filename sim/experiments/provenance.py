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


def git_revision() -> str:
    """The callsim source's git revision (with `+dirty` for uncommitted changes), or `unknown`."""
    root = Path(sim.__file__).resolve().parent.parent
    try:
        revision = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            # no optional locks: a run stopped mid-way must not leave index.lock in the user's checkout
            ["git", "-C", str(root), "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return revision + ("+dirty" if dirty else "")


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
