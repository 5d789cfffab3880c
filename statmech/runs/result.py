"""The labelled result of one experiment run: named arrays with dimensions, coordinates, scalars.

Every experiment returns an :class:`ExperimentResult`; the archive stores it
(:mod:`statmech.runs.schema`) and gives it back unchanged, and
``xarray.open_dataset(..., engine="h5netcdf", group="runs/<run_id>")`` shows
its arrays with their named dimensions and coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class ExperimentResult:
    """Labelled output of one experiment run.

    Attributes
    ----------
    arrays : dict
        ``name -> (dims, array)``; ``dims`` is a tuple of dimension names, one
        per array axis. Arrays hold real numbers or booleans.
    coords : dict
        ``dim -> 1-D array`` of coordinate values for (some of) the dims.
    scalars : dict
        ``name -> float/int/str`` summaries (thresholds, fitted exponents...).
    attrs : dict
        Extra metadata (strings/numbers) to store with the run.

    Array, scalar and dimension names are distinct identifiers: in the archive
    each becomes a dataset of the run's group.
    """

    arrays: Mapping[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)
    coords: Mapping[str, np.ndarray] = field(default_factory=dict)
    scalars: Mapping[str, Any] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        dims_seen = set(self.coords)
        for name, item in self.arrays.items():
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError(f"arrays[{name!r}] must be a (dims, array) tuple")
            dims, arr = item
            arr = np.asarray(arr)
            if arr.dtype.kind not in _NUMERIC_KINDS:
                raise TypeError(
                    f"arrays[{name!r}] must hold real numbers or booleans, got dtype {arr.dtype}"
                )
            if len(dims) != arr.ndim:
                raise ValueError(
                    f"arrays[{name!r}] has {arr.ndim} axes but {len(dims)} dimension names {dims}"
                )
            if len(set(dims)) != len(dims):
                raise ValueError(f"arrays[{name!r}] repeats a dimension name: {dims}")
            for dim, size in zip(dims, arr.shape):
                if dim in self.coords and len(self.coords[dim]) != size:
                    raise ValueError(
                        f"arrays[{name!r}]: dimension {dim!r} has length {size} "
                        f"but its coordinate has length {len(self.coords[dim])}"
                    )
            dims_seen.update(dims)
        for dim, values in self.coords.items():
            values = np.asarray(values)
            if values.ndim != 1 or values.dtype.kind not in _NUMERIC_KINDS + "UO":
                raise TypeError(
                    f"coords[{dim!r}] must be a 1-D array of numbers or strings, got {values.dtype} {values.shape}"
                )
        for name, value in self.scalars.items():
            if isinstance(value, np.generic):
                value = value.item()
            if not isinstance(value, (int, float, str)):
                raise TypeError(
                    f"scalars[{name!r}] must be an int, float or str, got {type(value).__name__}"
                )
        names = list(self.arrays) + list(self.scalars) + sorted(dims_seen)
        for name in names:
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"result names must be identifiers, got {name!r}")
        clash = (set(self.arrays) & set(self.scalars)) | (
            (set(self.arrays) | set(self.scalars)) & dims_seen
        )
        if clash:
            raise ValueError(
                f"names used twice among arrays, scalars and dimensions: {sorted(clash)}"
            )

    def dims(self) -> dict[str, int]:
        """``dim -> length`` over every array."""
        out = {}
        for dims, arr in self.arrays.values():
            out.update(zip(dims, np.shape(arr)))
        for dim, values in self.coords.items():
            out.setdefault(dim, len(values))
        return out


__all__ = ["ExperimentResult"]
