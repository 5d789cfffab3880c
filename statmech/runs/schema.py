"""The archive's layout and its codec: one run record to and from one HDF5 group.

Layout (schema version 5)
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
  ``scalars_json`` (the scalar summaries, typed and in order),
  ``attrs_json`` (the result's extra metadata), ``layout_json`` (``"schema":
  5``, which datasets are arrays with which dimensions, which are
  coordinates, and the symbols of the labels), and two checksums (below);
- datasets: every named dimension is an HDF5 dimension scale (holding its
  coordinate values, or, for a dimension without coordinates, the netCDF-4
  "dimension but not a variable" marker), every array is a dataset with its
  dimensions attached. The scalar summaries are four variables over the
  dimension ``summary`` (:data:`SUMMARY_VARIABLES`): its coordinate holds
  their names, ``summary_value`` their values as float64 (NaN for text; the
  typed values are ``scalars_json``), ``summary_long_name`` and
  ``summary_units`` the CF ``long_name`` and ``units`` of each (text).
  Datasets under 16 KiB use HDF5's compact layout (their values inside their
  object header, which HDF5 checksums); bigger ones are chunked, shuffled,
  gzip-compressed and carry HDF5's ``fletcher32`` checksum. Every coordinate,
  array and summary variable carries the CF-convention attribute
  ``long_name`` (what it is, in words) and, where one unit applies,
  ``units`` (``"1"`` for a pure number; left out when unknown), from the
  result's labels (:mod:`statmech.runs.quantities`), as fixed-length UTF-8
  text (netCDF's ``NC_CHAR``). So ``xarray.open_dataset(path,
  engine="h5netcdf", group="runs/<run_id>")`` gives named dimensions and
  coordinates (``ds.summary_value.sel(summary="beta_c_theory")``), its
  ``.plot()`` and netCDF tools (``ncdump``) label every variable, and plain
  h5py reads everything too. A label is stored once: its words and unit in
  the CF attributes (or the summary variables), its symbol (and a unit the CF
  spelling would not give back, ``"1"``) in ``layout_json``.

Files are written with HDF5's 1.8 format bounds (:data:`FILE_LIBVER`:
version-2 object headers, readable by HDF5 1.8 and later, netCDF-C
included), without access/modification times, with every attribute and
(where :mod:`statmech.runs.hdf5_links` reaches HDF5) every link of a run
group in its object header. What a run costs (``rem``, ``M=6, samples=4,
n_beta=10``: 1.39 kB of arrays; ``benchmarks/bench_scan.py``): 13.2 kB
(overhead 11.8 kB), against 14.7 kB in schema 4 and 19.9 kB in schema 3. Most
of it is one object header per dataset (~320 bytes: dataspace, datatype,
fill value, layout, ``long_name``, ``units``, ``DIMENSION_LIST``; 17 of
them), HDF5's global heap (4.1 kB: the JSON text, 2.0 kB, and ~55
variable-length strings and dimension-list entries with 16 bytes of header
each) and the run group's header (1.7 kB: 18 attributes and 17 links).

Checksums: ``checksum_meta`` is the BLAKE2b-128 digest of the attributes a
run's listing is built from (experiment, status, parameters, seed, times,
provenance, scalars, metadata, layout), ``checksum_data`` that of every
dataset's dtype, shape and bytes (schemas 3 to 5: and its ``long_name`` and
``units``) and of the per-parameter (schemas 2 to 4: and per-scalar) attributes. Readers
verify the first whenever they list a run and the second whenever they load
it; a mismatch, or any HDF5 error while reading a run (a version-2 object
header failing HDF5's own checksum, a chunk failing ``fletcher32``), raises
:class:`~statmech.runs.errors.DamagedRunError` naming the run.

Schema 4 is schema 5 with each scalar summary as a 0-d variable (with its
CF attributes) and as a group attribute ``scalar_<name>``, and run groups'
links in dense storage. Schema 3 (issue 12) is schema 4 with version-1 object headers, contiguous
small datasets, times, and each label ``[label, symbol, unit]`` in
``layout_json["labels"]`` (which also lists the scalar datasets). Schema 2
(statmech before issue 12) is schema 3 without the labels: no
``long_name``/``units``, no scalar datasets, ``layout_json`` without
``labels``; its checksums cover what it has. Schema 1 (statmech before issue
9) is read as before: per-dataset ``statmech_kind`` attributes instead of
``layout_json``, scalars as 0-d datasets, provenance also as one attribute
per key, no checksums. An archive holds runs of any of these schemas (a run's
is :func:`run_schema`); its root ``schema_version`` is the newest.

``run_id`` is the first 16 hex digits of the BLAKE2b hash of the experiment
name, its canonical (fully resolved, typed, key-sorted JSON) parameters and its
seed (entropy and spawn key): the same point computed twice has the same id.

Encoding uses h5py's low-level API, with property lists, dataspaces and
datatypes made once and the memory type of every write given (h5py would
derive it each time), and writes the dimension-scale attributes
(``DIMENSION_LIST``, ``REFERENCE_LIST``) once each instead of through
``H5DSattach_scale``, which rewrites them per attachment. A ``rem`` run
creates about 80 HDF5 objects and attributes (schema 4: ~100; a bare write of
its arrays: 12); measured back to back, schema 4 encodes in 0.74x the time of
schema 3, and schema 5 in ~0.84x the time of schema 4 (300 cheap ``rem`` runs).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from statmech.runs.errors import DamagedRunError
from statmech.runs.quantities import Quantity, cf_units, unit_from_cf
from statmech.runs.result import ExperimentResult

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "FILE_LIBVER",
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
    "run_schema",
    "init_root",
    "check_root",
]

FORMAT = "statmech-archive"
SCHEMA_VERSION = 5

STATUS_COMPLETE = "complete"
STATUS_FAILED = "failed"
#: Status shown for a run whose metadata cannot be read or fail their checksum.
STATUS_DAMAGED = "damaged"

#: netCDF-4's marker for a dimension scale that is not a coordinate variable
#: (h5netcdf and netCDF-C recognise the prefix).
_NC_DIM_ONLY = "This is a netCDF dimension but not a netCDF variable."

#: Schemas 2 to 4: scalar summaries are also group attributes named ``scalar_<name>``.
SCALAR_PREFIX = "scalar_"
#: Schema 5: the scalar summaries as netCDF variables over one dimension (its coordinate holds
#: their names): values, and the CF ``long_name`` and ``units`` of each.
SUMMARY_DIM = "summary"
SUMMARY_VALUE, SUMMARY_LONG_NAME, SUMMARY_UNITS = "summary_value", "summary_long_name", "summary_units"
SUMMARY_VARIABLES = (SUMMARY_DIM, SUMMARY_VALUE, SUMMARY_LONG_NAME, SUMMARY_UNITS)
#: The labels of those variables themselves.
SUMMARY_QUANTITIES = {
    SUMMARY_DIM: Quantity("scalar summary", "", ""),
    SUMMARY_VALUE: Quantity("value of the scalar summary (units: summary_units; NaN for text)", "", ""),
    SUMMARY_LONG_NAME: Quantity("what the scalar summary is (CF long_name)", "", ""),
    SUMMARY_UNITS: Quantity("units of the scalar summary (CF units; empty when unknown)", "", ""),
}

#: Arrays at least this big are chunked and compressed (smaller ones would grow).
COMPRESS_BYTES = 16 * 1024
_GZIP_LEVEL = 4
#: A run group keeps up to this many attributes in its object header (HDF5's default, 8, would move
#: a run's ~30 attributes to dense storage: a fractal heap and a B-tree, ~1 kB more per run).
_MAX_COMPACT_ATTRS = 4096
#: HDF5 file-format bounds of archives written now: version-2 object headers (smaller, with
#: compact attribute storage), readable by HDF5 1.8 and later (netCDF-C, h5py, h5netcdf).
FILE_LIBVER = ("v108", "v108")
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

#: CF-convention attributes of every coordinate, array and scalar dataset (schemas 3 and 4).
CF_ATTRS = ("long_name", "units")

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
    """Compact JSON (schema 5; insertion order: the experiment's order)."""
    return json.dumps(value, default=json_default, separators=(",", ":"))


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


def _checksum_data(derived: Mapping[str, Any], datasets: Iterable[tuple[str, np.ndarray]],
                   cf: Iterable[tuple[str, str, str]] | None = None) -> str:
    """Digest of the derived attributes, the datasets and (schemas 3 and 4) their ``(name, long_name, units)``."""
    h = hashlib.blake2b(digest_size=16)
    for key in sorted(derived):
        h.update(b"p" + key.encode() + b"=")
        _feed_value(h, derived[key])
    for name, arr in datasets:
        _feed_array(h, name, arr)
    for name, long_name, units in cf or ():
        h.update(b"c" + name.encode() + b"\0")
        _feed_value(h, long_name)
        _feed_value(h, units)
    return h.hexdigest()


def _cf_values(quantity: Quantity) -> tuple[str, str]:
    """``(long_name, units)`` of a quantity (``units`` "" when unknown: not written)."""
    return quantity.label, (cf_units(quantity.unit) if quantity.unit else "")


# -- writing ---------------------------------------------------------------------------------------------


class _LowLevel:
    """h5py's low-level objects and creation property lists, made once (h5py is imported on first use).

    Every object is created without access/modification times (16 bytes of
    header each, and they would make the bytes depend on the clock); groups
    keep all their attributes in their object header (no dense attribute
    storage); datasets smaller than :data:`COMPRESS_BYTES` use HDF5's compact
    layout (the values inside the object header: no separate allocation).
    """

    def __init__(self):
        import h5py
        from h5py import h5a, h5d, h5ds, h5g, h5p, h5s, h5t

        self.h5py, self.h5a, self.h5d, self.h5ds, self.h5g, self.h5p, self.h5s, self.h5t = (
            h5py, h5a, h5d, h5ds, h5g, h5p, h5s, h5t)
        self.str_dtype = h5py.string_dtype("utf-8")
        self.str_type = h5t.py_create(self.str_dtype, logical=True)  # in the file: variable-length UTF-8
        self.str_mtype = h5t.py_create(self.str_dtype)  # in memory: Python objects (h5py's converter)
        self.scalar = h5s.create(h5s.SCALAR)
        self.types: dict[str, Any] = {}
        self.spaces: dict[tuple[int, ...], Any] = {(): self.scalar}
        self.text_types: dict[int, tuple[Any, np.dtype]] = {}
        self.gcpl = h5p.create(h5p.GROUP_CREATE)
        self.gcpl.set_obj_track_times(False)
        self.gcpl.set_attr_phase_change(_MAX_COMPACT_ATTRS, _MAX_COMPACT_ATTRS - 1)
        from statmech.runs.hdf5_links import link_settings

        self.link_settings = link_settings()
        self.dcpl_compact = h5p.create(h5p.DATASET_CREATE)
        self.dcpl_compact.set_obj_track_times(False)
        self.dcpl_compact.set_layout(h5d.COMPACT)
        self.dcpl_contiguous = h5p.create(h5p.DATASET_CREATE)
        self.dcpl_contiguous.set_obj_track_times(False)
        # HDF5's dimension-scale attributes (what H5DSattach_scale writes, old-style object references)
        self.dim_list_dtype = h5py.vlen_dtype(h5py.ref_dtype)
        self.dim_list_type = h5t.vlen_create(h5t.STD_REF_OBJ)
        self.ref_list_dtype = np.dtype({"names": ["dataset", "dimension"], "formats": [h5py.ref_dtype, np.uint32],
                                        "offsets": [0, 8], "itemsize": 16})
        self.ref_list_type = h5t.create(h5t.COMPOUND, 16)
        self.ref_list_type.insert(b"dataset", 0, h5t.STD_REF_OBJ)
        self.ref_list_type.insert(b"dimension", 8, h5t.NATIVE_UINT32)
        self.dim_list_mtype = h5t.py_create(self.dim_list_dtype)  # what h5py derives per write, made once
        self.ref_list_mtype = h5t.py_create(self.ref_list_dtype)

    def type_of(self, dtype: np.dtype):
        tid = self.types.get(dtype.str)
        if tid is None:
            tid = self.types[dtype.str] = self.h5t.py_create(dtype)
        return tid

    def space(self, shape: tuple[int, ...]):
        """A dataspace of ``shape`` (they are immutable once made: shared by every object of that shape)."""
        sid = self.spaces.get(shape)
        if sid is None:
            if len(self.spaces) > 256:
                self.spaces = {(): self.scalar}
            sid = self.spaces[shape] = self.h5s.create_simple(shape)
        return sid

    def group(self, parent_id, name: str, links: Iterable[str] = ()):
        """A group; its ``links`` (the names it will hold) kept in its object header where
        :mod:`statmech.runs.hdf5_links` reaches HDF5."""
        links = list(links)
        if self.link_settings is not None and links:
            self.link_settings.apply(self.gcpl, len(links), -(-sum(map(len, links)) // len(links)))
        return self.h5g.create(parent_id, name.encode(), gcpl=self.gcpl)

    def attr(self, gid, name: str, value) -> None:
        if isinstance(value, str):
            attr = self.h5a.create(gid, name.encode(), self.str_type, self.scalar)
            attr.write(np.array(value, dtype=self.str_dtype), mtype=self.str_mtype)
        else:
            arr = np.asarray(value)
            tid = self.type_of(arr.dtype)
            self.h5a.create(gid, name.encode(), tid, self.scalar).write(np.ascontiguousarray(arr), mtype=tid)

    def fixed_text_attr(self, gid, name: bytes, text: str) -> None:
        """A fixed-length UTF-8 string attribute: stored in the object header (a variable-length one
        takes global-heap space), read as text by h5py, h5netcdf/xarray and netCDF-C (``NC_CHAR``)."""
        data = text.encode() or b" "
        cached = self.text_types.get(len(data))
        if cached is None:
            tid = self.h5t.C_S1.copy()
            tid.set_size(len(data))
            tid.set_cset(self.h5t.CSET_UTF8)
            cached = self.text_types[len(data)] = (tid, np.dtype(f"S{len(data)}"))
        tid, dtype = cached
        attr = self.h5a.create(gid, name, tid, self.scalar)
        attr.write(np.frombuffer(data, dtype=dtype).reshape(()), mtype=tid)

    def dataset(self, gid, name: str, data: np.ndarray):
        """Create and fill a dataset: compact if small, else chunked, compressed and fletcher32-checked."""
        space = self.space(data.shape)
        small = data.nbytes < COMPRESS_BYTES or not data.ndim
        mtype = None
        if data.dtype == object:
            tid, mtype = self.str_type, self.str_mtype
            dcpl = self.dcpl_compact if data.size and small else self.dcpl_contiguous
        else:
            tid = self.type_of(data.dtype)
            if not data.size:
                dcpl = self.dcpl_contiguous
            elif small:
                dcpl = self.dcpl_compact
            else:
                dcpl = self.h5p.create(self.h5p.DATASET_CREATE)
                dcpl.set_obj_track_times(False)
                dcpl.set_chunk(_chunks(data.shape, data.dtype.itemsize))
                dcpl.set_shuffle()
                dcpl.set_deflate(_GZIP_LEVEL)
                dcpl.set_fletcher32()
        dsid = self.h5d.create(gid, name.encode(), tid, space, dcpl=dcpl)
        if data.size:
            if data.dtype == object:
                data = np.asarray(data, dtype=self.str_dtype)
            dsid.write(self.h5s.ALL, self.h5s.ALL, data, mtype=mtype or tid)  # given: no type lookup per write
        return dsid

    def attach_scales(self, dsid, scales: list) -> list:
        """Attach one dimension scale per axis of ``dsid`` as ``H5DSattach_scale`` does, in one write:
        the dataset's ``DIMENSION_LIST``; returns the ``(scale, reference, axis)`` entries of the
        scales' ``REFERENCE_LIST`` (:meth:`write_reference_lists` writes them once all are known)."""
        from h5py import h5r

        dim_list = np.empty(len(scales), dtype=self.dim_list_dtype)
        for axis, scale in enumerate(scales):
            dim_list[axis] = np.array([h5r.create(scale, b".", h5r.OBJECT)], dtype=self.h5py.ref_dtype)
        attr = self.h5a.create(dsid, b"DIMENSION_LIST", self.dim_list_type, self.space((len(scales),)))
        attr.write(dim_list, mtype=self.dim_list_mtype)
        ref = h5r.create(dsid, b".", h5r.OBJECT)
        return [(scale, ref, axis) for axis, scale in enumerate(scales)]

    def write_reference_lists(self, entries: list) -> None:
        """Each dimension scale's ``REFERENCE_LIST``: which dataset axes it is attached to."""
        by_scale: dict[Any, list] = {}
        for scale, ref, axis in entries:
            by_scale.setdefault(scale, []).append((ref, axis))
        for scale, refs in by_scale.items():
            data = np.empty(len(refs), dtype=self.ref_list_dtype)
            for k, (ref, axis) in enumerate(refs):
                data[k] = (ref, axis)
            attr = self.h5a.create(scale, b"REFERENCE_LIST", self.ref_list_type, self.space((len(refs),)))
            attr.write(data, mtype=self.ref_list_mtype)

    def dimension_only(self, gid, dim: str, size: int):
        """netCDF-4's dimension without values: an empty (never allocated) scale marked as such."""
        dsid = self.h5d.create(gid, dim.encode(), self.type_of(np.dtype("<f4")), self.space((size,)),
                               dcpl=self.dcpl_contiguous)
        self.h5ds.set_scale(dsid, f"{_NC_DIM_ONLY}{size:10d}".encode())
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


def _quantities(result: ExperimentResult) -> dict[str, Quantity]:
    """The quantity of every coordinate, array and scalar of ``result``, in storage order."""
    coords = [dim for dim in result.dims() if dim in result.coords]
    return {name: result.quantity(name) for name in (*coords, *result.arrays, *result.scalars)}


def encode_layout(result: ExperimentResult | None, quantities: Mapping[str, Quantity]) -> dict:
    """``layout_json`` of a result (schema 5): arrays with dims, coordinates, bool arrays (schema 4 also
    the dimension sizes, which the datasets' shapes give),
    and what the CF attributes do not hold of the labels: the symbols, and the units that
    :func:`~statmech.runs.quantities.cf_units` does not give back exactly (a unit spelled ``"1"``)."""
    if result is None:
        return {"schema": SCHEMA_VERSION}
    layout = {
        "schema": SCHEMA_VERSION,
        "arrays": {name: list(dims) for name, (dims, _) in result.arrays.items()},
        "coords": [dim for dim in result.dims() if dim in result.coords],
        "bool": [name for name, (_, arr) in result.arrays.items() if np.asarray(arr).dtype == np.bool_],
    }
    symbols = {name: q.symbol for name, q in quantities.items() if q.symbol}
    units = {name: q.unit for name, q in quantities.items() if unit_from_cf(_cf_values(q)[1]) != q.unit}
    if symbols:
        layout["symbols"] = symbols
    if units:
        layout["units"] = units
    return layout


def _write_cf(dsid, name: str, quantity: Quantity, cf: list) -> None:
    """Write a dataset's CF attributes (and note them for the checksum)."""
    long_name, units = _cf_values(quantity)
    _low().fixed_text_attr(dsid, b"long_name", long_name)
    if units:
        _low().fixed_text_attr(dsid, b"units", units)
    cf.append((name, long_name, units))


def _summary_data(scalars: Mapping[str, Any], quantities: Mapping[str, Quantity]) -> dict[str, np.ndarray]:
    """Schema 5's summary variables: the scalars' names, values (float64; NaN for text) and CF labels."""
    names = list(scalars)
    values = np.array([float(v) if isinstance(v, (bool, int, float, np.number)) else np.nan
                       for v in scalars.values()], dtype=np.float64)
    labels = [_cf_values(quantities[name]) for name in names]
    return {
        SUMMARY_DIM: np.array(names, dtype=object),
        SUMMARY_VALUE: values,
        SUMMARY_LONG_NAME: np.array([long_name for long_name, _ in labels], dtype=object),
        SUMMARY_UNITS: np.array([units for _, units in labels], dtype=object),
    }


def write_run(parent, record: RunRecord):
    """Write ``record`` as the group ``parent/<run_id>`` (schema 5). Returns the group."""
    low = _low()
    result = record.result
    scalars = (
        {}
        if result is None
        else {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.scalars.items()}
    )
    quantities = {} if result is None else _quantities(result)
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
        "layout_json": json.dumps(encode_layout(result, quantities), separators=(",", ":")),
    }
    derived = {name: _attr_value(value) for name, value in record.params.items()}
    datasets: list[tuple[str, np.ndarray]] = []
    cf: list[tuple[str, str, str]] = []
    links = [] if result is None else [*result.dims(), *result.arrays]
    if scalars:
        taken = sorted(set(SUMMARY_VARIABLES) & set(links))
        if taken:
            raise ValueError(f"run {record.run_id}: the result names {taken} are the archive's own "
                             f"(schema {SCHEMA_VERSION} stores the scalar summaries as {list(SUMMARY_VARIABLES)})")
        links += SUMMARY_VARIABLES
    gid = low.group(parent.id, record.run_id, links)
    try:
        if result is not None:
            ids, attached = {}, []
            for dim, size in result.dims().items():
                if dim in result.coords:
                    data, _ = _stored_array(result.coords[dim])
                    dsid = low.dataset(gid, dim, data)
                    low.h5ds.set_scale(dsid, dim.encode())
                    _write_cf(dsid, dim, quantities[dim], cf)
                    datasets.append((dim, data))
                else:
                    dsid = low.dimension_only(gid, dim, size)
                ids[dim] = dsid
            for name, (dims, arr) in result.arrays.items():
                data, _ = _stored_array(arr)
                dsid = low.dataset(gid, name, data)
                if dims:
                    attached += low.attach_scales(dsid, [ids[dim] for dim in dims])
                _write_cf(dsid, name, quantities[name], cf)
                datasets.append((name, data))
            if scalars:
                for name, data in _summary_data(scalars, quantities).items():
                    dsid = low.dataset(gid, name, data)
                    if name == SUMMARY_DIM:
                        low.h5ds.set_scale(dsid, name.encode())
                        ids[name] = dsid
                    else:
                        attached += low.attach_scales(dsid, [ids[SUMMARY_DIM]])
                    _write_cf(dsid, name, SUMMARY_QUANTITIES[name], cf)
                    datasets.append((name, data))
            low.write_reference_lists(attached)
        for name, value in meta.items():
            if name == "error" and not value:
                continue
            low.attr(gid, name, value)
        for name, value in derived.items():
            low.attr(gid, name, value)
        low.attr(gid, "checksum_meta", _checksum_meta(meta))
        low.attr(gid, "checksum_data", _checksum_data(derived, datasets, cf))
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


def _layout_schema(layout: Mapping[str, Any]) -> int:
    """The schema of a run from its ``layout_json`` (schema 2 and 3 did not write theirs)."""
    return int(layout.get("schema", 3 if "labels" in layout else 2))


def _cf_attrs(ds) -> tuple[str, str]:
    attrs = ds.attrs
    return tuple(_decode(attrs.get(key, "")) for key in CF_ATTRS)


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
        schema = _layout_schema(layout)
        coords = {dim: group[dim] for dim in layout["coords"]}
        arrays = {name: group[name] for name in layout["arrays"]}
        if schema >= 5:
            scalar_names = list(SUMMARY_VARIABLES) if info.scalars else []
        else:
            scalar_names = list(layout["scalars"] if schema == 3 else info.scalars) if schema >= 3 else []
        scalars = {name: group[name] for name in scalar_names}
        cf = {name: _cf_attrs(ds) for name, ds in (*coords.items(), *arrays.items(), *scalars.items())} \
            if schema >= 3 else {}
        coords = {dim: _load_dataset(ds) for dim, ds in coords.items()}
        arrays = {name: (tuple(layout["arrays"][name]), _load_dataset(ds)) for name, ds in arrays.items()}
        if verify:
            derived = {name: _decode(attrs[name]) for name in info.params}
            if schema < 5:
                derived.update({SCALAR_PREFIX + name: _decode(attrs[SCALAR_PREFIX + name])
                                for name in info.scalars})
            datasets = [(dim, coords[dim]) for dim in layout["coords"]]
            datasets += [(name, arrays[name][1]) for name in layout["arrays"]]
            datasets += [(name, _load_dataset(ds)) for name, ds in scalars.items()]
            stored = _decode(attrs.get("checksum_data", ""))
            if _checksum_data(derived, datasets, [(name, *cf[name]) for name, _ in datasets] if cf else None) \
                    != stored:
                raise DamagedRunError(info.run_id, "its data fail their checksum (checksum_data)",
                                      _filename(group))
        for name in layout["bool"]:
            dims, arr = arrays[name]
            arrays[name] = (dims, arr.astype(bool))
        coords = {dim: (values.astype(str) if values.dtype == object else values) for dim, values in coords.items()}
        if schema == 3:
            labels = {name: Quantity(*value) for name, value in layout["labels"].items()}
        else:
            if schema >= 5:
                cf = {name: value for name, value in cf.items() if name not in SUMMARY_VARIABLES}
                if info.scalars:
                    entries = zip(_load_dataset(scalars[SUMMARY_LONG_NAME]), _load_dataset(scalars[SUMMARY_UNITS]))
                    cf.update(zip(info.scalars, entries))
            symbols, units = layout.get("symbols", {}), layout.get("units", {})
            labels = {name: Quantity(long_name, symbols.get(name, ""), units.get(name, unit_from_cf(cf_unit)))
                      for name, (long_name, cf_unit) in cf.items()}
        return ExperimentResult(arrays=arrays, coords=coords, scalars=dict(info.scalars), attrs=dict(info.attrs),
                                labels=labels)


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


def run_schema(group) -> int:
    """The schema a run group was written with: 1 to 5."""
    attrs = group.attrs
    if "layout_json" not in attrs:
        return 1
    return _layout_schema(json.loads(_decode(attrs["layout_json"])))


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
