"""A run's summary as one flat row of numbers: what sweeps, replication tables and the staffing search keep."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"by_department": {"billing": {"asa": 1}}}` -> `{"by_department.billing.asa": 1}`."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def kpi_row(kpis: Mapping[str, Any]) -> dict[str, float]:
    """Every numeric KPI of a summary as a flat `{"by_department.billing.asa": 12.0}` (lists dropped)."""
    return {
        key: float(value)
        for key, value in flatten(kpis).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
