"""Process lifetime: workers that never outlive their scan, and a scan that stops cleanly on a signal.

No process outlives its scan
----------------------------
Whatever ends the scan process (SIGKILL from the OOM killer or ``kill -9``,
``scancel``, a wall-time limit, Ctrl-C), its pool workers, its local dask
workers and multiprocessing's resource tracker must go too: left behind they
hold ~200 MB each for good (measured before issue 9: 4 kill trials in 20 left
workers, re-parented to PID 1, blocked forever on a queue whose write end they
themselves held). Every worker process therefore calls :func:`die_with_parent`
as it starts (the pool's initializer, a dask worker plugin):

1. on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker
   the moment its parent dies, however it dies (the pool starts its workers
   from the scan's main thread, whose end is the process's end);
2. everywhere, a daemon thread that checks ``os.getppid()`` every
   :data:`WATCH_SECONDS` and exits the worker when it has been re-parented (a
   fallback for systems without ``prctl`` and for the moment between the fork
   and the ``prctl`` call, which is also re-checked right after it).

multiprocessing's resource tracker exits by itself once every process holding
its pipe (the scan and its workers) is gone, so it follows within moments.
Local dask workers are children of the scan process too and get the same
treatment (and distributed's own parent-pipe watch).

Stopping cleanly
----------------
:class:`StopRequest` turns SIGINT (Ctrl-C) and SIGTERM (``scancel``, a batch
system's time limit) into a flag that the executors check between points: the
scan then archives the runs finished so far, terminates its workers and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent", "StopRequest", "WATCH_SECONDS", "DieWithParentPlugin"]

#: Seconds between two checks of the parent's PID by the watchdog thread.
WATCH_SECONDS = 0.5

_PR_SET_PDEATHSIG = 1
_installed = False


def _set_pdeathsig(sig: int) -> bool:
    """``prctl(PR_SET_PDEATHSIG, sig)`` on Linux; False where it is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(WATCH_SECONDS)


def die_with_parent(parent_pid: int | None = None) -> None:
    """Make this (worker) process die as soon as ``parent_pid`` (default: its parent) dies.

    Idempotent. Call it first thing in a worker process.
    """
    global _installed
    if _installed:
        return
    parent_pid = os.getppid() if parent_pid is None else int(parent_pid)
    _set_pdeathsig(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="statmech-parent-watch", daemon=True).start()
    _installed = True


class DieWithParentPlugin:
    """A dask worker plugin running :func:`die_with_parent` in each worker process of a local cluster."""

    name = "statmech-die-with-parent"

    def __init__(self, parent_pid: int):
        self.parent_pid = parent_pid

    def setup(self, worker=None):
        die_with_parent(self.parent_pid)

    def teardown(self, worker=None):
        pass


class StopRequest:
    """Ctrl-C / SIGTERM as a flag checked between points.

    A handler that only sets a flag cannot be lost: a ``KeyboardInterrupt``
    raised by Python's default handler can land inside a weakref or GC
    callback of the executor machinery and be swallowed ("Exception ignored
    in ..."), letting the scan run on (measured). A second signal raises
    ``KeyboardInterrupt`` at once (for a long point running in this process).
    """

    def __init__(self, enabled: bool):
        self.requested = False
        self._old = {}
        if not enabled or threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def ignored(self):
        """Ignore SIGINT while starting child processes: they inherit SIG_IGN and so
        never die of a Ctrl-C meant for this process (Python keeps an inherited SIG_IGN)."""
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if self._old else None
        try:
            yield
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}
