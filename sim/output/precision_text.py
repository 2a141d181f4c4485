"""How `callsim run --until-ci` reports the precision it reached: each KPI by the registry's name and in its
unit (`service level ± 0.862% (goal 1%)`, `average speed of answer ± 1.74s (goal 2s)`), not as a summary key
and a bare fraction (`service_level ± 0.008616`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.output import kpi_labels


def in_unit(value: Any, unit: str) -> str:
    """A half-width or goal in the KPI's unit, three significant figures: `0.862%` for a share, `1.74s`
    for a duration in seconds, `0.5h` in hours; `-` when unknown."""
    if not isinstance(value, int | float) or math.isnan(value):
        return "-"
    if unit == "%":
        return f"{100 * value:.3g}%"
    if unit in ("s", "h"):
        return f"{value:.3g}{unit}"
    return f"{value:.3g}"


def precision_line(precision: Mapping[str, Any]) -> str:
    """`precision reached after 40 replications: service level ± 0.862% (goal 1%)`, or that the cap was
    reached first; one entry per `--until-ci` KPI."""
    parts = []
    for key, goal in precision["targets"].items():
        unit = kpi_labels.unit(key)
        width = in_unit(precision["half_widths"].get(key), unit)
        parts.append(f"{kpi_labels.name(key)} ± {width} (goal {in_unit(goal, unit)})")
    head = (
        f"precision reached after {precision['reps']} replications"
        if precision["met"]
        else f"precision NOT reached: stopped at the cap of {precision['max_reps']} replications"
    )
    return f"{head}: " + ", ".join(parts)
