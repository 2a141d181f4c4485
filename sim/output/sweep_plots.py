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
DIFFERENCE_UNITS = {"%": "percentage points"}
"""A difference of shares is in percentage points."""


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
    baseline: str | None = None,
) -> Figure:
    """One picture: `kpi` (mean, 95% CI) against `parameter`, a line per combination of the others
    (`seconds`: the parameters that are durations, labelled in seconds). With `baseline` (its description),
    `summary` holds paired differences to that point (`sim.experiments.sweep_pairs`): drawn around a zero
    line, in percentage points for a share, never clipped."""
    measured = kpi_labels.unit(kpi)
    scale = 100.0 if measured == "%" else 1.0
    clipping = "" if baseline is not None else measured
    ok = summary[summary[kpi].notna()]
    others = [k for k in keys if k != parameter]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    groups = list(ok.groupby(others, sort=True, dropna=False)) if others else [((), ok)]
    x_all, labels = _positions(ok[parameter])
    if lhs or len(groups) > MAX_LINES:
        mean = scale * ok[kpi].to_numpy(dtype=float)
        low, high = _band(mean, scale * ok[f"{kpi}_ci95"].fillna(0.0).to_numpy(dtype=float), clipping)
        axes.errorbar(
            x_all, mean, yerr=np.maximum([mean - low, high - mean], 0.0), fmt="o", ms=3, capsize=2, alpha=0.8
        )
    else:
        for name, group in groups:
            group = group.sort_values(parameter)
            x = _x(group[parameter], labels)
            mean = scale * group[kpi].to_numpy(dtype=float)
            low, high = _band(mean, scale * group[f"{kpi}_ci95"].fillna(0.0).to_numpy(dtype=float), clipping)
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
    if baseline is None:
        axes.set_ylabel(kpi_labels.axis_label(kpi))
        axes.set_title(f"{kpi_labels.name(kpi)} vs {parameter} (mean, 95% CI)", fontsize=10)
    else:
        axes.axhline(0.0, color="#444444", linewidth=1.0, linestyle="--", label="baseline")
        shown = DIFFERENCE_UNITS.get(measured, measured if measured in kpi_labels.SHOWN_UNITS else "")
        axes.set_ylabel(f"{kpi_labels.name(kpi)} minus baseline" + (f" ({shown})" if shown else ""))
        axes.set_title(
            f"{kpi_labels.name(kpi)} vs {parameter}: difference to the baseline, replication by replication\n"
            f"(mean, paired 95% CI; baseline {baseline})",
            fontsize=9,
        )
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def surface_figure(
    summary: pd.DataFrame, keys: Sequence[str], kpi: str, seconds: Collection[str] = ()
) -> Figure:
    """A response surface for a sweep of two numeric parameters: filled contours of the mean `kpi` over the
    plane of the two (a grid or a Latin hypercube, triangulated), each point marked with its mean; for the
    service level, the contour of the target drawn and labelled."""
    measured = kpi_labels.unit(kpi)
    scale = 100.0 if measured == "%" else 1.0
    ok = summary[summary[kpi].notna()]
    first, second = keys
    x = ok[first].to_numpy(dtype=float)
    y = ok[second].to_numpy(dtype=float)
    z = scale * ok[kpi].to_numpy(dtype=float)
    figure, axes = plt.subplots(figsize=(7, 5))
    low, high = float(np.min(z)), float(np.max(z))
    levels = np.linspace(low, high if high > low else low + 1.0, 12)
    filled = axes.tricontourf(x, y, z, levels=levels, cmap="viridis")
    figure.colorbar(filled, ax=axes, label=kpi_labels.axis_label(kpi))
    axes.scatter(
        x, y, s=14, color="white", edgecolors="black", linewidths=0.6, zorder=3, label="sweep points"
    )
    for xi, yi, zi in zip(x, y, z, strict=True):
        axes.annotate(f"{zi:.3g}", (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=7)
    if kpi == "service_level" and "service_level_target" in ok and ok["service_level_target"].notna().any():
        target = scale * float(ok["service_level_target"].dropna().iloc[0])
        if low < target < high:
            line = axes.tricontour(x, y, z, levels=[target], colors="#c0392b", linewidths=2.0)
            axes.clabel(line, fmt=lambda value: f"target {value:.0f}%", fontsize=8)
    for setter, key in ((axes.set_xlabel, first), (axes.set_ylabel, second)):
        setter(kpi_labels.with_unit(key, "s" if key in seconds else ""))
    axes.margins(0.04)
    axes.set_title(f"{kpi_labels.name(kpi)} over {first}\nand {second} (mean of each point)", fontsize=10)
    axes.legend(loc="upper right", fontsize=7)
    figure.tight_layout()
    return figure


def can_draw_surface(summary: pd.DataFrame, keys: Sequence[str], kpi: str) -> bool:
    """Two numeric parameters, each swept over at least two values, and at least three points with a mean
    that do not all lie on one line (a triangulation needs them)."""
    if len(keys) != 2 or not all(pd.api.types.is_numeric_dtype(summary[key]) for key in keys):
        return False
    ok = summary[summary[kpi].notna()]
    if len(ok) < 3 or any(ok[key].nunique() < 2 for key in keys):
        return False
    points = ok[list(keys)].to_numpy(dtype=float)
    spread = points - points.mean(axis=0)
    return bool(np.linalg.matrix_rank(spread / np.maximum(np.abs(spread).max(axis=0), 1e-300)) == 2)


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)
    return path


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
    return _save(kpi_figure(summary, keys, kpi, parameter, lhs, seconds), path)


