"""The archive's layout and its codec: one run record to and from one HDF5 group.

Layout (schema version 6)
-------------------------
``/`` attributes ``format = "statmech-archive"``, ``schema_version``,
``created`` (ISO-8601 UTC) and ``creator``. Each run is the group
``/runs/<run_id>``; what runs share is stored once in ``/shared`` and
hard-linked into every run group that uses it (:mod:`statmech.runs.shared`:
every reader sees each run group whole). A run group holds

- attributes: ``experiment``, ``status`` (``"complete"`` or ``"failed"``),
  ``error`` (failed runs only), every parameter as a scalar attribute
  (booleans as 0/1: HDF5 has no portable bool) plus ``params_json`` (the exact
  typed values), ``seed`` (the seed-sequence entropy, int64),
  ``seed_spawn_key`` (JSON list), ``started`` and ``finished`` (ISO-8601 UTC),
  ``nonfloat_scalars_json`` (the scalar summaries ``summary_value`` cannot
  hold exactly: ints, bools, text; absent if none) and two checksums (below);
- ``metadata``, a (shared) group whose attributes are ``provenance_json``
  (versions of statmech, numba, numpy, scipy, h5py, HDF5, Python, host, git
  commit: :mod:`statmech.runs.provenance`), ``attrs_json`` (the result's
  extra metadata) and ``layout_json`` (``"schema": 6``, which datasets are
  arrays with which dimensions, which are coordinates, which were bools, and
  the symbols of the labels);
- datasets: every named dimension is a (shared) HDF5 dimension scale (holding
  its coordinate values, or, for a dimension without coordinates, the
  netCDF-4 "dimension but not a variable" marker), every array is a dataset
  with its dimensions attached (shared with the earlier run of the same
  writer that wrote the same values, if any). The scalar summaries are four
  variables over the dimension ``summary`` (:data:`SUMMARY_VARIABLES`): its
  (shared) coordinate holds their names, ``summary_value`` their values as
  float64 (NaN for text), the (shared) ``summary_long_name`` and
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
group in its object header (:mod:`statmech.runs.hdf5_encoding`). What a run
costs (``rem``, ``M=6, samples=4, n_beta=10``: 1.39 kB of arrays and
coordinates, 12 variables, 9 summaries; ``benchmarks/bench_scan.py``): ~5.5
kB (overhead ~4.1 kB; the test ``test_a_run_costs_its_data_plus_a_few_kb...``),
against 13.2 kB in schema 5, 14.7 kB in schema 4 and 19.9 kB in schema 3. What
is left is one object header per own variable (~290 bytes: dataspace,
datatype, fill value, layout, attribute info, ``long_name``, ``units``,
``DIMENSION_LIST``; 8 of them, the 4 theory curves being shared), the run
group's header (~1.4 kB: 14 attributes and 18 links) and HDF5's global heap
(~0.7 kB: variable-length text and dimension-list entries).

Checksums: ``checksum_meta`` is the BLAKE2b-128 digest of what a run's
listing is built from (experiment, status, parameters, seed, times,
provenance, scalars (schema 6: as read back from the summary variables and
``nonfloat_scalars_json``, in the JSON form of schemas 2 to 5), metadata,
layout), ``checksum_data`` that of every dataset's dtype, shape and bytes
(schemas 3 to 6: and its ``long_name`` and ``units``; schema 6: the shared
ones it links too) and of the per-parameter (schemas 2 to 4: and per-scalar)
attributes (:mod:`statmech.runs.checksums`). Readers verify the first
whenever they list a run and the second whenever they load it; a mismatch,
or any HDF5 error while reading a run (a version-2 object header failing
HDF5's own checksum, a chunk failing ``fletcher32``), raises
:class:`~statmech.runs.errors.DamagedRunError` naming the run. Damage to a
shared object is damage to every run that links it.

Schema 5 is schema 6 with nothing shared: every run group holds its own
dimension scales (listing the run's variables in their ``REFERENCE_LIST``),
summary variables and arrays, and ``provenance_json``, ``attrs_json``,
``layout_json`` and ``scalars_json`` (every summary, typed) as its own
attributes. Schema 4 is schema 5 with each scalar summary as a 0-d variable
(with its CF attributes) and as a group attribute ``scalar_<name>``, and run
groups' links in dense storage. Schema 3 (issue 12) is schema 4 with
version-1 object headers, contiguous small datasets, times, and each label
``[label, symbol, unit]`` in ``layout_json["labels"]`` (which also lists the
scalar datasets). Schema 2 (statmech before issue 12) is schema 3 without the
labels: no ``long_name``/``units``, no scalar datasets, ``layout_json``
without ``labels``; its checksums cover what it has. Schema 1 (statmech
before issue 9) is read as before: per-dataset ``statmech_kind`` attributes
instead of ``layout_json``, scalars as 0-d datasets, provenance also as one
attribute per key, no checksums. An archive holds runs of any of these
schemas (a run's is :func:`run_schema`); its root ``schema_version`` is the
newest.

``run_id`` is the first 16 hex digits of the BLAKE2b hash of the experiment
name, its canonical (fully resolved, typed, key-sorted JSON) parameters and its
seed (entropy and spawn key): the same point computed twice has the same id.

Encoding uses h5py's low-level API, with property lists, dataspaces and
datatypes made once and the memory type of every write given (h5py would
derive it each time), and writes each dimension-scale attribute
(``DIMENSION_LIST``, ``REFERENCE_LIST``) once instead of through
``H5DSattach_scale``, which rewrites them per attachment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from statmech.runs.checksums import META_ATTRS, checksum_data, checksum_meta
from statmech.runs.errors import DamagedRunError
from statmech.runs.hdf5_encoding import FILE_LIBVER, decode, encoder, load_dataset
from statmech.runs.quantities import Quantity, cf_units, unit_from_cf
from statmech.runs.result import ExperimentResult
from statmech.runs.shared import METADATA_ATTRS, METADATA_GROUP, SharedObjects

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
SCHEMA_VERSION = 6

STATUS_COMPLETE = "complete"
STATUS_FAILED = "failed"
#: Status shown for a run whose metadata cannot be read or fail their checksum.
STATUS_DAMAGED = "damaged"


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

#: Schema 6: the scalar summaries ``summary_value`` (float64) cannot hold exactly (ints, bools, text),
#: as JSON; absent when there are none.
NONFLOAT_SCALARS = "nonfloat_scalars_json"
#: Names a result's arrays and dimensions cannot take: the run group's own links (schema 6).
RUN_GROUP_NAMES = (*SUMMARY_VARIABLES, METADATA_GROUP)

#: CF-convention attributes of every coordinate, array and scalar dataset (schemas 3 to 6).
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
    """Compact JSON (schemas 5 and 6; insertion order: the experiment's order)."""
    return json.dumps(value, default=json_default, separators=(",", ":"))


def _stored_array(arr) -> tuple[np.ndarray, bool]:
    """The array as stored (native byte order, bools as uint8, strings as a list) and whether it was bool."""
    arr = np.asarray(arr)
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr, dtype=np.uint8), True
    if arr.dtype.kind in "UOS":
        return np.asarray([str(v) for v in arr.reshape(-1)], dtype=object).reshape(arr.shape), False
    return np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("=")), False


