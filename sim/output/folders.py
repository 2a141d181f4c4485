"""Durable folders: a folder is written whole into a temporary hidden sibling and then renamed into place, so
an interrupted writer leaves nothing half-written and nothing is overwritten unasked.

The temporary folder is `.NAME.HOST.PID-TOKEN.partial`; its files are flushed to disk before the rename. A
writer killed outright (SIGKILL) leaves it behind, never under the final name; the next writer into the same
parent folder removes it once process PID of this HOST is gone (another live writer's is never touched). A
folder that cannot be written (a file in the way, a read-only, missing or full disk) is reported as
`ResultsUnwritable`, with the reason in one line and nothing left behind.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis.rows import clean_json as clean_json  # re-exported: the writers here and above use it
from sim.model.durations import printable

if TYPE_CHECKING:  # pandas and Arrow are imported where a table is written: a run names its folder first
    import pandas as pd
    import pyarrow as pa


class ResultsError(OSError):
    """Results that cannot be written where asked; the message says where and why, in one line."""


class ResultsExist(ResultsError, FileExistsError):
    """The results folder already holds a run; pass `force` to replace it."""


class ResultsUnwritable(ResultsError):
    """The results cannot be written: a file in the way, a folder that cannot be created, a read-only or
    full disk. `str()` is the whole sentence; `errno` and `strerror` are the underlying error's."""

    def __init__(self, message: str, code: int | None = None, reason: str = "") -> None:
        super().__init__(code, reason or message)
        self.message = message

    def __str__(self) -> str:
        return self.message


DISK_ERRORS = frozenset(
    code
    for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG, errno.EROFS, errno.EIO)
    if code is not None
)
"""Errors of the disk rather than of the data: a report that meets one fails the run (nothing is kept)."""


def _nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists (`/` at worst)."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path.parent != path:
        path = path.parent
    return path


def why_unwritable(error: OSError, target: Path) -> str:
    """A plain reason for an OSError met while writing below `target` (no temporary file names)."""
    code = error.errno
    if code == errno.ENOSPC:
        return "the disk is full (No space left on device)"
    if code == getattr(errno, "EDQUOT", None):
        return "the disk quota is used up (Disk quota exceeded)"
    if code == errno.EROFS:
        return "the file system is read-only"
    if code == errno.ENAMETOOLONG:
        return _too_long(target)
    existing = _nearest_existing(target)
    if code in (errno.ENOTDIR, errno.EEXIST) and existing.exists() and not existing.is_dir():
        return f"{shown(existing)} is a file, not a folder"
    if code == errno.ENOENT and not target.parent.is_dir():
        return (
            f"cannot create a folder in {shown(_nearest_existing(target.parent))} (No such file or directory)"
        )
    reason = error.strerror or str(error)
    name = Path(str(error.filename)).name if error.filename else ""
    if name and not name.startswith("."):  # a results file, not a staging or temporary name
        reason += f" ({printable(name)})"
    return reason


def unwritable(error: OSError, target: Path, what: str = "results") -> ResultsUnwritable:
    """`error` (met while writing `target`) as a ResultsUnwritable with a one-line message."""
    if isinstance(error, ResultsUnwritable):
        return error
    reason = why_unwritable(error, target)
    return ResultsUnwritable(f"cannot write {what} to {shown(target)}: {reason}", error.errno, reason)


def shown(path: Path | str) -> str:
    """A path as messages quote it: on one line whatever it holds (control characters escaped), and a
    very long one shortened in the middle."""
    text = printable(str(path))
    return text if len(text) <= 160 else f"{text[:80]}...{text[-60:]}"


