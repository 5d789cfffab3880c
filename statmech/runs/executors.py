"""Where the points of a scan run: in this process, on a pool of spawned processes, or on dask.

Each executor takes a list of :class:`Task` (one per point), runs
:func:`execute` on each, and hands every :class:`~statmech.runs.schema.RunRecord`
back to ``consume`` in this process, the single writer of the archive. A point
that raises is returned as a failed run, not raised. Between points every
executor checks the :class:`~statmech.runs.lifetime.StopRequest` and feeds
the :class:`~statmech.runs.progress.Progress` (finished points, and the
partial progress experiments report from inside a point).

- :func:`run_inline`: this process; Numba's parallel kernels may use every
  core, BLAS one thread (:mod:`statmech.runs.threads`).
- :func:`run_pool`: ``jobs`` *spawned* processes (never ``fork``: forking after
  an OpenMP parallel region hangs), each with one Numba and one BLAS thread,
  dying with the scan (:mod:`statmech.runs.lifetime`). They report partial
  progress through a queue.
- :func:`run_dask`: a dask.distributed cluster (``"local"`` starts a
  LocalCluster of ``jobs`` single-threaded worker processes that die with the
  scan).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from statmech.runs.lifetime import DieWithParentPlugin, StopRequest, die_with_parent
from statmech.runs.progress import Progress, ProgressCallback
from statmech.runs.provenance import provenance, utc_now
from statmech.runs.registry import ExperimentSpec, get_experiment, load_experiment
from statmech.runs.scanfile import ScanError
from statmech.runs.schema import STATUS_COMPLETE, STATUS_FAILED, RunRecord
from statmech.runs.threads import WORKER_ENV, single_threaded_blas

__all__ = ["Task", "execute", "run_inline", "run_pool", "run_dask"]

#: Seconds between two partial-progress messages of one worker.
PROGRESS_SECONDS = 0.5


@dataclass(frozen=True)
class Task:
    """One point to run: which experiment (and where workers import it from), parameters, seed."""

    experiment: str
    source: str
    params: Mapping[str, Any]
    seed: int
    spawn_key: tuple[int, ...]
    run_id: str
    single_thread: bool = False


_SPEC_CACHE: dict[tuple[str, str], ExperimentSpec] = {}


def _spec_for(task: Task) -> ExperimentSpec:
    key = (task.experiment, task.source)
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = load_experiment(task.source, task.experiment) if task.source else get_experiment(task.experiment)
        _SPEC_CACHE[key] = spec
    return spec


def _limit_numba_threads() -> None:
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(1)  # thread-local: applies to the thread running the task


def execute(task: Task, progress: ProgressCallback | None = None) -> RunRecord:
    """Run one point and return its record (status ``failed`` if the experiment raised)."""
    if task.single_thread:
        _limit_numba_threads()
    started = utc_now()
    result, error, status = None, "", STATUS_COMPLETE
    try:
        spec = _spec_for(task)
        seed = np.random.SeedSequence(task.seed, spawn_key=task.spawn_key)
        result = spec.run(task.params, seed=seed, progress=progress)
    except Exception as exc:  # recorded as a failed run; the scan goes on
        status = STATUS_FAILED
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        error = f"{type(exc).__name__}: {exc}\n" + "".join(tb[-3:])
    return RunRecord(
        run_id=task.run_id,
        experiment=task.experiment,
        params=dict(task.params),
        seed=task.seed,
        spawn_key=tuple(task.spawn_key),
        status=status,
        started=started,
        finished=utc_now(),
        provenance=provenance(),
        result=result,
        error=error,
    )


# -- in this process ---------------------------------------------------------------------------------


def run_inline(tasks: list[Task], consume: Callable[[RunRecord], None], stop: StopRequest,
               progress: Progress) -> None:
    """Run ``tasks`` one after the other in this process."""
    with single_threaded_blas(), progress.ticking():
        for task in tasks:
            stop.check()
            consume(execute(task, progress.callback(task.run_id)))


# -- a pool of spawned processes -------------------------------------------------------------------------

_WORKER_QUEUE = None


def _init_worker(parent_pid: int, progress_queue) -> None:
    """Initializer of pool workers: die with the scan, ignore Ctrl-C, one thread for Numba and BLAS."""
    global _WORKER_QUEUE
    die_with_parent(parent_pid)
    # Ctrl-C in a terminal reaches the whole process group: only the parent handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_numba_threads()
    single_threaded_blas().__enter__()  # for the worker's whole life
    _WORKER_QUEUE = progress_queue


def _execute_in_worker(task: Task) -> RunRecord:
    """:func:`execute` in a pool worker, reporting partial progress to the parent (throttled)."""
    last = [0.0]

    def report(done: float, total: float) -> None:
        now = time.monotonic()
        if _WORKER_QUEUE is not None and total > 0 and now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            with contextlib.suppress(Exception):
                _WORKER_QUEUE.put_nowait((task.run_id, done / total))

    return execute(task, report)


@contextlib.contextmanager
def _environment(values: Mapping[str, str]):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _drain(progress_queue, progress: Progress, running: set) -> None:
    while True:
        try:
            run_id, fraction = progress_queue.get_nowait()
        except (queue_module.Empty, OSError, EOFError, ValueError):
            return
        if run_id in running:
            progress.set_partial(run_id, fraction)


def run_pool(tasks: list[Task], jobs: int, consume: Callable[[RunRecord], None], stop: StopRequest,
             progress: Progress) -> None:
    """Run ``tasks`` on ``jobs`` spawned worker processes, at most ``2 jobs`` in flight."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")
    progress_queue = ctx.Queue()
    # Spawned children copy os.environ when they start (all at the first submit).
    with _environment(WORKER_ENV), stop.ignored():
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(os.getpid(), progress_queue))
        pending = {}
        iterator = iter(tasks)
        # keep a bounded number of points in flight so Ctrl-C has little to cancel
        for task in itertools.islice(iterator, 2 * jobs):
            pending[pool.submit(_execute_in_worker, task)] = task.run_id
    try:
        while pending:
            stop.check()
            finished, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(progress_queue, progress, set(pending.values()))
            for fut in finished:
                del pending[fut]
                consume(fut.result())
                nxt = next(iterator, None)
                if nxt is not None:
                    pending[pool.submit(_execute_in_worker, nxt)] = nxt.run_id
            progress.tick()
    except BaseException:
        for fut in pending:
            fut.cancel()
        for proc in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        _close_queue(progress_queue)
        raise
    pool.shutdown(wait=True)
    _close_queue(progress_queue)


