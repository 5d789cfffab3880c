"""The HDF5 archive: layout, round trip, readers (API, h5py, xarray), atomic publishing."""

from __future__ import annotations

import errno
import json
import os
from collections import namedtuple

import h5py
import numpy as np
import pytest

from statmech import archive as ar
from statmech.archive import (
    ArchiveBusyError,
    ArchiveSchemaError,
    ArchiveWriter,
    DiskFullError,
    NotAnArchiveError,
    RunRecord,
    make_run_id,
    open_archive,
)
from statmech.provenance import PROVENANCE_KEYS, provenance
from statmech.registry import ExperimentResult

import _toy

shutil_usage = namedtuple("usage", "total used free")


def _record(experiment="toy", seed=1, status="complete", **params):
    full = {"n": 6, "scale": 1.0, "delay": 0.0, "fail": False, "label": "a"}
    full.update(params)
    result = _toy.toy.spec.run(full, seed=seed) if status == "complete" else None
    return RunRecord(
        run_id=make_run_id(experiment, full, seed, ()),
        experiment=experiment,
        params=full,
        seed=seed,
        spawn_key=(),
        status=status,
        started="2025-01-01T00:00:00.000000+00:00",
        finished="2025-01-01T00:00:01.000000+00:00",
        provenance=provenance(),
        result=result,
        error="" if status == "complete" else "ValueError: asked to fail",
    )


def _write(path, records, **kw):
    with ArchiveWriter(path, **kw) as w:
        for r in records:
            w.add(r)
    return path


def _assert_same_result(a: ExperimentResult, b: ExperimentResult):
    assert a.arrays.keys() == b.arrays.keys()
    for name in a.arrays:
        assert a.arrays[name][0] == b.arrays[name][0]
        assert a.arrays[name][1].dtype == b.arrays[name][1].dtype
        np.testing.assert_array_equal(a.arrays[name][1], b.arrays[name][1])
    assert a.coords.keys() == b.coords.keys()
    for name in a.coords:
        np.testing.assert_array_equal(a.coords[name], b.coords[name])
    assert dict(a.scalars) == dict(b.scalars)
    assert list(a.scalars) == list(b.scalars)
    assert dict(a.attrs) == dict(b.attrs)


# -- identity --------------------------------------------------------------------------------------


def test_run_id_is_a_short_hash_of_experiment_params_and_seed():
    params = {"a": 1, "b": 0.5}
    rid = make_run_id("e", params, 3, (1, 2))
    assert len(rid) == 16 and int(rid, 16) >= 0
    assert make_run_id("e", {"b": 0.5, "a": 1}, 3, (1, 2)) == rid  # key order is irrelevant
    for other in [
        make_run_id("f", params, 3, (1, 2)),
        make_run_id("e", {"a": 2, "b": 0.5}, 3, (1, 2)),
        make_run_id("e", {"a": 1, "b": 0.5000000001}, 3, (1, 2)),
        make_run_id("e", params, 4, (1, 2)),
        make_run_id("e", params, 3, (1, 3)),
        make_run_id("e", params, 3, ()),
    ]:
        assert other != rid
    with pytest.raises(ValueError):
        make_run_id("e", {"a": float("nan")}, 0)


# -- layout and round trip ------------------------------------------------------------------------------


def test_round_trip_and_layout(tmp_path):
    rec = _record(n=7, label="b")
    path = _write(tmp_path / "a.h5", [rec])
    with open_archive(path) as arc:
        assert arc.run_ids == [rec.run_id]
        _assert_same_result(arc.load(rec.run_id), rec.result)
        info = arc.info(rec.run_id[:6])  # unique prefix
        assert info.params == rec.params and info.seed == 1 and info.spawn_key == ()
        assert info.status == "complete" and info.provenance == dict(rec.provenance)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "statmech-archive" and f.attrs["schema_version"] == 1
        g = f["runs"][rec.run_id]
        a = g.attrs
        assert a["experiment"] == "toy" and a["status"] == "complete"
        assert a["n"] == 7 and a["label"] == "b" and a["fail"] == 0
        assert json.loads(a["params_json"]) == rec.params
        assert a["seed"] == 1 and a["seed_entropy"] == "1" and json.loads(a["seed_spawn_key"]) == []
        for key in PROVENANCE_KEYS:
            assert isinstance(a[key], str) and a[key]
        for key in ("started", "finished"):
            assert a[key].endswith("+00:00")
        # dimension scales and compression
        y = g["y"]
        assert y.dims[0][0].name.endswith("/k") and y.dims[1][0].name.endswith("/sample")
        assert y.compression == "gzip" and y.shuffle
        np.testing.assert_array_equal(g["k"][()], [1, 2, 3])
        assert g["mean"].shape == () and g["mean"][()] == rec.result.scalars["mean"]

        # no bool attributes anywhere (HDF5 has no portable bool; h5py would write an enum)
        def check(name, obj):
            for key, value in obj.attrs.items():
                dtype = getattr(value, "dtype", None)
                assert not isinstance(value, (bool, np.bool_)), (name, key)
                assert dtype is None or dtype != np.bool_, (name, key)
                assert h5py.check_enum_dtype(obj.attrs.get_id(key).dtype) is None, (name, key)

        check("/", f)
        f.visititems(check)


