"""Parameter scans: a TOML file of points, run on a process pool or a dask cluster.

Scan file
---------
::

    experiment = "rem"            # a registered experiment (statmech experiments)
    description = "E[Y] vs M"     # optional
    seed = 0                      # scan seed (default 0); or seeds = [0, 1, 2]
    repetitions = 4               # runs per point and seed (default 1)

    [fixed]                       # parameters held fixed (others take defaults)
    samples = 64

    [grid]                        # cartesian product of these axes
    M = [10, 14, 18]
    beta_max = { start = 2.0, stop = 4.0, num = 3 }      # inclusive linspace
    # also { start = 1, stop = 9, step = 2 } (inclusive), { ..., num = 5, log = true }

    [zip]                         # lists varied together (same length);
    n = [1000, 2000]              # use [[zip]] tables for several groups
    d = [10, 20]

Points are the product of the grid axes and the zip groups, times the seeds,
times the repetitions. Errors name the file, the line and the key.

Seeds
-----
A point's seed depends only on the scan seed, the point's parameters and the
repetition index, never on the worker or the order of execution:
``SeedSequence(seed, spawn_key=(h0, h1, repetition))`` where ``(h0, h1)`` are
the two 32-bit halves of a BLAKE2b hash of the experiment name and the
canonical parameters. The same point in two scans with the same seed is the
same run (same ``run_id``), archived once.

Execution
---------
``jobs = 1`` runs points in this process (Numba kernels may then use every
core). ``jobs > 1`` uses a pool of *spawned* processes (never ``fork``: forking
after an OpenMP parallel region hangs), each started with
``NUMBA_NUM_THREADS=1`` and one BLAS thread. ``scheduler=`` sends points to a
dask.distributed cluster (``"local"`` starts a LocalCluster of ``jobs``
single-threaded worker processes). In every case results stream back to this
process, the single writer of the archive (:class:`statmech.archive.ArchiveWriter`).
Before fanning out, the experiment's warm-up point (``ExperimentSpec.warmup``)
is run once here so that Numba's on-disk cache is filled before workers start.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import math
import multiprocessing
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from statmech.archive import (
    STATUS_COMPLETE,
    STATUS_FAILED,
    ArchiveWriter,
    RunRecord,
    canonical_params,
    make_run_id,
)
from statmech.provenance import provenance, utc_now
from statmech.registry import ExperimentSpec, RegistryError, get_experiment, load_experiment

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Environment given to pool workers: one Numba thread, one BLAS thread.
WORKER_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

_TOP_KEYS = ("experiment", "description", "seed", "seeds", "repetitions", "fixed", "grid", "zip")
_MAX_SEED = 2**63 - 1


class ScanError(ValueError):
    """A bad scan file or scan request; the message names the file, line and key."""


# -- points and seeds ------------------------------------------------------------------------


def point_seed(
    experiment: str, params: Mapping[str, Any], seed: int, repetition: int
) -> tuple[int, tuple[int, ...]]:
    """``(entropy, spawn_key)`` of a scan point's seed sequence (see the module docstring)."""
    digest = hashlib.blake2b(
        f"{experiment}\n{canonical_params(params)}".encode(), digest_size=8
    ).digest()
    h0 = int.from_bytes(digest[:4], "little")
    h1 = int.from_bytes(digest[4:], "little")
    return int(seed), (h0, h1, int(repetition))


@dataclass(frozen=True)
class ScanPoint:
    """One run of a scan.

    Attributes
    ----------
    index : int
        Position in the scan.
    params : dict
        Fully resolved parameters.
    varied : dict
        The values of the scanned axes only.
    seed : int
    spawn_key : tuple of int
    repetition : int
    run_id : str
    """

    index: int
    params: Mapping[str, Any]
    varied: Mapping[str, Any]
    seed: int
    spawn_key: tuple[int, ...]
    repetition: int
    run_id: str


@dataclass(frozen=True)
class Scan:
    """A parsed scan file.

    Attributes
    ----------
    experiment : str
    spec : ExperimentSpec
    fixed : dict
    axes : tuple of tuple
        ``((name, ...), [values...])`` per grid axis or zip group, each value
        a tuple with one entry per name.
    seeds : tuple of int
    repetitions : int
    points : tuple of ScanPoint
    description : str
    source : str
        File name (for messages).
    """

    experiment: str
    spec: ExperimentSpec
    fixed: Mapping[str, Any]
    axes: tuple
    seeds: tuple[int, ...]
    repetitions: int
    points: tuple[ScanPoint, ...]
    description: str = ""
    source: str = "<scan>"

    @property
    def axis_names(self) -> list[str]:
        return [name for names, _ in self.axes for name in names]


