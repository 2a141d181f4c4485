"""Trust under faults: interrupted runs and sweeps, full or unwritable disks, failing tasks and workers.

Real processes are started (`python cli.py run|sweep ...`), caught provably mid-way (the staging folder of a
run, the first part of a sweep on disk) and stopped with SIGINT (Ctrl-C reaches the whole process group, as
from a terminal), SIGTERM or SIGKILL; then the files left are checked: nothing half-written, nothing that
looks like a result, stale staging cleaned by the next run, and a resumed sweep equal to one never stopped
(common random numbers make that exact). Disks: a results path below a regular file, a path in /proc, a
full disk simulated in-process (ENOSPC) and, where the sandbox lets us mount one, a real 64 KiB tmpfs.

Each injected fault is counted; the tally is printed at the end of the module.

Tests marked "NEEDS cli.py CHANGE" pass once cli.py's `run` catches KeyboardInterrupt with a message and
calls `check_target` before simulating (see the report of the change).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen
from typing import Any

import matplotlib.figure
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim.cli.app as cli
import sim.experiments.runner
import sim.experiments.sweep as sweep_module
import sim.output.folders
import sim.output.results
import sim.output.sweep_folder as sweep_folder
from sim.experiments.executors import ProcessExecutor, SerialExecutor
from sim.experiments.runner import replicate
from sim.experiments.sweep import plan_sweep, point_kpis
from sim.model.loading import load_scenario
from sim.output.folders import HOST, STAGED, ResultsUnwritable, check_target, clean_stale, write_folder
from sim.output.results import write_run
from sim.output.saved import NotARun, load_run
from sim.output.sweep_folder import read_rows, run_sweep
from tests.conftest import ROOT

runner = CliRunner()

FAULTS: Counter[str] = Counter()
"""Faults injected by this module's tests, by kind (printed at the end)."""

CENTRE = ROOT / "scenarios" / "small-centre.yaml"
RUN_ARGS = ["run", str(CENTRE), "--set", "duration=1h", "--jobs", "1"]
"""A one-hour day of the small centre: the simulation takes well under a second; the report a second or two."""
SWEEP_GRID = "departments.billing.agents=6:13"
SWEEP_REPS = 40
SWEEP_SET = "duration=8h"
"""8 points x 40 replications of an 8-hour day on 2 workers (6-8 s on a quiet 2-core machine; longer on a
busy one, which only makes the tests slower: they wait on progress, never on the clock), so that a stop at
the first part (parts are written every 2 s of work) is mid-way, and a resume of the rest still runs past its
own first part."""
SWEEP_ARGS = [
    "sweep",
    str(CENTRE),
    "--grid",
    SWEEP_GRID,
    "--reps",
    str(SWEEP_REPS),
    "--set",
    SWEEP_SET,
    "--jobs",
    "2",
    "--quiet",
]
SWEEP_ROWS = 8 * SWEEP_REPS

SMALL: dict[str, Any] = {
    "name": "small",
    "seed": 3,
    "duration": "1h",
    "interval": "30m",
    "arrivals": {"per_hour": 60},
    "patience": {"dist": "exponential", "mean": "2m"},
    "departments": {"support": {"agents": 2, "handle_time": {"dist": "exponential", "mean": "2m"}}},
}
"""A tiny one-department centre for in-process sweeps (milliseconds per replication)."""


# --- helpers -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _tally(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many faults of each kind the module injected (past pytest's output capture)."""
    yield
    lines = [f"faults injected by {Path(__file__).name}: {sum(FAULTS.values())}"]
    lines += [f"  {count:3d}  {kind}" for kind, count in sorted(FAULTS.items())]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:  # pragma: no cover - plugins disabled
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


def inject(kind: str) -> None:
    FAULTS[kind] += 1


