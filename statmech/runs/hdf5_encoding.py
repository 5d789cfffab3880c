"""How a run's objects are written into HDF5 (h5py's low-level objects made once, the storage rules),
and how values come back from it (:func:`decode`, :func:`load_dataset`).

Every object is created without access/modification times (16 bytes of
header each, and they would make the bytes depend on the clock); groups keep
all their attributes in their object header (no dense attribute storage) and,
where :mod:`statmech.runs.hdf5_links` reaches HDF5, their links too; datasets
smaller than :data:`COMPRESS_BYTES` use HDF5's compact layout (the values
inside the object header, which HDF5 checksums), bigger ones are chunked,
shuffled, gzip-compressed and carry HDF5's ``fletcher32`` checksum. Text
attributes of datasets are fixed-length UTF-8 (netCDF's ``NC_CHAR``), those of
groups variable-length (h5py gives them back as ``str``). Dimension scales
are written as ``H5DSset_scale``/``H5DSattach_scale`` would write them, but
each ``DIMENSION_LIST`` and ``REFERENCE_LIST`` in one write.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

__all__ = ["COMPRESS_BYTES", "FILE_LIBVER", "NC_DIM_ONLY", "Encoder", "encoder", "chunk_shape", "decode",
           "load_dataset"]

#: netCDF-4's marker for a dimension scale that is not a coordinate variable
#: (h5netcdf and netCDF-C recognise the prefix).
NC_DIM_ONLY = "This is a netCDF dimension but not a netCDF variable."
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


def decode(value):
    """An attribute value as Python: text as ``str``, NumPy scalars as Python scalars."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_dataset(ds) -> np.ndarray:
    """A dataset's values (text as an object array of ``str``)."""
    import h5py

    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[()], dtype=object)
    return np.asarray(ds[()])


class Encoder:
    """h5py's low-level objects and creation property lists, made once (h5py is imported on first use),
    and the writes of a run's objects under the rules of this module."""

    def __init__(self):
        import h5py
        from h5py import h5a, h5d, h5ds, h5g, h5o, h5p, h5s, h5t

        self.h5py, self.h5a, self.h5d, self.h5ds, self.h5g, self.h5o, self.h5p, self.h5s, self.h5t = (
            h5py, h5a, h5d, h5ds, h5g, h5o, h5p, h5s, h5t)
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

    def link(self, obj_id, gid, name: str) -> None:
        """A hard link ``name`` in group ``gid`` to the object ``obj_id`` (the object itself, not a path)."""
        self.h5o.link(obj_id, gid, name.encode())

    def attr(self, gid, name: str, value) -> None:
        """A scalar attribute: text as variable-length UTF-8 (h5py gives ``str`` back), numbers as given."""
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

    def cf_attrs(self, dsid, long_name: str, units: str) -> None:
        """A variable's CF attributes: ``long_name``, and ``units`` unless ``units`` is "" (unknown)."""
        self.fixed_text_attr(dsid, b"long_name", long_name)
        if units:
            self.fixed_text_attr(dsid, b"units", units)

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
                dcpl.set_chunk(chunk_shape(data.shape, data.dtype.itemsize))
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
        self.h5ds.set_scale(dsid, f"{NC_DIM_ONLY}{size:10d}".encode())
        return dsid


_ENCODER: Encoder | None = None


def encoder() -> Encoder:
    """The process's :class:`Encoder` (made on first use: it imports h5py)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = Encoder()
    return _ENCODER


def chunk_shape(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Chunk shape: the whole array, halving its largest axis until a chunk is <= 1 MiB."""
    chunk = [max(1, n) for n in shape]
    while int(np.prod(chunk)) * itemsize > _CHUNK_BYTES and max(chunk) > 1:
        axis = int(np.argmax(chunk))
        chunk[axis] = -(-chunk[axis] // 2)
    return tuple(chunk)

