"""Pictures of a sweep: each chosen KPI against each swept parameter, mean with its 95% CI band.

One parameter: one line with a band. Several (a grid): one line per combination of the other parameters
(up to eight; beyond that, every point as a dot with error bars). A Latin hypercube: every point as a dot
with error bars. Parameters that are not numbers are placed at evenly spaced positions.

Each KPI is named and measured as the KPI registry says (`sim.analysis.kpis`, through
`sim.output.kpi_labels`): shares (service level, abandonment, occupancy, ...) are drawn in percent, their bands
and error bars clipped to 0-100%; durations (ASA, waits, handle times) in seconds or hours, their bands clipped
at 0. Swept parameters that are durations (`patience.mean`) are labelled in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.output import kpi_labels

MAX_LINES = 8


def _band(mean: np.ndarray, width: np.ndarray, measured: str) -> tuple[np.ndarray, np.ndarray]:
    """The 95% band `mean ± width`, clipped to what the KPI can be: [0, 100] for a share in percent, >= 0
    for a duration."""
    low, high = mean - width, mean + width
    if measured == "%":
        low, high = np.clip(low, 0.0, 100.0), np.clip(high, 0.0, 100.0)
    elif measured in ("s", "h"):
        low = np.maximum(low, 0.0)
    return low, high


def _setting(key: str, value: object, seconds: Collection[str]) -> str:
    if key in seconds and isinstance(value, int | float):
        return f"{key}={value:g}s"
    return f"{key}={value}"


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


def kpi_figure(
    summary: pd.DataFrame,
    keys: Sequence[str],
    kpi: str,
    parameter: str,
    lhs: bool = False,
    seconds: Collection[str] = (),
) -> Figure:
    """One picture: `kpi` (mean, 95% CI) against `parameter`, a line per combination of the others
    (`seconds`: the parameters that are durations, labelled in seconds)."""
    measured = kpi_labels.unit(kpi)
    scale = 100.0 if measured == "%" else 1.0
    ok = summary[summary[kpi].notna()]
    others = [k for k in keys if k != parameter]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    groups = list(ok.groupby(others, sort=True, dropna=False)) if others else [((), ok)]
    x_all, labels = _positions(ok[parameter])
    if lhs or len(groups) > MAX_LINES:
        mean = scale * ok[kpi].to_numpy(dtype=float)
        low, high = _band(mean, scale * ok[f"{kpi}_ci95"].fillna(0.0).to_numpy(dtype=float), measured)
        axes.errorbar(
            x_all, mean, yerr=np.maximum([mean - low, high - mean], 0.0), fmt="o", ms=3, capsize=2, alpha=0.8
        )
    else:
        for name, group in groups:
            group = group.sort_values(parameter)
            x = _x(group[parameter], labels)
            mean = scale * group[kpi].to_numpy(dtype=float)
            low, high = _band(mean, scale * group[f"{kpi}_ci95"].fillna(0.0).to_numpy(dtype=float), measured)
            names = name if isinstance(name, tuple) else (name,)
            label = ", ".join(_setting(k, v, seconds) for k, v in zip(others, names, strict=True)) or None
            (line,) = axes.plot(x, mean, marker="o", ms=3, label=label)
            axes.fill_between(x, low, high, color=line.get_color(), alpha=0.2, lw=0)
        if others:
            axes.legend(fontsize=7)
    if labels is None and np.all(np.mod(x_all, 1) == 0):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if labels is not None:
        axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    axes.set_xlabel(kpi_labels.with_unit(parameter, "s" if parameter in seconds and labels is None else ""))
    axes.set_ylabel(kpi_labels.axis_label(kpi))
    axes.set_title(f"{kpi_labels.name(kpi)} vs {parameter} (mean, 95% CI)", fontsize=10)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def plot_kpi(
    summary: pd.DataFrame,
    keys: Sequence[str],
    kpi: str,
    parameter: str,
    path: Path,
    lhs: bool = False,
    seconds: Collection[str] = (),
) -> Path:
    """`kpi_figure` saved to `path`."""
    figure = kpi_figure(summary, keys, kpi, parameter, lhs, seconds)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
    return path


def plot_sweep(
    summary: pd.DataFrame,
    keys: Sequence[str],
    kpis: Sequence[str],
    folder: Path,
    lhs: bool = False,
    seconds: Collection[str] = (),
) -> list[Path]:
    """`folder/KPI-vs-PARAMETER.png` for every chosen KPI present and every parameter (`seconds`: the
    parameters that are durations)."""
    made = []
    for kpi in kpis:
        if kpi not in summary or f"{kpi}_ci95" not in summary or summary[kpi].isna().all():
            continue
        for parameter in keys:
            if summary[parameter].nunique(dropna=True) < 2:
                continue
            name = f"{_file_name(kpi)}-vs-{_file_name(parameter)}.png"
            made.append(plot_kpi(summary, keys, kpi, parameter, folder / name, lhs, seconds))
    return made