def one_line(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(text.split())


STARTED: list[subprocess.Popen[str]] = []
"""Processes the running test started; whatever still runs when it ends is killed (`_no_stray_processes`)."""


@pytest.fixture(autouse=True)
def _no_stray_processes() -> Iterator[None]:
    """Kill the process group of every process a test started that still runs when the test ends (a failed
    assertion, or pytest-timeout's hang guard): nothing is left running on the machine."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # ended just now
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def start(args: list[str], program: list[str] | None = None, env: dict[str, str] | None = None) -> Popen:
    """`python cli.py ARGS` (or `python PROGRAM ARGS`) from the project root, in its own process group (as a
    terminal job)."""
    process = subprocess.Popen(
        [sys.executable, *(program or ["cli.py"]), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})},
    )
    STARTED.append(process)
    return process


def wait_for(process: Popen, ready: Callable[[], bool], what: str) -> None:
    """Poll until `ready()`; fail if the process ends first (then it was not caught mid-way).

    No deadline: a busy machine only makes this slower. A process that hangs is stopped by pytest-timeout's
    hang guard (pyproject.toml), and `_no_stray_processes` kills it."""
    while not ready():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"the process ended before {what} (status {process.returncode}):\n{err[-2000:]}")
        time.sleep(0.01)


def stop(process: Popen, how: signal.Signals, kind: str) -> tuple[int, str, str]:
    """Send `how` to the process group (a worker too, like Ctrl-C in a terminal); its status and output,
    once it has ended (however long a busy machine takes: no deadline, see `wait_for`)."""
    assert process.poll() is None, "the process must still run when it is stopped"
    os.killpg(process.pid, how)
    inject(kind)
    out, err = process.communicate()
    return process.returncode, out, err


def wait_dead(pid: int) -> None:
    """Wait until process `pid` runs no more (gone, or a zombie waiting for its parent to reap it)."""
    while True:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if stat.rpartition(")")[2].split()[0] in ("Z", "X"):
            return
        time.sleep(0.01)


def staging_folders(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.name.endswith(".partial")] if root.is_dir() else []


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)


def assert_same_as_one_job(folder: Path, scenario: Path, grid: str, scratch: Path) -> None:
    """The sweep folder's rows equal those of the same sweep (2 replications) run uninterrupted in one job."""
    reference = run_sweep(plan_sweep(scenario, [grid], reps=2), scratch, SerialExecutor(), plots=())
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "rows.parquet"), reference.rows)


def assert_no_leftovers(folder: Path) -> None:
    """No temporary file or staging folder anywhere below `folder`; every table there reads whole."""
    for path in folder.rglob("*"):
        assert not re.match(r"^\..+\.(tmp|partial|old)$", path.name), f"left behind: {path}"
        if path.suffix == ".parquet":
            pd.read_parquet(path)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


def workers_of(pid: int) -> list[int]:
    """The child processes of `pid` that run the same program (forked pool workers)."""
    parent = Path(f"/proc/{pid}/cmdline").read_bytes()
    children: list[int] = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        children += [int(c) for c in listing.read_text().split()]
    found = []
    for child in children:
        try:
            if Path(f"/proc/{child}/cmdline").read_bytes() == parent:
                found.append(child)
        except OSError:
            continue
    return found