NAME_MAX = 255
"""The longest file name (in bytes) most file systems take; `os.pathconf` says where it can."""


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(_nearest_existing(folder), "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def _too_long(target: Path) -> str:
    """Why a results path is too long, for the message: one of its names, or the whole path."""
    longest = max(target.parts, key=lambda part: len(os.fsencode(part)), default=target.name)
    allowed = _name_max(target.parent)
    if longest == target.name:  # room for the staging name written around it
        allowed -= len(os.fsencode(staging_name(""))) + 2
    size = len(os.fsencode(longest))
    if size > allowed:
        return f"the name {shown(longest[:40])}... is too long ({size} bytes; at most {allowed} here)"
    whole = len(os.fsencode(os.path.abspath(target)))
    return f"the path is too long ({whole} bytes)"


def real_target(target: Path) -> Path:
    """Where results named `target` go: `target` itself, or, if it is a symbolic link, the folder it points
    to (followed to the end). A user who made a link to a folder expects the results there: the staging
    sibling and the swap happen beside that folder, and the link keeps pointing at the new results."""
    try:
        linked = target.is_symlink()
    except OSError:  # a name too long to look up: no link, and the check that follows says why
        return target
    return Path(os.path.realpath(target)) if linked else target


def default_run_dir(results_root: Path, name: str, now: datetime | None = None) -> Path:
    """`results/<name>-<YYYYmmdd-HHMMSS>`, with a suffix if that exists already."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = results_root / f"{name}-{stamp}"
    number = 2
    while candidate.exists():
        candidate = results_root / f"{name}-{stamp}-{number}"
        number += 1
    return candidate


def check_writable(target: Path, force: bool) -> None:
    """Refuse before running if `target` (or the folder a link there points to) holds anything and `force`
    is not set, or if its name is too long to be written (ResultsUnwritable, in one line). With `force`,
    what is there now is remembered: should another run replace it before this one is written, this one
    settles beside it instead of silently replacing that run's results (`write_folder`)."""
    try:
        real = real_target(target)
        if len(os.fsencode(real.name)) + len(os.fsencode(staging_name(""))) + 2 > _name_max(real.parent):
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
        if real.exists() and not real.is_dir():
            raise ResultsExist(f"{shown(target)} exists and is not a folder")
        if real.exists() and any(real.iterdir()) and not force:
            raise ResultsExist(f"{shown(target)} already holds results; use --force to replace them")
        if force:
            _CLAIMS[str(real)] = _identity(real)
    except ResultsError:
        raise
    except OSError as error:  # a name too long, a folder that cannot be listed, ...
        raise unwritable(error, target) from None


_CLAIMS: dict[str, tuple[int, int] | None] = {}
"""Per results folder checked with `force` in this process: what was there when it was checked."""


def _identity(folder: Path) -> tuple[int, int] | None:
    """Which folder is at `folder` (device and inode; a folder replaced by a rename is another), or None."""
    try:
        status = os.stat(folder)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


@contextmanager
def _parent_locked(parent: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder `parent` (flock; nothing where the platform has none) for the
    instant of a swap, so two writers into the same parent compare and swap one after the other."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        descriptor = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield
        return
    try:
        with suppress(OSError):  # a file system without locks (some network mounts): swap unlocked, as before
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def check_target(target: Path, force: bool, what: str = "results") -> None:
    """`check_writable`, then `check_creatable`: refuse before any work is done (ResultsExist,
    ResultsUnwritable)."""
    check_writable(target, force)
    check_creatable(target, what)


def check_creatable(folder: Path, what: str = "results", inside: bool = False) -> None:
    """Make sure `folder` (or, with `inside`, files in it) could be written: the nearest existing ancestor
    (of its parent, where the staging sibling goes) is a folder in which a folder can be created. Raises
    ResultsUnwritable with the reason; leaves nothing behind. A full disk shows only when files are written."""
    real = folder if inside else real_target(folder)
    existing = _nearest_existing(real if inside else real.parent)
    if not existing.is_dir():
        reason = f"{shown(existing)} is a file, not a folder"
        raise ResultsUnwritable(f"cannot write {what} to {shown(folder)}: {reason}", errno.ENOTDIR, reason)
    try:
        probe = tempfile.mkdtemp(prefix=".callsim-probe-", dir=existing)
        os.rmdir(probe)
    except OSError as error:
        reason = f"cannot create a folder in {shown(existing)} ({error.strerror or error})"
        raise ResultsUnwritable(
            f"cannot write {what} to {shown(folder)}: {reason}", error.errno, reason
        ) from None


# --- staging: a folder is written whole beside its target, then renamed into place -------------------------

HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0])[:40] or "host"
"""This machine's name as staging folders carry it (a results root may be shared between machines)."""
STAGED = re.compile(
    r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>\d+)-(?P<token>[a-z0-9]+)\.(?P<kind>partial|old)$"
)
"""`.NAME.HOST.PID-TOKEN.partial`: a folder being written by process PID on HOST; `.old`: the folder it
replaces, moved aside for the instant of the swap."""


def staging_name(name: str, kind: str = "partial") -> str:
    """A hidden sibling name for `name` owned by this process: `.NAME.HOST.PID-TOKEN.partial`."""
    return f".{name}.{HOST}.{os.getpid()}-{secrets.token_hex(4)}.{kind}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (unsure counts as alive: nothing is removed)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process
        return True
    return True


