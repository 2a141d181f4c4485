"""How every picture of a run is drawn and saved: size, resolution and colours, clock-time axes, titles, the
cheap ways to draw thousands of bars and steps, and saving a figure as PNG. The figures themselves are drawn
in `plots_service.py` (service level, volumes, waits, queues), `plots_agents.py` (staffing and occupancy),
`plots_journeys.py` (transfers, agents met), `plots_replications.py` and `plots_channels.py`, from the plain
inputs their `plots_*_data.py` modules compute; `plots.py` names them and writes them (`drawing.py` draws).
Like every drawing module, this one imports no pandas (the report drawer draws without it).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from numpy.typing import ArrayLike
from PIL import Image

from sim.model.durations import format_clock

DPI = 100
WIDE = (10.0, 4.8)
ALL_COLOUR = "#222222"
TARGET_COLOUR = "#c0392b"
OUTCOME_COLOURS = {"offered": "#9aa5b1", "answered": "#2e8b57", "abandoned": "#d9534f", "blocked": "#5b3a29"}


def department_colours(departments: Sequence[str]) -> dict[str, str]:
    """One stable colour per department (scenario order), `all` in near-black."""
    palette = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
        "#d62728",
    ]
    colours = {name: palette[i % len(palette)] for i, name in enumerate(departments)}
    colours["all"] = ALL_COLOUR
    return colours


TITLE_TOP = 0.08
"""Inches between the top of a picture and its two-line title."""


@dataclass(frozen=True)
class Margins:
    """Space around a figure's axes and between them, in inches. Fixed, not measured: a layout engine
    measures every text of a figure before it is drawn, a second pass through the drawing that costs about
    as much as the drawing itself. The defaults leave room for the two-line title (12 pt), a y axis of
    tick labels up to six characters wide with its label, and an x axis with its label."""

    left: float = 0.85
    right: float = 0.25
    bottom: float = 0.6
    top: float = 0.62
    across: float = 0.0
    """Between columns of axes."""
    down: float = 0.0
    """Between rows of axes."""


def new_figure(
    size: tuple[float, float] = WIDE,
    margins: Margins = Margins(),
    grid: tuple[int, int] = (1, 1),
    laid_out: bool = False,
) -> Figure:
    """An empty figure of `size` inches at the pictures' resolution, whose axes (`fig.add_subplot()`, or a
    `grid` of rows and columns by `fig.subplots`) sit within `margins`. `laid_out`: measured when saved
    instead (for a figure whose labels are names of any length, such as departments)."""
    if laid_out:
        return Figure(figsize=size, dpi=DPI, layout="constrained")
    figure = Figure(figsize=size, dpi=DPI)
    width, height = size
    rows, columns = grid
    axes_width = (width - margins.left - margins.right - (columns - 1) * margins.across) / columns
    axes_height = (height - margins.bottom - margins.top - (rows - 1) * margins.down) / rows
    figure.subplots_adjust(
        left=margins.left / width,
        right=1 - margins.right / width,
        bottom=margins.bottom / height,
        top=1 - margins.top / height,
        wspace=margins.across / axes_width,
        hspace=margins.down / axes_height,
    )
    return figure


def clock_axis(ax: Any, starts: Sequence[str], label: str = "interval start (clock)", most: int = 12) -> None:
    """Interval positions 0..n-1 labelled with their clock start, at most about `most` labels."""
    step = max(1, math.ceil(len(starts) / most))
    positions = list(range(0, len(starts), step))
    ax.set_xticks(positions)
    ax.set_xticklabels([starts[i] for i in positions], rotation=0)
    ax.set_xlabel(label)
    if len(starts):
        ax.set_xlim(-0.6, len(starts) - 0.4)


def seconds_clock_axis(ax: Any, start: float, end: float) -> None:
    """An x axis in seconds after the start (clock time `start`, seconds after midnight), labelled with
    the clock."""
    hour = 3600.0
    step = hour * max(1, math.ceil(end / hour / 12))
    first = math.ceil(start / step) * step - start
    ax.set_xticks(np.arange(first, end + 1e-9, step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_clock(start + x)))
    ax.set_xlim(0, end)
    ax.set_xlabel("clock time")


def listing(words: Sequence[str]) -> str:
    """`a, b and c`."""
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def put_title(fig: Figure, title: str, subtitle: str) -> None:
    """The figure's two-line heading: what it shows, then which run (`run_subtitle`)."""
    fig.suptitle(f"{title}\n{subtitle}", fontsize=12, y=1 - TITLE_TOP / fig.get_figheight())


