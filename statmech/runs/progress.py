"""Progress of runs and scans: one display, fed by finished points and by the experiments themselves.

An experiment that loops over sizes, samples or times may accept a
``progress`` keyword: a callable ``progress(done, total)`` it calls as it
goes (``statmech.runs.registry.ExperimentSpec.run`` passes it only to
functions that accept it). The executors turn those calls, made in this
process or in a worker, into the partial progress of the point, and finished
points into whole steps, on one :class:`Progress`:

- on a terminal, a bar redrawn in place with the elapsed time and an ETA;
- otherwise (a batch-job log, CI), a plain line when a point finishes (at most
  every :attr:`Progress.MIN_LINE_SECONDS`) and at least every
  :attr:`Progress.HEARTBEAT_SECONDS` while work runs, so a log never stays
  silent for long.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from typing import Callable, Hashable

__all__ = ["Progress", "ProgressCallback", "format_clock", "format_seconds", "null_progress"]

#: ``progress(done, total)``: ``done`` of ``total`` steps of one run are finished.
ProgressCallback = Callable[[float, float], None]


def null_progress(done: float, total: float) -> None:
    """A progress callback that ignores its calls."""


def format_seconds(seconds: float) -> str:
    """``90 -> "1.5 min"``, ``3e5 -> "3.5 days"``."""
    if not math.isfinite(seconds):
        return "forever"
    for limit, unit, scale in (
        (120, "s", 1),
        (2 * 3600, "min", 60),
        (3 * 86400, "h", 3600),
        (2 * 365 * 86400, "days", 86400),
    ):
        if seconds < limit:
            return f"{seconds / scale:.2g} {unit}"
    return f"{seconds / (365 * 86400):.3g} years"


def format_clock(seconds: float) -> str:
    """``75 -> "01:15"``, ``3725 -> "1:02:05"``, beyond 100 h ``"4.2 days"``, infinite -> ``"--:--"``."""
    if not math.isfinite(seconds):
        return "--:--"
    if seconds >= 100 * 3600:
        return format_seconds(seconds)
    seconds = int(round(max(0.0, seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Progress of ``total`` items (scan points, or steps of one run) on ``stream``.

    Parameters
    ----------
    total : int
        Items to finish.
    stream : file, optional
        Default ``sys.stderr``.
    mode : {None, "bar", "lines", "off"}
        ``None``: a bar on a terminal, plain lines otherwise.
    label : str
        What the items are (``"points"``).
    estimate : float, optional
        Estimated seconds for the whole work: the ETA until progress is known.
    prefix : str
        Start of every plain line.
    """

    #: Plain lines: at least this many seconds apart...
    MIN_LINE_SECONDS = 2.0
    #: ...and at most this many apart while work runs.
    HEARTBEAT_SECONDS = 10.0
    #: The bar is redrawn at most this often...
    BAR_SECONDS = 0.1
    #: ...and first drawn after this many seconds (quick work shows nothing).
    BAR_DELAY = 1.0

    def __init__(self, total: int, stream=None, mode: str | None = None, label: str = "points",
                 estimate: float | None = None, prefix: str = "statmech: "):
        self.stream = sys.stderr if stream is None else stream
        if mode is None:
            mode = "bar" if bool(getattr(self.stream, "isatty", lambda: False)()) else "lines"
        if mode not in ("bar", "lines", "off"):
            raise ValueError(f"mode must be 'bar', 'lines', 'off' or None, got {mode!r}")
        self.mode = mode
        self.total = int(total)
        self.label = label
        self.estimate = estimate
        self.prefix = prefix
        self.done = 0
        self.failed = 0
        self.partial: dict[Hashable, float] = {}
        self.t0 = time.monotonic()
        self._last = -math.inf
        self._closed = False
        self._lock = threading.RLock()  # fed by the main thread, ticked by a background one
        self._drawn = None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    # -- feeding ---------------------------------------------------------------------------------
    def update(self, done: int = 1, failed: int = 0, key: Hashable | None = None) -> None:
        """``done`` more items finished (``failed`` of them failed); ``key`` ends its partial progress."""
        with self._lock:
            self.done += done
            self.failed += failed
            if key is not None:
                self.partial.pop(key, None)
        self._show(finished=True)

    def set_partial(self, key: Hashable, fraction: float) -> None:
        """The running item ``key`` is ``fraction`` (0..1) done."""
        if math.isfinite(fraction):
            with self._lock:
                self.partial[key] = min(max(float(fraction), 0.0), 1.0)
        self._show(finished=False)

    def callback(self, key: Hashable = None) -> ProgressCallback:
        """A ``progress(done, total)`` callback feeding the partial progress of item ``key``."""

        def report(done: float, total: float) -> None:
            if total > 0:
                self.set_partial(key, done / total)

        return report

    def tick(self) -> None:
        """Redraw if due (executors call it while they wait, for the heartbeat lines)."""
        self._show(finished=False)

    # -- display ---------------------------------------------------------------------------------
    def fraction(self) -> float:
        if self.total <= 0:
            return 1.0
        return min(1.0, (self.done + sum(self.partial.values())) / self.total)

    def eta(self, now: float) -> tuple[float, bool]:
        """Seconds to go and whether they come from the estimate rather than measured progress."""
        elapsed = now - self.t0
        frac = self.fraction()
        if frac > 0:
            return elapsed / frac * (1.0 - frac), False
        if self.estimate is not None and elapsed < self.estimate:
            return self.estimate - elapsed, True
        return math.inf, False  # no progress reported yet, and past the estimate

    def _show(self, finished: bool) -> None:
        if self.mode == "off" or self._closed:
            return
        with self._lock:
            self._show_locked(finished)

    def _show_locked(self, finished: bool) -> None:
        now = time.monotonic()
        since = now - self._last
        if self.mode == "bar":
            due = now - self.t0 >= self.BAR_DELAY and (
                since >= self.BAR_SECONDS or (finished and self.done >= self.total))
        else:
            due = now - self.t0 >= self.MIN_LINE_SECONDS and (
                since >= self.HEARTBEAT_SECONDS or (finished and since >= self.MIN_LINE_SECONDS))
        if due:
            self._last = now
            self._draw(now)

    def _text(self, now: float) -> str:
        elapsed = now - self.t0
        eta, guessed = self.eta(now)
        fail = f", {self.failed} failed" if self.failed else ""
        running = f", {len(self.partial)} running" if self.partial and self.mode == "lines" else ""
        eta_text = f"ETA {'~' if guessed else ''}{format_clock(eta)}"
        return f"{self.done}/{self.total} {self.label}{fail}{running}  {format_clock(elapsed)} elapsed, {eta_text}"

    def _draw(self, now: float) -> None:
        self._drawn = (self.done, self.failed)
        if self.mode == "bar":
            width = 28
            filled = int(round(width * self.fraction()))
            line = f"\r[{'#' * filled}{'.' * (width - filled)}] {self._text(now)} "
        else:
            line = f"{self.prefix}{self._text(now)}\n"
        self.stream.write(line)
        self.stream.flush()

    @contextlib.contextmanager
    def ticking(self, seconds: float = 0.5):
        """Tick from a background thread while the body runs (the main thread is busy computing)."""
        done = threading.Event()

        def tick() -> None:
            while not done.wait(seconds):
                with contextlib.suppress(Exception):
                    self.tick()

        thread = threading.Thread(target=tick, name="statmech-progress", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            done.set()
            thread.join()

    def close(self) -> None:
        """Draw the final state (a bar ends its line; nothing if nothing was ever drawn)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.mode == "bar" and self._last > -math.inf:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
        elif (self.mode == "lines" and self.total and time.monotonic() - self.t0 >= self.MIN_LINE_SECONDS
              and self._drawn != (self.done, self.failed)):
            self._draw(time.monotonic())