def _cf_values(quantity: Quantity) -> tuple[str, str]:
    """``(long_name, units)`` of a quantity (``units`` "" when unknown: not written)."""
    return quantity.label, (cf_units(quantity.unit) if quantity.unit else "")


# -- writing ---------------------------------------------------------------------------------------------


def _quantities(result: ExperimentResult) -> dict[str, Quantity]:
    """The quantity of every coordinate, array and scalar of ``result``, in storage order."""
    coords = [dim for dim in result.dims() if dim in result.coords]
    return {name: result.quantity(name) for name in (*coords, *result.arrays, *result.scalars)}


def encode_layout(result: ExperimentResult | None, quantities: Mapping[str, Quantity]) -> dict:
    """``layout_json`` of a result (schemas 5 and 6): arrays with dims, coordinates, bool arrays (schema 4 also
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


def _summary_data(scalars: Mapping[str, Any], quantities: Mapping[str, Quantity]) -> dict[str, np.ndarray]:
    """The summary variables: the scalars' names, values (float64; NaN for text) and CF labels."""
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


def _scalars_of(names, values: np.ndarray, nonfloat: Mapping[str, Any]) -> dict:
    """Schema 6: the scalar summaries from ``summary``, ``summary_value`` and ``nonfloat_scalars_json``."""
    return {name: nonfloat[name] if name in nonfloat else float(value) for name, value in zip(names, values)}


