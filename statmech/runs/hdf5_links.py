"""Compact link storage for run groups: two HDF5 settings that h5py does not wrap.

A group whose links outnumber HDF5's default ``max_compact`` (8) keeps them in
"dense" storage: a fractal heap and a v2 B-tree of their own, ~1.9 kB for a
run's ~20 links. ``H5Pset_link_phase_change`` keeps them in the group's object
header instead (~40 bytes a link), and ``H5Pset_est_link_info`` sizes that
header for them at creation (else it grows by continuation chunks). Both are
plain HDF5 1.8 features that every reader (h5py, netCDF-C, h5netcdf) follows.

h5py exposes neither, so they are called through :mod:`ctypes` on the very
HDF5 library h5py loaded (found in the process's memory map, Linux); a
property list is an identifier of that library, so the library is first
checked to be the same instance (a setting made through it must be seen by
h5py). Where it cannot be found, run groups keep HDF5's default (dense) link
storage: the archive reads the same, ~1.2 kB bigger per run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os

__all__ = ["LinkSettings", "link_settings"]

#: A run group keeps up to this many links in its object header.
MAX_COMPACT_LINKS = 4096


class LinkSettings:
    """Set compact link storage and the expected links on a group-creation property list."""

    def __init__(self, lib):
        self._lib = lib

    def apply(self, gcpl, n_links: int, name_length: int) -> None:
        """Keep up to :data:`MAX_COMPACT_LINKS` links of groups made with ``gcpl`` in their header,
        and size that header for ``n_links`` names of ``name_length`` characters on average."""
        hid = ctypes.c_int64(gcpl.id)
        with _h5py_lock():  # h5py serialises its own HDF5 calls with this lock
            if self._lib.H5Pset_link_phase_change(hid, ctypes.c_uint(MAX_COMPACT_LINKS),
                                                  ctypes.c_uint(MAX_COMPACT_LINKS - 1)) < 0:
                raise RuntimeError("H5Pset_link_phase_change failed")
            if self._lib.H5Pset_est_link_info(hid, ctypes.c_uint(min(n_links, 65535)),
                                              ctypes.c_uint(min(name_length, 65535))) < 0:
                raise RuntimeError("H5Pset_est_link_info failed")


def _h5py_lock():
    """h5py's global HDF5 lock (``h5py._objects.phil``), or no lock if h5py no longer has it."""
    try:
        from h5py._objects import phil
    except ImportError:
        return contextlib.nullcontext()
    return phil


def _loaded_hdf5_paths() -> list[str]:
    """Paths of the HDF5 C libraries mapped into this process (Linux's ``/proc/self/maps``)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "libhdf5" in line}
    except OSError:
        return []
    return sorted(p for p in paths if os.path.basename(p).startswith("libhdf5") and "_hl" not in p)


def _same_library(lib) -> bool:
    """Whether ``lib`` is the HDF5 instance h5py uses: a setting made through it shows in h5py."""
    from h5py import h5p

    probe = h5p.create(h5p.GROUP_CREATE)
    with _h5py_lock():
        if lib.H5Pset_attr_phase_change(ctypes.c_int64(probe.id), ctypes.c_uint(13), ctypes.c_uint(7)) < 0:
            return False
    return tuple(probe.get_attr_phase_change()) == (13, 7)


_SETTINGS: list = []


def link_settings() -> LinkSettings | None:
    """The :class:`LinkSettings` of h5py's HDF5 library, or ``None`` where it cannot be reached."""
    if not _SETTINGS:
        found = None
        import h5py  # noqa: F401  (maps h5py's HDF5 library)

        for path in _loaded_hdf5_paths():
            try:
                lib = ctypes.CDLL(path)
                lib.H5Pset_link_phase_change.restype = lib.H5Pset_est_link_info.restype = ctypes.c_int
                lib.H5Pset_attr_phase_change.restype = ctypes.c_int
                if _same_library(lib):
                    found = LinkSettings(lib)
                    break
            except (OSError, AttributeError):
                continue
        _SETTINGS.append(found)
    return _SETTINGS[0]
