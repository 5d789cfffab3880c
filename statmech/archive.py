"""The HDF5 run archive: one file, many runs, each whole or absent.

Layout (schema version 1)
-------------------------
``/`` attributes ``format = "statmech-archive"``, ``schema_version = 1``,
``created`` (ISO-8601 UTC) and ``creator``. Each run is the group
``/runs/<run_id>`` with

- attributes: ``run_id``, ``experiment``, ``status`` (``"complete"`` or
  ``"failed"``), ``error`` (the message of a failed run, else ``""``), every
  parameter as a scalar attribute (booleans as 0/1: HDF5 has no portable bool)
  plus ``params_json`` (the exact typed values), ``seed`` (the seed-sequence
  entropy, int64), ``seed_entropy`` (same, as a decimal string),
  ``seed_spawn_key`` (JSON list), ``started`` and ``finished`` (ISO-8601 UTC),
  the provenance strings of :data:`statmech.provenance.PROVENANCE_KEYS` plus
  ``provenance_json``, ``scalars_json`` and ``attrs_json``, and the result's
  extra metadata as ``meta_<name>``;
- datasets: every named dimension is an HDF5 dimension scale (holding its
  coordinate values, or, for a dimension without coordinates, the netCDF-4
  "dimension but not a variable" marker), every array is a gzip+shuffle
  compressed dataset with its dimensions attached, and every scalar summary is
  a 0-d dataset. So ``xarray.open_dataset(path, engine="h5netcdf",
  group="runs/<run_id>")`` gives named dimensions and coordinates, and plain
  h5py reads everything too.

``run_id`` is the first 16 hex digits of the BLAKE2b hash of the experiment
name, its canonical (fully resolved, typed, key-sorted JSON) parameters and
its seed (entropy and spawn key): the same point computed twice has the same
id and is recognised.

Crash safety
------------
HDF5 files are not journalled: a process killed while it modifies a file can
leave it unreadable, and HDF5 file locking refuses a second writer. So the
live archive is never modified in place:

1. a finished run is first written to its own *staged* file
   ``<archive>.staging/<run_id>.h5`` (written under a temporary name,
   ``fsync``-ed, then ``os.replace``-d: the staged file exists whole or not at
   all);
2. *publishing* copies the archive to a temporary file beside it, appends the
   staged runs to the copy, ``fsync``-s it and ``os.replace``-s it over the
   archive (an atomic rename on POSIX), then deletes the staged files.

A SIGKILL at any moment therefore leaves the previous archive or the new one,
each complete, plus staged runs that the next writer publishes
(``statmech scan --resume``) and stray temporary files that it deletes.
Readers (:func:`open_archive`) open the archive read-only; one that has it
open keeps the inode it opened, which the writer never modifies, so it always
sees a consistent snapshot. A lock file ``<archive>.lock`` (``flock``,
released by the kernel when the writer dies, even by SIGKILL) admits one
writer at a time.

Cost: each publish copies the whole archive, so the writer publishes at most
once per ``max(publish_interval, 10 x the duration of the last publish)``
seconds; copying then takes at most ~10 % of the wall time however big the
archive grows, and runs finished in between are safe in the staging folder.
Publishing also needs free space for a second copy of the archive.
"""

from __future__ import annotations

import contextlib
import errno
import io
import fcntl
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from statmech.provenance import PROVENANCE_KEYS
from statmech.registry import ExperimentResult

FORMAT = "statmech-archive"
SCHEMA_VERSION = 1

STATUS_COMPLETE = "complete"
STATUS_FAILED = "failed"

#: netCDF-4's marker for a dimension scale that is not a coordinate variable
#: (h5netcdf and netCDF-C recognise the prefix).
_NC_DIM_ONLY = "This is a netCDF dimension but not a netCDF variable."

_KIND_ATTR = "statmech_kind"  # "coordinate" | "array" | "scalar" on datasets
_BOOL_ATTR = "statmech_dtype"  # "bool" on arrays stored as uint8


# -- errors -------------------------------------------------------------------


class ArchiveError(Exception):
    """A user-facing archive problem (the command line prints it without traceback)."""


class NotAnArchiveError(ArchiveError):
    """The file is missing, not HDF5, or an HDF5 file that statmech did not write."""


class ArchiveSchemaError(ArchiveError):
    """The archive was written by a newer statmech (schema version too new)."""


class ArchiveBusyError(ArchiveError):
    """Another process holds the archive (statmech writer lock or HDF5 file lock)."""


class DiskFullError(ArchiveError):
    """Writing failed because the disk (or quota) is full."""


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (OSError from Python or from HDF5 via h5py) means "no space left"."""
    if isinstance(exc, DiskFullError):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return (
        "No space left on device" in text or "Disk quota exceeded" in text or "errno = 28" in text
    )


# -- records and identity --------------------------------------------------------


def canonical_params(params: Mapping[str, Any]) -> str:
    """Key-sorted compact JSON of resolved parameters (floats as shortest repr)."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=False)


