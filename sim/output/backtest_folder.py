"""A backtest's folder, written whole or not at all (`sim.output.folders.write_folder`): `backtest.csv`
(the tidy comparison), `errors.csv` (the error summaries), `actual.csv` and `simulated.csv` (the KPIs of each
logged day and each replication), `plots/backtest_<kpi>.png`, `backtest.html` (the tables, the pictures
and in sentences what was compared and what the log could not tell) and `meta.json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.backtest import Backtest
from sim.experiments.provenance import git_revision, versions
from sim.output import kpi_labels
from sim.output.backtest_plots import draw_kpi, plot_file
from sim.output.folders import write_folder, write_json
from sim.output.report_format import Cell, esc, number, table

TABLE = "backtest.csv"
ERRORS = "errors.csv"
PAGE = "backtest.html"
PLOTS = "plots"


def default_backtest_dir(result: Backtest) -> Path:
    """`results/backtest-<scenario>-<time>`: where a backtest goes without `--out`."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"backtest-{result.scenario.name}-{stamp}"


def write_backtest(target: Path, result: Backtest, force: bool, command: Sequence[str] = ()) -> Path:
    """Write the backtest folder at `target` (replacing one only with `force`) and return where it went."""

    def fill(folder: Path) -> None:
        result.table.to_csv(folder / TABLE, index=False, float_format="%.6g")
        result.errors.to_csv(folder / ERRORS, index=False, float_format="%.6g")
        result.actual.to_csv(folder / "actual.csv", index=False, float_format="%.6g")
        result.simulated.to_csv(folder / "simulated.csv", index=False, float_format="%.6g")
        plots = folder / PLOTS
        plots.mkdir()
        for kpi in result.kpis:
            draw_kpi(result, kpi, plots / plot_file(kpi))
        (folder / PAGE).write_text(backtest_page(result), encoding="utf-8")
        write_json(
            folder / "meta.json",
            {
                "scenario": result.scenario.name,
                "log": result.source,
                "dates": list(result.dates),
                "call_types": list(result.call_types),
                "reps": result.reps,
                "seed": result.seed,
                "calls_compared": result.calls_compared,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "wall_time": result.wall_time,
                "versions": versions(),
                "git_revision": git_revision(),
                "command": list(command),
            },
        )

    return write_folder(target, force, fill)


def error_sentences(result: Backtest) -> list[str]:
    """The error summaries over all calls in plain sentences (the page's and the console's reading)."""
    said = []
    rows = result.errors[result.errors["call_type"] == "all"]
    for row in _rows(rows):
        kpi = str(row.kpi)
        unit = kpi_labels.unit(kpi)
        verdict = (
            "more than its bands allow: the scenario is off here"
            if row.bias_flagged
            else "within what day-to-day chance explains"
        )
        said.append(
            f"{kpi_labels.heading(kpi)}: the log is {_signed(float(row.bias), unit)} from the simulated mean on "
            f"average ({verdict}); {100 * float(row.coverage):.0f}% of logged intervals fell inside the band "
            f"of a simulated day, {100 * float(row.expected_coverage):.0f}% expected of a right model."
        )
    return said


def _rows(frame: pd.DataFrame) -> list[Any]:
    """The rows of a table as named tuples (their fields untyped)."""
    return list(frame.itertuples())


def _inside(flag: Any) -> str | tuple[str, str]:
    """A table cell for whether the logged figure fell inside its band."""
    if flag is None or pd.isna(flag):
        return "-"
    return "yes" if bool(flag) else ("no", "flag")


def _signed(value: float, unit: str) -> str:
    text = number(abs(value), unit)
    return f"+{text}" if value >= 0 else f"-{text}"


def backtest_page(result: Backtest) -> str:
    """`backtest.html`: what was compared, the error summaries, a picture per KPI, the mean-day table."""
    errors = result.errors
    error_rows: list[list[Cell]] = [
        [
            esc(kpi_labels.heading(str(row.kpi))),
            esc(row.call_type),
            number(row.cells),
            number(row.actual_mean, kpi_labels.unit(str(row.kpi))),
            number(row.simulated_mean, kpi_labels.unit(str(row.kpi))),
            number(row.mean_absolute_error, kpi_labels.unit(str(row.kpi))),
            (_signed(float(row.bias), kpi_labels.unit(str(row.kpi))), "flag" if row.bias_flagged else ""),
            number(row.bias_se, kpi_labels.unit(str(row.kpi))),
            f"{100 * float(row.coverage):.0f}%",
            f"{100 * float(row.expected_coverage):.0f}%",
        ]
        for row in _rows(errors)
    ]
    means = result.table[result.table["date"] == "mean"]
    mean_rows: list[list[Cell]] = [
        [
            esc(kpi_labels.heading(str(row.kpi))),
            esc(row.call_type),
            esc(row.start),
            number(row.actual, kpi_labels.unit(str(row.kpi))),
            number(row.simulated_mean, kpi_labels.unit(str(row.kpi))),
            f"{number(row.band_low, kpi_labels.unit(str(row.kpi)))} to "
            f"{number(row.band_high, kpi_labels.unit(str(row.kpi)))}",
            _inside(row.inside),
        ]
        for row in _rows(means)
    ]
    notes = "".join(f"<li>{esc(note)}</li>" for note in result.notes)
    summary = "".join(f"<li>{esc(line)}</li>" for line in error_sentences(result))
    pictures = "".join(
        f'<h3>{esc(kpi_labels.heading(kpi))}</h3><img src="{PLOTS}/{plot_file(kpi)}" '
        f'alt="{esc(kpi_labels.heading(kpi))}: logged against simulated by interval">'
        for kpi in result.kpis
    )
    title = f"Backtest: {result.scenario.name} against {Path(result.source).name}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f2f2f2; }} td:first-child, td:nth-child(2) {{ text-align: left; }}
td.flag {{ background: #fde2e1; font-weight: 600; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>{esc(title)}</h1>
<h2>What was compared</h2>
<p>{len(result.dates)} logged day(s) from {esc(result.source)} against {result.reps} simulated days of the
scenario {esc(result.scenario.name)} (seed {result.seed}): offered calls, service level (answered within
{number(result.scenario.service_level.threshold, "s")} of joining the queue, over offered calls), abandonment
rate and ASA, per interval by arrival and per call type, each as the simulator defines it.</p>
<ul>{notes}</ul>
<h2>How to read it</h2>
<p>A logged day is one day, so it is compared with the spread of single simulated days: the band of an
interval runs from the k-th smallest to the k-th largest simulated day (k = 1 below 79 replications), and a
new day of a right model falls inside with the expected coverage shown. Coverage well below it says the
scenario misses what happened; the bias (logged minus simulated, averaged over intervals, then over days)
is flagged when it exceeds its Student-t 95% bound, its standard error coming from the spread of the
logged days and of the simulated ones. The mean over logged days is set against the band of a mean of that
many days.</p>
<h2>Error summaries</h2>
<ul>{summary}</ul>
{
        table(
            [
                "KPI",
                "call type",
                "cells",
                "logged mean",
                "simulated mean",
                "mean abs. error",
                "bias",
                "bias s.e.",
                "coverage",
                "expected",
            ],
            error_rows,
        )
    }
<h2>By interval</h2>
{pictures}
<h2>The mean logged day, interval by interval</h2>
{
        table(
            ["KPI", "call type", "interval", "logged mean", "simulated mean", "band of the mean", "inside"],
            mean_rows,
        )
    }
<p>Every logged day's row is in {TABLE}; the summaries in {ERRORS}; each day's and each replication's
figures in actual.csv and simulated.csv.</p>
</body></html>
"""