@pytest.fixture
def no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.output.results, "begin_fill_report", lambda *args, **kwargs: lambda: None)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted sweep of SWEEP_ARGS, run here on two worker processes."""
    folder = tmp_path_factory.mktemp("reference") / "sweep"
    plan = plan_sweep(CENTRE, [SWEEP_GRID], reps=SWEEP_REPS, overrides=[SWEEP_SET])
    pool = ProcessExecutor(2)
    try:
        assert run_sweep(plan, folder, pool, plots=()).complete
    finally:
        pool.close()
    return folder


def assert_same_sweep(folder: Path, reference: Path) -> None:
    pd.testing.assert_frame_equal(
        sorted_rows(pd.read_parquet(folder / "rows.parquet")),
        sorted_rows(pd.read_parquet(reference / "rows.parquet")),
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / "summary.parquet"), pd.read_parquet(reference / "summary.parquet")
    )


# --- callsim run: stopped while writing ----------------------------------------------------------------------


def test_ctrl_c_while_a_run_is_written_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "results"
    root.mkdir()
    process = start([*RUN_ARGS, "--out", str(root / "run")])
    wait_for(process, lambda: bool(staging_folders(root)), "the staging folder appeared")
    status, _, err = stop(process, signal.SIGINT, "run: SIGINT while writing")
    assert status != 0
    assert "Traceback" not in err
    assert list(root.iterdir()) == []  # no results, no staging folder


def test_sigterm_while_a_run_is_written_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "results"
    root.mkdir()
    process = start([*RUN_ARGS, "--out", str(root / "run")])
    wait_for(process, lambda: bool(staging_folders(root)), "the staging folder appeared")
    status, _, err = stop(process, signal.SIGTERM, "run: SIGTERM while writing")
    assert status == 130  # handled like Ctrl-C: the staging folder is removed on the way out
    assert "Traceback" not in err
    assert list(root.iterdir()) == []


def test_a_killed_run_leaves_only_hidden_staging_that_the_next_run_removes(tmp_path: Path) -> None:
    root = tmp_path / "results"
    root.mkdir()
    process = start([*RUN_ARGS, "--out", str(root / "run")])
    wait_for(process, lambda: bool(staging_folders(root)), "the staging folder appeared")
    status, _, _ = stop(process, signal.SIGKILL, "run: SIGKILL while writing")
    assert status == -signal.SIGKILL
    (left,) = list(root.iterdir())
    match = STAGED.match(left.name)
    assert match and left.name.startswith(".") and left.name.endswith(".partial")
    assert (match["name"], match["host"], int(match["pid"])) == ("run", HOST, process.pid)
    with pytest.raises(NotARun):
        load_run(root / "run")  # nothing at the results' name
    with pytest.raises(NotARun, match="staging folder"):
        load_run(left)  # and what is left is no result, whichever files it got to
    # beside it: another live run's staging folder (this test's pid), and one of a process on another machine
    live = root / f".other.{HOST}.{os.getpid()}-0000abcd.partial"
    elsewhere = root / f".other.elsewhere.{dead_pid()}-0000abcd.partial"
    for folder in (live, elsewhere):
        folder.mkdir()
        (folder / "calls.parquet").write_bytes(b"being written")
    inject("stale staging folders planted")
    result = runner.invoke(cli.app, [*RUN_ARGS, "--out", str(root / "run"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in root.iterdir()) == sorted(["run", live.name, elsewhere.name])
    assert (live / "calls.parquet").read_bytes() == b"being written"  # never touched
    assert load_run(root / "run").summary["offered"] > 0
    assert (root / "run" / "report.html").is_file()


def test_stale_staging_is_cleaned_and_a_half_done_swap_is_undone(tmp_path: Path, no_report: None) -> None:
    """What SIGKILL can leave, planted: a dead run's staging folders; an old results folder moved aside for
    a --force swap that never finished (its place empty: it must come back; its place taken: it goes)."""
    root = tmp_path / "results"
    root.mkdir()
    gone = dead_pid()
    dead = root / f".a.{HOST}.{gone}-00000001.partial"
    aside = root / f".b.{HOST}.{gone}-00000002.old"
    replaced = root / f".c.{HOST}.{gone}-00000003.old"
    legacy = root / ".d.k2j4h5g6.partial"  # no pid: whose it is cannot be known, so it stays
    visible = root / f"e.{HOST}.{gone}-00000004.partial"  # not hidden: not ours
    for folder in (dead, aside, replaced, legacy, visible, root / "c"):
        folder.mkdir()
        (folder / "summary.json").write_text("{}", encoding="utf-8")
    inject("stale staging folders planted")
    inject("SIGKILL between the two renames of a --force swap (planted)")
    touched = clean_stale(root)
    assert sorted(p.name for p in touched) == sorted([dead.name, aside.name, replaced.name])
    assert sorted(p.name for p in root.iterdir()) == sorted(["b", "c", legacy.name, visible.name])
    assert (root / "b" / "summary.json").read_text(encoding="utf-8") == "{}"  # the old results are back
    # and a run into the same root does it by itself
    again = root / f".f.{HOST}.{gone}-00000005.partial"
    again.mkdir()
    run = replicate(load_scenario(CENTRE, ["duration=30m"]), reps=1)
    write_run(root / "new", run)
    assert not again.exists() and (root / "new" / "summary.json").is_file()


def test_ctrl_c_between_the_two_renames_of_a_swap_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--force replaces a folder by two renames; Ctrl-C arriving between them is delivered after both."""
    target = tmp_path / "run"
    target.mkdir()
    (target / "which").write_text("old", encoding="utf-8")
    real_rename = Path.rename
    renames: list[str] = []

    def rename(self: Path, to: Any) -> Any:
        moved = real_rename(self, to)
        renames.append(self.name)
        if len(renames) == 1:
            os.kill(os.getpid(), signal.SIGINT)
            inject("SIGINT between the two renames of a --force swap")
        return moved

    monkeypatch.setattr(Path, "rename", rename)

    def fill(folder: Path) -> None:
        (folder / "which").write_text("new", encoding="utf-8")

    with pytest.raises(KeyboardInterrupt):
        write_folder(target, True, fill)
    assert len(renames) == 2
    assert (target / "which").read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_the_run_folder_is_flushed_before_it_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_report: None
) -> None:
    synced: list[Path] = []
    real = sim.output.folders.fsync_path

    def record(path: Path) -> None:
        synced.append(path)
        real(path)

    monkeypatch.setattr(sim.output.folders, "fsync_path", record)
    run = replicate(load_scenario(CENTRE, ["duration=30m"]), reps=1)
    target = write_run(tmp_path / "run", run)
    inside = [p.relative_to(tmp_path).parts for p in synced if p != tmp_path and p.is_relative_to(tmp_path)]
    staged = {Path(*parts[1:]) for parts in inside if STAGED.match(parts[0])}
    files = {p.relative_to(target) for p in target.rglob("*") if p.is_file()}
    assert files and files <= staged  # every file flushed while it was still in the staging folder
    assert synced[-1] == tmp_path  # the rename itself, flushed in the parent folder
    assert (target.stat().st_mode & 0o777) == 0o777 & ~current_umask()  # a folder like any other


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- callsim run: messages (NEEDS cli.py CHANGE) ---------------------------------------------------------------