def clean_stale(root: Path) -> list[Path]:
    """Remove the staging folders in `root` left by runs of this machine that are gone (killed with no
    chance to clean up). A folder moved aside for a swap that never finished is moved back if its place is
    empty. Another live run's folders, other machines' and anything else are never touched. Returns what
    was removed or restored."""
    touched: list[Path] = []
    try:
        children = list(root.iterdir())
    except OSError:
        return touched
    for child in children:
        match = STAGED.match(child.name)
        if match is None or match["host"] != HOST or pid_alive(int(match["pid"])):
            continue
        if not child.is_dir() or child.is_symlink():
            continue
        try:
            place = root / match["name"]
            if match["kind"] == "old" and not os.path.lexists(place):
                child.rename(place)  # killed between the two renames of a swap: the old results come back
            else:
                shutil.rmtree(child)
        except OSError:
            continue
        touched.append(child)
    return touched


def sync_tree(folder: Path) -> None:
    """Flush every file and folder below `folder` to disk (so a rename never publishes unwritten data)."""
    for directory, _, files in os.walk(folder):
        for name in files:
            fsync_path(Path(directory) / name)
        fsync_path(Path(directory))


def fsync_path(path: Path) -> None:
    """fsync a file or a folder; quietly nothing where the platform cannot (a folder on Windows)."""
    try:
        flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
        descriptor = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno in DISK_ERRORS:
            raise
    finally:
        os.close(descriptor)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While a folder is staged, SIGTERM (when nobody else handles it) raises KeyboardInterrupt like Ctrl-C,
    so the staging folder is removed on the way out. Only in the main thread; elsewhere a no-op."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous: Any = None
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the instant of a swap (two renames) and deliver them right after, so
    Ctrl-C never falls between the two renames. Only in the main thread (where Python runs handlers)."""
    wanted = (signal.SIGINT, signal.SIGTERM)
    caught: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        caught.append(signum)

    previous: dict[signal.Signals, Any] = {}
    try:
        for number in wanted:
            previous[number] = signal.signal(number, hold)
    except ValueError:  # not the main thread: nothing to hold
        pass
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        if caught:
            signal.raise_signal(caught[0])


def write_folder(target: Path, force: bool, writer: Callable[[Path], None]) -> Path:
    """Let `writer` fill a hidden sibling folder (`.NAME.HOST.PID-TOKEN.partial`), flush it to disk, then
    move it to `target` in one rename (replacing an old folder with `force`; without it, to a free sibling
    name if another run took `target` meanwhile) and return where it went. Stale staging folders of
    killed runs in the same parent are removed first. OSErrors come out as ResultsUnwritable (nothing is
    left behind); Ctrl-C or SIGTERM while writing leave nothing either.

    `target` may be a symbolic link to a folder: the results go into the folder it points to (the link is
    left as it is, and `target` is returned). With `force`, if another run replaced or created the folder
    after it was checked (`check_writable`, or the start of this call), the results settle at the next free
    sibling name rather than replace that run's: the returned path then differs from `target`."""
    real = real_target(target)
    parent = real.parent
    key = str(real)
    checked = key in _CLAIMS  # by the caller, before the work that made these results
    earlier = _CLAIMS.pop(key, None)
    try:
        if parent.is_dir():
            clean_stale(parent)
        check_writable(target, force)
        now = _CLAIMS.pop(key, None)
        parent.mkdir(parents=True, exist_ok=True)
    except ResultsError:
        raise
    except OSError as error:
        raise unwritable(error, target) from error
    expected = earlier if checked else now
    staged: list[Path] = []
    try:
        with terminate_as_interrupt():  # from before the staging folder exists: no instant without it
            staging = _make_staging(real, staged)
            writer(staging)
            sync_tree(staging)
            with _parent_locked(parent):
                if force and _identity(real) == expected:
                    replace_folder(staging, real)
                    written = real
                else:  # without force; or forced, but another run wrote here since: beside it
                    written = settle_folder(staging, real)
    except BaseException as error:
        for folder in staged:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, OSError) and not isinstance(error, ResultsError):
            raise unwritable(error, target) from error
        raise
    fsync_path(parent)
    return target if written == real else written


def new_staging(target: Path) -> Path:
    """A new, empty staging folder for `target` (`.NAME.HOST.PID-TOKEN.partial` beside it), created like
    any other folder: its mode comes from the umask (`tempfile.mkdtemp` would make it 0700, and the
    folder renamed from it would stay so while the rest of a results folder is 0755)."""
    return _make_staging(target, [])


def _make_staging(target: Path, staged: list[Path]) -> Path:
    """Create the staging folder (mode from the umask, like any new folder), named in `staged` before it
    is made, so an interrupt at any instant after leaves nothing behind."""
    while True:
        staging = target.with_name(staging_name(target.name))
        staged.append(staging)
        try:
            staging.mkdir()
        except FileExistsError:
            staged.remove(staging)  # another's: never removed
            continue
        return staging


