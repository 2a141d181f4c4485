"""A run's summary as plain data: one flat row of numbers (what sweeps, replication tables and the staffing
search keep), and a JSON-safe copy (what summary.json holds, and what a sweep's fingerprint hashes)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


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


def clean_json(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null, numpy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