def test_ctrl_c_during_a_run_says_so_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """NEEDS cli.py CHANGE: `run` catches KeyboardInterrupt, prints one line and exits 130."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.experiments.runner, "replicate", interrupted)
    inject("run: KeyboardInterrupt while simulating (in-process)")
    result = runner.invoke(cli.app, [*RUN_ARGS, "--out", str(tmp_path / "run")])
    assert result.exit_code == 130
    assert "interrupted" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_an_unwritable_results_folder_is_refused_before_simulating(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """NEEDS cli.py CHANGE: `run` calls `check_target` (not only `check_writable`) before simulating."""

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated although the results could not be written")

    monkeypatch.setattr(sim.experiments.runner, "replicate", never)
    blocker = tmp_path / "file"
    blocker.write_text("mine", encoding="utf-8")
    inject("results path below a regular file (ENOTDIR)")
    result = runner.invoke(cli.app, [*RUN_ARGS, "--out", str(blocker / "run")])
    assert result.exit_code == 1, result.output
    assert "is a file, not a folder" in one_line(result.output)


# --- callsim run: disks that cannot take the results -----------------------------------------------------------


def check_refused(result: Any, phrase: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an exception escaping
    assert "Traceback" not in result.output
    assert phrase in one_line(result.output), result.output


def test_results_below_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("mine", encoding="utf-8")
    for out in (blocker / "run", blocker / "a" / "b" / "run"):
        inject("results path below a regular file (ENOTDIR)")
        result = runner.invoke(cli.app, [*RUN_ARGS, "--out", str(out)])
        check_refused(result, "is a file, not a folder")
        assert "cannot write results to" in one_line(result.output)
    assert blocker.read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
    with pytest.raises(ResultsUnwritable, match="is a file, not a folder"):
        check_target(blocker / "a" / "run", force=False)


def test_results_in_proc(tmp_path: Path) -> None:
    inject("results path in /proc")
    result = runner.invoke(cli.app, [*RUN_ARGS, "--out", "/proc/callsim-fault-test/run"])
    check_refused(result, "cannot create a folder in /proc")
    assert not os.path.exists("/proc/callsim-fault-test")
    with pytest.raises(ResultsUnwritable, match="cannot create a folder in /proc"):
        check_target(Path("/proc/callsim-fault-test/run"), force=False)


def full_disk_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> list[str]:
    """Parquet files written to disk succeed `writes` times; then every one puts half a file down and fails
    with ENOSPC (as a disk that fills up mid-file does), whether written by `to_parquet` or as bytes encoded
    ahead (`sim.output.results.LateTables`: encoding in memory needs no disk). Returns the names of the
    files whose writing failed."""
    real_parquet = pd.DataFrame.to_parquet
    real_bytes = Path.write_bytes
    done: list[str] = []
    failed: list[str] = []

    def on_disk(path: Path, write: Any) -> Any:
        if len(done) < writes:
            done.append(path.name)
            return write()
        real_bytes(path, b"PAR1 half a file")
        failed.append(path.name)
        inject("ENOSPC (simulated) in a parquet write")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    def to_parquet(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(path, str | Path):  # an Arrow stream in memory
            return real_parquet(self, path, *args, **kwargs)
        return on_disk(Path(path), lambda: real_parquet(self, path, *args, **kwargs))

    def write_bytes(self: Path, data: Any) -> int:
        if self.suffix != ".parquet":
            return real_bytes(self, data)
        return int(on_disk(self, lambda: real_bytes(self, data)))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    return failed


def test_a_full_disk_while_a_run_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # calls and visits are written, and the report drawer starts on them; events.parquet, written while it
    # draws, is not: the run fails, the drawer is stopped, nothing is kept
    failed = full_disk_after(monkeypatch, writes=2)
    result = runner.invoke(cli.app, [*RUN_ARGS, "--out", str(tmp_path / "results" / "run")])
    check_refused(result, "the disk is full")
    assert failed == ["events.parquet"]
    assert list((tmp_path / "results").iterdir()) == []  # the half-written staging folder is gone


def test_a_full_disk_while_the_report_is_drawn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk is not a report failure to note in report_error.txt: the run fails, nothing is kept."""

    def savefig(self: Any, *args: Any, **kwargs: Any) -> None:
        inject("ENOSPC (simulated) while drawing the report")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    result = runner.invoke(cli.app, [*RUN_ARGS, "--out", str(tmp_path / "results" / "run")])
    check_refused(result, "the disk is full")
    assert list((tmp_path / "results").iterdir()) == []