def write_run(parent, record: RunRecord, shared: SharedObjects | None = None):
    """Write ``record`` as the group ``parent/<run_id>`` (schema 6). Returns the group.

    ``parent`` is the archive's ``/runs`` group; what the run shares with
    others (its dimensions, its summaries' names and labels, its metadata) is
    found or written under ``/shared`` (:mod:`statmech.runs.shared`), through
    ``shared`` (a writer's, which remembers what it checked) or a new one.
    """
    enc = encoder()
    shared = SharedObjects() if shared is None else shared
    root = parent.file
    result = record.result
    scalars = (
        {}
        if result is None
        else {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.scalars.items()}
    )
    quantities = {} if result is None else _quantities(result)
    texts = {
        "layout_json": json.dumps(encode_layout(result, quantities), separators=(",", ":")),
        "provenance_json": _json(dict(record.provenance)),
        "attrs_json": _json({} if result is None else dict(result.attrs)),
    }
    nonfloat = {name: value for name, value in scalars.items() if not isinstance(value, float)}
    meta = {
        "experiment": record.experiment,
        "status": record.status,
        "error": record.error,
        "params_json": canonical_params(record.params),
        "seed": np.int64(record.seed),
        "seed_spawn_key": json.dumps([int(k) for k in record.spawn_key]),
        "started": record.started,
        "finished": record.finished,
        **texts,
        "scalars_json": _json(scalars),
    }
    derived = {name: _attr_value(value) for name, value in record.params.items()}
    datasets: list[tuple[str, np.ndarray]] = []
    cf: list[tuple[str, str, str]] = []
    links = [] if result is None else [*result.dims(), *result.arrays]
    taken = sorted(set(RUN_GROUP_NAMES) & set(links))
    if taken:
        raise ValueError(f"run {record.run_id}: the result names {taken} are the archive's own (schema "
                         f"{SCHEMA_VERSION} stores the scalar summaries as {list(SUMMARY_VARIABLES)} and the "
                         f"run's metadata as {METADATA_GROUP!r})")
    links += [*(SUMMARY_VARIABLES if scalars else ()), METADATA_GROUP]
    metadata = shared.metadata(root, texts)  # before the run's group: a failure leaves no half run
    gid = enc.group(parent.id, record.run_id, links)
    try:
        written = {}
        if result is not None:
            scales, scale_names = {}, {}
            for dim, size in result.dims().items():
                if dim in result.coords:
                    data, _ = _stored_array(result.coords[dim])
                    long_name, units = _cf_values(quantities[dim])
                    scales[dim], scale_names[dim] = shared.dimension(root, dim, size, data, long_name, units)
                    datasets.append((dim, data))
                    cf.append((dim, long_name, units))
                else:
                    scales[dim], scale_names[dim] = shared.dimension(root, dim, size)
                enc.link(scales[dim], gid, dim)
            for name, (dims, arr) in result.arrays.items():
                data, _ = _stored_array(arr)
                labels = _cf_values(quantities[name])
                key = shared.array_key(name, data, labels, [scale_names[dim] for dim in dims])
                same = shared.same_array(root, key)
                if same is not None:  # the same values as an array of an earlier run: link it
                    enc.link(same, gid, name)
                else:
                    dsid = enc.dataset(gid, name, data)
                    if dims:  # the shared scales do not list the runs' variables (REFERENCE_LIST)
                        enc.attach_scales(dsid, [scales[dim] for dim in dims])
                    enc.cf_attrs(dsid, *labels)
                    written[key] = f"{parent.name}/{record.run_id}/{name}"
                datasets.append((name, data))
                cf.append((name, *labels))
            if scalars:
                columns = _summary_data(scalars, quantities)
                labels = {name: _cf_values(SUMMARY_QUANTITIES[name])
                          for name in (SUMMARY_DIM, SUMMARY_LONG_NAME, SUMMARY_UNITS)}
                summary = shared.summary(root, columns[SUMMARY_DIM], columns[SUMMARY_LONG_NAME],
                                         columns[SUMMARY_UNITS], labels)
                labels[SUMMARY_VALUE] = _cf_values(SUMMARY_QUANTITIES[SUMMARY_VALUE])
                for name, data in columns.items():
                    if name == SUMMARY_VALUE:  # the run's own
                        dsid = enc.dataset(gid, name, data)
                        enc.attach_scales(dsid, [summary[SUMMARY_DIM]])
                        enc.cf_attrs(dsid, *labels[name])
                    else:
                        enc.link(summary[name], gid, name)
                    datasets.append((name, data))
                    cf.append((name, *labels[name]))
        enc.link(metadata, gid, METADATA_GROUP)
        for name in ("experiment", "status", "error", "params_json", "seed", "seed_spawn_key", "started",
                     "finished"):
            if name == "error" and not meta[name]:
                continue
            enc.attr(gid, name, meta[name])
        if nonfloat:
            enc.attr(gid, NONFLOAT_SCALARS, _json(nonfloat))
        for name, value in derived.items():
            enc.attr(gid, name, value)
        enc.attr(gid, "checksum_meta", checksum_meta(meta))
        enc.attr(gid, "checksum_data", checksum_data(derived, datasets, cf))
    except BaseException:
        with contextlib.suppress(Exception):
            parent.id.unlink(record.run_id.encode())  # never leave half a run behind
        raise
    shared.remember_arrays(written)
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