def test_xarray_reads_named_dimensions_and_coordinates(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    rec = _record(n=5)
    path = _write(tmp_path / "a.h5", [rec])
    ds = xr.open_dataset(path, engine="h5netcdf", group=f"runs/{rec.run_id}")
    try:
        assert ds["y"].dims == ("k", "sample")
        np.testing.assert_array_equal(ds["k"].values, [1, 2, 3])
        assert "k" in ds.coords and "sample" not in ds.coords  # sample has no coordinate values
        np.testing.assert_array_equal(ds["y"].values, rec.result.arrays["y"][1])
        assert float(ds["mean"]) == rec.result.scalars["mean"]
        assert ds.attrs["experiment"] == "toy" and ds.attrs["n"] == 5
    finally:
        ds.close()


def test_failed_runs_are_recorded_and_replaced_by_a_later_success(tmp_path):
    bad = _record(status="failed", n=9)
    path = _write(tmp_path / "a.h5", [bad])
    with open_archive(path) as arc:
        assert arc.info(bad.run_id).status == "failed"
        with pytest.raises(ar.ArchiveError, match="holds no result"):
            arc.load(bad.run_id)
    good = _record(n=9)
    assert good.run_id == bad.run_id
    with ArchiveWriter(path) as w:
        assert not w.has_complete(good.run_id)
        w.add(good)
    with open_archive(path) as arc:
        assert arc.info(good.run_id).status == "complete"
        _assert_same_result(arc.load(good.run_id), good.result)


# -- reader ------------------------------------------------------------------------------------------------


def test_runs_table_filters_and_collect_averages_repetitions(tmp_path):
    records = [
        _record(seed=s, n=n, scale=sc) for n in (4, 8) for sc in (0.5, 2.0) for s in (1, 2, 3)
    ]
    path = _write(tmp_path / "a.h5", records)
    with open_archive(path) as arc:
        assert len(arc) == 12
        table = arc.runs(where={"n": 4})
        assert len(table) == 6 and set(table.column("n")) == {4}
        assert len(arc.runs(n=8, scale="0.5")) == 3  # text values are parsed (as from the CLI)
        assert len(arc.runs(where={"scale": [0.5, 2.0], "seed": 2})) == 4
        assert len(arc.runs(experiment="other")) == 0
        assert len(arc.runs(where={"not_a_param": 1})) == 0
        assert table.varying == ["scale"]
        assert "run_id" in str(table) and len(str(table).splitlines()) == 7

        summary = arc.collect("second_moment", experiment="toy")
        assert summary.by == ("n", "scale")
        np.testing.assert_array_equal(summary.coords["n"], [4, 8])
        np.testing.assert_array_equal(summary.coords["scale"], [0.5, 2.0])
        for i, n in enumerate((4, 8)):
            for j, sc in enumerate((0.5, 2.0)):
                values = [
                    r.result.scalars["second_moment"]
                    for r in records
                    if r.params["n"] == n and r.params["scale"] == sc
                ]
                assert summary.count[i, j] == 3
                np.testing.assert_allclose(summary.mean[i, j], np.mean(values), rtol=1e-15)
                np.testing.assert_allclose(summary.std[i, j], np.std(values, ddof=1), rtol=1e-13)
                np.testing.assert_allclose(
                    summary.sem[i, j], np.std(values, ddof=1) / np.sqrt(3), rtol=1e-13
                )
        with pytest.raises(ValueError, match="also differ in \\['scale'\\]"):
            arc.collect("mean", by=["n"])
        one = arc.collect("mean", by=["n"], where={"scale": 2.0})
        assert one.mean.shape == (2,)
        with pytest.raises(ValueError, match="scalars present"):
            arc.collect("nope")
        pytest.importorskip("xarray")
        assert summary.to_xarray()["mean"].dims == ("n", "scale")


def test_reader_refuses_missing_foreign_and_newer_files(tmp_path):
    with pytest.raises(NotAnArchiveError, match="no such file"):
        open_archive(tmp_path / "missing.h5")
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(NotAnArchiveError, match="not an HDF5 file"):
        open_archive(text)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3)
    with pytest.raises(NotAnArchiveError, match="not a statmech archive.*data"):
        open_archive(foreign)
    with pytest.raises(NotAnArchiveError, match="not a statmech archive"):
        ArchiveWriter(foreign)  # a writer refuses too, and leaves the file alone
    newer = _write(tmp_path / "newer.h5", [_record()])
    with h5py.File(newer, "a") as f:
        f.attrs["schema_version"] = 99
    with pytest.raises(ArchiveSchemaError, match="schema version 99.*upgrade"):
        open_archive(newer)
    with pytest.raises(NotAnArchiveError, match="directory"):
        open_archive(tmp_path)


