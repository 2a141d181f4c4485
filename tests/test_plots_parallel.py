"""A run's figures drawn by two processes (a forked copy and this one each take the next figure not yet
taken) are the same files as drawn by one; a copy that fails leaves its figures to the parent, which draws
them (or raises) itself."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import sim.output.drawing as drawing
import sim.output.plots as plots
from sim.output.saved import load_run
from tests.report_runs import replicated_run

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="drawing in two processes needs fork")


def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.png"))}


def test_two_processes_write_the_same_pictures_as_one(tmp_path: Path) -> None:
    run = load_run(replicated_run())
    one = plots.write_plots(run, tmp_path / "one", processes=1)
    two = plots.write_plots(run, tmp_path / "two", processes=2)
    assert [(w.spec, w.path.name, w.note) for w in one] == [(w.spec, w.path.name, w.note) for w in two]
    assert len(_digests(tmp_path / "one")) == len(one) >= 7
    assert _digests(tmp_path / "one") == _digests(tmp_path / "two")


def test_a_failing_copy_leaves_its_figures_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every figure the forked copy draws fails there (it is not this process); the parent draws them all
    again, so every file is written and is the picture one process draws."""
    run = load_run(replicated_run())
    parent = os.getpid()
    original = drawing.figure

    def only_here(sketch):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            raise RuntimeError("the forked copy fails")
        return original(sketch)

    monkeypatch.setattr(drawing, "figure", only_here)
    plots.write_plots(run, tmp_path / "fallback", processes=2)
    monkeypatch.setattr(drawing, "figure", original)
    plots.write_plots(run, tmp_path / "one", processes=1)
    assert _digests(tmp_path / "fallback") == _digests(tmp_path / "one")


def test_an_error_in_a_figure_is_raised_in_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure that cannot be drawn fails in the copy and again in the parent, which raises it: the error
    is never lost in the forked process."""
    run = load_run(replicated_run())
    original = drawing.figure

    def broken(sketch):  # type: ignore[no-untyped-def]
        if sketch[0] == "queue":
            raise ValueError("cannot draw the queue")
        return original(sketch)

    monkeypatch.setattr(drawing, "figure", broken)
    with pytest.raises(ValueError, match="cannot draw the queue"):
        plots.write_plots(run, tmp_path / "broken", processes=2)


def test_work_done_meanwhile_runs_once_and_leaves_the_pictures_as_they_were(tmp_path: Path) -> None:
    """With work for the parent meanwhile (the report's text), the parent does the work once, first, while
    the copy starts on the figures, and the files are those of one process."""
    run = load_run(replicated_run())
    done: list[int] = []
    two = plots.write_plots(run, tmp_path / "two", processes=2, meanwhile=lambda: done.append(os.getpid()))
    one = plots.write_plots(run, tmp_path / "one", processes=1)
    assert done == [os.getpid()]
    assert [(w.spec, w.path.name, w.note) for w in two] == [(w.spec, w.path.name, w.note) for w in one]
    assert _digests(tmp_path / "two") == _digests(tmp_path / "one")


def test_each_figure_is_claimed_by_exactly_one_of_two_processes() -> None:
    """The figures are handed out one at a time to whichever process asks first: between a forked copy and
    this process, every number is taken once, none twice, none lost."""
    claims = drawing._Claims(range(40))
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: claim, giving the other process its turn after each, and report what it took
        taken = []
        for index in claims:
            taken.append(index)
            os.sched_yield()
        os.write(writing, bytes(taken))
        os._exit(0)
    os.close(writing)
    mine = list(claims)
    claims.close()
    os.waitpid(pid, 0)
    theirs = list(os.read(reading, 1024))
    os.close(reading)
    assert sorted(mine + theirs) == list(range(40))
    assert mine == sorted(mine) and theirs == sorted(theirs)  # each in the order handed out


def test_the_pictures_are_handed_out_costliest_first() -> None:
    """Every picture has its place in the order the two processes take them (the ones of several panels
    first), and the claims hand the numbers out in the order given."""
    assert sorted(drawing.COSTLIEST_FIRST) == sorted(drawing.FIGURES)
    assert drawing.COSTLIEST_FIRST.index("staffing") < drawing.COSTLIEST_FIRST.index("volumes")
    claims = drawing._Claims([3, 0, 2, 1])
    assert list(claims) == [3, 0, 2, 1]
    claims.close()
