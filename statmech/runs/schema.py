"""The archive's layout and its codec: one run record to and from one HDF5 group.

Layout (schema version 2)
-------------------------
``/`` attributes ``format = "statmech-archive"``, ``schema_version``,
``created`` (ISO-8601 UTC) and ``creator``. Each run is the group
``/runs/<run_id>`` with

- attributes: ``experiment``, ``status`` (``"complete"`` or ``"failed"``),
  ``error`` (failed runs only), every parameter as a scalar attribute
  (booleans as 0/1: HDF5 has no portable bool) plus ``params_json`` (the exact
  typed values), ``seed`` (the seed-sequence entropy, int64),
  ``seed_spawn_key`` (JSON list), ``started`` and ``finished`` (ISO-8601 UTC),
  ``provenance_json`` (versions of statmech, numba, numpy, scipy, h5py, HDF5,
  Python, host, git commit: :mod:`statmech.runs.provenance`),
  ``scalars_json`` (the scalar summaries, typed and in order) and each scalar
  summary as ``scalar_<name>``, ``attrs_json`` (the result's extra metadata),
  ``layout_json`` (which datasets are arrays with which dimensions, which are
  coordinates), and two checksums (below);
- datasets: every named dimension is an HDF5 dimension scale (holding its
  coordinate values, or, for a dimension without coordinates, the netCDF-4
  "dimension but not a variable" marker), every array is a dataset with its
  dimensions attached (arrays of 16 KiB or more are chunked, shuffled,
  gzip-compressed and carry HDF5's ``fletcher32`` checksum). So
  ``xarray.open_dataset(path, engine="h5netcdf",
  group="runs/<run_id>")`` gives named dimensions and coordinates, and plain
  h5py reads everything too.

Checksums: ``checksum_meta`` is the BLAKE2b-128 digest of the attributes a
run's listing is built from (experiment, status, parameters, seed, times,
provenance, scalars, metadata, layout), ``checksum_data`` that of every
dataset's dtype, shape and bytes and of the per-parameter and per-scalar
attributes. Readers
verify the first whenever they list a run and the second whenever they load
it; a mismatch, or any HDF5 error while reading a run, raises
:class:`~statmech.runs.errors.DamagedRunError` naming the run.

Schema 1 (statmech before issue 9) is read as before: per-dataset
``statmech_kind`` attributes instead of ``layout_json``, scalars as 0-d
datasets, provenance also as one attribute per key, no checksums. An archive
holds runs of either schema; its root ``schema_version`` is the newest.

``run_id`` is the first 16 hex digits of the BLAKE2b hash of the experiment
name, its canonical (fully resolved, typed, key-sorted JSON) parameters and its
seed (entropy and spawn key): the same point computed twice has the same id.

Encoding uses h5py's low-level API: a run of ~20 small datasets and ~20
attributes costs about 1 ms instead of about 5 ms through the high-level one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from statmech.runs.errors import DamagedRunError
from statmech.runs.result import ExperimentResult

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "STATUS_COMPLETE",
    "STATUS_FAILED",
    "STATUS_DAMAGED",
    "canonical_params",
    "make_run_id",
    "RunRecord",
    "RunInfo",
    "write_run",
    "read_info",
    "read_result",
    "read_record",
    "verify_run",
    "init_root",
    "check_root",
]

FORMAT = "statmech-archive"
SCHEMA_VERSION = 2

STATUS_COMPLETE = "complete"
STATUS_FAILED = "failed"
#: Status shown for a run whose metadata cannot be read or fail their checksum.
STATUS_DAMAGED = "damaged"

#: netCDF-4's marker for a dimension scale that is not a coordinate variable
#: (h5netcdf and netCDF-C recognise the prefix).
_NC_DIM_ONLY = "This is a netCDF dimension but not a netCDF variable."

#: Scalar summaries are group attributes named ``scalar_<name>`` (and all of them, typed and
#: in order, are in ``scalars_json``).
SCALAR_PREFIX = "scalar_"

#: Arrays at least this big are chunked and compressed (smaller ones would grow).
COMPRESS_BYTES = 16 * 1024
_GZIP_LEVEL = 4
_CHUNK_BYTES = 1 << 20

#: Attributes ``checksum_meta`` covers, in this order (schema 2).
META_ATTRS = (
    "experiment",
    "status",
    "error",
    "params_json",
    "seed",
    "seed_spawn_key",
    "started",
    "finished",
    "provenance_json",
    "scalars_json",
    "attrs_json",
    "layout_json",
)

# schema 1 dataset attributes
_KIND_ATTR = "statmech_kind"
_BOOL_ATTR = "statmech_dtype"


# -- records and identity ---------------------------------------------------------------------------


def canonical_params(params: Mapping[str, Any]) -> str:
    """Key-sorted compact JSON of resolved parameters (floats as shortest repr)."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=False)