def _is_schema_1(attrs) -> bool:
    """Schema 1 wrote neither ``layout_json`` (schemas 2 to 5) nor checksums (schemas 2 to 6)."""
    return "layout_json" not in attrs and "checksum_meta" not in attrs


def _shared(group, name: str, read, cache: dict | None):
    """``read(group[name])``, for what runs share (schema 6): with ``cache`` (a reader's dict), read
    once per linked object (keyed by its address) instead of once per run."""
    if cache is None:
        return read(group[name])
    key = (read, group.id.links.get_info(name.encode()).u)
    value = cache.get(key)
    if value is None:
        value = cache[key] = read(group[name])
    return value


def _metadata_texts(md) -> dict[str, str]:
    attrs = md.attrs
    return {key: decode(attrs[key]) for key in METADATA_ATTRS}


def _texts(group, cache: dict | None = None) -> dict[str, str]:
    """A run's ``layout_json``, ``provenance_json`` and ``attrs_json``: its own attributes (schemas 2
    to 5) or those of its shared metadata group (schema 6)."""
    attrs = group.attrs
    if "layout_json" not in attrs:
        return _shared(group, METADATA_GROUP, _metadata_texts, cache)
    return {key: decode(attrs[key]) for key in METADATA_ATTRS if key in attrs}


def _meta_values(group, cache: dict | None = None) -> tuple[dict, dict | None]:
    """The values ``checksum_meta`` covers, and (schema 6) the scalar summaries they were read from."""
    attrs = group.attrs
    meta = {key: decode(attrs[key]) for key in META_ATTRS if key in attrs}
    if "layout_json" in attrs:  # schemas 2 to 5: all of them are the run's attributes
        return meta, None
    meta.update(_texts(group, cache))
    scalars = {}
    if SUMMARY_DIM in group:
        scalars = _scalars_of(_shared(group, SUMMARY_DIM, load_dataset, cache), group[SUMMARY_VALUE][()],
                              json.loads(decode(attrs.get(NONFLOAT_SCALARS, "{}"))))
    meta["scalars_json"] = _json(scalars)
    return meta, scalars


def read_info(group, *, verify: bool = True, cache: dict | None = None) -> RunInfo:
    """The :class:`RunInfo` of a run group (no arrays; ``verify`` checks ``checksum_meta``).

    ``cache``: a reader's dict, through which what runs share is read once per archive.
    """
    with _guard(group, "its attributes"):
        attrs = group.attrs
        run_id = _run_name(group)
        if _is_schema_1(attrs):
            return _read_info_v1(group, run_id)
        meta, scalars = _meta_values(group, cache)
        if verify:
            stored = decode(attrs.get("checksum_meta", ""))
            if checksum_meta(meta) != stored:
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
            scalars=json.loads(meta["scalars_json"]) if scalars is None else scalars,
            provenance=json.loads(meta["provenance_json"]),
            attrs=json.loads(meta["attrs_json"]),
            error=meta.get("error", ""),
        )


def _read_info_v1(group, run_id: str) -> RunInfo:
    attrs = group.attrs
    return RunInfo(
        run_id=decode(attrs.get("run_id", run_id)),
        experiment=decode(attrs["experiment"]),
        status=decode(attrs.get("status", "")),
        params=json.loads(decode(attrs["params_json"])),
        seed=int(decode(attrs.get("seed_entropy", attrs.get("seed", 0)))),
        spawn_key=tuple(json.loads(decode(attrs.get("seed_spawn_key", "[]")))),
        started=decode(attrs.get("started", "")),
        finished=decode(attrs.get("finished", "")),
        scalars=json.loads(decode(attrs.get("scalars_json", "{}"))),
        provenance=json.loads(decode(attrs.get("provenance_json", "{}"))),
        attrs=json.loads(decode(attrs.get("attrs_json", "{}"))),
        error=decode(attrs.get("error", "")),
    )


