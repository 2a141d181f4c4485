"""Pictures of a run, drawn from a results folder's tables: service level against the target, call volumes,
the calls answered within t (the service level for every t), queues, staffing against work, transfers,
agents met per caller, and (with replications) how the means settle. Each figure stands alone: title,
units, legend, clock-time axis.

This module says which pictures a run has (their files, headings and captions), computes what each is
drawn from, and writes them: `write_plots` saves them all as PNG in the run's `plots/` folder. Each picture
is a data function in a `plots_*_data.py` module (pandas; tested against summary.json), whose plain inputs
(`sketches`) a drawing function in the `plots_*.py` module of the same name turns into a matplotlib `Figure`
(`sim.output.drawing`; no pandas, so the report drawer draws without importing it); how they are drawn and
saved is `plots_style.py`. This module imports no matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.analysis.thresholds import channel_threshold_words
from sim.model.goals import has_own_thresholds
from sim.output import kpi_labels
from sim.output.drawing import Job, draw_all, figure
from sim.output.plots_agents_data import staffing_inputs
from sim.output.plots_channels_data import (
    backlog_inputs,
    channel_inputs,
    channel_names,
    email_lines,
    headline_calls,
)
from sim.output.plots_journeys_data import touched_inputs, touched_shares, transfer_counts, transfer_inputs
from sim.output.plots_limits import MAX_VOLUME_INTERVALS
from sim.output.plots_replications_data import replications_inputs
from sim.output.plots_service_data import queue_inputs, service_level_inputs, volume_inputs, wait_inputs
from sim.output.saved import SavedRun

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def run_subtitle(run: SavedRun, first_only: bool = False) -> str:
    """`name (seed 3, mean of 8 replications)`, or `replication 0 of 8` for pictures drawn from replication
    0's tables."""
    reps = ""
    if run.reps > 1:
        reps = f", replication 0 of {run.reps}" if first_only else f", mean of {run.reps} replications"
    return f"{run.scenario.name} (seed {run.meta.get('seed', '?')}{reps})"


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
            "channels",
            "channels.png",
            "Each channel by interval",
            "A centre of several channels: per interval, what each channel is judged by against the target "
            "(voice: answered within the threshold; chat: first response within it; email: the share of the "
            "emails settled in the interval handled by their due time), and the contacts each was offered.",
        ),
        PlotSpec(
            "email_backlog",
            "email_backlog.png",
            "Email backlog through the day",
            "Emails waiting at each interval's end (the backlog at the open is waiting from the start; the last "
            "point is the backlog left at the close), over the emails handled in each interval.",
        ),
        PlotSpec(
            "wait_cdf",
            "wait_cdf.png",
            "Calls answered within t",
            "The service level's own measure for every t: the share of offered calls answered within t of "
            "joining the queue (queue wait + ring; callers who hung up or were blocked count as not answered), "
            "for all calls and each department (its visits). At the threshold each curve is the service level "
            "in the tables below (replication 0's, with replications).",
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
    """Why the picture was not drawn (the report shows this sentence instead); empty when it was."""

    @property
    def drawn(self) -> bool:
        """Whether the PNG was written (a picture with nothing to show is left out, with its note)."""
        return not self.note


def figure_inputs(run: SavedRun) -> dict[str, tuple[Callable[[], Mapping[str, Any]], str]]:
    """What every picture of a run is drawn from, by plot name, in `SPECS`' order: how to compute its
    drawing function's inputs (`sim.output.drawing.FIGURES`), with a note for the report when it has nothing
    to show (its inputs are then never computed)."""
    scenario = run.scenario
    subtitle = run_subtitle(run)
    first = run_subtitle(run, first_only=True)
    departments = run.departments
    target = scenario.service_level.target
    matrix = transfer_counts(run.summary.get("transfer_matrix") or [], departments)
    builders: dict[str, Callable[[], Mapping[str, Any]]] = {
        "service_level": lambda: service_level_inputs(
            run.intervals,
            departments,
            target,
            scenario.service_level.threshold,
            subtitle,
            "each department's own threshold" if has_own_thresholds(scenario) else None,
        ),
        "volumes": lambda: volume_inputs(run.intervals, subtitle, scenario),
        "wait_cdf": lambda: wait_inputs(
            headline_calls(run.calls, scenario),
            run.visits,
            scenario,
            first,
            run.reps,
            run.summary.get("service_level"),
        ),
        "queue": lambda: queue_inputs(run.visits, scenario, run.ended_at, first),
        "staffing": lambda: staffing_inputs(
            run.intervals, [*departments, *(run.scenario.agent_groups or {})], run.summary, subtitle
        ),
        "transfers": lambda: transfer_inputs(matrix, first),
        "agents_touched": lambda: touched_inputs(
            touched_shares(run.summary, run.calls), run.summary.get("mean_agents_touched"), subtitle
        ),
    }
    if channel_names(run.intervals):  # several channels: each one's service and volume
        builders["channels"] = lambda: channel_inputs(
            run.intervals,
            target,
            scenario.service_level.threshold,
            subtitle,
            {name: channel_threshold_words(scenario, name) for name in ("voice", "chat")},
        )
    if email_lines(run.intervals):  # email departments: the backlog through the day
        builders["email_backlog"] = lambda: backlog_inputs(
            run.intervals, subtitle, run.summary.get("email_backlog_at_open")
        )
    if run.replications is not None and len(run.replications) > 1:
        builders["replications"] = lambda: replications_inputs(run.replications, subtitle)  # type: ignore[arg-type]
    notes = not_drawn(run, matrix)
    return {name: (builders[name], notes.get(name, "")) for name in SPECS if name in builders}  # SPECS' order


def figure_builders(run: SavedRun) -> dict[str, tuple[Callable[[], Figure], str]]:
    """Every picture of a run as a matplotlib `Figure` on demand, by plot name, with its note (for a
    notebook, or a test, that wants the figure rather than its file)."""

    def builder(name: str, inputs: Callable[[], Mapping[str, Any]]) -> Callable[[], Figure]:
        return lambda: figure((name, inputs()))

    return {name: (builder(name, inputs), note) for name, (inputs, note) in figure_inputs(run).items()}


def not_drawn(run: SavedRun, matrix: pd.DataFrame) -> dict[str, str]:
    """The pictures a run leaves out, each with the sentence the report shows in its place: a transfer map
    of zeros is a blank canvas, and a bar chart of one 100% bar says nothing a sentence does not."""
    whose = " (replication 0)" if run.reps > 1 else ""
    notes = {}
    if int(matrix.to_numpy().sum()) == 0:
        notes["transfers"] = (
            f"No call was transferred in this run{whose}, so there is no transfer map to draw."
        )
    shares = touched_shares(run.summary, run.calls)["share"].to_numpy(dtype=float)
    if shares.sum() == 0:
        notes["agents_touched"] = "No call was answered in this run, so there are no agents met to count."
    elif shares[0] >= 1.0 - 1e-12:
        notes["agents_touched"] = (
            "Every answered caller met exactly one agent (no call was transferred), so there is no spread "
            "of agents met to draw."
        )
    return notes


def sketches(run: SavedRun, folder: Path, lazy: bool = False) -> tuple[list[Job], list[WrittenPlot]]:
    """The pictures of a run to draw into `folder` (each a sketch of plain inputs and its PNG file: see
    `sim.output.drawing`), and every picture as the report lists it (those with nothing to show with the
    note that replaces them: `not_drawn`). `lazy`: each sketch holds the function that computes its
    inputs, called by whichever process draws it (so two processes in this one compute them in parallel:
    a year's tables cost more to read than a day's); otherwise the inputs themselves (to send elsewhere)."""
    jobs: list[Job] = []
    listed = []
    for name, (inputs, note) in figure_inputs(run).items():
        path = folder / SPECS[name].file
        if not note:  # a picture with a note is not drawn
            jobs.append(((name, inputs if lazy else inputs()), path))
        listed.append(WrittenPlot(SPECS[name], path, note))
    return jobs, listed


def write_plots(
    run: SavedRun,
    folder: Path,
    processes: int | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[WrittenPlot]:
    """Draw every picture of the run that has something to show and save it as PNG in `folder` (created if
    needed); the others are listed with the note that replaces them (`not_drawn`). With two `processes`,
    two draw at once; `meanwhile`: more work for this process, done while the other starts drawing
    (`sim.output.drawing.draw_all`)."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs, listed = sketches(run, folder, lazy=True)
    draw_all(jobs, processes, meanwhile)
    return listed