def make_run_id(
    experiment: str, params: Mapping[str, Any], seed: int, spawn_key: Iterable[int] = ()
) -> str:
    """16 hex digits of BLAKE2b(experiment, canonical params, seed entropy, spawn key).

    ``params`` must already be resolved (every parameter present, typed); see
    :meth:`statmech.runs.registry.ExperimentSpec.resolve`.
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
        See :func:`statmech.runs.provenance.provenance`.
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
        ``status`` is ``"damaged"`` (and ``error`` says why) for a run whose
        attributes cannot be read or fail their checksum.
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


# -- values --------------------------------------------------------------------------------------------


def _attr_value(value):
    """An attribute-safe version of a parameter value (no bool attributes)."""
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


def json_default(obj):
    """``json.dumps(default=...)`` for metadata: NumPy scalars and arrays as numbers and lists, the rest as text."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _json(value) -> str:
    return json.dumps(value, default=json_default)  # insertion order: the experiment's order


def _decode(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _stored_array(arr) -> tuple[np.ndarray, bool]:
    """The array as stored (native byte order, bools as uint8, strings as a list) and whether it was bool."""
    arr = np.asarray(arr)
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr, dtype=np.uint8), True
    if arr.dtype.kind in "UOS":
        return np.asarray([str(v) for v in arr.reshape(-1)], dtype=object).reshape(arr.shape), False
    return np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("=")), False


# -- checksums -----------------------------------------------------------------------------------------


def _feed_value(h, value) -> None:
    """Feed one attribute value in a form that does not depend on how HDF5 gives it back."""
    value = _decode(value)
    if isinstance(value, str):
        data = value.encode()
        h.update(b"s" + len(data).to_bytes(8, "little") + data)
    elif isinstance(value, (bool, int)):
        h.update(b"i" + np.int64(value).tobytes())
    elif isinstance(value, float):
        h.update(b"f" + np.float64(value).tobytes())
    else:
        data = repr(value).encode()
        h.update(b"r" + len(data).to_bytes(8, "little") + data)


def _feed_array(h, name: str, arr: np.ndarray) -> None:
    h.update(b"n" + name.encode() + b"\0")
    if arr.dtype == object or arr.dtype.kind in "US":
        text = json.dumps([str(v) for v in np.asarray(arr).reshape(-1)])
        h.update(b"t" + repr(arr.shape).encode() + text.encode())
    else:
        arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
        h.update(b"a" + arr.dtype.str.encode() + repr(arr.shape).encode())
        h.update(memoryview(arr.reshape(-1)).cast("B"))


