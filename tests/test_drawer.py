"""The report drawer (`sim/output/drawer.py`): a process forked as the run starts that imports matplotlib
(never pandas) and draws the pictures it is sent as sketches of plain inputs. Its report is the one built
in-process; a drawer that is not used ends; a drawer that is gone leaves the pictures to the caller, so a
run's folder is complete either way."""

from __future__ import annotations

import hashlib
import os
import re
import signal
from pathlib import Path

import pytest

from sim.experiments.runner import Replicated, replicate
from sim.model.loading import load_scenario
from sim.output.drawer import ReportDrawer
from sim.output.drawing import draw_all, prepare
from sim.output.plots import sketches
from sim.output.results import begin_fill_report, fill_report, write_run
from sim.output.saved import load_run
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the drawer is a forked process")


@pytest.fixture(scope="module")
def run() -> Replicated:
    return replicate(load_scenario(ROOT / "scenarios" / "small-centre.yaml", ["duration=2h"]), 3, 1, 1)


def _pictures(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "plots").glob("*.png"))
    }


def _page(folder: Path) -> str:
    """The report's page without what differs between two writings of one run (when, and where)."""
    page = (folder / "report.html").read_text(encoding="utf-8").replace(folder.name, "")
    return re.sub(r"<td>created</td><td>[^<]*</td>", "", page)


def _started() -> ReportDrawer:
    drawer = ReportDrawer.start(prepare)
    if drawer is None:
        pytest.skip("one core: runs build their report in-process")
    return drawer


