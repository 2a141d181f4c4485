"""Drawing a run's pictures from their plain inputs, on one core or two, without pandas.

A picture is sketched in two steps. The data side (`sim.output.plots` and the `plots_*_data.py` modules,
pandas) reads the run's tables into a `Sketch`: the picture's name and its inputs, plain values (numbers,
numpy arrays, words) that pickle without importing anything. The drawing side (`plots_*.py` without
`_data`, matplotlib) turns a sketch into a figure. This module is the drawing side's entry: `FIGURES` says
which function draws each picture, `draw_all` saves a list of sketches as PNG files with two processes.
It imports neither pandas nor matplotlib itself, so the report drawer (`sim.output.drawer`) can be forked
before the run imports either, import only matplotlib and the drawing functions (`prepare`) while the run
simulates and computes its tables, and draw the sketches it is sent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.processes import cores, reap

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURES: dict[str, tuple[str, str]] = {
    "service_level": ("sim.output.plots_service", "service_level_figure"),
    "volumes": ("sim.output.plots_service", "volume_figure"),
    "channels": ("sim.output.plots_channels", "channel_figure"),
    "email_backlog": ("sim.output.plots_channels", "backlog_figure"),
    "wait_cdf": ("sim.output.plots_service", "wait_figure"),
    "queue": ("sim.output.plots_service", "queue_figure"),
    "staffing": ("sim.output.plots_agents", "staffing_figure"),
    "transfers": ("sim.output.plots_journeys", "transfer_figure"),
    "agents_touched": ("sim.output.plots_journeys", "touched_figure"),
    "replications": ("sim.output.plots_replications", "replications_figure"),
}
"""Each picture's drawing function, by picture name: (module, function), the function taking the
picture's inputs (a `TypedDict` of plain values) and returning a matplotlib `Figure`."""

COSTLIEST_FIRST = (
    "staffing",
    "replications",
    "queue",
    "channels",
    "wait_cdf",
    "service_level",
    "email_backlog",
    "volumes",
    "transfers",
    "agents_touched",
)
"""The order in which the pictures are handed out to the drawing processes: those of several panels first
(a picture costs about 0.1 s a panel), so that the two processes finish together rather than one drawing
the staffing panels alone at the end."""

Inputs = Mapping[str, Any]
"""A drawing function's inputs: plain values by name (each picture's own `TypedDict`)."""
Sketch = tuple[str, Inputs | Callable[[], Inputs]]
"""A picture ready to draw: its name (a key of `FIGURES`) and its drawing function's inputs, or (drawn in
the process that computes them) the function that computes them."""
Job = tuple[Sketch, Path]
"""A sketch and the PNG file to save it as."""


def figure(sketch: Sketch) -> Figure:
    """The figure `sketch` describes, drawn by its picture's function."""
    name, inputs = sketch
    module, function = FIGURES[name]
    draw: Callable[[Inputs], Figure] = getattr(import_module(module), function)
    return draw(inputs() if callable(inputs) else inputs)


def save_sketch(sketch: Sketch, path: Path) -> None:
    """Draw `sketch` and save it as PNG at `path`."""
    from sim.output.plots_style import save_figure

    save_figure(figure(sketch), path)


def prepare() -> Callable[[Sequence[Job]], None]:
    """Import every drawing function and warm matplotlib up (fonts, text layout, the PNG encoder), so that
    the pictures are drawn at once when wanted; the function that then draws them (`draw_all`). What the
    report drawer does while the run simulates."""
    from sim.output.plots_style import warm_up

    for module in sorted({module for module, _ in FIGURES.values()}):
        import_module(module)
    warm_up()
    return draw_all


def drawing_processes() -> int:
    """How many processes may draw at once: two where this process may use two cores and can fork
    (matplotlib's cost is per figure), else one."""
    return 2 if cores() > 1 and hasattr(os, "fork") else 1


def draw_all(
    jobs: Sequence[Job], processes: int | None = None, meanwhile: Callable[[], object] | None = None
) -> None:
    """Save every sketch of `jobs` as its PNG file.

    With two `processes` (default: `drawing_processes()`), a forked copy of this process draws pictures
    while this one draws the others: each takes the next picture not yet taken (`_Claims`), so the two
    finish together however unequal the pictures are. The copy only writes its PNG files and exits;
    whatever it did not finish (it failed, or was stopped) this process draws itself afterwards, so an error
    is raised here, as with one process, and the files are the same either way. `meanwhile`: more work for
    this process, done first, while the copy starts on the pictures."""
    order = sorted(range(len(jobs)), key=lambda index: COSTLIEST_FIRST.index(jobs[index][0][0]))
    claims = _Claims(order) if (processes or drawing_processes()) > 1 and len(jobs) > 1 else None
    helper = _fork_drawing(jobs, claims) if claims is not None else None
    mine: list[int] = []
    try:
        if meanwhile is not None:
            meanwhile()
        for index in claims if helper is not None and claims is not None else order:
            mine.append(index)
            save_sketch(*jobs[index])
    finally:
        if claims is not None:
            claims.close()
        finished = helper is not None and reap(helper) == 0
    for index, (sketch, path) in enumerate(jobs):
        if index not in mine and (not finished or not path.is_file()):
            save_sketch(sketch, path)


class _Claims:
    """The numbers of the pictures to draw, handed out in `order`, one at a time, to whichever of two
    processes asks first: a pipe holding one byte per picture, read a byte at a time by both (a read of one
    byte from a pipe is atomic, so each picture goes to exactly one of them); iterating ends when none is
    left."""

    def __init__(self, order: Sequence[int]) -> None:
        if any(not 0 <= index <= 255 for index in order):
            raise ValueError("more pictures than one byte numbers")
        self._channel, filled = os.pipe()
        os.write(filled, bytes(order))  # far below a pipe's buffer: never blocks
        os.close(filled)

    def __iter__(self) -> Iterator[int]:
        while taken := os.read(self._channel, 1):
            yield taken[0]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._channel)


def _fork_drawing(jobs: Sequence[Job], claims: _Claims) -> int | None:
    """Fork a process that draws the pictures it claims from `claims` into their files and exits (0: all
    it claimed written); its pid, or None when the fork failed (this process then draws everything)."""
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return pid
    status = 1
    try:  # the forked copy: draw, write, and leave at once (no exit handlers, no inherited buffers flushed)
        for index in claims:
            save_sketch(*jobs[index])
        status = 0
    except BaseException:  # any failure: the parent draws the picture again, and reports the error
        status = 1
    finally:
        os._exit(status)