def baseline_text(differences: pd.DataFrame, keys: Sequence[str], seconds: Collection[str] = ()) -> str:
    """The baseline point of `differences` (its row with `pairs` and every difference 0: point 0) named by
    its parameters: `point 0: departments.support.agents=4, patience.mean=60s`."""
    values = ", ".join(_setting(key, differences[key].iloc[0], seconds) for key in keys)  # each its own type
    return f"point {int(differences['point'].iloc[0])}: {values}"


def plot_sweep(
    summary: pd.DataFrame,
    keys: Sequence[str],
    kpis: Sequence[str],
    folder: Path,
    lhs: bool = False,
    seconds: Collection[str] = (),
    rows: pd.DataFrame | None = None,
) -> list[Path]:
    """For every chosen KPI present: `folder/KPI-vs-PARAMETER.png` for every parameter (`seconds`: the
    parameters that are durations); given the per-replication `rows` with two or more replications,
    `KPI-difference-vs-PARAMETER.png`, each point's paired difference to point 0 (common random numbers);
    and for two numeric parameters, the response surface `KPI-surface.png`."""
    from sim.experiments.sweep_pairs import paired_differences

    made = []
    wanted = [
        kpi for kpi in kpis if kpi in summary and f"{kpi}_ci95" in summary and not summary[kpi].isna().all()
    ]
    differences = None
    if rows is not None and wanted and rows["replication"].nunique() >= 2:
        differences = paired_differences(rows, keys, wanted)
    swept = [parameter for parameter in keys if summary[parameter].nunique(dropna=True) >= 2]
    for kpi in wanted:
        for parameter in swept:
            name = f"{_file_name(kpi)}-vs-{_file_name(parameter)}.png"
            made.append(plot_kpi(summary, keys, kpi, parameter, folder / name, lhs, seconds))
            if differences is not None and kpi in differences and differences[kpi].notna().sum() >= 2:
                figure = kpi_figure(
                    differences, keys, kpi, parameter, lhs, seconds, baseline_text(differences, keys, seconds)
                )
                made.append(
                    _save(figure, folder / f"{_file_name(kpi)}-difference-vs-{_file_name(parameter)}.png")
                )
        if can_draw_surface(summary, keys, kpi):
            made.append(
                _save(surface_figure(summary, keys, kpi, seconds), folder / f"{_file_name(kpi)}-surface.png")
            )
    return made
