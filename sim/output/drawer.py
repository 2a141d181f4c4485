"""A report drawer: a small process forked before a run starts that imports the report's libraries
(matplotlib, some half a second) while the run simulates, then builds the report of the results folder it
is told about. On a machine with two cores the import is off the critical path; the report itself is the
same one `fill_report` builds (it reads only the folder, and the tables it is handed: the calls and visits
the run is still writing to that folder, so that it need not wait for their files).

Nothing depends on the drawer: if it cannot start, dies, is stopped or fails, the caller builds the report
itself, so errors surface where they always did (`fill_report`: a failed report leaves `report_error.txt`,
a full disk fails the whole write).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.processes import cores, fork_piped, reap

if TYPE_CHECKING:
    import pandas as pd

Tables = Mapping[str, "pd.DataFrame"]
"""Tables of the folder handed to the report in memory (`calls`, `visits`: `sim.output.saved.load_run`)."""
Build = Callable[[Path, tuple[str, ...], Tables | None], None]
"""Builds a results folder's report (`sim.output.results.fill_report`), given the files of the folder still
being written meanwhile (which the report does not read) and the tables handed to it."""

REPORTED = 0
"""The drawer built the report (or, as `fill_report` does, recorded why it could not in report_error.txt)."""
DISK = 3
"""The drawer met a disk error: the caller builds the report itself, and meets (and raises) it there."""


def drawing_processes() -> int:
    """How many processes may draw at once: two where this process may use two cores and can fork
    (matplotlib's cost is per figure, and its import is half a second), else one."""
    return 2 if cores() > 1 and hasattr(os, "fork") else 1


class ReportDrawer:
    """A forked process waiting for a results folder whose report it should build (see the module)."""

    def __init__(self, pid: int, channel: int) -> None:
        self.pid = pid
        self._channel = channel
        self._done = False
        self._drawing = False
        self._sender: threading.Thread | None = None

    @classmethod
    def start(cls, prepare: Callable[[], Build]) -> ReportDrawer | None:
        """Fork the drawer (None where this process has one core, cannot fork, or the fork fails). In the
        drawer, `prepare()` imports what the report needs and returns the function that builds it."""
        forked = fork_piped()
        if forked is None:
            return None
        pid, reading, writing = forked
        if pid == 0:  # the drawer
            os.close(writing)
            os._exit(_serve(reading, prepare))
        os.close(reading)
        return cls(pid, writing)

    def report(self, folder: Path) -> bool:
        """Have the drawer build `folder`'s report and wait for it; whether it did (if not, the caller
        builds it: `fill_report`)."""
        return self.begin(folder) and self.finish()

    def begin(self, folder: Path, pending: Sequence[str] = (), tables: Tables | None = None) -> bool:
        """Have the drawer start on `folder`'s report while the caller goes on writing the files named in
        `pending` (which the report does not read, or reads from `tables`, handed over here: the calls and
        visits, so that the drawer need not wait for their files); whether it started. `finish` waits for
        it. The request goes down the pipe from a thread, so a drawer still importing holds up nobody."""
        if self._done or self._drawing:
            return False
        request = pickle.dumps(
            (str(Path(folder).resolve()), tuple(pending), dict(tables) if tables else None),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        self._sender = threading.Thread(target=self._send, args=(request,), name="drawer-request", daemon=True)
        self._sender.start()
        self._drawing = True
        return True

    def _send(self, request: bytes) -> None:
        """Write the request whole and close the pipe (a drawer that is gone: `finish` then says so)."""
        with contextlib.suppress(OSError), os.fdopen(self._channel, "wb") as sink:
            sink.write(request)

    def finish(self) -> bool:
        """Wait for the report `begin` started; whether the drawer built it (if not, the caller builds it)."""
        if not self._drawing or self._done:
            return False
        self._done = True
        status = reap(self.pid)
        if self._sender is not None:
            self._sender.join()  # the drawer is gone: the pipe is broken, the thread done
        return status == REPORTED

    def close(self) -> None:
        """End a drawer that was not used, or stop one still drawing (a run that failed or was stopped while
        writing); harmless after `finish`."""
        if self._done:
            return
        self._done = True
        if not self._drawing:
            with contextlib.suppress(OSError):
                os.close(self._channel)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        reap(self.pid)
        if self._sender is not None:
            self._sender.join()


def _serve(channel: int, prepare: Callable[[], Build]) -> int:
    """The drawer's life: import the report, wait for a request (end of input: nothing to do), build it."""
    try:
        build = prepare()
        with os.fdopen(channel, "rb") as source:
            try:
                request: Any = pickle.load(source)
            except EOFError:
                return REPORTED  # the run ended without a folder for us: nothing to draw
        folder, pending, tables = request
        build(Path(folder), tuple(pending), tables)
        return REPORTED
    except OSError:
        return DISK
    except BaseException:  # stopped or failed: the caller builds the report and reports what goes wrong
        return 1
