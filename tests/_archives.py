"""Archive comparison helpers shared by the run-system tests."""

from __future__ import annotations

import h5py
import numpy as np

from statmech.archive import open_archive


def archive_contents(path) -> dict:
    """run_id -> (params, seed, spawn key, status, arrays, scalars) of every run in the archive."""
    out = {}
    with open_archive(path) as arc:
        for rid in arc.run_ids:
            info = arc.info(rid)
            res = arc.load(rid) if info.status == "complete" else None
            arrays = {k: v[1] for k, v in res.arrays.items()} if res else {}
            out[rid] = (info.params, info.seed, info.spawn_key, info.status, arrays, dict(info.scalars))
    return out


def assert_runs_equal(got: dict, want: dict) -> None:
    """Every run of ``got`` is in ``want`` with the same metadata, scalars and arrays (bitwise)."""
    for rid, g in got.items():
        assert rid in want, rid
        w = want[rid]
        assert g[:4] == w[:4] and g[5] == w[5], rid
        assert g[4].keys() == w[4].keys(), rid
        for name in g[4]:
            np.testing.assert_array_equal(g[4][name], w[4][name], err_msg=f"{rid} {name}")


def assert_same_archives(a, b) -> None:
    """The two archives hold the same runs, equal as in :func:`assert_runs_equal`."""
    ca, cb = archive_contents(a), archive_contents(b)
    assert ca.keys() == cb.keys()
    assert_runs_equal(ca, cb)


def compact_data_offset(path, ds) -> int:
    """Where the values of a compact dataset ``ds`` of the archive ``path`` lie: in its object header."""
    assert ds.id.get_create_plist().get_layout() == h5py.h5d.COMPACT
    header = h5py.h5o.get_info(ds.id).addr
    with open(path, "rb") as handle:
        where = handle.read().find(ds[()].tobytes(), header)
    assert header < where < header + 1024
    return where
