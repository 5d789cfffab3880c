"""The checksums of a run and the content keys of what runs share, all BLAKE2b-128.

Values are fed in a form that does not depend on how HDF5 gives them back
(text as UTF-8 bytes with its length, numbers as int64/float64 bytes, arrays
as dtype, shape and bytes in native order), so a digest computed from what
was written equals the one computed from what is read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

import numpy as np

from statmech.runs.hdf5_encoding import decode

__all__ = ["META_ATTRS", "checksum_meta", "checksum_data", "content_key"]

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


def feed_value(h, value) -> None:
    """Feed one attribute value in a form that does not depend on how HDF5 gives it back."""
    value = decode(value)
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


def feed_array(h, name: str, arr: np.ndarray) -> None:
    """Feed a named array: its dtype, shape and bytes (text arrays: their items as JSON)."""
    h.update(b"n" + name.encode() + b"\0")
    if arr.dtype == object or arr.dtype.kind in "US":
        text = json.dumps([str(v) for v in np.asarray(arr).reshape(-1)])
        h.update(b"t" + repr(arr.shape).encode() + text.encode())
    else:
        arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
        h.update(b"a" + arr.dtype.str.encode() + repr(arr.shape).encode())
        h.update(memoryview(arr.reshape(-1)).cast("B"))


def checksum_meta(values: Mapping[str, Any]) -> str:
    """``checksum_meta``: the digest of the values of :data:`META_ATTRS`, in that order (missing: "")."""
    h = hashlib.blake2b(digest_size=16)
    for key in META_ATTRS:
        h.update(key.encode() + b"=")
        feed_value(h, values.get(key, ""))
    return h.hexdigest()


def checksum_data(derived: Mapping[str, Any], datasets: Iterable[tuple[str, np.ndarray]],
                  cf: Iterable[tuple[str, str, str]] | None = None) -> str:
    """``checksum_data``: the digest of the per-parameter attributes, the datasets and (schemas 3 to 6)
    their ``(name, long_name, units)``."""
    h = hashlib.blake2b(digest_size=16)
    for key in sorted(derived):
        h.update(b"p" + key.encode() + b"=")
        feed_value(h, derived[key])
    for name, arr in datasets:
        feed_array(h, name, arr)
    for name, long_name, units in cf or ():
        h.update(b"c" + name.encode() + b"\0")
        feed_value(h, long_name)
        feed_value(h, units)
    return h.hexdigest()



def content_key(kind: str, texts: Iterable[str] = (), arrays: Iterable[tuple[str, np.ndarray]] = ()) -> str:
    """The name of a shared object (:mod:`statmech.runs.shared`): the digest of its kind, its text
    (names, labels, JSON) and its arrays, 32 hex digits."""
    h = hashlib.blake2b(kind.encode() + b"\0", digest_size=16)
    for text in texts:
        feed_value(h, text)
    for name, arr in arrays:
        feed_array(h, name, arr)
    return h.hexdigest()