def settle_folder(staging: Path, target: Path) -> Path:
    """Rename `staging` to `target`, or, if results appeared there while these were written (another run
    with the same name), to the first free `target-2`, `target-3`, ...: nothing is replaced without
    `--force`, and nothing just computed is thrown away. Returns where the results are."""
    candidate, number = target, 2
    while True:
        try:
            with signals_held():
                staging.rename(candidate)  # atomic; fails on a folder that holds anything
            return candidate
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise
        candidate = target.with_name(f"{target.name}-{number}")
        number += 1


def replace_folder(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`; an existing `target` is moved aside first and removed after. Ctrl-C is
    held for the two renames; SIGKILL between them leaves the old folder aside, and `clean_stale` moves it
    back."""
    trash: Path | None = None
    swapped = False
    try:
        with signals_held():
            try:
                if target.exists():
                    trash = target.with_name(staging_name(target.name, "old"))
                    target.rename(trash)
                staging.rename(target)
                swapped = True
            except BaseException as error:
                if trash is not None and os.path.lexists(trash) and not os.path.lexists(target):
                    trash.rename(target)  # the old results stay where they were
                if isinstance(error, OSError) and error.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    raise ResultsExist(
                        f"{shown(target)} appeared while the results were written; nothing was replaced"
                    ) from None
                raise
    finally:
        if swapped and trash is not None:
            shutil.rmtree(trash, ignore_errors=True)


PARQUET_SLICE = 1 << 18
"""Rows converted to Arrow at a time: a million-call day's event log is not copied whole to be written."""


DICTIONARY_PAGE = 1 << 16
"""Bytes a Parquet column's dictionary may grow to before the column is written plain (Arrow's default is
1 MiB): codes, names and small counts fit many times over, while a column of ids stops building one after
some 8,000 values instead of 130,000 (a quarter less writing time for a big run's calls and events)."""


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """The Parquet file `write_parquet` writes for `frame`, as bytes (encoded in memory, to be written later)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    write_parquet(frame, sink)
    return bytes(sink.getvalue())


def write_parquet(frame: pd.DataFrame, path: Path | pa.NativeFile) -> None:
    """`frame` as a Parquet file (no index), written a slice at a time, the same table as `to_parquet`;
    `path` may also be an Arrow output stream (`parquet_bytes`).

    Float columns are stored plain, not dictionary-encoded: their values hardly repeat, so Arrow would
    build a dictionary per page only to give it up (some 40% of the writing time of a big run's tables,
    and the files come out smaller). Other columns keep their dictionary while it stays under
    `DICTIONARY_PAGE`, so ids (a value per call) give theirs up early. The table read back is the same."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    options: dict[str, Any] = {
        "use_dictionary": [str(name) for name, dtype in frame.dtypes.items() if dtype.kind != "f"],
        "dictionary_pagesize_limit": DICTIONARY_PAGE,
    }
    if len(frame) <= PARQUET_SLICE:
        frame.to_parquet(path, index=False, **options)
        return
    first = pa.Table.from_pandas(frame.iloc[:PARQUET_SLICE], preserve_index=False)
    first_schema = first.schema
    with pq.ParquetWriter(path, first_schema, **options) as writer:
        writer.write_table(first)
        del first
        for start in range(PARQUET_SLICE, len(frame), PARQUET_SLICE):
            piece = frame.iloc[start : start + PARQUET_SLICE]
            writer.write_table(pa.Table.from_pandas(piece, schema=first_schema, preserve_index=False))
            pa.default_memory_pool().release_unused()
    pa.default_memory_pool().release_unused()


def csv_text(frame: pd.DataFrame) -> str:
    """`frame` as the results' CSV files hold a table: no index, floats to six significant digits, missing
    as nothing; the same text as `frame.to_csv(index=False, float_format="%.6g")`. The float columns are
    formatted here, a column at a time, and pandas writes them as text: some 40% faster for an interval table
    of 1,667 hours, which a run writes before its report can start."""
    import numpy as np
    import pandas as pd

    columns: dict[Any, Any] = {}
    for name, column in frame.items():
        if pd.api.types.is_float_dtype(column.dtype):  # numpy's floats and pandas' nullable ones
            values = column.to_numpy(dtype=float, na_value=np.nan)
            # `%` as pandas applies a float_format, so the text is the same to the byte
            text = np.array(["%.6g" % value for value in values.tolist()], dtype=object)  # noqa: UP031
            text[np.isnan(values)] = ""
            columns[name] = text
        else:
            columns[name] = column
    return pd.DataFrame(columns, index=frame.index, columns=frame.columns).to_csv(index=False)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame` as a results CSV file (`csv_text`)."""
    path.write_text(csv_text(frame), encoding="utf-8")


def write_json(path: Path, value: Any) -> None:
    """Pretty JSON with NaN as null."""
    path.write_text(json.dumps(clean_json(value), indent=2) + "\n", encoding="utf-8")