def _layout_schema(layout: Mapping[str, Any]) -> int:
    """The schema of a run from its ``layout_json`` (schema 2 and 3 did not write theirs)."""
    return int(layout.get("schema", 3 if "labels" in layout else 2))


def _cf_attrs(ds) -> tuple[str, str]:
    attrs = ds.attrs
    return tuple(decode(attrs.get(key, "")) for key in CF_ATTRS)


def _variable(ds) -> tuple[np.ndarray, tuple[str, str]]:
    """A dataset's values and its CF ``(long_name, units)``."""
    return load_dataset(ds), _cf_attrs(ds)


def _copy(variable):
    """A cached variable given out: its own values (a caller may change them in place)."""
    values, labels = variable
    return values.copy(), labels


def read_result(group, *, verify: bool = True, cache: dict | None = None) -> ExperimentResult | None:
    """The :class:`ExperimentResult` stored in a run group (``None`` for a failed run).

    ``verify`` checks ``checksum_data`` (and ``checksum_meta``): a damaged run
    raises :class:`DamagedRunError`. ``cache``: as for :func:`read_info`.
    """
    info = read_info(group, verify=verify, cache=cache)
    if info.status != STATUS_COMPLETE:
        return None
    with _guard(group, "its datasets"):
        attrs = group.attrs
        if _is_schema_1(attrs):
            return _read_result_v1(group, info)
        layout = json.loads(_texts(group, cache)["layout_json"])
        schema = _layout_schema(layout)
        if schema >= 5:
            scalar_names = list(SUMMARY_VARIABLES) if info.scalars else []
        else:
            scalar_names = list(layout["scalars"] if schema == 3 else info.scalars) if schema >= 3 else []
        shared = {*layout["coords"], SUMMARY_DIM, SUMMARY_LONG_NAME, SUMMARY_UNITS} if schema >= 6 else set()
        read = {name: _copy(_shared(group, name, _variable, cache)) if name in shared else _variable(group[name])
                for name in (*layout["coords"], *layout["arrays"], *scalar_names)}
        cf = {name: labels for name, (_, labels) in read.items()} if schema >= 3 else {}
        coords = {dim: read[dim][0] for dim in layout["coords"]}
        arrays = {name: (tuple(layout["arrays"][name]), read[name][0]) for name in layout["arrays"]}
        if verify:
            derived = {name: decode(attrs[name]) for name in info.params}
            if schema < 5:
                derived.update({SCALAR_PREFIX + name: decode(attrs[SCALAR_PREFIX + name])
                                for name in info.scalars})
            datasets = [(name, read[name][0]) for name in (*layout["coords"], *layout["arrays"], *scalar_names)]
            stored = decode(attrs.get("checksum_data", ""))
            if checksum_data(derived, datasets, [(name, *cf[name]) for name, _ in datasets] if cf else None) \
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
                    entries = zip(read[SUMMARY_LONG_NAME][0], read[SUMMARY_UNITS][0])
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
        kind = decode(ds.attrs.get(_KIND_ATTR, ""))
        if kind == "coordinate":
            coords[name] = load_dataset(ds)
            if coords[name].dtype == object:
                coords[name] = coords[name].astype(str)
        elif kind == "array":
            dims = tuple(_dim_name_v1(ds, axis) for axis in range(ds.ndim))
            data = load_dataset(ds)
            if decode(ds.attrs.get(_BOOL_ATTR, "")) == "bool":
                data = data.astype(bool)
            arrays[name] = (dims, data)
        elif kind == "scalar":
            scalars[name] = decode(ds[()])
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
    """The schema a run group was written with: 1 to 6."""
    if _is_schema_1(group.attrs):
        return 1
    return _layout_schema(json.loads(_texts(group)["layout_json"]))


def read_record(group, *, verify: bool = True, cache: dict | None = None) -> RunRecord:
    """The full :class:`RunRecord` of a run group (round-trips :func:`write_run`)."""
    info = read_info(group, verify=verify, cache=cache)
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
        result=read_result(group, verify=verify, cache=cache),
        error=info.error,
    )


def verify_run(group, cache: dict | None = None) -> str:
    """Read and check one run completely; return ``""`` if sound, else what is wrong.

    Schema-1 runs carry no checksums: they are read completely (every
    attribute and dataset), which finds damage HDF5 itself detects.
    """
    try:
        info = read_info(group, cache=cache)
        if info.status == STATUS_COMPLETE:
            read_result(group, cache=cache)
        if _is_schema_1(group.attrs):
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
        fmt = decode(f.attrs.get("format", ""))
        version = int(decode(f.attrs.get("schema_version", -1)))
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
