"""The single, crash-safe writer of an archive.

HDF5 files are not journalled: a process killed while it modifies a file can
leave it unreadable, and HDF5 file locking refuses a second writer. So the live
archive is never modified in place. The writer keeps a *working copy* of the
archive (in memory, or beside it on disk when it is big) and:

1. **stages** each finished run: appends it to the staging log
   ``<archive>.staging/*.runlog`` (:mod:`statmech.runs.staging`: one
   ``os.write``; it survives the process's death at once), then encodes it
   into the working copy (:func:`statmech.runs.schema.write_run`, once);
2. **publishes** from time to time: writes the working copy's image to a
   temporary file beside the archive, ``fsync``-s it and ``os.replace``-s it
   over the archive (an atomic rename on POSIX), then deletes the logs, whose
   runs are now in the archive.

A SIGKILL at any moment therefore leaves the previous archive or the new one,
each complete, plus logged runs that the next writer (``statmech scan
--resume``) encodes and publishes, and stray temporary files that it deletes.
Readers (:func:`statmech.runs.reader.open_archive`) keep the inode they opened,
which the writer never modifies, so they always see a consistent snapshot. A
lock file ``<archive>.lock`` (``flock``, released by the kernel when the writer
dies, even by SIGKILL) admits one writer at a time.

Cost: encoding a run costs ~0.1 ms per dataset; a publish writes the whole
archive, so publishes are spaced by at least ``COST_FACTOR`` times the
duration of the last one (periodic publishes take at most ~3 % of the wall
time however big the archive grows) and the last one, at :meth:`close`, writes
the archive once more. Publishing needs free space for a second copy of the
archive (and, for archives over :attr:`ArchiveWriter.IN_MEMORY_LIMIT`, a third:
the working copy on disk).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from statmech.runs.errors import ArchiveBusyError, ArchiveError, DiskFullError, NotAnArchiveError, is_disk_full
from statmech.runs.reader import open_h5, staging_dir
from statmech.runs.schema import (
    FILE_LIBVER,
    SCHEMA_VERSION,
    STATUS_COMPLETE,
    RunRecord,
    check_root,
    init_root,
    read_record,
    write_run,
)
from statmech.runs.shared import SharedObjects
from statmech.runs.staging import StagingLog, legacy_files, log_files, read_log

__all__ = ["ArchiveWriter", "WriterStats"]

#: Bytes written per ``os.write`` when publishing (progress is reported between them).
_CHUNK = 64 * 2**20


@dataclass
class WriterStats:
    """Where a writer's time went (seconds) and what it wrote.

    Attributes
    ----------
    runs : int
        Runs added (not counting recovered ones).
    stage_seconds : float
        Appending runs to the staging log.
    encode_seconds : float
        Encoding runs into the working copy (HDF5).
    publish_seconds : float
        Periodic publishes (before :meth:`ArchiveWriter.close`).
    publishes : int
    final_seconds : float
        The publish at :meth:`ArchiveWriter.close` (the final merge).
    recovered : int
        Runs found staged by an interrupted writer and published.
    archive_bytes : int
        Size of the last archive published.
    """

    runs: int = 0
    stage_seconds: float = 0.0
    encode_seconds: float = 0.0
    publish_seconds: float = 0.0
    publishes: int = 0
    final_seconds: float = 0.0
    recovered: int = 0
    archive_bytes: int = 0


def _fsync(fd: int) -> None:
    os.fsync(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _fsync(fd)
    finally:
        os.close(fd)


def _write_durably(tmp: Path, data, progress: Callable[[float, float], None] | None = None) -> None:
    """Write ``data`` (bytes-like) to a new file ``tmp`` and fsync it.

    Plain ``os.write``: a full disk raises a clean ``OSError(ENOSPC)`` here,
    instead of inside HDF5, whose error path leaves h5py objects that cannot
    be closed (measured: it can crash the interpreter at exit).
    """
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data).cast("B")
        total, done = len(view), 0
        while len(view):
            written = os.write(fd, view[:_CHUNK])
            view = view[written:]
            done += written
            if progress is not None:
                progress(done, total)
        _fsync(fd)
    finally:
        os.close(fd)


def _copy_durably(src: Path, tmp: Path, progress: Callable[[float, float], None] | None = None) -> None:
    """Copy ``src`` to a new file ``tmp`` chunk by chunk and fsync it."""
    total = src.stat().st_size
    with open(src, "rb") as fin:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            done = 0
            while True:
                chunk = fin.read(_CHUNK)
                if not chunk:
                    break
                view = memoryview(chunk)
                while len(view):
                    written = os.write(fd, view)
                    view = view[written:]
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            _fsync(fd)
        finally:
            os.close(fd)


def _check_free_space(directory: Path, needed: int, what: str) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise DiskFullError(
            f"disk full: {what} needs about {needed / 1e6:.1f} MB in {directory}, only {free / 1e6:.1f} MB free"
        )


def _record_bytes(record: RunRecord) -> int:
    result = record.result
    if result is None:
        return 0
    return sum(np.asarray(a).nbytes for _, a in result.arrays.values()) + sum(
        np.asarray(c).nbytes for c in result.coords.values())


class ArchiveWriter:
    """The single writer of an archive: stages finished runs and publishes them atomically.

    Parameters
    ----------
    path : path-like
        The archive (created on first publish if missing).
    publish_interval : float
        Minimum seconds between publishes (0: as often as the cost limit
        allows). Must be finite and ``>= 0``.
    progress : callable, optional
        ``progress(done, total)`` during long phases: recovering runs staged
        by an interrupted writer, and the final merge of :meth:`close`.

    Use as a context manager; :meth:`close` publishes what is staged and
    releases the lock. :attr:`stats` says where the time went.
    """

    #: Wait at least this many times the last publish's duration before the next
    #: (periodic publishes then take at most 1/(1 + COST_FACTOR) of the wall time).
    COST_FACTOR = 29.0
    #: Working copies up to this size (bytes) are kept in memory; bigger ones on disk.
    IN_MEMORY_LIMIT = 512 * 2**20

    def __init__(self, path, *, publish_interval: float = 0.0,
                 progress: Callable[[float, float], None] | None = None):
        self.path = Path(path).absolute()
        self.staging = staging_dir(self.path)
        try:
            interval = float(publish_interval)
        except (TypeError, ValueError):
            raise ValueError(f"publish_interval must be a number of seconds, got {publish_interval!r}") from None
        if not (math.isfinite(interval) and interval >= 0):
            raise ValueError(f"publish_interval must be finite and >= 0 seconds, got {publish_interval!r}")
        self.publish_interval = interval
        self.progress = progress
        self.stats = WriterStats()
        self.published_count = 0
        self._lock_fd = None
        self._file = None
        self._buffer: io.BytesIO | None = None
        self._work_path: Path | None = None
        self._broken = ""
        self._shared = SharedObjects()  # what runs share, checked once per writer
        self._last_publish_end = -math.inf
        self._last_publish_cost = 0.0
        self._last_publish_size = 1
        self._unpublished: dict[str, str] = {}
        self._complete: set[str] = set()
        self._failed: set[str] = set()
        if not self.path.parent.is_dir():
            raise NotAnArchiveError(f"cannot write {self.path}: directory {self.path.parent} does not exist")
        self._acquire_lock()
        try:
            self._clean_stale()
            self._open_working_copy()
            self._log = StagingLog(self.staging)
            self._recover()
        except BaseException:
            self._close_working_copy()
            self._release_lock()
            raise

    # -- locking and stale files ----------------------------------------------------------------
    def _acquire_lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        while True:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                if is_disk_full(exc):
                    raise DiskFullError(f"disk full: cannot create {lock_path}") from None
                raise ArchiveError(f"cannot create lock file {lock_path}: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise ArchiveBusyError(
                    f"{self.path} is being written by another statmech process (lock {lock_path} is held); "
                    "wait for it to finish (reading with `statmech ls` works meanwhile)"
                ) from None
            # The previous holder may have unlinked the lock file between our open and flock.
            try:
                same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._lock_fd = fd
                self._lock_path = lock_path
                return
            os.close(fd)

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._lock_path)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _clean_stale(self) -> None:
        """Delete temporary files left by a killed writer (we hold the lock: none is live)."""
        for prefix in (f".{self.path.name}.publish-", f".{self.path.name}.work-"):
            for p in self.path.parent.glob(prefix + "*"):
                with contextlib.suppress(OSError):
                    p.unlink()
        if self.staging.is_dir():
            for p in self.staging.iterdir():
                if p.name.startswith("."):
                    with contextlib.suppress(OSError):
                        p.unlink()

    # -- the working copy ------------------------------------------------------------------------
    def _open_working_copy(self) -> None:
        import h5py

        if not self.path.exists():
            self._buffer = io.BytesIO()
            self._file = h5py.File(self._buffer, "w", libver=FILE_LIBVER)
            init_root(self._file)
            self._root_version = SCHEMA_VERSION
            return
        with open_h5(self.path, "r") as f:
            check_root(f, self.path)
        size = self.path.stat().st_size
        if size <= self.IN_MEMORY_LIMIT:
            self._buffer = io.BytesIO(self.path.read_bytes())
            self._file = h5py.File(self._buffer, "r+", libver=FILE_LIBVER)
        else:
            work = self._work_file()
            _check_free_space(self.path.parent, 2 * size + (16 << 20), f"a working copy of {self.path}")
            shutil.copyfile(self.path, work)
            self._work_path = work
            self._file = h5py.File(work, "r+", libver=FILE_LIBVER)
        self._root_version = check_root(self._file, self.path)
        for run_id, group in self._file["runs"].items():
            try:
                status = group.attrs["status"]
            except Exception:  # noqa: BLE001 - a damaged run counts as not done: it is recomputed
                continue
            status = status.decode() if isinstance(status, bytes) else str(status)
            (self._complete if status == STATUS_COMPLETE else self._failed).add(run_id)

    def _work_file(self) -> Path:
        return self.path.with_name(f".{self.path.name}.work-{os.getpid()}.h5")

    def _close_working_copy(self) -> None:
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
            self._file = None
        self._buffer = None
        if self._work_path is not None:
            with contextlib.suppress(OSError):
                self._work_path.unlink()
            self._work_path = None

    def _spill_to_disk(self) -> None:
        """Move a working copy grown past :attr:`IN_MEMORY_LIMIT` from memory to a file beside the archive."""
        import h5py

        self._file.flush()
        work = self._work_file()
        with self._buffer.getbuffer() as view:
            size = len(view)
            _check_free_space(self.path.parent, 2 * size + (16 << 20), f"a working copy of {self.path}")
            _write_durably(work, view)
        self._file.close()
        self._buffer = None
        self._work_path = work
        self._file = h5py.File(work, "r+", libver=FILE_LIBVER)

    def _encode(self, record: RunRecord) -> bool:
        """Put ``record`` into the working copy; False if a complete run of that id is already there."""
        if self._broken:
            raise ArchiveError(self._broken)
        runs = self._file["runs"]
        if record.run_id in self._complete:
            return False
        if self._work_path is not None:
            _check_free_space(self.path.parent, 2 * _record_bytes(record) + (16 << 20),
                              f"adding run {record.run_id} to the working copy of {self.path}")
        try:
            if record.run_id in runs:  # a failed run, now computed again
                del runs[record.run_id]
            if self._root_version < SCHEMA_VERSION:
                self._file.attrs["schema_version"] = np.int64(SCHEMA_VERSION)
                self._root_version = SCHEMA_VERSION
            write_run(runs, record, self._shared)
        except Exception as exc:
            if is_disk_full(exc):
                self._broken = (
                    f"disk full while adding run {record.run_id} to the working copy of {self.path}; the "
                    f"archive is unchanged and the finished runs are kept in {self.staging}; free some space "
                    "and resume"
                )
                raise DiskFullError(self._broken) from None
            raise
        if record.status == STATUS_COMPLETE:
            self._complete.add(record.run_id)
            self._failed.discard(record.run_id)
        else:
            self._failed.add(record.run_id)
        self._unpublished[record.run_id] = record.status
        if self._buffer is not None and self._file.id.get_filesize() > self.IN_MEMORY_LIMIT:
            self._spill_to_disk()
        return True

    def _recover(self) -> None:
        """Encode the runs an interrupted writer staged but did not publish, then publish them."""
        logs = log_files(self.staging)
        legacy = legacy_files(self.staging)
        if not logs and not legacy:
            return
        records = []
        for log in logs:
            records.extend(record for _, record in read_log(log))
        for staged in legacy:  # one HDF5 file per run (statmech before issue 9)
            try:
                with open_h5(staged, "r") as f:
                    records.extend(read_record(group) for group in f["runs"].values())
            except Exception:  # noqa: BLE001 - keep an unreadable file aside, never delete it
                staged.rename(staged.with_name("." + staged.name + ".unreadable"))
        for k, record in enumerate(records):
            if self._encode(record):
                self.stats.recovered += 1
            if self.progress is not None:
                self.progress(k + 1, len(records))
        if self._unpublished:
            self.publish()
        else:  # everything was already published (killed after the rename, before the clean-up)
            self._delete_staged()

    def _delete_staged(self) -> None:
        for p in log_files(self.staging) + legacy_files(self.staging):
            with contextlib.suppress(OSError):
                p.unlink()
        with contextlib.suppress(OSError):
            _fsync_dir(self.staging)

    # -- queries ---------------------------------------------------------------------------------
    def staged_ids(self) -> set[str]:
        """Ids of complete runs staged but not yet published."""
        return {rid for rid, status in self._unpublished.items() if status == STATUS_COMPLETE}

    def completed_ids(self) -> set[str]:
        """Run ids finished successfully: published or staged."""
        return set(self._complete)

    def has_complete(self, run_id: str) -> bool:
        return run_id in self._complete

    def image_size(self) -> int:
        """Bytes of the working copy: what the next publish writes."""
        return int(self._file.id.get_filesize())

    def read(self, run_id: str) -> RunRecord:
        """Read back a published or staged run."""
        return read_record(self._file["runs"][run_id])

    # -- writing ---------------------------------------------------------------------------------
    def stage(self, record: RunRecord) -> None:
        """Log ``record`` durably and encode it into the working copy (not yet published)."""
        t0 = time.perf_counter()
        self._log.append(record)
        t1 = time.perf_counter()
        self._encode(record)
        t2 = time.perf_counter()
        self.stats.runs += 1
        self.stats.stage_seconds += t1 - t0
        self.stats.encode_seconds += t2 - t1

    def add(self, record: RunRecord, *, publish: bool | None = None) -> None:
        """Stage ``record``, then publish if due (``publish=True`` forces it)."""
        self.stage(record)
        if publish or (publish is None and self._publish_due()):
            self.publish()

    def _publish_due(self) -> bool:
        # a publish costs in proportion to the archive's size: predict the next one from the last
        predicted = self._last_publish_cost * max(1.0, self.image_size() / self._last_publish_size)
        wait = max(self.publish_interval, self.COST_FACTOR * predicted)
        return time.monotonic() - self._last_publish_end >= wait

    def publish(self, progress: Callable[[float, float], None] | None = None) -> int:
        """Replace the archive with the working copy, atomically. Returns how many runs it added.

        The image goes to a temporary file beside the archive with plain
        ``os.write`` (a full disk is a clean error), is fsync-ed and renamed
        over the archive; then the staging logs, whose runs are all in the
        archive now, are deleted.
        """
        if not self._unpublished:
            return 0
        if self._broken:
            raise ArchiveError(self._broken)
        t0 = time.monotonic()
        tmp = self.path.with_name(f".{self.path.name}.publish-{os.getpid()}.tmp")
        try:
            self._file.flush()
            if self._buffer is not None:
                with self._buffer.getbuffer() as view:
                    size = len(view)
                    _write_durably(tmp, view, progress)
            else:
                size = self._work_path.stat().st_size
                _check_free_space(self.path.parent, size + (1 << 20), f"publishing into {self.path}")
                _copy_durably(self._work_path, tmp, progress)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if is_disk_full(exc):
                raise DiskFullError(
                    f"disk full while publishing into {self.path} (publishing needs room for a second copy "
                    f"of the archive); the archive is unchanged and {len(self._unpublished)} finished runs stay "
                    f"staged in {self.staging}; free some space and resume"
                ) from None
            raise
        added = len(self._unpublished)
        self._unpublished.clear()
        self._log.close()
        self._delete_staged()
        self._log = StagingLog(self.staging)
        self.published_count += added
        self._last_publish_end = time.monotonic()
        self._last_publish_cost = self._last_publish_end - t0
        self._last_publish_size = max(size, 1)
        self.stats.publishes += 1
        self.stats.publish_seconds += self._last_publish_cost
        self.stats.archive_bytes = size
        return added

    def close(self) -> None:
        """Publish what is staged (the final merge), remove the empty staging folder, release the lock."""
        if self._lock_fd is None:
            return
        try:
            t0 = time.monotonic()
            before = self.stats.publish_seconds
            self.publish(self.progress)
            final = time.monotonic() - t0
            self.stats.final_seconds += final
            self.stats.publish_seconds = before  # the final merge is counted apart
            self._log.close()
            with contextlib.suppress(OSError):
                self.staging.rmdir()
        finally:
            self._close_working_copy()
            self._release_lock()

    def abandon(self) -> None:
        """Release the lock without publishing (staged runs stay for the next writer)."""
        with contextlib.suppress(Exception):
            self._log.close()
        self._close_working_copy()
        self._release_lock()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            self.close()
        else:
            # after an error (disk full...) keep staged runs; try to publish, never mask the error
            try:
                self.close()
            except Exception:
                self.abandon()
