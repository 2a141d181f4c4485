"""Timelines of one caller drawn for a room: one panel per telling (A above B when two policies are
compared), on a shared clock, and a slide mode (large type, ticks on round clock times, every segment drawn
at least a sliver wide, so a wait of no time and a dial-out nobody answered still show).

Built on `sim.output.timeline`'s segments and colours; the figure is returned before it is saved, so its
artists can be checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.model.durations import format_clock
from sim.output.timeline import COLOURS, HATCHES, LABELS, Segment

ROUND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
"""Tick spacings, in seconds, that land on round clock times (every 1, 5, 15 minutes ...)."""


@dataclass(frozen=True)
class Panel:
    """One telling of the caller's journey: its segments and the line above its timeline."""

    title: str
    found: list[Segment]


@dataclass(frozen=True)
class Style:
    """Sizes for a page (the default) or a slide."""

    font_size: float
    title_size: float
    width: float
    row_height: float
    bar_height: float
    least_width_share: float
    """Every bar is drawn at least this share of the time axis wide (0: as long as it lasted, or half a
    second)."""
    max_ticks: int

    @staticmethod
    def of(slides: bool) -> Style:
        if slides:
            return Style(18.0, 22.0, 16.0, 0.7, 0.7, 0.006, 7)
        return Style(9.0, 11.0, 11.0, 0.5, 0.6, 0.0, 8)


def round_step(span_time: float, max_ticks: int) -> float:
    """The smallest round tick spacing that puts at most `max_ticks` ticks on `span_time` seconds."""
    for step in ROUND_STEPS:
        if span_time / step <= max_ticks - 1:
            return float(step)
    return float(ROUND_STEPS[-1]) * (1 + int(span_time / ROUND_STEPS[-1] / (max_ticks - 1)))


def round_ticks(low_at: float, high_at: float, day_start: float, max_ticks: int) -> list[float]:
    """Instants (seconds after the day's start) between `low_at` and `high_at` that fall on round clock
    times: multiples of a round step on the clock, not on the time since the start."""
    step = round_step(max(high_at - low_at, 1.0), max_ticks)
    first = -(-(day_start + low_at) // step) * step - day_start
    ticks = []
    tick = first
    while tick <= high_at + 1e-9:
        ticks.append(tick)
        tick += step
    return ticks


def _rows(found: list[Segment]) -> list[str]:
    rows: list[str] = []
    for segment in found:
        if segment.row not in rows:
            rows.append(segment.row)
    return rows


def figure(panels: list[Panel], day_start: float, title: str, slides: bool = False) -> Figure:
    """The panels' timelines one above the other on one clock, titled `title` (the caller, and for two
    panels what differs between them), with one legend of the kinds drawn."""
    style = Style.of(slides)
    every = [segment for panel in panels for segment in panel.found]
    kinds = [kind for kind in COLOURS if any(s.kind == kind for s in every)]
    columns = 3 if slides else 4
    legend_rows = -(-len(kinds) // columns)
    heights = [max(len(_rows(panel.found)), 1) + 1.2 for panel in panels]
    height = 1.2 + style.row_height * (sum(heights) + 0.6 * legend_rows) + (0.6 if slides else 0.3)
    shape = plt.subplots(
        len(panels),
        1,
        figsize=(style.width, height),
        dpi=100 if slides else 110,
        layout="constrained",
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    drawing, grid = shape
    axes_list = [row[0] for row in grid]
    low = min((s.start for s in every), default=0.0)
    high = max((s.end for s in every), default=60.0)
    span = max(high - low, 60.0)
    least = style.least_width_share * span
    for axes, panel in zip(axes_list, panels, strict=True):
        rows = _rows(panel.found)
        for segment in panel.found:
            y = len(rows) - 1 - rows.index(segment.row)
            lasted = segment.end - segment.start
            sliver = lasted < least  # drawn centred on its instant, above its neighbours
            bars = axes.barh(
                y,
                max(lasted, least, 0.5),
                left=segment.start - least / 2 if sliver else segment.start,
                zorder=3 if sliver else 2,
                height=style.bar_height,
                color=COLOURS[segment.kind],
                edgecolor="black",
                linewidth=1.0 if slides else 0.4,
                hatch=HATCHES.get(segment.kind),
            )
            bars.patches[0].set_gid(f"{segment.kind}: {lasted:g}s")  # which segment a bar is, for checks
        axes.set_yticks(range(len(rows)), list(reversed(rows)), fontsize=style.font_size)
        axes.set_ylim(-0.6, max(len(rows), 1) - 0.4)
        axes.set_title(panel.title, fontsize=style.font_size, loc="left")
        axes.grid(axis="x", alpha=0.3)
        if not panel.found:
            axes.text(
                0.5, 0.5, "nothing to draw: the call never reached the menu or a queue",
                ha="center", va="center", transform=axes.transAxes, fontsize=style.font_size,
            )  # fmt: skip
    ticks = round_ticks(low, low + span, day_start, style.max_ticks)
    seconds = round_step(span, style.max_ticks) < 60  # `09:15` on whole minutes, `09:15:30` between them
    bottom = axes_list[-1]
    bottom.set_xticks(ticks, [format_clock(day_start + t, seconds) for t in ticks], fontsize=style.font_size)
    bottom.set_xlim(low - span * 0.02, low + span * 1.02 + least)
    bottom.set_xlabel(f"clock time (day starts {format_clock(day_start)})", fontsize=style.font_size)
    drawing.suptitle(title, fontsize=style.title_size)
    if kinds:
        handles = [
            Patch(
                facecolor=COLOURS[k], edgecolor="black", linewidth=0.4, hatch=HATCHES.get(k), label=LABELS[k]
            )
            for k in kinds
        ]
        drawing.legend(
            handles=handles,
            loc="outside lower center",
            ncol=min(len(kinds), columns),
            fontsize=style.font_size * (0.8 if slides else 0.9),
        )
    return drawing


def save(drawing: Figure, path: Path) -> Path:
    """Write the figure as a PNG at `path` (its folder made if needed) and let it go."""
    path.parent.mkdir(parents=True, exist_ok=True)
    drawing.savefig(path)
    plt.close(drawing)
    return path