def bars(ax: Any, centres: np.ndarray, heights: np.ndarray, width: float, colour: str, label: str) -> None:
    """Bars from 0 to `heights` drawn as one collection: the same picture as `ax.bar`, without an artist per
    bar (a year of hourly intervals is 26,000 bars)."""
    heights = np.nan_to_num(heights)
    left, right = centres - width / 2, centres + width / 2
    corners = np.stack(
        (
            np.column_stack((left, np.zeros_like(heights))),
            np.column_stack((left, heights)),
            np.column_stack((right, heights)),
            np.column_stack((right, np.zeros_like(heights))),
        ),
        axis=1,
    )
    collection = PolyCollection(cast(Any, corners), facecolors=colour, edgecolors="none", label=label)
    ax.add_collection(collection, autolim=False)  # the limits at once, not from every bar's path
    if len(heights):
        ax.update_datalim(
            [(float(left.min()), min(0.0, float(heights.min()))), (float(right.max()), float(heights.max()))]
        )


def stairs(ax: Any, values: ArrayLike, edges: np.ndarray, **style: Any) -> None:
    """`ax.stairs`, the same picture, without its limit update that walks every step as a Bezier curve
    (seconds for a year of hourly intervals): drawn from one step, given all of them, limits set at once."""
    heights = np.asarray(values, dtype=float)
    if len(heights) < 2:
        ax.stairs(heights, edges, **style)
        return
    patch = ax.stairs(heights[:1], edges[:2], **style)
    patch.set_data(heights, edges)
    finite = heights[np.isfinite(heights)]
    if len(finite):
        ax.update_datalim([(edges[0], min(0.0, float(finite.min()))), (edges[-1], float(finite.max()))])
    ax.autoscale_view()


PNG_COMPRESSION = 3
"""zlib level of the PNG files: 3 is about twice as fast as the default 6, and with the alpha channel left
out (every picture has an opaque background) the files come out smaller than the default's."""


def save_figure(figure: Figure, path: Path) -> None:
    """Write `figure` to `path` as an RGB PNG at the pictures' resolution, compressed at `PNG_COMPRESSION`:
    matplotlib draws it (once, unless it is `laid_out`) into raw pixels, Pillow writes them without the
    alpha channel."""
    pixels = io.BytesIO()
    figure.savefig(pixels, format="rgba", dpi=DPI)
    width, height = (int(size) for size in figure.bbox.size)
    image = Image.frombuffer("RGBA", (width, height), pixels.getvalue(), "raw", "RGBA", 0, 1)
    image.convert("RGB").save(path, format="png", compress_level=PNG_COMPRESSION, dpi=(DPI, DPI))


def warm_up() -> None:
    """Draw and encode a small throwaway picture (a titled, labelled plot with a legend), so that the fonts,
    the text layout and the PNG encoder are loaded before a report is wanted: the report drawer
    (`sim.output.drawer`) does this while the run simulates, and its report is then drawn sooner."""
    figure = new_figure((3.0, 2.0))
    ax = figure.add_subplot()
    ax.plot([0.0, 1.0], [0.0, 1.0], label="warm")
    bars(ax, np.arange(3.0), np.ones(3), 0.8, ALL_COLOUR, "bars")
    ax.set_xlabel("clock time")
    ax.set_ylabel("calls")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    put_title(figure, "warm-up", "subtitle")
    pixels = io.BytesIO()
    figure.savefig(pixels, format="rgba", dpi=DPI)
    width, height = (int(size) for size in figure.bbox.size)
    image = Image.frombuffer("RGBA", (width, height), pixels.getvalue(), "raw", "RGBA", 0, 1)
    image.convert("RGB").save(io.BytesIO(), format="png", compress_level=PNG_COMPRESSION, dpi=(DPI, DPI))
