"""The fit report (`fit_report.html`, pictures in `plots/`): each fitted part against the log's data.

Handle and wrap times: a histogram of the values (the curve through the day taken out) with the fitted
densities, and each interval's mean against the fitted one; patience: the Kaplan-Meier survival curve with the
fitted one; arrivals per interval: each day's count, their mean and what the scenario says; staffing: the
agents inferred per interval and the schedule written. Then every assumption in a plain sentence, and what
the log could not tell.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.analysis.fitting.durations import TimeFit
from sim.analysis.fitting.fit import FittedScenario
from sim.model.durations import format_clock
from sim.output.plots_style import Margins, new_figure, save_figure
from sim.output.report_format import esc, table

REPORT = "fit_report.html"
PLOTS = "plots"
_STYLE = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}img{max-width:100%}.note{color:#666;font-size:.9em}pre{background:#f7f7f7;padding:.8em;
overflow-x:auto}li{margin:.2em 0}"""


def write_fit_report(folder: Path, fitted: FittedScenario, scenario_text: str) -> Path:
    """Draw the pictures into `folder/plots` and write `folder/fit_report.html` (pictures embedded)."""
    plots = folder / PLOTS
    plots.mkdir(exist_ok=True)
    pictures: dict[str, Path] = {}
    pictures["arrivals"] = _arrivals_plot(fitted, plots / "arrivals.png")
    for kind, fit in fitted.handle.items():
        pictures[f"handle-{kind}"] = _time_plot(fit, fitted, plots / f"handle-{_file(kind)}.png")
    for kind, wrap in fitted.wrap.items():
        if wrap is not None and wrap.spec.get("dist") != "fixed":
            pictures[f"wrap-{kind}"] = _time_plot(wrap, fitted, plots / f"wrap-{_file(kind)}.png")
    for kind, patience in fitted.patience.items():
        if len(patience.kaplan_meier[0]):
            pictures[f"patience-{kind}"] = _patience_plot(
                kind, patience, plots / f"patience-{_file(kind)}.png"
            )
    pictures["staffing"] = _staffing_plot(fitted, plots / "staffing.png")
    path = folder / REPORT
    path.write_text(_page(fitted, pictures, scenario_text), encoding="utf-8")
    return path