# -- writer: locking, atomic publish, crashes --------------------------------------------------------------------


def test_second_writer_is_refused_while_readers_work(tmp_path):
    path = _write(tmp_path / "a.h5", [_record()])
    with ArchiveWriter(path) as w:
        with pytest.raises(ArchiveBusyError, match="another statmech process"):
            ArchiveWriter(path)
        with open_archive(path) as arc:  # reading while a writer holds the lock is fine
            assert len(arc) == 1
        w.add(_record(seed=2))
    assert not (tmp_path / "a.h5.lock").exists() and not (tmp_path / "a.h5.staging").exists()
    with ArchiveWriter(path):  # lock released
        pass


def test_open_reader_keeps_a_consistent_snapshot_across_publishes(tmp_path):
    path = _write(tmp_path / "a.h5", [_record(seed=1)])
    arc = open_archive(path)
    try:
        _write(path, [_record(seed=2), _record(seed=3)])
        assert len(arc) == 1  # the inode it opened is never modified
        _assert_same_result(arc.load(arc.run_ids[0]), _record(seed=1).result)
        arc.reopen()
        assert len(arc) == 3
    finally:
        arc.close()


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "on-disk"])
@pytest.mark.parametrize("stage", ["write", "fsync", "replace"])
def test_crash_during_publish_leaves_old_archive_and_staged_runs(
    tmp_path, monkeypatch, stage, in_memory
):
    if not in_memory:  # the path taken by archives bigger than IN_MEMORY_LIMIT
        monkeypatch.setattr(ArchiveWriter, "IN_MEMORY_LIMIT", 0)
    path = _write(tmp_path / "a.h5", [_record(seed=1)])
    before = path.read_bytes()
    new = [_record(seed=2), _record(seed=3)]

    class Crash(Exception):
        pass

    def boom(*args, **kwargs):
        raise Crash(stage)

    w = ArchiveWriter(path)
    for r in new:
        w.stage(r)
    if stage == "write":
        calls = {"n": 0}
        real = ar.write_run

        def second_fails(parent, record):  # dies after the first run was appended to the copy
            calls["n"] += 1
            if calls["n"] == 2:
                raise Crash(stage)
            return real(parent, record)

        monkeypatch.setattr(ar, "write_run", second_fails)
    elif stage == "fsync":
        monkeypatch.setattr(ar, "_fsync", boom)
    else:
        monkeypatch.setattr(ar.os, "replace", boom)
    with pytest.raises(Crash):
        w.publish()
    w.abandon()
    monkeypatch.undo()
    monkeypatch.setattr(
        ArchiveWriter, "IN_MEMORY_LIMIT", ArchiveWriter.IN_MEMORY_LIMIT if in_memory else 0
    )
    assert path.read_bytes() == before  # the live archive was never touched
    assert not list(tmp_path.glob(".a.h5.publish-*"))  # the temporary copy was removed
    with open_archive(path) as arc:
        assert len(arc) == 1
        assert arc.pending == 2
    with ArchiveWriter(path) as w2:  # the next writer publishes the staged runs
        assert {r.run_id for r in new} <= w2.completed_ids()
    with open_archive(path) as arc:
        assert len(arc) == 3 and arc.pending == 0
        for r in new:
            _assert_same_result(arc.load(r.run_id), r.result)


