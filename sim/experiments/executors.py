"""Where the work runs: in this process, on local worker processes, or on a Dask distributed cluster,
behind one interface.

Every task is a module-level function of picklable arguments (a scenario, a seed, a replication number)
that returns a small picklable value (KPI rows, never event logs). Each result depends only on its
arguments, so the same tasks give the same results whichever executor ran them, in whatever order they
finished. A task that raises does not stop the others: it comes back as a `Done` with its error text.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import signal
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import sim
from sim.experiments.processes import cores

R = TypeVar("R")


@dataclass(frozen=True)
class Done(Generic[R]):
    """One finished task: its position in the submitted list, and its value or the error it raised."""

    index: int
    value: R | None
    error: str | None = None


class ExecutorError(RuntimeError):
    """The executor cannot be used (for example: a Dask cluster with other package versions)."""


class Executor(Protocol):
    """Runs `function(*arguments)` for each argument tuple; yields results as they complete."""

    name: str
    workers: int

    def run(self, function: Callable[..., R], argument_lists: Sequence[tuple[Any, ...]]) -> Iterator[Done[R]]:
        """Every task's `Done`, in completion order; closing the iterator early cancels what has not started."""
        ...

    def close(self) -> None:
        """Release workers and connections (a Dask cluster itself is left running)."""
        ...


def error_text(error: BaseException) -> str:
    """`ValueError: what went wrong` (the last line a traceback would print)."""
    return "".join(traceback.format_exception_only(type(error), error)).strip().splitlines()[-1]


def default_jobs() -> int:
    """All local cores this process may use."""
    return cores()


class SerialExecutor:
    """Runs tasks one after another in this process (`--jobs 1`): the reference the others must match."""

    name = "serial"
    workers = 1

    def run(self, function: Callable[..., R], argument_lists: Sequence[tuple[Any, ...]]) -> Iterator[Done[R]]:
        for index, arguments in enumerate(argument_lists):
            try:
                value = function(*arguments)
            except Exception as error:  # a failed task is recorded, the others go on
                yield Done(index, None, error_text(error))
            else:
                yield Done(index, value)

    def close(self) -> None:
        return None


def _ready() -> int:
    return os.getpid()


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which cancels what has not started and keeps the rest."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


MAX_RESTARTS = 3
"""Times one `run` restarts a process pool whose worker died (killed, out of memory) before it gives up and
records the tasks still waiting as failed."""


class ProcessExecutor:
    """A pool of local worker processes, started once and reused for every `run` (default: all cores).

    A worker that dies (SIGKILL, the out-of-memory killer) breaks the pool: every task that had not
    finished comes back with BrokenProcessPool. Those tasks were lost, not wrong, so the pool is started
    afresh and they are submitted again (up to `MAX_RESTARTS` times per `run`; then they are recorded as
    failed, with the reason). Results depend only on the arguments, so a rerun task gives the same value.
    """

    name = "processes"

    def __init__(self, jobs: int | None = None) -> None:
        self.workers = jobs or default_jobs()
        self.restarts = 0
        """Pools started afresh because a worker died (over this executor's life)."""
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # fork is fast and shares the imported modules; the pool starts all workers at the first submit,
        # which happens here, before any progress-bar thread exists.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_ignore_interrupts
        )
        pool.submit(_ready).result()
        return pool

    def _restart(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._start()
        self.restarts += 1

    def run(self, function: Callable[..., R], argument_lists: Sequence[tuple[Any, ...]]) -> Iterator[Done[R]]:
        arguments = list(argument_lists)
        waiting = list(range(len(arguments)))
        restarts = 0
        futures: dict[Future[R], int] = {}
        try:
            while waiting:
                lost: list[int] = []
                futures = {}
                try:
                    for index in waiting:
                        futures[self._pool.submit(function, *arguments[index])] = index
                except BrokenProcessPool:  # a worker died since the last run
                    submitted = set(futures.values())
                    lost = [index for index in waiting if index not in submitted]
                for future in as_completed(futures):
                    error = future.exception()
                    if isinstance(error, BrokenProcessPool):
                        lost.append(futures[future])
                    elif error is not None:
                        yield Done(futures[future], None, error_text(error))
                    else:
                        yield Done(futures[future], future.result())
                waiting = sorted(lost)
                if not waiting:
                    break
                if restarts >= MAX_RESTARTS:
                    reason = f"BrokenProcessPool: a worker process died {restarts + 1} times; gave up"
                    for index in waiting:
                        yield Done(index, None, reason)
                    break
                self._restart()
                restarts += 1
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def worker_versions() -> dict[str, str]:
    """The versions that decide the numbers, as a worker sees them."""
    import numpy
    import pandas
    import simpy

    return {
        "callsim": sim.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "simpy": simpy.__version__,
    }


CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a Dask scheduler to answer."""


class DaskExecutor:
    """Sends the same tasks to an existing Dask distributed cluster (`--dask tcp://host:8786`).

    The workers must have callsim installed with the same versions of Python, numpy, pandas and simpy;
    they are checked on connection, so a cluster that would compute different numbers is refused.
    """

    name = "dask"

    def __init__(self, address: str, timeout: float | None = None) -> None:
        try:  # an optional extra: `pip install 'callsim[dask]'`
            from dask.distributed import Client
        except ImportError:
            raise ExecutorError("Dask is not installed: pip install 'callsim[dask]'") from None

        try:
            self._client = Client(address, timeout=timeout or CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ExecutorError(f"cannot connect to the Dask scheduler at {address}: {error}") from None
        self.address = address
        try:
            seen = self._client.run(worker_versions)
        except Exception as error:
            self._client.close()
            raise ExecutorError(f"the Dask workers cannot run callsim: {error_text(error)}") from None
        mine = worker_versions()
        differ = {worker: v for worker, v in seen.items() if v != mine}
        if differ:
            self._client.close()
            worker, theirs = next(iter(differ.items()))
            raise ExecutorError(
                f"{len(differ)} Dask worker(s) have other versions than this machine "
                f"(e.g. {worker}: {theirs}; here: {mine}); results would not be comparable"
            )
        if not seen:
            self._client.close()
            raise ExecutorError(f"the Dask cluster at {address} has no workers")
        self.workers = sum(self._client.nthreads().values())

    def run(self, function: Callable[..., R], argument_lists: Sequence[tuple[Any, ...]]) -> Iterator[Done[R]]:
        from dask.distributed import as_completed

        futures = [self._client.submit(function, *arguments, pure=False) for arguments in argument_lists]
        index_of = {future.key: index for index, future in enumerate(futures)}
        try:
            for future in as_completed(futures, loop=self._client.loop):
                index = index_of[future.key]
                if future.status == "error":
                    yield Done(index, None, error_text(future.exception()))
                else:
                    yield Done(index, future.result())
                future.release()
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        self._client.close()


def make_executor(jobs: int | None = None, dask: str | None = None) -> Executor:
    """The executor for `--jobs J` / `--dask ADDRESS`: Dask if an address is given, else 1 job in-process,
    else a local process pool (default: all cores)."""
    if dask:
        return DaskExecutor(dask)
    jobs = jobs or default_jobs()
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)


def run_all(
    executor: Executor, function: Callable[..., R], argument_lists: Iterable[tuple[Any, ...]]
) -> list[R]:
    """Every task's value in submission order; the first error is raised as a RuntimeError."""
    arguments = list(argument_lists)
    values: list[R | None] = [None] * len(arguments)
    for done in executor.run(function, arguments):
        if done.error is not None:
            raise RuntimeError(f"task {done.index} failed: {done.error}")
        values[done.index] = done.value
    return values  # type: ignore[return-value]