def _checksum_meta(values: Mapping[str, Any]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for key in META_ATTRS:
        h.update(key.encode() + b"=")
        _feed_value(h, values.get(key, ""))
    return h.hexdigest()


def _checksum_data(derived: Mapping[str, Any], datasets: Iterable[tuple[str, np.ndarray]]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for key in sorted(derived):
        h.update(b"p" + key.encode() + b"=")
        _feed_value(h, derived[key])
    for name, arr in datasets:
        _feed_array(h, name, arr)
    return h.hexdigest()


# -- writing ---------------------------------------------------------------------------------------------


class _LowLevel:
    """h5py's low-level objects, created once (importing h5py is deferred to first use)."""

    def __init__(self):
        import h5py
        from h5py import h5a, h5d, h5ds, h5g, h5p, h5s, h5t

        self.h5py, self.h5a, self.h5d, self.h5ds, self.h5g, self.h5p, self.h5s, self.h5t = (
            h5py, h5a, h5d, h5ds, h5g, h5p, h5s, h5t)
        self.str_dtype = h5py.string_dtype("utf-8")
        self.str_type = h5t.py_create(self.str_dtype, logical=True)
        self.scalar = h5s.create(h5s.SCALAR)
        self.types: dict[str, Any] = {}

    def type_of(self, dtype: np.dtype):
        tid = self.types.get(dtype.str)
        if tid is None:
            tid = self.types[dtype.str] = self.h5t.py_create(dtype)
        return tid

    def attr(self, gid, name: str, value) -> None:
        if isinstance(value, str):
            attr = self.h5a.create(gid, name.encode(), self.str_type, self.scalar)
            attr.write(np.array(value, dtype=self.str_dtype))
        else:
            arr = np.asarray(value)
            attr = self.h5a.create(gid, name.encode(), self.type_of(arr.dtype), self.scalar)
            attr.write(np.ascontiguousarray(arr))

    def dataset(self, gid, name: str, data: np.ndarray):
        """Create and fill a dataset; chunked, compressed and fletcher32-checked if big."""
        if data.dtype == object:
            dsid = self.h5d.create(
                gid, name.encode(), self.str_type,
                self.h5s.create_simple(data.shape) if data.ndim else self.scalar,
            )
            if data.size:
                dsid.write(self.h5s.ALL, self.h5s.ALL, np.asarray(data, dtype=self.str_dtype))
            return dsid
        space = self.h5s.create_simple(data.shape) if data.ndim else self.scalar
        dcpl = None
        if data.ndim and data.nbytes >= COMPRESS_BYTES:
            dcpl = self.h5p.create(self.h5p.DATASET_CREATE)
            dcpl.set_chunk(_chunks(data.shape, data.dtype.itemsize))
            dcpl.set_shuffle()
            dcpl.set_deflate(_GZIP_LEVEL)
            dcpl.set_fletcher32()
        dsid = self.h5d.create(gid, name.encode(), self.type_of(data.dtype), space, dcpl=dcpl)
        if data.size:
            dsid.write(self.h5s.ALL, self.h5s.ALL, data)
        return dsid


_LOW: _LowLevel | None = None


def _low() -> _LowLevel:
    global _LOW
    if _LOW is None:
        _LOW = _LowLevel()
    return _LOW


def _chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Chunk shape: the whole array, halving its largest axis until a chunk is <= 1 MiB."""
    chunk = [max(1, n) for n in shape]
    while int(np.prod(chunk)) * itemsize > _CHUNK_BYTES and max(chunk) > 1:
        axis = int(np.argmax(chunk))
        chunk[axis] = -(-chunk[axis] // 2)
    return tuple(chunk)


def encode_layout(result: ExperimentResult | None) -> dict:
    """``layout_json`` of a result: arrays with dims, coordinates, bool arrays, scalars, dim sizes."""
    if result is None:
        return {}
    return {
        "arrays": {name: list(dims) for name, (dims, _) in result.arrays.items()},
        "coords": [dim for dim in result.dims() if dim in result.coords],
        "dims": result.dims(),
        "bool": [name for name, (_, arr) in result.arrays.items() if np.asarray(arr).dtype == np.bool_],
    }


def write_run(parent, record: RunRecord):
    """Write ``record`` as the group ``parent/<run_id>`` (schema 2). Returns the group."""
    low = _low()
    result = record.result
    scalars = (
        {}
        if result is None
        else {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.scalars.items()}
    )
    meta = {
        "experiment": record.experiment,
        "status": record.status,
        "error": record.error,
        "params_json": canonical_params(record.params),
        "seed": np.int64(record.seed),
        "seed_spawn_key": json.dumps([int(k) for k in record.spawn_key]),
        "started": record.started,
        "finished": record.finished,
        "provenance_json": _json(dict(record.provenance)),
        "scalars_json": _json(scalars),
        "attrs_json": _json({} if result is None else dict(result.attrs)),
        "layout_json": json.dumps(encode_layout(result)),
    }
    derived = {name: _attr_value(value) for name, value in record.params.items()}
    derived.update({SCALAR_PREFIX + name: _attr_value(value) for name, value in scalars.items()})
    datasets: list[tuple[str, np.ndarray]] = []
    gid = low.h5g.create(parent.id, record.run_id.encode())
    try:
        if result is not None:
            ids = {}
            for dim, size in result.dims().items():
                if dim in result.coords:
                    data, _ = _stored_array(result.coords[dim])
                    dsid = low.dataset(gid, dim, data)
                    low.h5ds.set_scale(dsid, dim.encode())
                    datasets.append((dim, data))
                else:
                    dsid = low.h5d.create(gid, dim.encode(), low.type_of(np.dtype("<f4")),
                                          low.h5s.create_simple((size,)))
                    low.h5ds.set_scale(dsid, f"{_NC_DIM_ONLY}{size:10d}".encode())
                ids[dim] = dsid
            for name, (dims, arr) in result.arrays.items():
                data, _ = _stored_array(arr)
                dsid = low.dataset(gid, name, data)
                for axis, dim in enumerate(dims):
                    low.h5ds.attach_scale(dsid, ids[dim], axis)
                datasets.append((name, data))
        for name, value in meta.items():
            if name == "error" and not value:
                continue
            low.attr(gid, name, value)
        for name, value in derived.items():
            low.attr(gid, name, value)
        low.attr(gid, "checksum_meta", _checksum_meta(meta))
        low.attr(gid, "checksum_data", _checksum_data(derived, datasets))
    except BaseException:
        with contextlib.suppress(Exception):
            parent.id.unlink(record.run_id.encode())  # never leave half a run behind
        raise
    return parent[record.run_id]


# -- reading ----------------------------------------------------------------------------------------------


def _run_name(group) -> str:
    name = group.name
    return name.rsplit("/", 1)[-1] if name else "?"


@contextlib.contextmanager
def _guard(group, what: str):
    """Turn any HDF5/decoding error while reading a run into :class:`DamagedRunError`."""
    try:
        yield
    except DamagedRunError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever HDF5 or json raise on damaged bytes
        raise DamagedRunError(
            _run_name(group), f"{what} cannot be read ({type(exc).__name__}: {exc})", _filename(group)
        ) from exc


def _filename(group):
    try:
        return group.file.filename
    except Exception:  # noqa: BLE001
        return None


def _meta_values(group) -> dict:
    attrs = group.attrs
    return {key: _decode(attrs[key]) for key in META_ATTRS if key in attrs}


def read_info(group, *, verify: bool = True) -> RunInfo:
    """The :class:`RunInfo` of a run group (attributes only; ``verify`` checks ``checksum_meta``)."""
    with _guard(group, "its attributes"):
        attrs = group.attrs
        run_id = _run_name(group)
        if "layout_json" not in attrs:  # schema 1
            return _read_info_v1(group, run_id)
        meta = _meta_values(group)
        if verify:
            stored = _decode(attrs.get("checksum_meta", ""))
            if _checksum_meta(meta) != stored:
                raise DamagedRunError(run_id, "its attributes fail their checksum (checksum_meta)",
                                      _filename(group))
        return RunInfo(
            run_id=run_id,
            experiment=meta["experiment"],
            status=meta["status"],
            params=json.loads(meta["params_json"]),
            seed=int(meta["seed"]),
            spawn_key=tuple(json.loads(meta["seed_spawn_key"])),
            started=meta["started"],
            finished=meta["finished"],
            scalars=json.loads(meta["scalars_json"]),
            provenance=json.loads(meta["provenance_json"]),
            attrs=json.loads(meta["attrs_json"]),
            error=meta.get("error", ""),
        )


def _read_info_v1(group, run_id: str) -> RunInfo:
    attrs = group.attrs
    return RunInfo(
        run_id=_decode(attrs.get("run_id", run_id)),
        experiment=_decode(attrs["experiment"]),
        status=_decode(attrs.get("status", "")),
        params=json.loads(_decode(attrs["params_json"])),
        seed=int(_decode(attrs.get("seed_entropy", attrs.get("seed", 0)))),
        spawn_key=tuple(json.loads(_decode(attrs.get("seed_spawn_key", "[]")))),
        started=_decode(attrs.get("started", "")),
        finished=_decode(attrs.get("finished", "")),
        scalars=json.loads(_decode(attrs.get("scalars_json", "{}"))),
        provenance=json.loads(_decode(attrs.get("provenance_json", "{}"))),
        attrs=json.loads(_decode(attrs.get("attrs_json", "{}"))),
        error=_decode(attrs.get("error", "")),
    )


def _load_dataset(ds) -> np.ndarray:
    import h5py

    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[()], dtype=object)
    return np.asarray(ds[()])


def read_result(group, *, verify: bool = True) -> ExperimentResult | None:
    """The :class:`ExperimentResult` stored in a run group (``None`` for a failed run).

    ``verify`` checks ``checksum_data`` (and ``checksum_meta``): a damaged run
    raises :class:`DamagedRunError`.
    """
    info = read_info(group, verify=verify)
    if info.status != STATUS_COMPLETE:
        return None
    with _guard(group, "its datasets"):
        attrs = group.attrs
        if "layout_json" not in attrs:
            return _read_result_v1(group, info)
        layout = json.loads(_decode(attrs["layout_json"]))
        coords = {dim: _load_dataset(group[dim]) for dim in layout["coords"]}
        arrays = {name: (tuple(dims), _load_dataset(group[name])) for name, dims in layout["arrays"].items()}
        if verify:
            derived = {name: _decode(attrs[name]) for name in info.params}
            derived.update({SCALAR_PREFIX + name: _decode(attrs[SCALAR_PREFIX + name]) for name in info.scalars})
            datasets = [(dim, coords[dim]) for dim in layout["coords"]]
            datasets += [(name, arrays[name][1]) for name in layout["arrays"]]
            stored = _decode(attrs.get("checksum_data", ""))
            if _checksum_data(derived, datasets) != stored:
                raise DamagedRunError(info.run_id, "its data fail their checksum (checksum_data)",
                                      _filename(group))
        for name in layout["bool"]:
            dims, arr = arrays[name]
            arrays[name] = (dims, arr.astype(bool))
        coords = {dim: (values.astype(str) if values.dtype == object else values) for dim, values in coords.items()}
        return ExperimentResult(arrays=arrays, coords=coords, scalars=dict(info.scalars), attrs=dict(info.attrs))


def _read_result_v1(group, info: RunInfo) -> ExperimentResult:
    import h5py

    arrays, coords, scalars = {}, {}, {}
    for name, ds in group.items():
        if not isinstance(ds, h5py.Dataset):
            continue
        kind = _decode(ds.attrs.get(_KIND_ATTR, ""))
        if kind == "coordinate":
            coords[name] = _load_dataset(ds)
            if coords[name].dtype == object:
                coords[name] = coords[name].astype(str)
        elif kind == "array":
            dims = tuple(_dim_name_v1(ds, axis) for axis in range(ds.ndim))
            data = _load_dataset(ds)
            if _decode(ds.attrs.get(_BOOL_ATTR, "")) == "bool":
                data = data.astype(bool)
            arrays[name] = (dims, data)
        elif kind == "scalar":
            scalars[name] = _decode(ds[()])
    ordered = {k: scalars[k] for k in info.scalars if k in scalars}
    ordered.update({k: v for k, v in scalars.items() if k not in ordered})
    return ExperimentResult(arrays=arrays, coords=coords, scalars=ordered, attrs=dict(info.attrs))


def _dim_name_v1(ds, axis: int) -> str:
    scales = ds.dims[axis]
    if len(scales) == 0:
        raise ValueError(f"dataset {ds.name!r} has no dimension scale on axis {axis}")
    name = scales[0].name
    if not name:
        raise ValueError(f"the dimension scale of dataset {ds.name!r} on axis {axis} has no name")
    return name.rsplit("/", 1)[-1]


def read_record(group, *, verify: bool = True) -> RunRecord:
    """The full :class:`RunRecord` of a run group (round-trips :func:`write_run`)."""
    info = read_info(group, verify=verify)
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
        result=read_result(group, verify=verify),
        error=info.error,
    )


def verify_run(group) -> str:
    """Read and check one run completely; return ``""`` if sound, else what is wrong.

    Schema-1 runs carry no checksums: they are read completely (every
    attribute and dataset), which finds damage HDF5 itself detects.
    """
    try:
        info = read_info(group)
        if info.status == STATUS_COMPLETE:
            read_result(group)
        if "layout_json" not in group.attrs:
            for ds in group.values():
                ds[()]
            return ""
        return ""
    except DamagedRunError as exc:
        return exc.reason
    except Exception as exc:  # noqa: BLE001 - anything HDF5 raises means damage
        return f"cannot be read ({type(exc).__name__}: {exc})"



# -- the file's root ---------------------------------------------------------------------------------------


def init_root(f) -> None:
    """Write the root attributes and the empty ``/runs`` group of a new archive."""
    import statmech
    from statmech.runs.provenance import utc_now

    f.attrs["format"] = FORMAT
    f.attrs["schema_version"] = np.int64(SCHEMA_VERSION)
    f.attrs["created"] = utc_now()
    f.attrs["creator"] = f"statmech {getattr(statmech, '__version__', '?')}"
    f.create_group("runs")


def check_root(f, path) -> int:
    """The schema version of an open archive, or :class:`NotAnArchiveError` / :class:`ArchiveSchemaError`."""
    from statmech.runs.errors import ArchiveSchemaError, NotAnArchiveError

    try:
        fmt = _decode(f.attrs.get("format", ""))
        version = int(_decode(f.attrs.get("schema_version", -1)))
        has_runs = "runs" in f
    except Exception as exc:  # noqa: BLE001 - a damaged superblock or root group
        raise NotAnArchiveError(f"{path}: the archive's root cannot be read ({type(exc).__name__}: {exc})") from None
    if fmt != FORMAT:
        top = ", ".join(sorted(f.keys())[:8]) or "nothing"
        raise NotAnArchiveError(
            f"{path} is an HDF5 file but not a statmech archive (root attribute format={fmt!r}, "
            f"expected {FORMAT!r}; it holds: {top})"
        )
    if version > SCHEMA_VERSION:
        raise ArchiveSchemaError(
            f"{path} uses archive schema version {version}, newer than this statmech "
            f"({getattr(__import__('statmech'), '__version__', '?')}) understands ({SCHEMA_VERSION}); "
            "upgrade statmech to read it"
        )
    if version < 1 or not has_runs:
        raise NotAnArchiveError(f"{path} claims to be a statmech archive but has no valid schema/runs group")
    return version
