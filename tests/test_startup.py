"""Start-up: the commands that should answer at once load none of the heavy libraries.

`callsim --help` and `callsim validate` must not pay for pandas, SciPy, matplotlib or pyarrow (together some
seconds on a small machine): each command imports what it uses when it runs. This is a structural check in
a fresh interpreter (which modules end up in `sys.modules`), not a timing; bench/bench_startup.py times it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SCENARIOS

HEAVY = ("pandas", "scipy", "matplotlib", "pyarrow", "dask", "distributed")

REPORT = """
import json, sys

def heavy():
    return sorted(name for name in {heavy!r} if name in sys.modules)
"""


def loaded_after(code: str, *args: str) -> list[str]:
    """The heavy top-level packages in `sys.modules` after running `code` in a fresh interpreter (`code`
    ends by writing `heavy()` as JSON on the last line of stderr)."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT.format(heavy=HEAVY) + code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


COMMAND = """
from sim.cli.app import app
try:
    app(args=sys.argv[1:], prog_name="callsim")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
sys.stderr.write("\\n" + json.dumps(heavy()) + "\\n")
"""


def test_the_detector_sees_a_heavy_import() -> None:
    """The check can fail: importing the analysis does load pandas, and the subprocess reports it."""
    assert "pandas" in loaded_after(
        "import sim.analysis.metrics\nsys.stderr.write(json.dumps(heavy()) + '\\n')"
    )


@pytest.mark.parametrize("module", ["sim", "sim.cli.app", "sim.output.console", "sim.model.loading"])
def test_importing_the_front_and_the_cli_loads_no_heavy_library(module: str) -> None:
    assert loaded_after(f"import {module}\nsys.stderr.write(json.dumps(heavy()) + '\\n')") == []


def test_help_loads_no_heavy_library() -> None:
    assert loaded_after(COMMAND, "--help") == []


def test_validate_of_every_shipped_scenario_loads_no_heavy_library() -> None:
    """With and without patience (the stability check behind a scenario without patience reaches the
    roster and the offered load, which must stay light too)."""
    assert "erlang-c.yaml" in {path.name for path in SCENARIOS}  # one without patience is among them
    assert loaded_after(COMMAND, "validate", *map(str, SCENARIOS)) == []


def test_validate_of_a_plain_scenario_loads_neither_numpy_nor_simpy() -> None:
    """A scenario with patience and no transfer blocks is read and checked in pure Python: numpy (a third
    of what `validate` would otherwise import) and the engine come in only where a check needs them."""
    code = COMMAND.replace("heavy()", "sorted({'numpy', 'simpy'} & set(sys.modules))")
    assert loaded_after(code, "validate", str(ROOT / "scenarios" / "small-centre.yaml")) == []


def test_the_stability_check_of_a_scenario_without_patience_needs_no_engine() -> None:
    """Without patience `validate` checks whether the queues can drain: the offered load, the intervals'
    arrival rates and the staffing step functions, from the model, never the engine or SimPy; for a common
    scenario (Poisson arrivals, no transfer network, staffing as rostered) in plain Python, without numpy;
    with a transfer network (jackson) numpy solves the traffic equations."""
    code = COMMAND.replace(
        "heavy()", "sorted(m for m in sys.modules if m == 'simpy' or m.startswith('sim.engine'))"
    )
    assert loaded_after(code, "validate", str(ROOT / "scenarios" / "erlang-c.yaml")) == []
    code = COMMAND.replace("heavy()", "sorted({'numpy', 'simpy'} & set(sys.modules))")
    assert loaded_after(code, "validate", str(ROOT / "scenarios" / "erlang-c.yaml")) == []
    assert loaded_after(code, "validate", str(ROOT / "scenarios" / "jackson.yaml")) == ["numpy"]