class _Locator:
    """Finds the line of a key in TOML text (tomllib gives lines only for syntax errors)."""

    _header = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str, source: str):
        self.source = source
        self.lines = text.splitlines()

    def line(self, table: str | None, key: str | None, occurrence: int = 0) -> int | None:
        current, count = None, -1
        key_re = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=") if key else None
        for number, raw in enumerate(self.lines, start=1):
            m = self._header.match(raw)
            if m:
                current = m.group(2).strip().strip("\"'")
                if current == table:
                    count += 1
                    if key is None and count == occurrence:
                        return number
                continue
            if (
                key_re
                and key_re.match(raw)
                and current == table
                and (table is None or count == occurrence)
            ):
                return number
        # inline tables (grid = { M = [...] }): any line mentioning the key
        if key:
            loose = re.compile(r"(^|[{,\s])[\"']?" + re.escape(key) + r"[\"']?\s*=")
            for number, raw in enumerate(self.lines, start=1):
                if loose.search(raw):
                    return number
        return None

    def error(
        self, message: str, table: str | None = None, key: str | None = None, occurrence: int = 0
    ) -> ScanError:
        line = self.line(table, key, occurrence) if (key or table) else None
        where = f"{self.source}:{line}" if line else self.source
        label = ""
        if table and key:
            label = f"[{table}] {key}: "
        elif key:
            label = f"{key}: "
        elif table:
            label = f"[{table}]: "
        return ScanError(f"{where}: {label}{message}")


def _expand_values(value, param, loc: _Locator, table: str, occurrence: int = 0) -> list:
    """A list, or a range table, to a list of coerced values."""
    name = param.name
    if isinstance(value, dict):
        allowed = {"start", "stop", "num", "step", "log", "values"}
        extra = sorted(set(value) - allowed)
        if extra:
            raise loc.error(
                f"unknown range key(s) {extra}; a range is {{start, stop, num}} or {{start, stop, step}} "
                "(optionally log = true), or {values = [...]}",
                table,
                name,
                occurrence,
            )
        if "values" in value:
            value = value["values"]
        else:
            try:
                start, stop = value["start"], value["stop"]
            except KeyError as exc:
                raise loc.error(
                    f"a range needs 'start' and 'stop' (missing {exc.args[0]!r})",
                    table,
                    name,
                    occurrence,
                ) from None
            for k in ("start", "stop", "step"):
                if k in value and (
                    isinstance(value[k], bool) or not isinstance(value[k], (int, float))
                ):
                    raise loc.error(
                        f"range '{k}' must be a number, got {value[k]!r}", table, name, occurrence
                    )
            if ("num" in value) == ("step" in value):
                raise loc.error(
                    "a range needs exactly one of 'num' or 'step'", table, name, occurrence
                )
            log = value.get("log", False)
            if not isinstance(log, bool):
                raise loc.error(
                    f"range 'log' must be true or false, got {log!r}", table, name, occurrence
                )
            if "num" in value:
                num = value["num"]
                if isinstance(num, bool) or not isinstance(num, int) or num < 0:
                    raise loc.error(
                        f"range 'num' must be an integer >= 0, got {num!r}", table, name, occurrence
                    )
                if log:
                    if start <= 0 or stop <= 0:
                        raise loc.error(
                            "a log range needs start > 0 and stop > 0", table, name, occurrence
                        )
                    raw = np.geomspace(start, stop, num) if num else np.empty(0)
                else:
                    raw = np.linspace(start, stop, num)
            else:
                step = value["step"]
                if log:
                    raise loc.error(
                        "log = true goes with 'num', not 'step'", table, name, occurrence
                    )
                if step == 0 or (stop - start) * step < 0:
                    raise loc.error(
                        f"step {step} never goes from {start} to {stop}", table, name, occurrence
                    )
                count = int(math.floor((stop - start) / step * (1 + 1e-12) + 1e-9)) + 1
                raw = start + step * np.arange(count)
            if param.type is int:
                values = []
                for x in raw:
                    if abs(x - round(x)) > 1e-9 * max(1.0, abs(x)):
                        raise loc.error(
                            f"parameter {name!r} is an int but the range gives {float(x)!r}",
                            table,
                            name,
                            occurrence,
                        )
                    values.append(int(round(x)))
                value = values
            else:
                # round off linspace/arange noise: 0.30000000000000004 -> 0.3
                value = [float(f"{x:.12g}") for x in raw]
    if not isinstance(value, list):
        raise loc.error(
            f"expected a list of values or a range table, got {value!r}", table, name, occurrence
        )
    out = []
    for i, item in enumerate(value):
        try:
            out.append(param.coerce(item))
        except (TypeError, ValueError) as exc:
            raise loc.error(f"item {i}: {exc}", table, name, occurrence) from None
    if table == "grid":
        seen = set()
        for item in out:
            if item in seen:
                raise loc.error(f"the value {item!r} is listed twice", table, name, occurrence)
            seen.add(item)
    return out