def _file(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _image(path: Path, title: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{esc(title)}" src="data:image/png;base64,{data}"></figure>'


def _starts(fitted: FittedScenario) -> list[str]:
    window = fitted.window
    return [format_clock(window.open_at + i * window.interval) for i in range(window.interval_count)]


def _clock_ticks(ax: Any, labels: list[str]) -> None:
    step = max(1, math.ceil(len(labels) / 12))
    ax.set_xticks(range(0, len(labels), step))
    ax.set_xticklabels(labels[::step], rotation=0)
    ax.set_xlabel("interval start (clock)")


def _arrivals_plot(fitted: FittedScenario, path: Path) -> Path:
    volumes = fitted.volumes
    figure = new_figure((9.0, 3.6), Margins(left=0.8, right=0.2, bottom=0.6, top=0.4))
    ax = figure.add_subplot()
    positions = np.arange(fitted.window.interval_count)
    arrivals = fitted.scenario["arrivals"]
    for index, kind in enumerate(volumes.types):
        counts = volumes.counts[:, :, index]
        colour = f"C{index}"
        for day in counts:
            ax.plot(positions, day, ".", color=colour, alpha=0.25, markersize=4)
        if "per_interval_by_reason" in arrivals:
            scenario_counts = np.asarray(arrivals["per_interval_by_reason"][kind])
        else:
            scenario_counts = np.asarray(arrivals["per_interval"]) * arrivals["reasons"][kind]
        ax.plot(positions, scenario_counts, "-", color=colour, label=f"{kind}: fitted (scenario)")
    ax.set_ylabel("calls per interval")
    ax.set_title("Arrivals per interval: each day (dots) and the fitted mean (lines)", fontsize=10)
    _clock_ticks(ax, _starts(fitted))
    ax.legend(fontsize=8)
    save_figure(figure, path)
    return path


def _density(spec: dict[str, Any], at: np.ndarray, survival: bool = False) -> np.ndarray | None:
    """A spec's density (or survival function) at `at`, for exponential, lognormal and gamma; else None."""
    from scipy import stats

    kind = spec.get("dist")
    mean = float(spec.get("mean", 0.0) or 0.0)
    if mean <= 0:
        return None
    if kind == "exponential":
        frozen = stats.expon(scale=mean)
    elif kind in ("lognormal", "gamma") and "cv" in spec:
        cv = float(spec["cv"])
        if kind == "lognormal":
            sigma = math.sqrt(math.log1p(cv**2))
            frozen = stats.lognorm(sigma, scale=math.exp(math.log(mean) - sigma**2 / 2))
        else:
            shape = 1 / cv**2
            frozen = stats.gamma(shape, scale=mean / shape)
    else:
        return None
    return np.asarray(frozen.sf(at) if survival else frozen.pdf(at))


def _time_plot(fit: TimeFit, fitted: FittedScenario, path: Path) -> Path:
    figure = new_figure(
        (9.0, 3.4), Margins(left=0.8, right=0.2, bottom=0.6, top=0.4, across=0.8), grid=(1, 2)
    )
    left, right = figure.subplots(1, 2)
    values = fit.values
    top = float(np.quantile(values, 0.995)) if len(values) else 1.0
    left.hist(
        values, bins=40, range=(0, top), density=True, color="#bbb", label=f"log ({fit.observations} calls)"
    )
    grid = np.linspace(max(top / 400, 1e-6), top, 200)
    for candidate in fit.candidates:
        density = _density(candidate["spec"], grid)
        if density is not None:
            chosen = candidate["spec"].get("dist") == fit.spec.get("dist")
            left.plot(
                grid,
                density,
                "-" if chosen else "--",
                label=f"{candidate['name']} (AIC {candidate['aic']:.0f})",
            )
    left.set_xlabel("seconds (curve through the day taken out)")
    left.set_ylabel("density")
    left.set_title(f"{fit.what}: {fit.spec.get('dist')}", fontsize=10)
    left.legend(fontsize=7)
    means = [np.nan if m is None else m for m in fit.interval_means]
    positions = np.arange(len(means))
    right.plot(positions, means, "o", color="#555", label="log: mean per interval")
    factors = np.asarray(fit.curve if fit.curve is not None else [1.0] * len(means))
    right.plot(positions, factors * float(np.mean(values)), "-", color="C0", label="fitted")
    right.set_ylabel("mean seconds")
    right.legend(fontsize=7)
    _clock_ticks(right, _starts(fitted))
    save_figure(figure, path)
    return path


def _patience_plot(kind: str, patience: Any, path: Path) -> Path:
    figure = new_figure((6.0, 3.4), Margins(left=0.8, right=0.2, bottom=0.6, top=0.4))
    ax = figure.add_subplot()
    times, survival = (np.asarray(a, dtype=float) for a in patience.kaplan_meier)
    ax.step(
        np.concatenate([[0.0], times]),
        np.concatenate([[1.0], survival]),
        where="post",
        color="#555",
        label="Kaplan-Meier (log)",
    )
    if patience.spec is not None:
        grid = np.linspace(0, float(times.max()) if len(times) else 1.0, 200)
        curve = _density(patience.spec, grid, survival=True)
        if curve is not None:
            ax.plot(grid, curve, "-", color="C0", label=f"fitted {patience.spec['dist']}")
    ax.set_xlabel("seconds waited")
    ax.set_ylabel("share still patient")
    ax.set_ylim(0, 1.02)
    ax.set_title(
        f"Patience of {kind}: {patience.events} abandoned, {patience.censored} answered (censored)",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    save_figure(figure, path)
    return path


def _staffing_plot(fitted: FittedScenario, path: Path) -> Path:
    figure = new_figure((9.0, 3.4), Margins(left=0.8, right=0.2, bottom=0.6, top=0.4))
    ax = figure.add_subplot()
    for index, (department, mean) in enumerate(fitted.staffing.per_interval.items()):
        positions = np.arange(len(mean))
        ax.plot(
            positions, mean, "o-", color=f"C{index}", label=f"{department}: mean agents present (inferred)"
        )
    ax.set_ylabel("agents")
    ax.set_title(f"Staffing inferred from activity (method: {fitted.staffing.method})", fontsize=10)
    _clock_ticks(ax, _starts(fitted))
    ax.legend(fontsize=8)
    save_figure(figure, path)
    return path


def _parts_table(fitted: FittedScenario) -> str:
    rows = []
    for kind, fit in fitted.handle.items():
        rows.append(
            [esc(f"handle time: {kind}"), esc(fit.observations), esc(_spec_text(fit.spec)), esc(fit.method)]
        )
    for kind, wrap in fitted.wrap.items():
        if wrap is not None:
            rows.append(
                [
                    esc(f"wrap time ({fitted.wrap_source}): {kind}"),
                    esc(wrap.observations),
                    esc(_spec_text(wrap.spec)),
                    esc(wrap.method),
                ]
            )
    for kind, patience in fitted.patience.items():
        rows.append(
            [
                esc(f"patience: {kind}"),
                esc(f"{patience.events} abandoned, {patience.censored} answered"),
                esc(_spec_text(patience.spec) if patience.spec else "infinite"),
                esc(patience.method),
            ]
        )
    return table(["part", "observations", "fitted", "how it was chosen"], rows)


def _staffing_table(fitted: FittedScenario) -> str:
    """Mean agents present per interval and department, as inferred."""
    per_interval = fitted.staffing.per_interval
    names = list(per_interval)
    rows = [
        [esc(start), *(esc(f"{per_interval[name][index]:.1f}") for name in names)]
        for index, start in enumerate(_starts(fitted))
    ]
    return table(["interval", *(esc(name) for name in names)], rows)


def _spec_text(spec: dict[str, Any]) -> str:
    shown = {k: v for k, v in spec.items() if k not in ("scale_by_interval", "values")}
    if "scale_by_interval" in spec:
        shown["through the day"] = (
            f"{min(spec['scale_by_interval']):.2f}-{max(spec['scale_by_interval']):.2f}x"
        )
    return ", ".join(f"{k} {v}" for k, v in shown.items())


def _page(fitted: FittedScenario, pictures: dict[str, Path], scenario_text: str) -> str:
    window = fitted.window
    images = "".join(
        _image(path, key) for key, path in pictures.items() if key.startswith(("handle", "wrap"))
    )
    patience = "".join(_image(path, key) for key, path in pictures.items() if key.startswith("patience"))
    notes = "".join(f"<li>{esc(n)}</li>" for n in fitted.notes + fitted.volumes.notes + fitted.staffing.notes)
    assumptions = "".join(f"<li>{esc(a)}</li>" for a in fitted.assumptions)
    unknown = "".join(f"<li>{esc(c)}</li>" for c in fitted.cannot_tell) or "<li>nothing noted</li>"
    dates = [on.isoformat() for on in window.dates if on is not None]
    spans = f"{dates[0]} to {dates[-1]}" if dates else "an undated log"
    body = f"""
<h1>{esc(fitted.name)}: a scenario fitted to a call log</h1>
<p>From <code>{esc(fitted.source)}</code>: {len(window.calls)} calls on {window.day_count} day(s) ({esc(spans)}),
{format_clock(window.open_at)}-{format_clock(window.close_at)} in {window.interval:g}-second intervals.
Run it with <code>callsim run scenario.yaml</code> in this folder.</p>
<h2>What was fitted</h2>{_parts_table(fitted)}
<h2>What the log could not tell</h2><ul>{unknown}</ul>
<h2>Assumptions</h2><ul>{assumptions}</ul>
<h2>Arrivals</h2>{_image(pictures["arrivals"], "arrivals")}
<h2>Handle and wrap times</h2>{images}
<h2>Patience</h2><p class="note">Kaplan-Meier: each abandonment lowers the curve; answered callers leave the
risk set without lowering it (their patience was longer than their wait).</p>{patience}
<h2>Staffing</h2>{_image(pictures["staffing"], "staffing")}{_staffing_table(fitted)}
<h2>Notes</h2><ul>{notes}</ul>
<h2>Scenario</h2><pre>{esc(scenario_text)}</pre>
"""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(fitted.name)}: callsim fit</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>\n"
    )


def scenario_yaml(fitted: FittedScenario) -> str:
    """The scenario as YAML, with a header saying where it came from."""
    head = (
        f"# Fitted by callsim fit from {Path(fitted.source).name} ({fitted.window.day_count} day(s)).\n"
        "# What each part rests on: fit.json and fit_report.html in this folder.\n"
    )
    return head + yaml.safe_dump(fitted.scenario, sort_keys=False, width=110, default_flow_style=None)
