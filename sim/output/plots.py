"""Pictures of a run, drawn from a results folder's tables: service level against the target, call volumes,
the wait distribution, queues, staffing against work, transfers, agents met per caller, and (with
replications) how the means settle. Each figure stands alone: title, units, legend, clock-time axis.

This module says which pictures a run has (their files, headings and captions) and writes them:
`write_plots` saves them all as PNG in the run's `plots/` folder. The figures are drawn in
`plots_service.py`, `plots_agents.py`, `plots_journeys.py` and `plots_replications.py`, each a data function
(tested against summary.json) and a drawing function returning a matplotlib `Figure`; how they are drawn and
saved is `plots_style.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from sim.output import kpi_labels
from sim.output.drawer import drawing_processes, reap
from sim.output.plots_agents import staffing_figure
from sim.output.plots_journeys import touched_figure, touched_shares, transfer_counts, transfer_figure
from sim.output.plots_replications import replications_figure
from sim.output.plots_service import (
    MAX_VOLUME_INTERVALS,
    queue_figure,
    service_level_figure,
    volume_figure,
    wait_figure,
)
from sim.output.plots_style import run_subtitle, save_figure
from sim.output.saved import SavedRun

# --- all plots of a run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlotSpec:
    """One picture of the report: its file name, heading and what it shows."""

    name: str
    file: str
    title: str
    caption: str


SPECS = {
    spec.name: spec
    for spec in (
        PlotSpec(
            "service_level",
            "service_level.png",
            f"{kpi_labels.heading('service_level')} by interval",
            "Share of offered calls answered within the threshold, per interval, against the target "
            "(circled: intervals where all calls together missed it).",
        ),
        PlotSpec(
            "volumes",
            "volumes.png",
            "Calls by interval",
            "Calls offered, answered and abandoned per interval (by arrival interval; summed by day for a run "
            f"of more than {MAX_VOLUME_INTERVALS:,} intervals).",
        ),
        PlotSpec(
            "wait_cdf",
            "wait_cdf.png",
            "Wait-time distribution",
            "Cumulative distribution of queue waits; the dash-dot curve is the share of offered calls answered "
            "within t, which equals the service level at the threshold.",
        ),
        PlotSpec(
            "queue",
            "queue.png",
            "Queue length over the day",
            "Callers waiting in each department's queue, one-minute averages (replication 0).",
        ),
        PlotSpec(
            "staffing",
            "staffing.png",
            "Agents scheduled and busy",
            "Agents scheduled and logged in against agents busy (ringing, talking, wrapping up) per interval.",
        ),
        PlotSpec(
            "transfers",
            "transfers.png",
            "Transfer flow",
            "Transfers from department (rows) to department (columns), replication 0.",
        ),
        PlotSpec(
            "agents_touched",
            "agents_touched.png",
            kpi_labels.heading("mean_agents_touched"),
            "How many agents answered each answered caller.",
        ),
        PlotSpec(
            "replications",
            "replications.png",
            "Replications",
            "Each replication's value and the running mean with its 95% confidence band.",
        ),
    )
}


@dataclass(frozen=True)
class WrittenPlot:
    """A saved picture: its spec, the PNG's path, and a note when the picture has nothing to show."""

    spec: PlotSpec
    path: Path
    note: str = ""


def figure_builders(run: SavedRun) -> dict[str, tuple[Callable[[], Figure], str]]:
    """How to draw every figure of a run, by plot name, with a note for the report when it has nothing to
    show: drawn one at a time, a long run's figures need not all be in memory together."""
    scenario = run.scenario
    subtitle = run_subtitle(run)
    first = run_subtitle(run, first_only=True)
    departments = run.departments
    target = scenario.service_level.target
    matrix = transfer_counts(run.summary.get("transfer_matrix") or [], departments)
    builders: dict[str, Callable[[], Figure]] = {
        "service_level": lambda: service_level_figure(
            run.intervals, departments, target, scenario.service_level.threshold, subtitle
        ),
        "volumes": lambda: volume_figure(run.intervals, subtitle, scenario),
        "wait_cdf": lambda: wait_figure(run.calls, run.visits, scenario, first),
        "queue": lambda: queue_figure(run.visits, scenario, run.ended_at, first),
        "staffing": lambda: staffing_figure(
            run.intervals, [*departments, *(run.scenario.agent_groups or {})], run.summary, subtitle
        ),
        "transfers": lambda: transfer_figure(matrix, first),
        "agents_touched": lambda: touched_figure(
            touched_shares(run.summary, run.calls), run.summary.get("mean_agents_touched"), subtitle
        ),
    }
    if run.replications is not None and len(run.replications) > 1:
        builders["replications"] = lambda: replications_figure(run.replications, subtitle)  # type: ignore[arg-type]
    notes = {"transfers": "No transfers in this run." if int(matrix.to_numpy().sum()) == 0 else ""}
    return {name: (build, notes.get(name, "")) for name, build in builders.items()}


def write_plots(run: SavedRun, folder: Path, processes: int | None = None) -> list[WrittenPlot]:
    """Draw every figure of the run and save it as PNG in `folder` (created if needed).

    With two `processes` (default: `drawing_processes()`), a forked copy of this process draws every
    other figure while this one draws the rest. The copy only writes its PNG files and exits; whatever it
    did not finish (it failed, or was stopped) this process draws itself afterwards, so an error is
    raised here, as with one process, and the files are the same either way."""
    folder.mkdir(parents=True, exist_ok=True)
    builders = list(figure_builders(run).items())
    paths = [folder / SPECS[name].file for name, _ in builders]
    helper = _fork_drawing(builders[1::2], paths[1::2]) if (processes or drawing_processes()) > 1 else None
    mine = range(0, len(builders), 2) if helper is not None else range(len(builders))
    try:
        for index in mine:
            save_figure(builders[index][1][0](), paths[index])
    finally:
        finished = helper is not None and reap(helper) == 0
    for index in range(1, len(builders), 2) if helper is not None else ():
        if not finished or not paths[index].is_file():
            save_figure(builders[index][1][0](), paths[index])
    return [
        WrittenPlot(SPECS[name], path, note) for (name, (_, note)), path in zip(builders, paths, strict=True)
    ]


def _fork_drawing(
    builders: list[tuple[str, tuple[Callable[[], Figure], str]]], paths: list[Path]
) -> int | None:
    """Fork a process that draws `builders` into `paths` and exits (0: all written); its pid, or None
    when there is nothing to share or the fork failed (this process then draws everything)."""
    import os

    if not builders:
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return pid
    status = 1
    try:  # the forked copy: draw, write, and leave at once (no exit handlers, no inherited buffers flushed)
        for (_, (build, _)), path in zip(builders, paths, strict=True):
            save_figure(build(), path)
        status = 0
    except BaseException:  # any failure: the parent draws the figure again, and reports the error
        status = 1
    finally:
        os._exit(status)
