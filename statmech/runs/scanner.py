"""Running experiments: one point (:func:`run_point`) or a whole scan (:func:`run_scan`).

:func:`run_scan` checks everything it can before computing anything: the
arguments, then every point's memory estimate against the memory available
(a point that cannot fit refuses the scan, naming the point and the parameters
that drive its memory; a pool too wide for the memory is narrowed), then the
archive (``--resume``). It runs the experiment's warm-up point here before
fanning out (so workers load compiled kernels from Numba's cache), sends the
points to an executor (:mod:`statmech.runs.executors`), archives each finished
run through the single :class:`~statmech.runs.writer.ArchiveWriter`, and
shows progress (:mod:`statmech.runs.progress`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from statmech.memory import InsufficientMemoryError, available_memory, format_bytes
from statmech.runs.executors import Task, run_dask, run_inline, run_pool
from statmech.runs.lifetime import StopRequest
from statmech.runs.progress import Progress, ProgressCallback
from statmech.runs.provenance import provenance, utc_now
from statmech.runs.registry import ExperimentSpec
from statmech.runs.resources import LONG_SECONDS, Resources, check_point_memory, format_seconds
from statmech.runs.scanfile import MAX_SEED, Scan, ScanError, ScanPoint
from statmech.runs.schema import STATUS_COMPLETE, RunRecord, canonical_params, make_run_id
from statmech.runs.writer import ArchiveWriter, WriterStats

__all__ = ["ScanReport", "run_scan", "run_point", "check_scan", "ScanEstimate"]

#: Final merges of archives at least this big get a progress bar on a terminal.
MERGE_PROGRESS_BYTES = 16 * 2**20


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
    jobs : int
        Worker processes used (the request, narrowed to what the memory allows).
    estimate : ScanEstimate or None
    archive_stats : WriterStats or None
        Where the archive's time went (staging, encoding, publishing, final merge).
    notes : list of str
        What the scan decided on its own (a narrowed pool, a long estimate).
    """

    total: int = 0
    skipped: int = 0
    computed: int = 0
    failed: list = field(default_factory=list)
    interrupted: bool = False
    elapsed: float = 0.0
    warmup_seconds: float = 0.0
    archive: str = ""
    jobs: int = 1
    estimate: "ScanEstimate | None" = None
    archive_stats: WriterStats | None = None
    notes: list = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.computed + len(self.failed)


@dataclass(frozen=True)
class ScanEstimate:
    """Resources of a scan's points, from the experiment's estimate.

    Attributes
    ----------
    peak_memory : float
        Largest peak memory of one point (bytes), or NaN without an estimate.
    seconds : float or None
        Sum of the points' estimated times (one core each), or None.
    jobs : int
        Points that may run at once within the available memory.
    available : int
        Bytes available when checked.
    """

    peak_memory: float
    seconds: float | None
    jobs: int
    available: int

    def wall_seconds(self, jobs: int) -> float | None:
        return None if self.seconds is None else self.seconds / max(1, jobs)


