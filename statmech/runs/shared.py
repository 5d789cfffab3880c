"""What runs share: stored once per archive and hard-linked into every run group that uses it (schema 6).

Most of what a run group holds besides its own arrays repeats from run to
run of a scan: its dimensions and coordinates (the same β grid for every
seed), the names and CF labels of its scalar summaries, the layout and figure
symbols of the experiment's result, the software provenance. Schema 6 stores
each such object once, as ``/shared/<label>_<key>`` where ``key`` is the
BLAKE2b-128 digest of its content (:func:`statmech.runs.checksums.content_key`)
and ``label`` says what it is (the dimension's name, ``summary`` or
``metadata``), and puts
an HDF5 *hard link* to it into every run group that uses it. A hard link is
the object itself, not a path to it: h5py, h5netcdf/xarray and netCDF-C see
every run group whole (``xarray.open_dataset(path, engine="h5netcdf",
group="runs/<id>")`` shows a shared coordinate as the run's own, ``ncdump``
lists it under each run), and deleting a run leaves what other runs share. A
run links them (~30 bytes a link) instead of holding its own copies (~0.3-1
kB each). Arrays are shared too, when a run's array has the same name,
values, labels and dimensions as one an earlier run of the same writer wrote
(the theory curves of every seed of a scan point): the later run links it.

Three kinds (the ``kind`` attribute of each ``/shared/<label>_<key>``):

- ``dimension``: ``/shared/<dim>_<key>/<dim>``, one HDF5 dimension scale: a
  coordinate with its values and CF ``long_name``/``units``, or netCDF-4's
  dimension without a variable (its size only);
- ``summary``: ``/shared/summary_<key>/`` holds ``summary`` (the dimension scale whose
  values are the scalar summaries' names), ``summary_long_name`` and
  ``summary_units`` (their CF labels), as in schema 5;
- ``metadata``: the group ``/shared/metadata_<key>`` itself, whose attributes are the
  run's ``layout_json``, ``provenance_json`` and ``attrs_json``; each run links
  it as its subgroup ``metadata``.

A dimension scale shared by many runs does not list the runs' variables in
its ``REFERENCE_LIST`` (the back-references ``H5DSattach_scale`` keeps, which
would grow with every run): readers find a variable's dimensions from its own
``DIMENSION_LIST`` (HDF5's ``H5DSiterate_scales``, h5py's ``.dims``,
h5netcdf, netCDF-C), which every run's variables carry.

A writer checks each shared object against its key the first time it links
it (:class:`SharedObjects` remembers what it checked): a damaged copy is
never linked to a new run, a sound one is written beside it as
``<label>_<key>-1`` (``-2``, ...). Every run's ``checksum_data`` covers the shared
datasets it links and its ``checksum_meta`` the shared metadata, so damage
to a shared object marks every run that links it as damaged.
"""

from __future__ import annotations

import itertools
from typing import Callable, Mapping, Sequence

import numpy as np

from statmech.runs.checksums import content_key
from statmech.runs.hdf5_encoding import NC_DIM_ONLY, decode, encoder, load_dataset

__all__ = ["SHARED_GROUP", "METADATA_GROUP", "METADATA_ATTRS", "SharedObjects"]

#: The root group holding the shared objects.
SHARED_GROUP = "shared"
#: A run's link to its shared metadata group.
METADATA_GROUP = "metadata"
#: The attributes of a metadata group, in the order of its key.
METADATA_ATTRS = ("layout_json", "provenance_json", "attrs_json")

_DIMENSION, _SUMMARY, _METADATA = "dimension", "summary", "metadata"


def _dimension_key(dim: str, values: np.ndarray | None, size: int, long_name: str, units: str) -> str:
    if values is None:
        return content_key(_DIMENSION, (dim, str(int(size))))
    return content_key(_DIMENSION, (dim, long_name, units), [(dim, values)])


def _summary_key(columns: Sequence[np.ndarray]) -> str:
    return content_key(_SUMMARY, arrays=[(str(k), np.asarray(c, dtype=object)) for k, c in enumerate(columns)])


def _metadata_key(texts: Sequence[str]) -> str:
    return content_key(_METADATA, texts)