def test_stale_temporary_files_of_a_killed_writer_are_removed(tmp_path):
    path = _write(tmp_path / "a.h5", [_record()])
    junk = tmp_path / f".a.h5.publish-{12345}.tmp"
    junk.write_bytes(b"half an hdf5 file")
    staging = tmp_path / "a.h5.staging"
    staging.mkdir()
    half = staging / ".0123456789abcdef.999.tmp"
    half.write_bytes(b"half")
    with ArchiveWriter(path) as w:
        assert w.completed_ids() == {_record().run_id}
    assert not junk.exists() and not staging.exists()
    assert open_archive(path).run_ids == [_record().run_id]


def test_killed_after_replace_before_cleanup_publishes_nothing_twice(tmp_path):
    rec = _record(seed=5)
    path = _write(tmp_path / "a.h5", [rec])
    # the state after a kill between os.replace and the deletion of the staged file
    with ArchiveWriter(path) as w:
        w.stage(rec)
        w.abandon()
    assert (tmp_path / "a.h5.staging" / f"{rec.run_id}.h5").exists()
    with ArchiveWriter(path) as w:
        assert w.completed_ids() == {rec.run_id}
    with open_archive(path) as arc:
        assert arc.run_ids == [rec.run_id]
        _assert_same_result(arc.load(rec.run_id), rec.result)


def test_disk_full_is_reported_and_leaves_the_archive_unchanged(tmp_path, monkeypatch):
    path = _write(tmp_path / "a.h5", [_record(seed=1)])
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with ArchiveWriter(path) as w:
        monkeypatch.setattr(ar, "_fsync", full)
        with pytest.raises(DiskFullError, match="disk full"):
            w.add(_record(seed=2), publish=True)
        monkeypatch.undo()
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".a.h5.publish-*")) and not list(
        (tmp_path).glob("a.h5.staging/.*")
    )
    # an archive too big to rebuild in memory is copied on disk only if there is room
    monkeypatch.setattr(ArchiveWriter, "IN_MEMORY_LIMIT", 0)
    monkeypatch.setattr(
        ar.shutil, "disk_usage", lambda p: shutil_usage(total=10**9, used=10**9 - 1000, free=1000)
    )
    with ArchiveWriter(path) as w:
        with pytest.raises(DiskFullError, match="disk full while publishing.*stay staged"):
            w.add(_record(seed=3), publish=True)
        assert w.staged_ids() == {_record(seed=3).run_id}  # kept for later
        w.abandon()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert ar.is_disk_full(
        OSError(
            "Can't write data (file write failed: errno = 28, error message = 'No space left on device')"
        )
    )
    assert not ar.is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_publishing_is_throttled_to_a_fraction_of_wall_time(tmp_path, monkeypatch):
    clock = {"t": 0.0}
    monkeypatch.setattr(ar.time, "monotonic", lambda: clock["t"])
    path = tmp_path / "a.h5"
    with ArchiveWriter(path) as w:
        w._last_publish_cost = 1.0  # pretend a publish takes 1 s
        w._last_publish_end = 0.0
        clock["t"] = 5.0
        w.add(_record(seed=1))
        assert w.staged_ids() == {_record(seed=1).run_id}  # 5 s < 9 x 1 s: staged only
        clock["t"] = 9.5
        w.add(_record(seed=2))
        assert w.staged_ids() == set()  # due: both published at once
    assert len(open_archive(path)) == 2


def test_a_foreign_writer_holding_the_file_gives_a_clear_message(tmp_path):
    import subprocess
    import sys

    path = _write(tmp_path / "a.h5", [_record()])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import h5py, sys, time; f = h5py.File(sys.argv[1], 'a'); print('open', flush=True); time.sleep(60)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(ArchiveBusyError, match="locked by another process.*HDF5 file lock"):
            open_archive(path)
    finally:
        holder.kill()
        holder.communicate()
    with open_archive(path) as arc:
        assert len(arc) == 1