def _close_queue(q) -> None:
    with contextlib.suppress(Exception):
        q.close()
        q.cancel_join_thread()


# -- dask -------------------------------------------------------------------------------------------------


def run_dask(tasks: list[Task], scheduler: str, jobs: int, consume: Callable[[RunRecord], None],
             stop: StopRequest, progress: Progress) -> None:
    """Run ``tasks`` on a dask.distributed cluster (``scheduler`` an address, a scheduler file, or ``"local"``)."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ScanError("--scheduler needs dask.distributed: pip install 'statmech[dask]'") from None

    cluster = None
    if scheduler == "local":
        with _environment(WORKER_ENV), stop.ignored():
            cluster = LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=dict(WORKER_ENV),
                silence_logs=logging.CRITICAL,  # shutdown chatter is not the user's business
            )
        client = Client(cluster)
        with contextlib.suppress(Exception):
            client.register_plugin(DieWithParentPlugin(os.getpid()))
    else:
        kwargs = (
            {"scheduler_file": scheduler}
            if scheduler.endswith(".json") and Path(scheduler).exists()
            else {"address": scheduler}
        )
        try:  # connect timeout: dask's distributed.comm.timeouts.connect (default 30 s)
            client = Client(**kwargs)
        except OSError as exc:
            raise ScanError(f"cannot reach the dask scheduler {scheduler!r}: {exc}") from None
    futures = []
    try:
        futures = [client.submit(execute, task, pure=False, key=f"statmech-{task.run_id}") for task in tasks]
        stream = as_completed(futures)
        while not stream.is_empty():
            stop.check()
            batch = stream.next_batch(block=False)
            if not batch:
                time.sleep(0.05)
            for fut in batch:
                consume(fut.result())
            progress.tick()
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(futures)
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