class SharedObjects:
    """Finds or writes the shared objects of an archive, checking each one the first time it is used.

    One instance per writer (the names it checked stay valid while the
    writer holds the archive's lock); :func:`statmech.runs.schema.write_run`
    makes a throwaway one when given none.
    """

    #: How many arrays a writer remembers to link later identical ones to (~150 bytes each).
    REMEMBERED_ARRAYS = 1 << 16

    def __init__(self):
        self._sound: dict[str, str] = {}
        self._arrays: dict[str, str] = {}

    # -- arrays: shared when identical, within one writer's session ----------------------------------
    @staticmethod
    def array_key(name: str, data: np.ndarray, labels: tuple[str, str], scales: Sequence[str]) -> str:
        """The key of an array: its name, values, CF labels and (the shared names of) its dimension scales."""
        return content_key("array", (name, *labels, *scales), [(name, data)])

    def same_array(self, root, key: str):
        """The object id of an array with ``key`` written earlier by this writer, or ``None``."""
        path = self._arrays.get(key)
        if path is None:
            return None
        try:
            return encoder().h5o.open(root.id, path.encode())
        except Exception:  # noqa: BLE001 - its run is gone: write the array again
            del self._arrays[key]
            return None

    def remember_arrays(self, written: Mapping[str, str]) -> None:
        """Note arrays a run wrote (``{key: path}``), once the run is complete; the oldest are
        forgotten beyond :attr:`REMEMBERED_ARRAYS` (repeats come from nearby runs: a scan point's seeds)."""
        self._arrays.update(written)
        while len(self._arrays) > self.REMEMBERED_ARRAYS:
            del self._arrays[next(iter(self._arrays))]

    def _find_or_write(self, root, label: str, key: str, stored_key: Callable, write: Callable) -> str:
        """The name under ``/shared`` (``<label>_<key>``) of a sound copy of object ``key``, written if
        there is none."""
        name = self._sound.get(key)
        if name is not None:
            return name
        if SHARED_GROUP not in root:
            root.create_group(SHARED_GROUP, track_order=False)
        shared = root[SHARED_GROUP]
        for k in itertools.count():
            name = f"{label}_{key}" if k == 0 else f"{label}_{key}-{k}"
            if name not in shared:
                write(shared.id, name)
                break
            try:
                if stored_key(shared[name]) == key:
                    break
            except Exception:  # noqa: BLE001 - a damaged copy: write a sound one beside it
                pass
        self._sound[key] = name
        return name

    @staticmethod
    def _kind_group(enc, shared_id, name: str, kind: str, links: Sequence[str]):
        gid = enc.group(shared_id, name, links)
        enc.attr(gid, "kind", kind)
        return gid

    def dimension(self, root, dim: str, size: int, values: np.ndarray | None = None,
                  long_name: str = "", units: str = ""):
        """The dimension scale ``dim`` and its name under ``/shared``: a coordinate (``values`` with
        its CF labels; ``units`` "" writes none) or, with ``values=None``, a netCDF dimension of
        ``size`` without a variable."""
        enc = encoder()
        key = _dimension_key(dim, values, size, long_name, units)

        def write(shared_id, name):
            gid = self._kind_group(enc, shared_id, name, _DIMENSION, [dim])
            if values is None:
                enc.dimension_only(gid, dim, size)
                return
            dsid = enc.dataset(gid, dim, values)
            enc.h5ds.set_scale(dsid, dim.encode())
            enc.cf_attrs(dsid, long_name, units)

        def stored_key(group):
            ds = group[dim]
            marker = decode(ds.attrs.get("NAME", b""))
            if marker.startswith(NC_DIM_ONLY):
                return _dimension_key(dim, None, ds.shape[0], "", "")
            return _dimension_key(dim, load_dataset(ds), 0, decode(ds.attrs.get("long_name", "")),
                                  decode(ds.attrs.get("units", "")))

        name = self._find_or_write(root, dim, key, stored_key, write)
        return enc.h5o.open(root.id, f"{SHARED_GROUP}/{name}/{dim}".encode()), name

    def summary(self, root, names: np.ndarray, long_names: np.ndarray, units: np.ndarray,
                labels: Mapping[str, tuple[str, str]]) -> dict:
        """The summary scale (values: the summaries' names) and the two variables of their CF labels,
        as ``{variable name: object id}``; ``labels`` maps the three variables' names (the scale's
        first) to each one's own ``(long_name, units)``."""
        enc = encoder()
        dim, long_var, units_var = labels  # the three variable names, the scale first
        columns = {dim: names, long_var: long_names, units_var: units}
        key = _summary_key(list(columns.values()))

        def write(shared_id, name):
            gid = self._kind_group(enc, shared_id, name, _SUMMARY, list(columns))
            scale, attached = None, []
            for var, data in columns.items():
                dsid = enc.dataset(gid, var, data)
                if scale is None:
                    enc.h5ds.set_scale(dsid, var.encode())
                    scale = dsid
                else:
                    attached += enc.attach_scales(dsid, [scale])
                enc.cf_attrs(dsid, *labels[var])
            enc.write_reference_lists(attached)

        def stored_key(group):
            return _summary_key([load_dataset(group[var]) for var in columns])

        name = self._find_or_write(root, _SUMMARY, key, stored_key, write)
        return {var: enc.h5o.open(root.id, f"{SHARED_GROUP}/{name}/{var}".encode()) for var in columns}

    def metadata(self, root, texts: Mapping[str, str]):
        """The metadata group holding ``texts`` (:data:`METADATA_ATTRS`) as attributes."""
        enc = encoder()
        values = [texts[attr] for attr in METADATA_ATTRS]
        key = _metadata_key(values)

        def write(shared_id, name):
            gid = self._kind_group(enc, shared_id, name, _METADATA, [])
            for attr, text in zip(METADATA_ATTRS, values):
                enc.attr(gid, attr, text)

        def stored_key(group):
            return _metadata_key([decode(group.attrs[attr]) for attr in METADATA_ATTRS])

        name = self._find_or_write(root, _METADATA, key, stored_key, write)
        return enc.h5o.open(root.id, f"{SHARED_GROUP}/{name}".encode())
