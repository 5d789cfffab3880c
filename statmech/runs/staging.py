"""The staging log: finished runs, appended to a plain file the moment they finish.

The archive's writer (:mod:`statmech.runs.writer`) appends every finished run
to a log file in ``<archive>.staging/`` *before* it touches HDF5, with one
``os.write`` of a self-checking record:

``magic (8 bytes) | meta length (u64) | blob length (u64) | BLAKE2b-128 of meta and blob | meta | blob``

``meta`` is JSON (the run's identity, parameters, seed, times, provenance,
scalars, metadata, and where each array lies in ``blob``); ``blob`` holds the
arrays' raw bytes. A write that is cut short (the process killed in the middle,
a full disk) leaves a record whose lengths or digest do not match: readers stop
at it, so a log always reads as the runs appended whole before it.

Durability: data handed to ``os.write`` belongs to the kernel and survives the
writing process's death at once (SIGKILL, the OOM killer, ``scancel``); the log
is also ``fsync``-ed at least every :data:`SYNC_SECONDS`, so at most that much
work is exposed to a crash of the whole machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from statmech.runs.errors import DiskFullError, is_disk_full
from statmech.runs.result import ExperimentResult
from statmech.runs.schema import RunRecord, json_default

__all__ = ["StagingLog", "encode_record", "decode_record", "read_log", "staged_records", "log_files",
           "legacy_files", "SYNC_SECONDS"]

MAGIC = b"SMRUN\x00v1"
_HEADER = struct.Struct("<8sQQ16s")
#: The log is fsync-ed at least this often (seconds) while runs are appended.
SYNC_SECONDS = 1.0
#: Name pattern of log files inside the staging folder.
LOG_SUFFIX = ".runlog"


def _describe_array(arr, blobs: list, offset: int) -> tuple[dict, int]:
    arr = np.asarray(arr)
    if arr.dtype.kind in "UOS":
        return {"strings": [str(v) for v in arr.reshape(-1)], "shape": list(arr.shape)}, offset
    arr = np.ascontiguousarray(arr)
    blobs.append(memoryview(arr.reshape(-1)).cast("B"))
    spec = {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset, "nbytes": arr.nbytes}
    return spec, offset + arr.nbytes


def encode_record(record: RunRecord) -> bytes:
    """One log record (header, meta, blob) for ``record``."""
    blobs: list = []
    offset = 0
    result = record.result
    meta = {
        "run_id": record.run_id,
        "experiment": record.experiment,
        "params": dict(record.params),
        "seed": int(record.seed),
        "spawn_key": [int(k) for k in record.spawn_key],
        "status": record.status,
        "started": record.started,
        "finished": record.finished,
        "provenance": dict(record.provenance),
        "error": record.error,
    }
    if result is not None:
        coords, arrays = {}, {}
        for dim, values in result.coords.items():
            coords[dim], offset = _describe_array(values, blobs, offset)
        for name, (dims, arr) in result.arrays.items():
            arrays[name], offset = _describe_array(arr, blobs, offset)
            arrays[name]["dims"] = list(dims)
        meta["result"] = {
            "coords": coords,
            "arrays": arrays,
            "scalars": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.scalars.items()},
            "attrs": dict(result.attrs),
        }
    meta_bytes = json.dumps(meta, default=json_default).encode()
    blob = b"".join(blobs)
    digest = hashlib.blake2b(meta_bytes, digest_size=16)
    digest.update(blob)
    return _HEADER.pack(MAGIC, len(meta_bytes), len(blob), digest.digest()) + meta_bytes + blob


def _array(spec: dict, blob: memoryview) -> np.ndarray:
    if "strings" in spec:
        return np.asarray(spec["strings"]).reshape(spec["shape"])
    start = spec["offset"]
    data = np.frombuffer(blob[start:start + spec["nbytes"]], dtype=np.dtype(spec["dtype"]))
    return data.reshape(spec["shape"]).copy()


def decode_record(meta_bytes: bytes, blob: memoryview) -> RunRecord:
    """The :class:`RunRecord` of one log record's meta and blob."""
    meta = json.loads(meta_bytes)
    result = None
    if "result" in meta:
        res = meta["result"]
        result = ExperimentResult(
            arrays={name: (tuple(spec["dims"]), _array(spec, blob)) for name, spec in res["arrays"].items()},
            coords={dim: _array(spec, blob) for dim, spec in res["coords"].items()},
            scalars=res["scalars"],
            attrs=res["attrs"],
        )
    return RunRecord(
        run_id=meta["run_id"],
        experiment=meta["experiment"],
        params=meta["params"],
        seed=meta["seed"],
        spawn_key=tuple(meta["spawn_key"]),
        status=meta["status"],
        started=meta["started"],
        finished=meta["finished"],
        provenance=meta["provenance"],
        result=result,
        error=meta["error"],
    )


