"""A report drawer: a small process forked as a run starts that imports matplotlib and the drawing
functions (some half a second) while the run simulates and computes its tables, then draws the pictures it
is sent (`sim.output.drawing`: each a sketch of plain inputs, so the drawer never imports pandas). On a
machine with two cores the import is off the critical path, and the report's text is written by the run
while its pictures are drawn.

Nothing depends on the drawer: if it cannot start, dies, is stopped or fails, the caller draws the pictures
itself (`sim.output.report`), so errors surface where they always did (a failed report leaves
`report_error.txt`, a full disk fails the whole write).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sim.experiments.processes import fork_piped, reap

if TYPE_CHECKING:
    from sim.output.drawing import Job, Sketch

Draw = Callable[[Sequence["Job"]], None]
"""Saves a list of sketches as their PNG files (`sim.output.drawing.draw_all`)."""

DRAWN = 0
"""The drawer saved every picture it was sent."""


class ReportDrawer:
    """A forked process waiting for the pictures it should draw (see the module)."""

    def __init__(self, pid: int, channel: int) -> None:
        self.pid = pid
        self._channel = channel
        self._done = False
        self._drawing = False
        self._sender: threading.Thread | None = None

    @classmethod
    def start(cls, prepare: Callable[[], Draw]) -> ReportDrawer | None:
        """Fork the drawer (None where this process has one core, cannot fork, or the fork fails). In the
        drawer, `prepare()` imports what the drawing needs and returns the function that draws."""
        forked = fork_piped()
        if forked is None:
            return None
        pid, reading, writing = forked
        if pid == 0:  # the drawer
            os.close(writing)
            os._exit(_serve(reading, prepare))
        os.close(reading)
        return cls(pid, writing)

    def begin(self, jobs: Sequence[Job]) -> bool:
        """Have the drawer start saving `jobs` (sketches and their files) while the caller goes on; whether
        it started (once per drawer). `finish` waits for it. The sketches go down the pipe from a thread,
        so a drawer still importing holds up nobody."""
        if self._done or self._drawing:
            return False
        request = pickle.dumps(
            [(sketch, str(path)) for sketch, path in jobs], protocol=pickle.HIGHEST_PROTOCOL
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
        """Wait for the pictures `begin` sent; whether the drawer saved every one (if not, the caller draws
        them)."""
        if not self._drawing or self._done:
            return False
        self._done = True
        status = reap(self.pid)
        if self._sender is not None:
            self._sender.join()  # the drawer is gone: the pipe is broken, the thread done
        return status == DRAWN

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


def _serve(channel: int, prepare: Callable[[], Draw]) -> int:
    """The drawer's life: import the drawing, wait for the sketches (end of input: nothing to do), draw
    them; `DRAWN` when every picture was saved."""
    from pathlib import Path

    try:
        draw = prepare()
        with os.fdopen(channel, "rb") as source:
            try:
                request: list[tuple[Sketch, str]] = pickle.load(source)
            except EOFError:
                return DRAWN  # the run ended without pictures for us: nothing to draw
        draw([(sketch, Path(path)) for sketch, path in request])
        return DRAWN
    except BaseException:  # stopped or failed: the caller draws the pictures and reports what goes wrong
        return 1