def check_scan(scan: Scan, points: Sequence[ScanPoint] | None = None, *, jobs: int = 1,
               memory_limit: int | None = None) -> ScanEstimate:
    """Estimate every point of ``scan`` and refuse (``ScanError``) one that cannot fit in memory.

    Estimates depend only on the parameters, so each distinct parameter set is
    estimated once. Returns the largest peak, the total time and how many
    points fit in memory at once (at most ``jobs``).
    """
    spec = scan.spec
    points = scan.points if points is None else points
    available = available_memory() if memory_limit is None else int(memory_limit)
    seen: dict[str, Resources | None] = {}
    peak, seconds, timed = 0.0, 0.0, True
    for point in points:
        key = canonical_params(point.params)
        if key not in seen:
            try:
                seen[key] = spec.estimate(point.params)
            except (TypeError, ValueError) as exc:
                raise ScanError(f"{scan.source}: point {_varied(point)} is refused by {spec.name!r}: {exc}") from None
            if seen[key] is not None:
                try:
                    check_point_memory(spec.name, point.params, seen[key], memory_limit=available)
                except InsufficientMemoryError as exc:
                    raise ScanError(f"{scan.source}: point {_varied(point)}: {exc}") from None
        estimate = seen[key]
        if estimate is None:
            peak, timed = math.nan, False
            continue
        if not math.isnan(peak):
            peak = max(peak, estimate.peak_memory)
        if estimate.seconds is None:
            timed = False
        else:
            seconds += estimate.seconds
    fit = jobs if math.isnan(peak) or peak <= 0 else max(1, min(jobs, int(available // peak)))
    return ScanEstimate(peak_memory=peak, seconds=seconds if timed else None, jobs=fit, available=available)


def _varied(point: ScanPoint) -> str:
    return " ".join(f"{k}={v}" for k, v in point.varied.items()) or f"#{point.index}"


def _tasks(scan: Scan, todo: Sequence[ScanPoint], single_thread: bool, require_source: bool) -> list[Task]:
    source = scan.spec.source
    if require_source and not source:
        raise ScanError(
            f"experiment {scan.experiment!r} is registered only in this process; worker processes cannot "
            "import it: define it in an importable module (entry point or STATMECH_EXPERIMENTS), or use jobs=1"
        )
    return [Task(scan.experiment, source, dict(p.params), p.seed, p.spawn_key, p.run_id, single_thread)
            for p in todo]


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


def _check_interval(publish_interval) -> float:
    try:
        value = float(publish_interval)
    except (TypeError, ValueError):
        raise ScanError(f"publish_interval must be a number of seconds, got {publish_interval!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise ScanError(f"publish_interval must be finite and >= 0 seconds, got {publish_interval!r}")
    return value


def run_scan(
    scan: Scan,
    archive,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Progress | bool | str | None = None,
    publish_interval: float = 0.0,
    on_record: Callable[[RunRecord], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    handle_signals: bool = True,
    check_memory: bool = True,
) -> ScanReport:
    """Run every point of ``scan`` not yet in ``archive`` and archive the results.

    Parameters
    ----------
    scan : Scan
    archive : path-like
        HDF5 archive (created if missing).
    jobs : int
        1: run here; N > 1: a pool of N spawned single-threaded processes
        (fewer if the points' memory estimates do not fit N at once); with
        ``scheduler="local"``: the number of dask workers.
    scheduler : str, optional
        A dask.distributed scheduler address (``tcp://host:8786``), a
        scheduler JSON file, or ``"local"``.
    resume : bool
        Required when the archive already holds some of this scan's points:
        they are then skipped.
    progress : Progress, bool or {"bar", "lines", "off"}, optional
        ``None``/``True``: a bar on a terminal, plain lines otherwise;
        ``False``: none.
    publish_interval : float
        See :class:`statmech.runs.writer.ArchiveWriter`.
    on_record : callable, optional
        Called with each archived :class:`RunRecord`.
    on_note : callable, optional
        Called with each note (a narrowed pool, a long time estimate) before
        the points start.
    handle_signals : bool
        In the main thread, turn SIGINT/SIGTERM into a clean stop for the
        duration of the scan (a second Ctrl-C interrupts at once).
    check_memory : bool
        Refuse points whose memory estimate exceeds the available memory
        (for a remote dask cluster the workers check for themselves).

    Returns
    -------
    ScanReport
        On Ctrl-C (KeyboardInterrupt) the finished runs are archived and the
        report has ``interrupted=True``.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ScanError(f"jobs must be an integer >= 1, got {jobs!r}")
    publish_interval = _check_interval(publish_interval)
    t0 = time.monotonic()
    report = ScanReport(total=len(scan.points), archive=str(archive), jobs=jobs)

    def note(message: str) -> None:
        report.notes.append(message)
        if on_note is not None:
            on_note(message)

    local = scheduler in (None, "local")
    if check_memory and local:
        report.estimate = check_scan(scan, jobs=jobs)
        if report.estimate.jobs < jobs:
            note(f"each point may take up to {format_bytes(report.estimate.peak_memory)}: running "
                 f"{report.estimate.jobs} at a time instead of {jobs} "
                 f"({format_bytes(report.estimate.available)} available)")
            jobs = report.jobs = report.estimate.jobs
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
        estimate_seconds = None
        if report.estimate is not None and report.estimate.seconds is not None and todo:
            share = len(todo) / len(scan.points)
            estimate_seconds = report.estimate.wall_seconds(1 if scheduler is None and jobs == 1 else jobs) * share
            if estimate_seconds >= LONG_SECONDS:
                note(f"{scan.experiment}: {len(todo)} points, estimated ~{format_seconds(estimate_seconds)} "
                     f"of computing (rough; Ctrl-C stops and keeps finished runs)")
        bar = _progress_for(progress, len(todo), estimate_seconds)

        def consume(record: RunRecord) -> None:
            writer.add(record)
            report.computed += 1
            if record.status != STATUS_COMPLETE:
                report.failed.append((record.run_id, dict(record.params), record.error.splitlines()[0]))
            bar.update(1, failed=int(record.status != STATUS_COMPLETE), key=record.run_id)
            if on_record is not None:
                on_record(record)

        stop = StopRequest(handle_signals)
        try:
            if todo:
                if scheduler:
                    report.warmup_seconds = _warm_up(scan.spec)
                    run_dask(_tasks(scan, todo, True, True), scheduler, jobs, consume, stop, bar)
                elif jobs > 1 and len(todo) > 1:
                    report.warmup_seconds = _warm_up(scan.spec)
                    run_pool(_tasks(scan, todo, True, True), min(jobs, len(todo)), consume, stop, bar)
                else:
                    run_inline(_tasks(scan, todo, False, False), consume, stop, bar)
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
            merge_bar = _final_merge_progress(writer, bar)
        report.archive_stats = writer.stats
    if merge_bar is not None:
        merge_bar.close()
    report.elapsed = time.monotonic() - t0
    return report


def _progress_for(progress, total: int, estimate: float | None) -> Progress:
    if isinstance(progress, Progress):
        return progress
    if progress is False:
        mode = "off"
    elif isinstance(progress, str):
        mode = progress
    else:
        mode = None
    return Progress(total, mode=mode, estimate=estimate)


def _final_merge_progress(writer: ArchiveWriter, bar: Progress) -> Progress | None:
    """Give the final merge (at the writer's close) a bar of its own on a terminal when the archive is big."""
    if bar.mode != "bar" or not writer.staged_ids() or writer.image_size() < MERGE_PROGRESS_BYTES:
        return None
    merge = Progress(1, stream=bar.stream, mode="bar", label="archive written")
    writer.progress = merge.callback("merge")
    return merge


def run_point(
    spec: ExperimentSpec, params: Mapping[str, Any] | None = None, seed: int = 0, *,
    progress: ProgressCallback | None = None, check_memory: bool = True,
) -> RunRecord:
    """Run one point of ``spec`` here (``statmech run``); failures raise instead of being recorded."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    resolved = spec.resolve(params)
    run_id = make_run_id(spec.name, resolved, int(seed), ())
    started = utc_now()
    result = spec.run(resolved, seed=np.random.SeedSequence(int(seed)), progress=progress,
                      check_memory=check_memory)
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