def make_run_id(
    experiment: str, params: Mapping[str, Any], seed: int, spawn_key: Iterable[int] = ()
) -> str:
    """16 hex digits of BLAKE2b(experiment, canonical params, seed entropy, spawn key).

    ``params`` must already be resolved (every parameter present, typed); see
    :meth:`statmech.registry.ExperimentSpec.resolve`.
    """
    text = json.dumps(
        {
            "experiment": experiment,
            "params": json.loads(canonical_params(params)),
            "seed": int(seed),
            "spawn_key": [int(k) for k in spawn_key],
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class RunRecord:
    """One finished run, as archived.

    Attributes
    ----------
    run_id : str
    experiment : str
    params : dict
        Fully resolved, typed parameters.
    seed : int
        Seed-sequence entropy.
    spawn_key : tuple of int
        Seed-sequence spawn key (``()`` for ``statmech run``).
    status : {"complete", "failed"}
    started, finished : str
        ISO-8601 UTC.
    provenance : dict
        See :func:`statmech.provenance.provenance`.
    result : ExperimentResult or None
        ``None`` for a failed run.
    error : str
        Why a failed run failed.
    """

    run_id: str
    experiment: str
    params: Mapping[str, Any]
    seed: int
    spawn_key: tuple[int, ...]
    status: str
    started: str
    finished: str
    provenance: Mapping[str, str]
    result: ExperimentResult | None = None
    error: str = ""

    def seed_sequence(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=self.spawn_key)


@dataclass(frozen=True)
class RunInfo:
    """A run's attributes, without its arrays (what :meth:`Archive.runs` lists).

    Attributes
    ----------
    run_id, experiment, status, error, started, finished : str
    params : dict
    seed : int
    spawn_key : tuple of int
    scalars : dict
        Scalar summaries.
    provenance : dict
    attrs : dict
        The result's extra metadata.
    """

    run_id: str
    experiment: str
    status: str
    params: Mapping[str, Any]
    seed: int
    spawn_key: tuple[int, ...]
    started: str
    finished: str
    scalars: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, str] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""

    def get(self, key: str, default=None):
        """A parameter, or one of run_id/experiment/status/seed, by name."""
        if key in self.params:
            return self.params[key]
        if key in ("run_id", "experiment", "status", "seed", "started", "finished", "error"):
            return getattr(self, key)
        return default


# -- writing one run into an HDF5 group ----------------------------------------------


def _attr_value(value):
    """An attribute-safe version of a parameter/metadata value (no bool attributes)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return np.int8(value)
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _json(value) -> str:
    def default(obj):
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        return str(obj)

    return json.dumps(value, default=default)  # insertion order: the experiment's order


def _compress_kwargs(arr: np.ndarray) -> dict:
    if arr.ndim == 0 or arr.size == 0:
        return {}
    return {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def _store_array(arr: np.ndarray):
    arr = np.asarray(arr)
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8), True
    if arr.dtype.kind in "UO":
        import h5py

        return np.asarray(arr, dtype=h5py.string_dtype()), False
    return np.ascontiguousarray(arr), False


def write_run(parent, record: RunRecord):
    """Write ``record`` as the group ``parent/<run_id>`` (schema 1). Returns the group."""
    import h5py

    group = parent.create_group(record.run_id)
    attrs = group.attrs
    attrs["run_id"] = record.run_id
    attrs["experiment"] = record.experiment
    attrs["status"] = record.status
    attrs["error"] = record.error
    attrs["params_json"] = canonical_params(record.params)
    for name, value in record.params.items():
        attrs[name] = _attr_value(value)
    attrs["seed"] = np.int64(record.seed)
    attrs["seed_entropy"] = str(int(record.seed))
    attrs["seed_spawn_key"] = json.dumps([int(k) for k in record.spawn_key])
    attrs["started"] = record.started
    attrs["finished"] = record.finished
    for key in PROVENANCE_KEYS:
        attrs[key] = str(record.provenance.get(key, "unknown"))
    attrs["provenance_json"] = _json(dict(record.provenance))
    result = record.result
    scalars = (
        {}
        if result is None
        else {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.scalars.items()}
    )
    extra = {} if result is None else dict(result.attrs)
    attrs["scalars_json"] = _json(scalars)
    attrs["attrs_json"] = _json(extra)
    for name, value in extra.items():
        attrs[f"meta_{name}"] = _attr_value(value)
    if result is None:
        return group

    scales = {}
    for dim, size in result.dims().items():
        if dim in result.coords:
            data, _ = _store_array(np.asarray(result.coords[dim]))
            ds = group.create_dataset(dim, data=data, **_compress_kwargs(data))
            ds.make_scale(dim)
            ds.attrs[_KIND_ATTR] = "coordinate"
        else:
            ds = group.create_dataset(dim, shape=(size,), dtype="f4")
            ds.make_scale(f"{_NC_DIM_ONLY}{size:10d}")
        scales[dim] = ds
    for name, (dims, arr) in result.arrays.items():
        data, was_bool = _store_array(arr)
        ds = group.create_dataset(name, data=data, **_compress_kwargs(data))
        ds.attrs[_KIND_ATTR] = "array"
        if was_bool:
            ds.attrs[_BOOL_ATTR] = "bool"
        for axis, dim in enumerate(dims):
            ds.dims[axis].attach_scale(scales[dim])
    for name, value in scalars.items():
        if isinstance(value, str):
            ds = group.create_dataset(name, data=value, dtype=h5py.string_dtype())
        else:
            ds = group.create_dataset(name, data=np.asarray(value))
        ds.attrs[_KIND_ATTR] = "scalar"
    return group


def _decode(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_info(group) -> RunInfo:
    """The :class:`RunInfo` of a run group (attributes only)."""
    attrs = group.attrs
    prov = json.loads(_decode(attrs.get("provenance_json", "{}")))
    return RunInfo(
        run_id=_decode(attrs.get("run_id", group.name.rsplit("/", 1)[-1])),
        experiment=_decode(attrs["experiment"]),
        status=_decode(attrs.get("status", "")),
        params=json.loads(_decode(attrs["params_json"])),
        seed=int(_decode(attrs.get("seed_entropy", attrs.get("seed", 0)))),
        spawn_key=tuple(json.loads(_decode(attrs.get("seed_spawn_key", "[]")))),
        started=_decode(attrs.get("started", "")),
        finished=_decode(attrs.get("finished", "")),
        scalars=json.loads(_decode(attrs.get("scalars_json", "{}"))),
        provenance=prov,
        attrs=json.loads(_decode(attrs.get("attrs_json", "{}"))),
        error=_decode(attrs.get("error", "")),
    )


def read_result(group) -> ExperimentResult | None:
    """The :class:`ExperimentResult` stored in a run group (``None`` for a failed run)."""
    import h5py

    info = read_info(group)
    if info.status != STATUS_COMPLETE:
        return None
    arrays, coords, scalars = {}, {}, {}
    for name, ds in group.items():
        if not isinstance(ds, h5py.Dataset):
            continue
        kind = _decode(ds.attrs.get(_KIND_ATTR, ""))
        if kind == "coordinate":
            coords[name] = _load_dataset(ds)
        elif kind == "array":
            dims = tuple(_dim_name(ds.dims[axis]) for axis in range(ds.ndim))
            arrays[name] = (dims, _load_dataset(ds))
        elif kind == "scalar":
            value = ds[()]
            scalars[name] = _decode(value)
    # keep the experiment's order for scalars
    ordered = {k: scalars[k] for k in info.scalars if k in scalars}
    ordered.update({k: v for k, v in scalars.items() if k not in ordered})
    return ExperimentResult(arrays=arrays, coords=coords, scalars=ordered, attrs=dict(info.attrs))


def _dim_name(dim_proxy) -> str:
    scale = dim_proxy[0]
    return scale.name.rsplit("/", 1)[-1]


def _load_dataset(ds) -> np.ndarray:
    import h5py

    if h5py.check_string_dtype(ds.dtype) is not None:
        return ds.asstr()[()]
    data = ds[()]
    if _decode(ds.attrs.get(_BOOL_ATTR, "")) == "bool":
        data = data.astype(bool)
    return np.asarray(data)


def read_record(group) -> RunRecord:
    """The full :class:`RunRecord` of a run group (round-trips :func:`write_run`)."""
    info = read_info(group)
    return RunRecord(
        run_id=info.run_id,
        experiment=info.experiment,
        params=info.params,
        seed=info.seed,
        spawn_key=info.spawn_key,
        status=info.status,
        started=info.started,
        finished=info.finished,
        provenance=info.provenance,
        result=read_result(group),
        error=info.error,
    )


# -- opening files -----------------------------------------------------------------------


def _open_h5(path: Path, mode: str = "r"):
    """``h5py.File(path, mode)`` with errors turned into :class:`ArchiveError` messages."""
    import h5py

    if not path.exists():
        staged = _staged_files(_staging_dir(path)) if mode == "r" else []
        hint = (
            f" ({len(staged)} finished runs of an interrupted scan are staged in {_staging_dir(path)}; "
            "`statmech scan SCAN.toml --resume -o ...` publishes them)"
            if staged
            else ""
        )
        raise NotAnArchiveError(f"no such file: {path}{hint}")
    if path.is_dir():
        raise NotAnArchiveError(f"{path} is a directory, not an archive file")
    if not os.access(path, os.R_OK):
        raise NotAnArchiveError(f"cannot read {path}: permission denied")
    try:
        return h5py.File(path, mode)
    except OSError as exc:
        text = str(exc)
        if "signature" in text or "not an HDF5" in text.lower() or "truncated" in text:
            raise NotAnArchiveError(f"{path} is not an HDF5 file ({text})") from None
        if "lock" in text.lower():
            raise ArchiveBusyError(
                f"{path} is locked by another process that has it open for writing (HDF5 file lock). "
                "statmech writers never keep the live archive open, so this is another program; "
                "wait for it to finish, or read a copy of the file"
            ) from None
        raise NotAnArchiveError(f"cannot open {path} as HDF5: {text}") from None


def _check_root(f, path: Path) -> int:
    fmt = _decode(f.attrs.get("format", ""))
    if fmt != FORMAT:
        top = ", ".join(sorted(f.keys())[:8]) or "nothing"
        raise NotAnArchiveError(
            f"{path} is an HDF5 file but not a statmech archive (root attribute format={fmt!r}, "
            f"expected {FORMAT!r}; it holds: {top})"
        )
    version = int(_decode(f.attrs.get("schema_version", -1)))
    if version > SCHEMA_VERSION:
        raise ArchiveSchemaError(
            f"{path} uses archive schema version {version}, newer than this statmech "
            f"({getattr(__import__('statmech'), '__version__', '?')}) understands ({SCHEMA_VERSION}); "
            "upgrade statmech to read it"
        )
    if version < 1 or "runs" not in f:
        raise NotAnArchiveError(
            f"{path} claims to be a statmech archive but has no valid schema/runs group"
        )
    return version


def _init_root(f) -> None:
    from statmech.provenance import utc_now

    import statmech

    f.attrs["format"] = FORMAT
    f.attrs["schema_version"] = np.int64(SCHEMA_VERSION)
    f.attrs["created"] = utc_now()
    f.attrs["creator"] = f"statmech {getattr(statmech, '__version__', '?')}"
    f.create_group("runs")


# -- reader -------------------------------------------------------------------------------------


def _matches(value, wanted) -> bool:
    if isinstance(wanted, (list, tuple, set, frozenset)):
        return any(_matches(value, w) for w in wanted)
    if callable(wanted):
        return bool(wanted(value))
    if isinstance(wanted, str) and not isinstance(value, str):
        wanted = _parse_text(wanted)
    if isinstance(value, bool) or isinstance(wanted, bool):
        return (
            bool(value) == bool(wanted)
            and not isinstance(value, str)
            and not isinstance(wanted, str)
        )
    if isinstance(value, (int, float)) and isinstance(wanted, (int, float)):
        return (
            math.isclose(float(value), float(wanted), rel_tol=1e-12, abs_tol=0.0) or value == wanted
        )
    return value == wanted


def _parse_text(text: str):
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True, else the string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class RunTable:
    """Runs with their parameters, as a small table (rows are :class:`RunInfo`).

    ``len(table)``, iteration and indexing give :class:`RunInfo` objects;
    :meth:`column` gives one parameter (or run_id/status/seed...) over rows;
    :meth:`records` gives plain dicts; :meth:`to_pandas` a DataFrame (needs
    pandas); ``str(table)`` a text table.
    """

    def __init__(self, rows: list[RunInfo]):
        self.rows = list(rows)

    def __len__(self):
        return len(self.rows)

    def __iter__(self) -> Iterator[RunInfo]:
        return iter(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    @property
    def parameter_names(self) -> list[str]:
        names: list[str] = []
        for row in self.rows:
            names.extend(k for k in row.params if k not in names)
        return names

    @property
    def varying(self) -> list[str]:
        """Parameters that take more than one value among the rows."""
        out = []
        for name in self.parameter_names:
            values = {json.dumps(row.params.get(name), sort_keys=True) for row in self.rows}
            if len(values) > 1:
                out.append(name)
        return out

    @property
    def columns(self) -> list[str]:
        return ["run_id", "experiment", "status", "seed", "spawn_key"] + self.parameter_names

    def column(self, name: str) -> list:
        if name == "spawn_key":
            return [row.spawn_key for row in self.rows]
        return [row.get(name) for row in self.rows]

    def records(self) -> list[dict]:
        out = []
        for row in self.rows:
            rec = {
                "run_id": row.run_id,
                "experiment": row.experiment,
                "status": row.status,
                "seed": row.seed,
                "spawn_key": row.spawn_key,
            }
            rec.update(row.params)
            out.append(rec)
        return out

    def to_pandas(self):
        """A pandas DataFrame indexed by run_id (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("RunTable.to_pandas needs pandas (pip install pandas)") from None
        return pd.DataFrame.from_records(self.records(), index="run_id")

    def format(self, columns: list[str] | None = None) -> str:
        if columns is None:
            params = self.varying if len(self.rows) > 1 else self.parameter_names
            columns = ["run_id", "experiment", "status", "seed"] + params
        header = list(columns)
        body = []
        for row in self.rows:
            cells = []
            for col in columns:
                value = row.get(col, "")
                cells.append(f"{value:.6g}" if isinstance(value, float) else str(value))
            body.append(cells)
        widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
        return "\n".join(lines)

    def __str__(self):
        return self.format()

    def __repr__(self):
        return f"<RunTable: {len(self.rows)} runs>"


@dataclass(frozen=True)
class ScalarSummary:
    """One scalar summary collected across runs, on the grid of scanned parameters.

    Attributes
    ----------
    name : str
        The scalar.
    by : tuple of str
        Parameter names indexing the grid, in order.
    coords : dict
        ``parameter -> sorted 1-D array`` of its values.
    mean, std, sem : ndarray
        Shape ``tuple(len(coords[b]) for b in by)``: mean over repetitions
        (runs differing only in seed), sample standard deviation (ddof=1; NaN
        with fewer than 2 runs) and standard error ``std / sqrt(count)``. NaN
        where no run exists.
    count : ndarray of int
        Runs per grid point.
    values : dict
        ``tuple of parameter values -> list of (run_id, value)``.
    """

    name: str
    by: tuple[str, ...]
    coords: Mapping[str, np.ndarray]
    mean: np.ndarray
    std: np.ndarray
    sem: np.ndarray
    count: np.ndarray
    values: Mapping[tuple, list]

    def to_xarray(self):
        """An ``xarray.Dataset`` with variables mean/std/sem/count (needs xarray)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("ScalarSummary.to_xarray needs xarray (pip install xarray)") from None
        dims = list(self.by)
        return xr.Dataset(
            {k: (dims, getattr(self, k)) for k in ("mean", "std", "sem", "count")},
            coords={k: np.asarray(v) for k, v in self.coords.items()},
            attrs={"scalar": self.name},
        )


class Archive:
    """Read-only view of a statmech archive (see :func:`open_archive`).

    The file is opened once, read-only; since writers replace the file
    atomically instead of modifying it, the view is a consistent snapshot of
    the archive as it was when opened (call :meth:`reopen` to see newer runs).
    """

    def __init__(self, path):
        self.path = Path(path)
        self._file = None
        self.reopen()

    def reopen(self) -> "Archive":
        """Close and open the file again (picks up runs published since)."""
        self.close()
        f = _open_h5(self.path, "r")
        try:
            self.schema_version = _check_root(f, self.path)
        except ArchiveError:
            f.close()
            raise
        self._file = f
        self.created = _decode(f.attrs.get("created", ""))
        self.creator = _decode(f.attrs.get("creator", ""))
        self._infos: dict[str, RunInfo] | None = None
        return self

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        with contextlib.suppress(Exception):
            self.close()

    def __len__(self):
        return len(self.run_ids)

    def __contains__(self, run_id):
        return run_id in self._all_infos()

    def __repr__(self):
        return (
            f"<statmech Archive {str(self.path)!r}: {len(self)} runs, schema {self.schema_version}>"
        )

    @property
    def file(self):
        """The underlying read-only ``h5py.File``."""
        if self._file is None:
            raise ArchiveError(f"archive {self.path} is closed")
        return self._file

    @property
    def run_ids(self) -> list[str]:
        return list(self._all_infos())

    @property
    def pending(self) -> int:
        """Finished runs staged next to the archive but not yet published (an interrupted scan)."""
        return len(_staged_files(_staging_dir(self.path)))

    def _all_infos(self) -> dict[str, RunInfo]:
        if self._infos is None:
            infos = {}
            for run_id, group in self.file["runs"].items():
                infos[run_id] = read_info(group)
            self._infos = dict(sorted(infos.items(), key=lambda kv: (kv[1].finished, kv[0])))
        return self._infos

    def _group(self, run_id: str):
        if run_id not in self.file["runs"]:
            matches = [r for r in self._all_infos() if r.startswith(run_id)] if run_id else []
            if len(matches) == 1:
                return self.file["runs"][matches[0]]
            hint = f"; {len(matches)} runs start with {run_id!r}" if matches else ""
            raise KeyError(f"no run {run_id!r} in {self.path}{hint}")
        return self.file["runs"][run_id]

    def runs(
        self,
        experiment: str | None = None,
        where: Mapping[str, Any] | None = None,
        status: str | None = None,
        **params,
    ) -> RunTable:
        """Runs as a :class:`RunTable`, filtered.

        Parameters
        ----------
        experiment : str, optional
        where : dict, optional
            ``parameter -> value`` (numbers compare to 1e-12 relative),
            a list of accepted values, or a predicate. Keys may also be
            ``run_id``, ``status``, ``seed``. Runs lacking a parameter are
            excluded.
        status : str, optional
            ``"complete"`` or ``"failed"``.
        **params
            Same as ``where`` (``runs(M=10)``).
        """
        conditions = dict(where or {})
        conditions.update(params)
        rows = []
        for info in self._all_infos().values():
            if experiment is not None and info.experiment != experiment:
                continue
            if status is not None and info.status != status:
                continue
            ok = True
            for key, wanted in conditions.items():
                value = info.get(key, _MISSING)
                if value is _MISSING or not _matches(value, wanted):
                    ok = False
                    break
            if ok:
                rows.append(info)
        return RunTable(rows)

    def info(self, run_id: str) -> RunInfo:
        """Attributes of one run (``run_id`` may be a unique prefix)."""
        return read_info(self._group(run_id))

    def load(self, run_id: str) -> ExperimentResult:
        """The arrays, coordinates, scalars and attrs of one complete run."""
        group = self._group(run_id)
        info = read_info(group)
        if info.status != STATUS_COMPLETE:
            raise ArchiveError(
                f"run {info.run_id} has status {info.status!r} ({info.error}); it holds no result"
            )
        return read_result(group)

    def attributes(self, run_id: str) -> dict:
        """Every HDF5 attribute of the run group, decoded."""
        return {k: _decode(v) for k, v in self._group(run_id).attrs.items()}

    def collect(
        self,
        scalar: str,
        *,
        experiment: str | None = None,
        by: Iterable[str] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> ScalarSummary:
        """Collect scalar summary ``scalar`` over complete runs, on the grid of ``by`` parameters.

        ``by`` defaults to the parameters that vary among the selected runs.
        Runs that differ only in their seed are repetitions and are averaged.
        Parameters varied together with ``by`` (zipped axes) are allowed.
        Raises ``ValueError`` if the selection mixes experiments or varies
        another parameter independently of ``by``.
        """
        table = self.runs(experiment=experiment, where=where, status=STATUS_COMPLETE)
        rows = [r for r in table if scalar in r.scalars]
        if not rows:
            have = sorted({k for r in table for k in r.scalars})
            raise ValueError(
                f"no complete run{' of ' + repr(experiment) if experiment else ''} in {self.path} has scalar "
                f"{scalar!r}" + (f"; scalars present: {have}" if have else "")
            )
        experiments = sorted({r.experiment for r in rows})
        if len(experiments) > 1:
            raise ValueError(
                f"runs of several experiments {experiments} have {scalar!r}; pass experiment="
            )
        table = RunTable(rows)
        by = tuple(table.varying if by is None else by)
        missing = [b for b in by if b not in table.parameter_names]
        if missing:
            raise ValueError(
                f"by= names unknown parameters {missing}; parameters: {table.parameter_names}"
            )
        # parameters varied together with `by` (zipped axes) are no ambiguity
        others = []
        for name in table.varying:
            if name in by:
                continue
            seen: dict[tuple, str] = {}
            for r in rows:
                key = tuple(json.dumps(r.params[b]) for b in by)
                value = json.dumps(r.params.get(name), sort_keys=True)
                if seen.setdefault(key, value) != value:
                    others.append(name)
                    break
        if others:
            raise ValueError(
                f"runs also differ in {others}; add them to by= or select with where= (e.g. where={{{others[0]!r}: ...}})"
            )
        coords = {}
        for b in by:
            uniq = sorted(set(table.column(b)), key=lambda v: (isinstance(v, str), v))
            coords[b] = np.asarray(uniq)
        shape = tuple(len(coords[b]) for b in by)
        values: dict[tuple, list] = {}
        for r in rows:
            key = tuple(r.params[b] for b in by)
            values.setdefault(key, []).append((r.run_id, r.scalars[scalar]))
        mean = np.full(shape, np.nan)
        std = np.full(shape, np.nan)
        count = np.zeros(shape, dtype=np.int64)
        for key, items in values.items():
            index = tuple(int(np.flatnonzero(coords[b] == v)[0]) for b, v in zip(by, key))
            x = np.asarray([float(v) for _, v in items])
            count[index] = x.size
            mean[index] = x.mean()
            if x.size > 1:
                std[index] = x.std(ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sem = std / np.sqrt(np.where(count > 0, count, np.nan))
        return ScalarSummary(scalar, by, coords, mean, std, sem, count, values)

    def to_xarray(self, run_id: str):
        """``xarray.open_dataset(path, engine="h5netcdf", group="runs/<run_id>")`` (needs xarray + h5netcdf)."""
        import xarray as xr

        group = self._group(run_id)
        return xr.open_dataset(self.path, engine="h5netcdf", group=group.name.lstrip("/"))


_MISSING = object()


def open_archive(path) -> Archive:
    """Open a statmech HDF5 archive read-only.

    Raises :class:`NotAnArchiveError` for a missing file, a non-HDF5 file or an
    HDF5 file statmech did not write; :class:`ArchiveSchemaError` for an
    archive written by a newer statmech; :class:`ArchiveBusyError` when a
    foreign program holds the file open for writing. Works while a statmech
    scan is writing the same archive (it sees the runs published so far).
    """
    return Archive(path)


# -- writer -----------------------------------------------------------------------------------------


def _staging_dir(path: Path) -> Path:
    return path.with_name(path.name + ".staging")


def _staged_files(staging: Path) -> list[Path]:
    if not staging.is_dir():
        return []
    return sorted(p for p in staging.iterdir() if p.suffix == ".h5" and not p.name.startswith("."))


def _fsync(fd: int) -> None:
    os.fsync(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _fsync(fd)
    finally:
        os.close(fd)


def _write_durably(tmp: Path, data) -> None:
    """Write ``data`` (bytes-like) to a new file ``tmp`` and fsync it.

    Plain ``os.write``: a full disk raises a clean ``OSError(ENOSPC)`` here,
    instead of inside HDF5, whose error path leaves h5py objects that cannot
    be closed (measured: it can crash the interpreter at exit).
    """
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data).cast("B")
        while len(view):
            written = os.write(fd, view[: 1 << 30])
            view = view[written:]
        _fsync(fd)
    finally:
        os.close(fd)


def _check_free_space(directory: Path, needed: int, what: str) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise DiskFullError(
            f"disk full: {what} needs about {needed / 1e6:.1f} MB in {directory}, only {free / 1e6:.1f} MB free"
        )


class ArchiveWriter:
    """The single writer of an archive: stages finished runs and publishes them atomically.

    Parameters
    ----------
    path : path-like
        The archive (created on first publish if missing).
    publish_interval : float
        Minimum seconds between publishes (0: publish after every run while
        publishing is cheap). Publishing is also throttled to at most ~10 % of
        wall time (see the module docstring).

    Use as a context manager; :meth:`close` publishes what is staged and
    releases the lock.
    """

    #: Wait at least this many times the last publish's duration before the next.
    COST_FACTOR = 9.0
    #: Archives up to this size (bytes) are rebuilt in memory when publishing.
    IN_MEMORY_LIMIT = 256 * 2**20

    def __init__(self, path, *, publish_interval: float = 0.0):
        self.path = Path(path).absolute()
        self.staging = _staging_dir(self.path)
        self.publish_interval = float(publish_interval)
        self._lock_fd = None
        self._last_publish_end = -math.inf
        self._last_publish_cost = 0.0
        self.published_count = 0
        if not self.path.parent.is_dir():
            raise NotAnArchiveError(
                f"cannot write {self.path}: directory {self.path.parent} does not exist"
            )
        self._acquire_lock()
        try:
            self._complete: set[str] = set()
            self._failed: set[str] = set()
            if self.path.exists():
                with _open_h5(self.path, "r") as f:
                    _check_root(f, self.path)
                    for run_id, group in f["runs"].items():
                        status = _decode(group.attrs.get("status", ""))
                        (self._complete if status == STATUS_COMPLETE else self._failed).add(run_id)
            self._clean_stale()
            self.publish()  # recover runs staged by an interrupted writer
        except BaseException:
            self._release_lock()
            raise

    # locking --------------------------------------------------------------------
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
        prefix = f".{self.path.name}.publish-"
        for p in self.path.parent.glob(prefix + "*"):
            with contextlib.suppress(OSError):
                p.unlink()
        if self.staging.is_dir():
            for p in self.staging.iterdir():
                if p.name.startswith("."):
                    with contextlib.suppress(OSError):
                        p.unlink()

    # queries -------------------------------------------------------------------------
    def staged_ids(self) -> set[str]:
        """Ids of complete runs staged but not yet published."""
        return {p.stem for p in _staged_files(self.staging) if "." not in p.stem}

    def completed_ids(self) -> set[str]:
        """Run ids finished successfully: published or staged."""
        return self._complete | self.staged_ids()

    def has_complete(self, run_id: str) -> bool:
        return run_id in self._complete or (self.staging / f"{run_id}.h5").exists()

    def read(self, run_id: str) -> RunRecord:
        """Read back a published or staged run."""
        staged = self.staging / f"{run_id}.h5"
        path = staged if staged.exists() else self.path
        with _open_h5(path, "r") as f:
            return read_record(f["runs"][run_id])

    # writing -------------------------------------------------------------------------
    def add(self, record: RunRecord, *, publish: bool | None = None) -> None:
        """Stage ``record`` durably, then publish if due (``publish=True`` forces it)."""
        self.stage(record)
        if publish or (publish is None and self._publish_due()):
            self.publish()

    def stage(self, record: RunRecord) -> Path:
        """Write ``record`` to ``<archive>.staging/<run_id>.h5`` atomically and durably.

        The HDF5 image is built in memory and written with plain ``os.write``
        to a temporary name, fsync-ed and renamed into place.
        """
        import h5py

        # failed runs get their own name so a staged failure never counts as finished
        suffix = ".h5" if record.status == STATUS_COMPLETE else ".failed.h5"
        final = self.staging / f"{record.run_id}{suffix}"
        tmp = self.staging / f".{record.run_id}.{os.getpid()}.tmp"
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            _init_root(f)
            write_run(f["runs"], record)
        try:
            self.staging.mkdir(exist_ok=True)
            _write_durably(tmp, buffer.getbuffer())
            os.replace(tmp, final)
            _fsync_dir(self.staging)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if is_disk_full(exc):
                raise DiskFullError(
                    f"disk full while saving run {record.run_id} next to {self.path}; the archive is "
                    "unchanged; free some space and resume"
                ) from None
            raise
        return final

    def _publish_due(self) -> bool:
        wait = max(self.publish_interval, self.COST_FACTOR * self._last_publish_cost)
        return time.monotonic() - self._last_publish_end >= wait

    def publish(self) -> int:
        """Merge every staged run into the archive with one atomic replace. Returns how many.

        Archives up to :attr:`IN_MEMORY_LIMIT` bytes are rebuilt in memory and
        written with plain ``os.write`` (a full disk is a clean error); bigger
        ones are copied on disk and appended to by HDF5, after checking that
        the disk has room for the copy.
        """
        import h5py

        staged = _staged_files(self.staging)
        if not staged:
            return 0
        t0 = time.monotonic()
        tmp = self.path.with_name(f".{self.path.name}.publish-{os.getpid()}.tmp")
        added: list[tuple[str, str]] = []
        try:
            exists = self.path.exists()
            size = self.path.stat().st_size if exists else 0
            extra = sum(p.stat().st_size for p in staged)
            in_memory = size + extra <= self.IN_MEMORY_LIMIT
            if in_memory:
                target = io.BytesIO(self.path.read_bytes() if exists else b"")
            else:
                _check_free_space(
                    self.path.parent, size + 2 * extra + (1 << 20), f"publishing into {self.path}"
                )
                if exists:
                    shutil.copyfile(self.path, tmp)
                target = tmp
            with h5py.File(target, "r+" if exists else "w") as dst:
                if not exists:
                    _init_root(dst)
                runs = dst["runs"]
                for src_path in staged:
                    try:
                        src = h5py.File(src_path, "r")
                    except OSError:
                        # cannot happen for files renamed into place after fsync; keep it aside
                        src_path.rename(src_path.with_name("." + src_path.name + ".unreadable"))
                        continue
                    with src:
                        for run_id, group in src["runs"].items():
                            record = read_record(group)
                            if run_id in runs:
                                if _decode(runs[run_id].attrs.get("status", "")) == STATUS_COMPLETE:
                                    continue  # already published (killed after replace, before unlink)
                                del runs[run_id]
                            write_run(runs, record)
                            added.append((run_id, record.status))
            if in_memory:
                _write_durably(tmp, target.getbuffer())
                del target
            else:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    _fsync(fd)
                finally:
                    os.close(fd)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if is_disk_full(exc):
                raise DiskFullError(
                    f"disk full while publishing into {self.path} (publishing needs room for a second copy "
                    f"of the archive); the archive is unchanged and {len(staged)} finished runs stay staged "
                    f"in {self.staging}; free some space and resume"
                ) from None
            raise
        for run_id, status in added:
            (self._complete if status == STATUS_COMPLETE else self._failed).add(run_id)
            if status == STATUS_COMPLETE:
                self._failed.discard(run_id)
        for src_path in staged:
            with contextlib.suppress(OSError):
                src_path.unlink()
        with contextlib.suppress(OSError):
            _fsync_dir(self.staging)
        self.published_count += len(added)
        self._last_publish_end = time.monotonic()
        self._last_publish_cost = self._last_publish_end - t0
        return len(added)

    def close(self) -> None:
        """Publish what is staged, remove the empty staging folder, release the lock."""
        if self._lock_fd is None:
            return
        try:
            self.publish()
            with contextlib.suppress(OSError):
                self.staging.rmdir()
        finally:
            self._release_lock()

    def abandon(self) -> None:
        """Release the lock without publishing (staged runs stay for the next writer)."""
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


__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "STATUS_COMPLETE",
    "STATUS_FAILED",
    "ArchiveError",
    "NotAnArchiveError",
    "ArchiveSchemaError",
    "ArchiveBusyError",
    "DiskFullError",
    "is_disk_full",
    "canonical_params",
    "make_run_id",
    "RunRecord",
    "RunInfo",
    "RunTable",
    "ScalarSummary",
    "Archive",
    "ArchiveWriter",
    "open_archive",
    "write_run",
    "read_info",
    "read_result",
    "read_record",
]
