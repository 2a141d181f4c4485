"""callsim: a discrete-event call-centre simulator (callers, rings, holds, transfers, staffing).

The front door for Python and notebooks; each call takes values and returns objects holding pandas
DataFrames, and none prints::

    import sim

    s = sim.load_scenario("scenarios/small-centre.yaml", overrides=["departments.billing.agents=9"])
    day = sim.simulate(s, seed=1)            # day.calls, day.visits, day.intervals, day.summary
    reps = sim.replicate(s, reps=10, seed=1)  # reps.kpis (one row per replication), reps.summary (CIs)
    grid = sim.sweep(s, grid={"patience.mean": ["2m", "3m"]}, reps=5)   # grid.rows, grid.summary
    sim.compare(reps, sim.replicate(s2, reps=10, seed=1)).frame         # paired t-tests
    sim.write_results(reps, "results/small-centre")                     # a results folder, if wanted

The names are imported on first use (PEP 562), so `import sim` stays light: the command line starts
without loading pandas, SciPy or SimPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, tuple[str, str]] = {
    "load_scenario": ("sim.api", "load_scenario"),
    "simulate": ("sim.api", "simulate"),
    "replicate": ("sim.api", "replicate"),
    "sweep": ("sim.api", "sweep"),
    "staff": ("sim.api", "staff"),
    "staff_groups": ("sim.api", "staff_groups"),
    "staff_emails": ("sim.api", "staff_emails"),
    "GroupPlan": ("sim.experiments.staffing.groups", "GroupPlan"),
    "schedule": ("sim.api", "schedule"),
    "Schedule": ("sim.experiments.schedule", "Schedule"),
    "compare": ("sim.api", "compare"),
    "write_results": ("sim.api", "write_results"),
    "fit": ("sim.api", "fit"),
    "backtest": ("sim.api", "backtest"),
    "trace": ("sim.api", "trace"),
    "replay": ("sim.api", "replay"),
    "Day": ("sim.api", "Day"),
    "Replications": ("sim.api", "Replications"),
    "SweepResult": ("sim.api", "SweepResult"),
    "StaffingPlan": ("sim.experiments.staffing", "StaffingPlan"),
    "Comparison": ("sim.experiments.compare", "Comparison"),
    "Scenario": ("sim.model.scenario", "Scenario"),
    "ScenarioError": ("sim.model.loading", "ScenarioError"),
    "SweepError": ("sim.experiments.sweep_design", "SweepError"),
}
"""Public name -> (module, attribute), imported when first asked for."""

__all__ = [
    "Comparison",
    "Day",
    "GroupPlan",
    "Replications",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "StaffingPlan",
    "SweepError",
    "SweepResult",
    "__version__",
    "backtest",
    "compare",
    "fit",
    "load_scenario",
    "replay",
    "replicate",
    "schedule",
    "simulate",
    "staff",
    "staff_emails",
    "staff_groups",
    "sweep",
    "trace",
    "write_results",
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from sim.api import (
        Day,
        Replications,
        SweepResult,
        backtest,
        compare,
        fit,
        load_scenario,
        replay,
        replicate,
        schedule,
        simulate,
        staff,
        staff_emails,
        staff_groups,
        sweep,
        trace,
        write_results,
    )
    from sim.experiments.compare import Comparison
    from sim.experiments.staffing import StaffingPlan
    from sim.experiments.staffing.groups import GroupPlan
    from sim.experiments.sweep_design import SweepError
    from sim.model.loading import ScenarioError
    from sim.model.scenario import Scenario


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here (later uses cost nothing)."""
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'sim' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (imported or not yet), for `dir(sim)` and tab completion."""
    return sorted(__all__)