def test_the_drawer_builds_the_same_report_as_the_run_itself(run: Replicated, tmp_path: Path) -> None:
    drawer = _started()
    drawn = write_run(tmp_path / "by-the-drawer-q7", run, command=["test"], drawer=drawer)
    here = write_run(tmp_path / "in-process-z9", run, command=["test"])
    assert not (drawn / "report_error.txt").exists()
    # small-centre transfers no one: its transfer map and agents-met bars are left out (a note instead)
    assert len(_pictures(drawn)) >= 5 and _pictures(drawn) == _pictures(here)
    page = (drawn / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 5
    assert _page(drawn) == _page(here)
    assert not drawer.begin([])  # used once: a second request is the caller's to draw


def test_an_unused_drawer_ends(tmp_path: Path) -> None:
    drawer = _started()
    drawer.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(drawer.pid, os.WNOHANG)  # reaped: no such child any more


def test_a_drawer_that_is_gone_leaves_the_report_to_the_run(run: Replicated, tmp_path: Path) -> None:
    drawer = _started()
    os.kill(drawer.pid, signal.SIGKILL)
    folder = write_run(tmp_path / "fallback", run, command=["test"], drawer=drawer)
    assert len(_pictures(folder)) >= 5 and (folder / "report.html").is_file()  # no transfers: 2 left out
    assert not (folder / "report_error.txt").exists()


def test_the_drawer_saves_the_pictures_it_is_sent(run: Replicated, tmp_path: Path) -> None:
    """Sent sketches and their files, the drawer saves each picture as this process draws it; it takes one
    request, and `finish` says whether it saved them all."""
    folder = write_run(tmp_path / "whole", run, command=["test"], report=False)
    saved = load_run(folder)
    jobs, _ = sketches(saved, tmp_path / "drawn")
    here, _ = sketches(saved, tmp_path / "here")
    (tmp_path / "drawn").mkdir()
    (tmp_path / "here").mkdir()
    drawer = _started()
    assert drawer.begin(jobs)
    assert not drawer.begin(jobs)  # one request per drawer
    assert drawer.finish()
    draw_all(here, processes=1)
    assert len(jobs) >= 5
    assert {p.name: p.read_bytes() for p in (tmp_path / "drawn").iterdir()} == {
        p.name: p.read_bytes() for p in (tmp_path / "here").iterdir()
    }


def test_the_report_is_begun_while_the_event_log_is_still_to_be_written(run: Replicated, tmp_path: Path) -> None:
    """Begun with the files still being written named, the report is built from the others (it reads no
    event log) while the drawer draws; without them named, the folder is incomplete to it and the report
    fails, leaving report_error.txt."""
    folder = write_run(tmp_path / "whole", run, command=["test"], report=False)
    (folder / "events.parquet").rename(tmp_path / "events.parquet")
    begin_fill_report(folder, ("events.parquet",), None, _started())()
    assert (folder / "report.html").is_file() and not (folder / "report_error.txt").exists()
    assert len(_pictures(folder)) >= 5
    (folder / "report.html").unlink()
    drawer = _started()
    begin_fill_report(folder, (), None, drawer)()
    drawer.close()
    assert "events.parquet" in (folder / "report_error.txt").read_text(encoding="utf-8")
    assert not (folder / "report.html").exists()


def test_a_drawer_stopped_while_drawing_is_reaped(run: Replicated, tmp_path: Path) -> None:
    """A run that fails while its drawer draws (a full disk writing the event log) stops it: no child left."""
    folder = write_run(tmp_path / "whole", run, command=["test"], report=False)
    jobs, _ = sketches(load_run(folder), tmp_path / "drawn")
    (tmp_path / "drawn").mkdir()
    drawer = _started()
    assert drawer.begin(jobs)
    drawer.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(drawer.pid, os.WNOHANG)
    assert not drawer.finish()  # stopped: the caller draws the pictures if it still wants them


def test_the_drawer_draws_without_pandas(run: Replicated, tmp_path: Path) -> None:
    """`callsim run` forks its drawer before pandas is imported, to import matplotlib and the drawing
    functions while the run simulates: what it prepares must load them (or their imports fall on the
    run after all), and neither that nor unpickling and drawing the sketches may import pandas (0.3 s
    more on the report's path)."""
    import pickle
    import subprocess
    import sys

    folder = write_run(tmp_path / "whole", run, command=["test"], report=False)
    jobs, _ = sketches(load_run(folder), tmp_path / "drawn")
    (tmp_path / "drawn").mkdir()
    sent = tmp_path / "sketches.pickle"
    sent.write_bytes(pickle.dumps(jobs))
    probe = (
        "import pickle, sys; from pathlib import Path; from sim.output.drawing import FIGURES, prepare; "
        "draw = prepare(); print(draw.__name__, 'matplotlib.figure' in sys.modules, "
        "all(module in sys.modules for module, _ in FIGURES.values())); "
        f"draw(pickle.loads(Path({str(sent)!r}).read_bytes())); "
        "print([name for name in ('pandas', 'pydantic', 'scipy', 'pyarrow') if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.split("\n")[:2] == ["draw_all True True", "[]"]
    assert sorted(p.name for p in (tmp_path / "drawn").iterdir()) == sorted(path.name for _, path in jobs)


HANDED = ["small-centre", "all-channels", "email-backlog", "listening", "virtual-hold", "busy-days", "jackson"]


@pytest.mark.parametrize("name", HANDED)
def test_a_report_from_the_tables_handed_over_is_the_report_from_the_files(name: str, tmp_path: Path) -> None:
    """The drawer is handed the calls and visits in memory instead of waiting for their files: the report
    drawn from them is the one drawn from the folder, picture for picture and word for word (here with the
    two files gone, so that only the handed tables can have been read)."""
    import shutil

    from sim.analysis.tables import calls_table, visits_table
    from sim.output.saved import report_tables

    run = replicate(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), 5, 1, 1)
    tables = report_tables(calls_table(run.first), visits_table(run.first))
    from_files = write_run(tmp_path / "from-files-k3", run, command=["test"])
    handed = tmp_path / "handed-m8"
    shutil.copytree(from_files, handed)
    shutil.rmtree(handed / "plots")
    (handed / "report.html").unlink()
    for gone in ("calls.parquet", "visits.parquet"):
        (handed / gone).unlink()
    fill_report(handed, ("calls.parquet", "visits.parquet"), tables)
    assert not (handed / "report_error.txt").exists()
    assert len(_pictures(handed)) >= 4 and _pictures(handed) == _pictures(from_files)
    assert _page(handed) == _page(from_files)


def test_a_run_that_fails_while_its_drawer_draws_leaves_nothing(
    run: Replicated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that fails while its drawer draws (here a full disk writing the event log) stops the drawer
    before it removes its staging folder: a drawer still writing pictures into it would leave it behind."""
    import contextlib
    import errno
    import time

    from sim.output.results import EncodedTables

    def prepare():  # type: ignore[no-untyped-def]
        def draw(jobs):  # type: ignore[no-untyped-def]
            folder = jobs[0][1].parent
            stop_at = time.monotonic() + 5  # keeps writing into the staging folder until stopped
            while time.monotonic() < stop_at:
                with contextlib.suppress(OSError):
                    (folder / f"{time.monotonic_ns()}.png").write_bytes(b"picture")

        return draw

    drawer = ReportDrawer.start(prepare)
    if drawer is None:
        pytest.skip("one core: runs build their report in-process")
    original = EncodedTables.write

    def full_disk(self, folder, names):  # type: ignore[no-untyped-def]
        if "events.parquet" in names:
            time.sleep(0.2)  # the drawer draws meanwhile
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, folder, names)

    monkeypatch.setattr(EncodedTables, "write", full_disk)
    root = tmp_path / "results"
    root.mkdir()
    with pytest.raises(OSError):
        write_run(root / "run", run, command=["test"], drawer=drawer)
    assert list(root.iterdir()) == []
    with pytest.raises(ChildProcessError):
        os.waitpid(drawer.pid, os.WNOHANG)  # stopped and reaped