def read_log(path: Path, *, decode: bool = True) -> Iterator[tuple[str, RunRecord | None]]:
    """``(run_id, record)`` of every whole record of a log, in order; stops at a torn one.

    With ``decode=False`` the records are ``None`` and only the run ids are
    read: the blobs are skipped unread (their lengths are checked, not their
    digest), which keeps counting the staged runs of a big scan cheap.
    """
    try:
        handle = open(path, "rb")
    except OSError:
        return
    with handle:
        size = os.fstat(handle.fileno()).st_size
        pos = 0
        while pos + _HEADER.size <= size:
            handle.seek(pos)
            magic, meta_len, blob_len, digest = _HEADER.unpack(handle.read(_HEADER.size))
            end = pos + _HEADER.size + meta_len + blob_len
            if magic != MAGIC or end > size:
                return
            meta_bytes = handle.read(meta_len)
            if not decode:
                try:
                    run_id = json.loads(meta_bytes)["run_id"]
                except (ValueError, KeyError, TypeError):
                    return
                yield run_id, None
                pos = end
                continue
            blob = memoryview(handle.read(blob_len))
            check = hashlib.blake2b(meta_bytes, digest_size=16)
            check.update(blob)
            if check.digest() != digest:
                return
            record = decode_record(meta_bytes, blob)
            yield record.run_id, record
            pos = end


def log_files(staging: Path) -> list[Path]:
    """The log files of a staging folder, oldest first."""
    if not staging.is_dir():
        return []
    return sorted(p for p in staging.iterdir() if p.suffix == LOG_SUFFIX and not p.name.startswith("."))


def staged_records(staging: Path, *, decode: bool = True) -> Iterator[tuple[Path, str, RunRecord | None]]:
    """``(log, run_id, record)`` of every whole record in every log of ``staging``."""
    for log in log_files(staging):
        for run_id, record in read_log(log, decode=decode):
            yield log, run_id, record


class StagingLog:
    """An append-only log of finished runs in ``staging`` (created on first append)."""

    def __init__(self, staging: Path):
        self.staging = staging
        self.path = staging / f"{time.time_ns():020d}-{os.getpid()}{LOG_SUFFIX}"
        self._fd = None
        self._size = 0
        self._last_sync = time.monotonic()
        self.count = 0

    def append(self, record: RunRecord) -> int:
        """Append ``record`` (one ``os.write`` loop); return the bytes written.

        A full disk truncates the log back to its last whole record and raises
        :class:`DiskFullError`.
        """
        data = encode_record(record)
        try:
            if self._fd is None:
                self.staging.mkdir(exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            view = memoryview(data)
            while len(view):
                written = os.write(self._fd, view[: 1 << 30])
                view = view[written:]
        except OSError as exc:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._size)
            if is_disk_full(exc):
                raise DiskFullError(
                    f"disk full while saving run {record.run_id} in {self.staging}; the archive is "
                    "unchanged; free some space and resume"
                ) from None
            raise
        self._size += len(data)
        self.count += 1
        if time.monotonic() - self._last_sync >= SYNC_SECONDS:
            self.sync()
        return len(data)

    def sync(self) -> None:
        """``fsync`` the log (a machine crash no longer loses what it holds)."""
        if self._fd is not None:
            os.fsync(self._fd)
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


def legacy_files(staging: Path) -> list[Path]:
    """Runs staged one HDF5 file each (``<run_id>.h5``, ``<run_id>.failed.h5``) by statmech before issue 9."""
    if not staging.is_dir():
        return []
    return sorted(p for p in staging.iterdir() if p.suffix == ".h5" and not p.name.startswith("."))
