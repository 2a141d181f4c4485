"""Pictures of a sweep: each chosen KPI against each swept parameter, mean with its 95% CI band.

One parameter: one line with a band. Several (a grid): one line per combination of the other parameters
(up to eight; beyond that, every point as a dot with error bars). A Latin hypercube: every point as a dot
with error bars. Parameters that are not numbers are placed at evenly spaced positions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

MAX_LINES = 8
PERCENT = {"service_level", "abandon_rate", "block_rate", "occupancy", "p_wait", "answered_within_rings"}


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "kpi"


def _positions(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x values, or evenly spaced positions and their labels for text values."""
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float), None
    labels = list(dict.fromkeys(values.astype(str)))
    return np.array([labels.index(v) for v in values.astype(str)], dtype=float), labels


def _x(values: pd.Series, labels: list[str] | None) -> np.ndarray:
    if labels is None:
        return values.to_numpy(dtype=float)
    return np.array([labels.index(str(v)) for v in values], dtype=float)


def plot_kpi(
    summary: pd.DataFrame, keys: Sequence[str], kpi: str, parameter: str, path: Path, lhs: bool = False
) -> Path:
    """One picture: `kpi` (mean, 95% CI) against `parameter`, a line per combination of the others."""
    scale = 100.0 if kpi.split(".")[-1] in PERCENT else 1.0
    ok = summary[summary[kpi].notna()]
    others = [k for k in keys if k != parameter]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    groups = list(ok.groupby(others, sort=True, dropna=False)) if others else [((), ok)]
    x_all, labels = _positions(ok[parameter])
    if lhs or len(groups) > MAX_LINES:
        width = ok[f"{kpi}_ci95"].fillna(0.0).to_numpy()
        axes.errorbar(
            x_all, scale * ok[kpi].to_numpy(), yerr=scale * width, fmt="o", ms=3, capsize=2, alpha=0.8
        )
    else:
        for name, group in groups:
            group = group.sort_values(parameter)
            x = _x(group[parameter], labels)
            mean = scale * group[kpi].to_numpy(dtype=float)
            width = scale * group[f"{kpi}_ci95"].fillna(0.0).to_numpy(dtype=float)
            names = name if isinstance(name, tuple) else (name,)
            label = ", ".join(f"{k}={v}" for k, v in zip(others, names, strict=True)) or None
            (line,) = axes.plot(x, mean, marker="o", ms=3, label=label)
            axes.fill_between(x, mean - width, mean + width, color=line.get_color(), alpha=0.2, lw=0)
        if others:
            axes.legend(fontsize=7)
    if labels is None and np.all(np.mod(x_all, 1) == 0):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if labels is not None:
        axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    axes.set_xlabel(parameter)
    axes.set_ylabel(f"{kpi} (%)" if scale != 1.0 else kpi)
    axes.set_title(f"{kpi} vs {parameter} (mean, 95% CI)", fontsize=10)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_sweep(
    summary: pd.DataFrame, keys: Sequence[str], kpis: Sequence[str], folder: Path, lhs: bool = False
) -> list[Path]:
    """`folder/KPI-vs-PARAMETER.png` for every chosen KPI present and every parameter."""
    made = []
    for kpi in kpis:
        if kpi not in summary or f"{kpi}_ci95" not in summary or summary[kpi].isna().all():
            continue
        for parameter in keys:
            if summary[parameter].nunique(dropna=True) < 2:
                continue
            name = f"{_file_name(kpi)}-vs-{_file_name(parameter)}.png"
            made.append(plot_kpi(summary, keys, kpi, parameter, folder / name, lhs))
    return made