def parse_scan(text: str, source: str = "<scan>") -> Scan:
    """Parse scan-file text; raise :class:`ScanError` naming the line and key of any problem."""
    loc = _Locator(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            bare = msg[: m.start()].strip()
            raise ScanError(f"{source}:{m.group(1)}:{m.group(2)}: invalid TOML: {bare}") from None
        if "(at end of document)" in msg:
            bare = msg.replace("(at end of document)", "").strip()
            last = max(1, len(text.rstrip().splitlines()))
            raise ScanError(f"{source}:{last}: invalid TOML: {bare} (at end of file)") from None
        raise ScanError(f"{source}: invalid TOML: {msg}") from None

    for key in data:
        if key not in _TOP_KEYS:
            raise loc.error(f"unknown key (expected one of {', '.join(_TOP_KEYS)})", None, key)
    if "experiment" not in data:
        raise ScanError(
            f"{source}: missing required key 'experiment' (a name from `statmech experiments`)"
        )
    name = data["experiment"]
    if not isinstance(name, str):
        raise loc.error(f"must be a string, got {name!r}", None, "experiment")
    try:
        spec = get_experiment(name)
    except RegistryError as exc:
        raise loc.error(str(exc), None, "experiment") from None
    description = data.get("description", "")
    if not isinstance(description, str):
        raise loc.error("must be a string", None, "description")

    # seeds
    if "seed" in data and "seeds" in data:
        raise loc.error("give either 'seed' or 'seeds', not both", None, "seeds")
    if "seeds" in data:
        seeds = data["seeds"]
        if not isinstance(seeds, list):
            raise loc.error(f"must be a list of integers, got {seeds!r}", None, "seeds")
        if not seeds:
            raise loc.error("is empty: the scan has zero points", None, "seeds")
    else:
        seeds = [data.get("seed", 0)]
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= _MAX_SEED:
            key = "seeds" if "seeds" in data else "seed"
            raise loc.error(f"seeds are integers in [0, 2**63), got {s!r}", None, key)
    if len(set(seeds)) != len(seeds):
        raise loc.error("a seed is listed twice", None, "seeds")
    repetitions = data.get("repetitions", 1)
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 1:
        raise loc.error(f"must be an integer >= 1, got {repetitions!r}", None, "repetitions")

    where_set: dict[str, str] = {}

    def claim(param_name: str, table: str, occurrence: int = 0):
        try:
            param = spec.parameter(param_name)
        except ValueError as exc:
            raise loc.error(str(exc), table, param_name, occurrence) from None
        if param_name in where_set:
            raise loc.error(
                f"parameter {param_name!r} is also set in [{where_set[param_name]}]",
                table,
                param_name,
                occurrence,
            )
        where_set[param_name] = table
        return param

    fixed_raw = data.get("fixed", {})
    if not isinstance(fixed_raw, dict):
        raise loc.error("must be a table [fixed] of parameter = value", None, "fixed")
    fixed = {}
    for key, value in fixed_raw.items():
        param = claim(key, "fixed")
        try:
            fixed[key] = param.coerce(value)
        except (TypeError, ValueError) as exc:
            raise loc.error(str(exc), "fixed", key) from None

    axes = []
    grid_raw = data.get("grid", {})
    if not isinstance(grid_raw, dict):
        raise loc.error("must be a table [grid] of parameter = [values]", None, "grid")
    for key, value in grid_raw.items():
        param = claim(key, "grid")
        values = _expand_values(value, param, loc, "grid")
        if not values:
            raise loc.error("gives no values: the scan has zero points", "grid", key)
        axes.append(((key,), [(v,) for v in values]))

    zip_raw = data.get("zip", [])
    zip_tables = [zip_raw] if isinstance(zip_raw, dict) else zip_raw
    if not isinstance(zip_tables, list) or not all(isinstance(t, dict) for t in zip_tables):
        raise loc.error(
            "must be a table [zip] (or tables [[zip]]) of parameter = [values]", None, "zip"
        )
    for occurrence, table in enumerate(zip_tables):
        if not table:
            raise loc.error("is empty", "zip", None, occurrence)
        names, columns = [], []
        for key, value in table.items():
            param = claim(key, "zip", occurrence)
            columns.append(_expand_values(value, param, loc, "zip", occurrence))
            names.append(key)
        lengths = {n: len(c) for n, c in zip(names, columns)}
        if len(set(lengths.values())) > 1:
            raise loc.error(
                f"zipped lists must have the same length, got {lengths}",
                "zip",
                names[0],
                occurrence,
            )
        if not columns[0]:
            raise loc.error(
                "gives no values: the scan has zero points", "zip", names[0], occurrence
            )
        rows = list(zip(*columns))
        if len(set(rows)) != len(rows):
            raise loc.error(f"zipped rows repeat: {names} = {rows}", "zip", names[0], occurrence)
        axes.append((tuple(names), [tuple(row) for row in zip(*columns)]))

    points = []
    seen_ids = set()
    for combo in itertools.product(*[values for _, values in axes]):
        varied = {}
        for (names, _), row in zip(axes, combo):
            varied.update(zip(names, row))
        params = spec.resolve({**fixed, **varied})
        for seed in seeds:
            for rep in range(repetitions):
                entropy, key = point_seed(spec.name, params, seed, rep)
                run_id = make_run_id(spec.name, params, entropy, key)
                if run_id in seen_ids:
                    continue
                seen_ids.add(run_id)
                points.append(ScanPoint(len(points), params, varied, entropy, key, rep, run_id))
    if not points:
        raise ScanError(f"{source}: the scan has zero points")
    return Scan(
        experiment=spec.name,
        spec=spec,
        fixed=fixed,
        axes=tuple((names, values) for names, values in axes),
        seeds=tuple(seeds),
        repetitions=repetitions,
        points=tuple(points),
        description=description,
        source=source,
    )


def load_scan(path) -> Scan:
    """Read and parse a scan file (see the module docstring for the format)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScanError(f"no such scan file: {path}") from None
    except IsADirectoryError:
        raise ScanError(f"{path} is a directory, not a scan file") from None
    except PermissionError:
        raise ScanError(f"cannot read {path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ScanError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_scan(text, str(path))


# -- running one point -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    experiment: str
    source: str
    params: Mapping[str, Any]
    seed: int
    spawn_key: tuple[int, ...]
    run_id: str
    single_thread: bool = False


_SPEC_CACHE: dict[tuple[str, str], ExperimentSpec] = {}


def _spec_for(task: _Task) -> ExperimentSpec:
    key = (task.experiment, task.source)
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = (
            load_experiment(task.source, task.experiment)
            if task.source
            else get_experiment(task.experiment)
        )
        _SPEC_CACHE[key] = spec
    return spec


def _limit_numba_threads() -> None:
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(1)  # thread-local: applies to the thread running the task


def execute(task: _Task) -> RunRecord:
    """Run one point and return its record (status ``failed`` if the experiment raised)."""
    if task.single_thread:
        _limit_numba_threads()
    started = utc_now()
    result, error, status = None, "", STATUS_COMPLETE
    try:
        spec = _spec_for(task)
        seed = np.random.SeedSequence(task.seed, spawn_key=task.spawn_key)
        result = spec.run(task.params, seed=seed)
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


def _init_worker() -> None:
    import signal

    # Ctrl-C in a terminal reaches the whole process group: only the parent handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_numba_threads()


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


# -- progress ------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """A one-line progress bar with ETA on ``stream``; silent unless ``stream`` is a terminal."""

    def __init__(self, total: int, stream=None, enabled: bool | None = None, label: str = "points"):
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.total = total
        self.label = label
        self.done = 0
        self.failed = 0
        self.t0 = time.monotonic()
        self._last = 0.0

    def update(self, done: int = 1, failed: int = 0) -> None:
        self.done += done
        self.failed += failed
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.t0
        frac = self.done / self.total if self.total else 1.0
        eta = elapsed / self.done * (self.total - self.done) if self.done else math.inf
        width = 28
        filled = int(round(width * frac))
        fail = f", {self.failed} failed" if self.failed else ""
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {self.label}{fail}"
            f"  {_clock(elapsed)} elapsed, ETA {_clock(eta)} "
        )
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


# -- running a scan --------------------------------------------------------------------------------


@dataclass
class ScanReport:
    """What :func:`run_scan` did.

    Attributes
    ----------
    total : int
        Points in the scan.
    skipped : int
        Points already archived (not recomputed).
    computed : int
        Points run now (complete + failed).
    failed : list of (run_id, params, error)
    interrupted : bool
        Stopped by Ctrl-C / SIGTERM; finished runs were kept.
    elapsed : float
        Seconds.
    warmup_seconds : float
    archive : str
    """

    total: int = 0
    skipped: int = 0
    computed: int = 0
    failed: list = field(default_factory=list)
    interrupted: bool = False
    elapsed: float = 0.0
    warmup_seconds: float = 0.0
    archive: str = ""

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.computed + len(self.failed)


class _Stop:
    """Ctrl-C / SIGTERM as a flag checked between points.

    A handler that only sets a flag cannot be lost: a ``KeyboardInterrupt``
    raised by Python's default handler can land inside a weakref or GC
    callback of the executor machinery and be swallowed ("Exception ignored
    in ..."), letting the scan run on (measured). A second signal raises
    ``KeyboardInterrupt`` at once (for a long point running in this process).
    """

    def __init__(self, enabled: bool):
        import signal
        import threading

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
        import signal

        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if self._old else None
        try:
            yield
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)

    def restore(self) -> None:
        import signal

        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}


def _tasks(
    scan: Scan, todo: Sequence[ScanPoint], single_thread: bool, require_source: bool
) -> list[_Task]:
    source = scan.spec.source
    if require_source and not source:
        raise ScanError(
            f"experiment {scan.experiment!r} is registered only in this process; worker processes cannot "
            "import it: define it in an importable module (entry point or STATMECH_EXPERIMENTS), or use jobs=1"
        )
    return [
        _Task(scan.experiment, source, dict(p.params), p.seed, p.spawn_key, p.run_id, single_thread)
        for p in todo
    ]


def _warm_up(spec: ExperimentSpec) -> float:
    """Run the experiment's warm-up point here (compiles Numba kernels into the cache)."""
    if not spec.warmup:
        return 0.0
    t0 = time.perf_counter()
    try:
        spec.run(spec.warmup, seed=0)
    except Exception as exc:
        raise ScanError(
            f"the warm-up run of {spec.name!r} ({spec.warmup}) failed: {type(exc).__name__}: {exc}"
        ) from exc
    return time.perf_counter() - t0


def run_scan(
    scan: Scan,
    archive,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Progress | bool | None = None,
    publish_interval: float = 0.0,
    on_record: Callable[[RunRecord], None] | None = None,
    handle_signals: bool = True,
) -> ScanReport:
    """Run every point of ``scan`` not yet in ``archive`` and archive the results.

    Parameters
    ----------
    scan : Scan
    archive : path-like
        HDF5 archive (created if missing).
    jobs : int
        1: run here; N > 1: a pool of N spawned single-threaded processes; with
        ``scheduler="local"``: the number of dask workers.
    scheduler : str, optional
        A dask.distributed scheduler address (``tcp://host:8786``), a
        scheduler JSON file, or ``"local"``.
    resume : bool
        Required when the archive already holds some of this scan's points:
        they are then skipped.
    progress : Progress or bool, optional
        ``None``: a bar on stderr when it is a terminal.
    publish_interval : float
        See :class:`statmech.archive.ArchiveWriter`.
    on_record : callable, optional
        Called with each archived :class:`RunRecord`.
    handle_signals : bool
        In the main thread, turn SIGINT/SIGTERM into a clean stop for the
        duration of the scan (a second Ctrl-C interrupts at once).

    Returns
    -------
    ScanReport
        On Ctrl-C (KeyboardInterrupt) the finished runs are archived and the
        report has ``interrupted=True``.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ScanError(f"jobs must be an integer >= 1, got {jobs!r}")
    t0 = time.monotonic()
    report = ScanReport(total=len(scan.points), archive=str(archive))
    with ArchiveWriter(archive, publish_interval=publish_interval) as writer:
        done_ids = writer.completed_ids()
        already = [p for p in scan.points if p.run_id in done_ids]
        if already and not resume:
            raise ScanError(
                f"{archive} already holds {len(already)} of the {len(scan.points)} points of this scan "
                f"(an interrupted or repeated scan); pass --resume (resume=True) to compute only the "
                f"{len(scan.points) - len(already)} remaining points, or write to another file"
            )
        todo = [p for p in scan.points if p.run_id not in done_ids]
        report.skipped = len(already)
        if isinstance(progress, Progress):
            bar = progress
        else:
            bar = Progress(len(todo), enabled=None if progress is None else bool(progress))

        def consume(record: RunRecord) -> None:
            writer.add(record)
            report.computed += 1
            if record.status != STATUS_COMPLETE:
                report.failed.append(
                    (record.run_id, dict(record.params), record.error.splitlines()[0])
                )
            bar.update(1, failed=int(record.status != STATUS_COMPLETE))
            if on_record is not None:
                on_record(record)

        stop = _Stop(handle_signals)
        try:
            if todo:
                if scheduler:
                    report.warmup_seconds = _warm_up(scan.spec)
                    _run_dask(_tasks(scan, todo, True, True), scheduler, jobs, consume, stop)
                elif jobs > 1 and len(todo) > 1:
                    report.warmup_seconds = _warm_up(scan.spec)
                    _run_pool(_tasks(scan, todo, True, True), min(jobs, len(todo)), consume, stop)
                else:
                    for task in _tasks(scan, todo, False, False):
                        stop.check()
                        consume(execute(task))
                stop.check()
        except KeyboardInterrupt:
            report.interrupted = True
        except Exception:
            if not stop.requested:
                raise
            report.interrupted = True  # e.g. a worker killed by the same Ctrl-C
        finally:
            stop.restore()
            bar.close()
    report.elapsed = time.monotonic() - t0
    return report


def _run_pool(
    tasks: list[_Task], jobs: int, consume: Callable[[RunRecord], None], stop: _Stop
) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")
    # Spawned children copy os.environ when they start (all at the first submit).
    with _environment(WORKER_ENV), stop.ignored():
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker)
        pending = set()
        iterator = iter(tasks)
        # keep a bounded number of points in flight so Ctrl-C has little to cancel
        for task in itertools.islice(iterator, 2 * jobs):
            pending.add(pool.submit(execute, task))
    try:
        while pending:
            stop.check()
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in finished:
                consume(fut.result())
                nxt = next(iterator, None)
                if nxt is not None:
                    pending.add(pool.submit(execute, nxt))
    except BaseException:
        for fut in pending:
            fut.cancel()
        processes = list(getattr(pool, "_processes", {}).values())
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_dask(
    tasks: list[_Task],
    scheduler: str,
    jobs: int,
    consume: Callable[[RunRecord], None],
    stop: _Stop,
) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ScanError(
            "--scheduler needs dask.distributed: pip install 'statmech[dask]'"
        ) from None

    cluster = None
    if scheduler == "local":
        with stop.ignored():
            cluster = LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=dict(WORKER_ENV),
                silence_logs=logging.CRITICAL,  # shutdown chatter is not the user's business
            )
        client = Client(cluster)
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
        futures = [
            client.submit(execute, task, pure=False, key=f"statmech-{task.run_id}")
            for task in tasks
        ]
        stream = as_completed(futures)
        while not stream.is_empty():
            stop.check()
            batch = stream.next_batch(block=False)
            if not batch:
                time.sleep(0.05)
            for fut in batch:
                consume(fut.result())
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


# -- a single run ----------------------------------------------------------------------------------------


def run_point(
    spec: ExperimentSpec, params: Mapping[str, Any] | None = None, seed: int = 0
) -> RunRecord:
    """Run one point of ``spec`` here (``statmech run``); failures raise instead of being recorded."""
    if (
        isinstance(seed, bool)
        or not isinstance(seed, (int, np.integer))
        or not 0 <= seed <= _MAX_SEED
    ):
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    resolved = spec.resolve(params)
    run_id = make_run_id(spec.name, resolved, int(seed), ())
    started = utc_now()
    result = spec.run(resolved, seed=np.random.SeedSequence(int(seed)))
    return RunRecord(
        run_id=run_id,
        experiment=spec.name,
        params=resolved,
        seed=int(seed),
        spawn_key=(),
        status=STATUS_COMPLETE,
        started=started,
        finished=utc_now(),
        provenance=provenance(),
        result=result,
    )


__all__ = [
    "WORKER_ENV",
    "ScanError",
    "ScanPoint",
    "Scan",
    "ScanReport",
    "Progress",
    "point_seed",
    "parse_scan",
    "load_scan",
    "run_scan",
    "run_point",
    "execute",
]