# --- callsim sweep: stopped, killed, resumed -----------------------------------------------------------------


def test_a_sweep_stopped_by_ctrl_c_then_killed_resumes_to_the_same_table(
    tmp_path: Path, reference: Path
) -> None:
    folder = tmp_path / "sweep"
    args = [*SWEEP_ARGS, "--out", str(folder)]

    def a_part() -> bool:
        return bool(list((folder / "parts").glob("part-*.parquet")))

    # 1. Ctrl-C (to the process group: the workers ignore it, the main process folds what finished)
    process = start(args)
    wait_for(process, a_part, "the first part was written")
    status, _, err = stop(process, signal.SIGINT, "sweep: SIGINT mid-way")
    assert status == 130, err
    assert "Traceback" not in err
    assert "interrupted:" in one_line(err) and "--resume" in err
    state = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    first = len(pd.read_parquet(folder / "rows.parquet"))
    assert state["status"] == "interrupted" and 0 < first < SWEEP_ROWS and state["rows"]["ran"] == first
    assert not (folder / "plots").exists()
    assert_no_leftovers(folder)

    # 2. --resume, killed (no chance to clean up) once it has written a part of its own
    process = start([*args, "--resume"])
    wait_for(process, a_part, "the resumed sweep wrote a part")
    status, _, _ = stop(process, signal.SIGKILL, "sweep: SIGKILL mid-resume")
    assert status == -signal.SIGKILL
    second = len(read_rows(folder))
    assert first < second < SWEEP_ROWS
    # what a kill inside an atomic write or while drawing leaves (planted: the instant is too short to hit)
    gone = dead_pid()
    (folder / f".rows.parquet.{gone}.tmp").write_bytes(b"PAR1 half")
    (folder / "parts" / f".part-000099.parquet.{gone}.tmp").write_bytes(b"PAR1 half")
    drawing = folder / f".plots.{HOST}.{gone}-0000beef.partial"
    drawing.mkdir()
    (drawing / "service_level-vs-x.png").write_bytes(b"\x89PNG half")
    inject("half-written temporary files planted (kill inside an atomic write)")

    # 3. --resume to the end (here, in-process): the same table as a sweep never stopped
    result = runner.invoke(cli.app, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    state = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    assert state["status"] == "complete" and state["rows"]["kept"] == second
    assert state["rows"]["ran"] == SWEEP_ROWS - second and state["rows"]["failed"] == 0
    assert_no_leftovers(folder)
    assert list((folder / "plots").glob("*.png"))
    assert_same_sweep(folder, reference)


GATE = "CALLSIM_TEST_GATE"
"""Environment variable naming the folder through which `_kpis_held_until_opened` and its test talk."""
HELD_AGENTS, HELD_REPLICATION = 3, 1
"""The task `_kpis_held_until_opened` holds: point `departments.support.agents=3`, replication 1."""


def _kpis_held_until_opened(scenario: Any, seed: int, replication: int) -> dict[str, float]:
    """`point_kpis`, except that one task first says which process runs it (GATE/held holds its pid) and
    then waits until GATE/open exists: the sweep provably cannot end while that task is held, so a worker
    killed then is killed mid-way, on a fast machine or a busy one. Module level, so workers can run it."""
    gate = Path(os.environ[GATE])
    held = scenario.departments["support"].agents.count == HELD_AGENTS and replication == HELD_REPLICATION
    if held and not (gate / "open").exists():
        (gate / ".held").write_text(str(os.getpid()), encoding="utf-8")
        (gate / ".held").rename(gate / "held")  # whole, never half a pid
        while not (gate / "open").exists():
            time.sleep(0.01)
    return point_kpis(scenario, seed, replication)


HELD_SWEEP = """
import sys
import sim.experiments.sweep
from tests.test_faults import _kpis_held_until_opened
sim.experiments.sweep.point_kpis = _kpis_held_until_opened
from sim.cli.app import app
app(prog_name="callsim")
"""
"""`callsim ARGS` with one sweep task held (`_kpis_held_until_opened`)."""


def test_a_killed_worker_does_not_cost_the_sweep(tmp_path: Path, small: Path) -> None:
    """SIGKILL to the worker process running a task (as the out-of-memory killer would): the pool is
    restarted, the lost replications rerun, and the table is the same as a sweep where nothing happened.

    Paced by progress, not by the clock: the test waits until the held task runs, kills the worker that
    runs it (the sweep cannot have ended), then lets the rerun through."""
    folder, gate = tmp_path / "sweep", tmp_path / "gate"
    gate.mkdir()
    grid = "departments.support.agents=2:4"
    args = ["sweep", str(small), "--grid", grid, "--reps", "2", "--jobs", "2", "--quiet"]
    process = start([*args, "--out", str(folder)], program=["-c", HELD_SWEEP], env={GATE: str(gate)})
    wait_for(process, (gate / "held").exists, "the held task started")
    worker = int((gate / "held").read_text(encoding="utf-8"))
    assert worker != process.pid and worker in workers_of(process.pid)  # a pool worker, mid-task
    os.kill(worker, signal.SIGKILL)
    inject("sweep: SIGKILL to a worker process")
    wait_dead(worker)  # it cannot finish the held task after all
    (gate / "open").touch()
    _, err = process.communicate()
    assert process.returncode == 0, err
    state = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    assert state["executor"]["restarts"] >= 1  # the worker died while the sweep still ran
    assert state["status"] == "complete" and state["rows"]["failed"] == 0
    assert_no_leftovers(folder)
    assert_same_as_one_job(folder, small, grid, tmp_path / "ref")


def _kpis_failing_at_seven_agents(scenario: Any, seed: int, replication: int) -> dict[str, float]:
    """A task that raises for one point (7 agents), replication 1; module level, so workers can unpickle it."""
    if replication == 1 and scenario.departments["support"].agents.count == 7:
        raise RuntimeError("the model broke")
    return point_kpis(scenario, seed, replication)


def test_a_failing_point_is_recorded_not_fatal_on_worker_processes(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "sweep"
    args = ["sweep", str(small), "--grid", "departments.support.agents=6:8", "--reps", "2"]
    args += ["--jobs", "2", "--out", str(folder)]
    monkeypatch.setattr(sweep_module, "point_kpis", _kpis_failing_at_seven_agents)
    inject("sweep: a task raises in a worker process")
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert "1 failed" in one_line(result.output)
    rows = pd.read_parquet(folder / "rows.parquet")
    failed = rows[rows["error"].notna()]
    assert failed[["point", "replication"]].values.tolist() == [[1, 1]]
    assert failed["error"].iloc[0] == "RuntimeError: the model broke"
    assert rows["error"].isna().sum() == 5 and rows.loc[rows["error"].isna(), "offered"].gt(0).all()
    summary = pd.read_parquet(folder / "summary.parquet")
    assert summary["reps"].tolist() == [2, 1, 2] and summary["failed"].tolist() == [0, 1, 0]
    assert json.loads((folder / "sweep.json").read_text())["status"] == "complete"
    monkeypatch.setattr(sweep_module, "point_kpis", point_kpis)
    again = runner.invoke(cli.app, [*args, "--resume"])
    assert again.exit_code == 0 and "1 row(s) run" in one_line(again.output)
    assert_same_as_one_job(folder, small, "departments.support.agents=6:8", tmp_path / "ref")


# --- callsim sweep: disks ------------------------------------------------------------------------------------


def test_sweep_into_unwritable_places(tmp_path: Path, small: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("mine", encoding="utf-8")
    grid = ["--grid", "departments.support.agents=6:7"]
    for out, phrase in (
        (blocker / "sweep", "is a file, not a folder"),
        (Path("/proc/callsim-fault-test/sweep"), "cannot create a folder in /proc"),
    ):
        inject(
            "sweep path below a regular file (ENOTDIR)" if out.parent == blocker else "sweep path in /proc"
        )
        result = runner.invoke(cli.app, ["sweep", str(small), *grid, "--jobs", "1", "--out", str(out)])
        check_refused(result, phrase)
    assert blocker.read_text(encoding="utf-8") == "mine"


def test_a_sweep_that_fills_the_disk_keeps_whole_parts_and_resumes(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "sweep"
    args = ["sweep", str(small), "--grid", "departments.support.agents=4:7", "--reps", "2", "--jobs", "1"]
    args += ["--out", str(folder)]
    monkeypatch.setattr(sweep_folder, "POINT_SPACING", 0.0)  # a part per finished point
    failed = full_disk_after(monkeypatch, writes=2)
    result = runner.invoke(cli.app, args)
    check_refused(result, "the disk is full")
    assert "cannot write the sweep to" in one_line(result.output)
    assert failed and all(name.startswith(".part-") for name in failed)  # the third part and its retry
    assert_no_leftovers(folder)
    assert len(read_rows(folder)) == 4  # two whole parts: points 0 and 1
    monkeypatch.undo()
    again = runner.invoke(cli.app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert json.loads((folder / "sweep.json").read_text())["rows"]["kept"] == 4
    assert_same_as_one_job(folder, small, "departments.support.agents=4:7", tmp_path / "ref")


def test_sweep_tables_are_flushed_before_they_are_renamed(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = sweep_folder.fsync_path

    def record(path: Path) -> None:
        synced.append(path.name)
        real(path)

    monkeypatch.setattr(sweep_folder, "fsync_path", record)
    plan = plan_sweep(small, ["departments.support.agents=4:5"], reps=2)
    run_sweep(plan, tmp_path / "sweep", SerialExecutor(), plots=())
    pid = os.getpid()
    for name in (
        "rows.parquet",
        "rows.csv",
        "summary.parquet",
        "summary.csv",
        "sweep.json",
        "part-000001.parquet",
    ):
        assert f".{name}.{pid}.tmp" in synced, name  # the file, before its rename
    assert synced.count("sweep") >= 5 and "parts" in synced  # the folders, after each rename


# --- a real tiny file system -------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (skipped where mounting is not permitted)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_real_full_disk(tiny_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inject("ENOSPC (real 64 KiB tmpfs): callsim run")
    result = runner.invoke(cli.app, [*RUN_ARGS, "--out", str(tiny_disk / "run")])
    check_refused(result, "the disk is full")
    assert list(tiny_disk.iterdir()) == []
    assert shutil.disk_usage(tiny_disk).used == 0  # not even a hidden half-written file

    folder = tiny_disk / "sweep"
    args = [
        "sweep",
        str(CENTRE),
        "--grid",
        "departments.billing.agents=6:9",
        "--reps",
        "2",
        "--set",
        "duration=1h",
    ]
    args += ["--jobs", "1", "--out", str(folder)]
    inject("ENOSPC (real 64 KiB tmpfs): callsim sweep")
    monkeypatch.setattr(sweep_folder, "POINT_SPACING", 0.0)  # a part per finished point
    result = runner.invoke(cli.app, args)
    check_refused(result, "the disk is full")
    assert_no_leftovers(folder)
    kept = len(read_rows(folder))
    assert 0 < kept < 8  # the disk filled up mid-way: some points are on it, whole
    subprocess.run(["mount", "-o", "remount,size=16m", str(tiny_disk)], check=True)
    again = runner.invoke(cli.app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert json.loads((folder / "sweep.json").read_text())["rows"]["kept"] == kept
    reference = run_sweep(
        plan_sweep(CENTRE, ["departments.billing.agents=6:9"], reps=2, overrides=["duration=1h"]),
        tmp_path / "ref",
        SerialExecutor(),
        plots=(),
    )
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "rows.parquet"), reference.rows)
