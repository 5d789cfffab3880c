"""The HDF5 archive: layout, round trip, readers (API, h5py, xarray), atomic publishing, checksums."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import h5py
import numpy as np
import pytest

from statmech.archive import (
    ArchiveBusyError,
    ArchiveError,
    ArchiveSchemaError,
    ArchiveWriter,
    DamagedRunError,
    DiskFullError,
    NotAnArchiveError,
    RunRecord,
    is_disk_full,
    make_run_id,
    open_archive,
)
from statmech.provenance import provenance
from statmech.registry import ExperimentResult
from statmech.runs.quantities import Quantity
from statmech.runs import staging as st
from statmech.runs import writer as wr
from statmech.runs.schema import SCHEMA_VERSION

import _toy
from _archives import compact_data_offset

shutil_usage = namedtuple("usage", "total used free")
#: Archives written by earlier statmech: schema 1 (the reference runs of issue 5, 8 runs) and
#: schema 2 (two small ``rem`` runs written before the CF labels of issue 12).
SCHEMA_1 = Path(__file__).resolve().parent / "archives" / "schema1.h5"
SCHEMA_2 = Path(__file__).resolve().parent / "archives" / "schema2.h5"
SCHEMA_3 = Path(__file__).resolve().parent / "archives" / "schema3.h5"
#: Schema 4 (issue 9's compact headers, before the summary variable of schema 5): the two runs of
#: the schema-3 fixture written again, a toy run (bool array, text and int scalars) and a failed run.
SCHEMA_4 = Path(__file__).resolve().parent / "archives" / "schema4.h5"
#: Schema 5 (the summary variables in each run group, nothing shared between runs): the same runs.
SCHEMA_5 = Path(__file__).resolve().parent / "archives" / "schema5.h5"


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
    assert dict(a.labels) == dict(b.labels)


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
    big = _record(n=5000, seed=2)  # 16 KiB and more: chunked, compressed, fletcher32
    path = _write(tmp_path / "a.h5", [rec, big])
    with open_archive(path) as arc:
        assert set(arc.run_ids) == {rec.run_id, big.run_id}
        for r in (rec, big):
            _assert_same_result(arc.load(r.run_id), r.result)
        info = arc.info(rec.run_id[:6])  # unique prefix
        assert info.params == rec.params and info.seed == 1 and info.spawn_key == ()
        assert info.status == "complete" and info.provenance == dict(rec.provenance)
        assert arc.verify() == {rec.run_id: "", big.run_id: ""}
        attributes = arc.attributes(rec.run_id)  # the run group's and its metadata group's
        assert attributes["experiment"] == "toy" and json.loads(attributes["provenance_json"]) == rec.provenance
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "statmech-archive" and f.attrs["schema_version"] == 6
        g = f["runs"][rec.run_id]
        a = g.attrs
        assert a["experiment"] == "toy" and a["status"] == "complete" and "error" not in a
        assert a["n"] == 7 and a["label"] == "b" and a["fail"] == 0
        assert json.loads(a["params_json"]) == rec.params
        assert a["seed"] == 1 and json.loads(a["seed_spawn_key"]) == []
        # what runs share is hard-linked from /shared: the run's metadata group (layout, provenance,
        # the result's attributes), its dimensions, its summaries' names and labels
        md = g["metadata"]
        assert any(f["shared"][key] == md for key in f["shared"])
        assert json.loads(md.attrs["provenance_json"]) == dict(rec.provenance)
        assert json.loads(md.attrs["layout_json"])["schema"] == 6
        assert json.loads(md.attrs["attrs_json"]) == dict(rec.result.attrs)
        links = {name: h5py.h5o.get_info(g[name].id).rc for name in g}  # how many links reach each object
        # the two runs share all but their own values and their "sample" dimension (7 and 5000 draws);
        # each shared object is also linked from /shared
        assert links == {"metadata": 3, "k": 3, "sample": 2, "summary": 3, "summary_long_name": 3,
                         "summary_units": 3, "x": 1, "y": 1, "positive": 1, "summary_value": 1}, links
        assert {key for key in a if key.endswith("_json")} == {"params_json", "nonfloat_scalars_json"}
        assert not any(key.startswith("scalar_") for key in a)
        # the scalar summaries: one variable over the dimension "summary" (its coordinate: their names),
        # with each one's CF long_name and units; those float64 cannot hold exactly (an int, a text)
        # also in nonfloat_scalars_json
        assert list(g["summary"].asstr()[()]) == list(rec.result.scalars)
        assert g["summary_value"][0] == rec.result.scalars["mean"] and g["summary_value"][2] == 7
        assert np.isnan(g["summary_value"][3])
        assert json.loads(a["nonfloat_scalars_json"]) == {"n_draws": 7, "tag": "b"}
        assert list(g["summary_long_name"].asstr()[()]) == ["sample mean", "second moment", "number of draws",
                                                            "label"]
        assert list(g["summary_units"].asstr()[()]) == ["1", "1", "count", "1"]
        # CF attributes on every coordinate and array (units "1": a pure number),
        # fixed-length UTF-8 text (netCDF's NC_CHAR; h5py gives bytes)
        assert g["y"].attrs["long_name"] == b"power of a draw" and g["y"].attrs["units"] == b"1"
        assert g["k"].attrs["long_name"] == b"power"
        for name in ("x", "y", "positive", "k"):
            assert set(g[name].attrs) >= {"long_name", "units"}, name
        for name in ("summary", "summary_value", "summary_long_name", "summary_units"):
            assert "long_name" in g[name].attrs and "units" not in g[name].attrs, name
        assert g["summary_value"].dims[0][0] == g["summary"]
        assert "long_name" not in g["sample"].attrs  # a dimension without values is no variable
        assert len(a["checksum_meta"]) == 32 and len(a["checksum_data"]) == 32
        for key in ("started", "finished"):
            assert a[key].endswith("+00:00")
        y = g["y"]  # dimension scales; small arrays stay uncompressed (they would grow), in the header
        assert y.dims[0][0] == g["k"] and y.dims[1][0] == g["sample"]
        assert y.compression is None and y.id.get_create_plist().get_layout() == h5py.h5d.COMPACT
        assert g["summary_value"].id.get_create_plist().get_layout() == h5py.h5d.COMPACT
        # a scale shared by many runs does not list their variables (REFERENCE_LIST); the summary
        # scale lists the two label variables it was written with
        assert "REFERENCE_LIST" not in g["k"].attrs
        refs = g["summary"].attrs["REFERENCE_LIST"]
        assert sorted(f[ref].name.rsplit("/", 1)[-1] for ref, _ in refs) == ["summary_long_name", "summary_units"]
        np.testing.assert_array_equal(g["k"][()], [1, 2, 3])
        yb = f["runs"][big.run_id]["y"]
        assert yb.compression == "gzip" and yb.shuffle and yb.fletcher32 and yb.chunks is not None
        # no access/modification times in object headers (the bytes do not depend on the clock)
        assert all(h5py.h5o.get_info(obj.id).mtime == 0 for obj in (g, y, yb, g["summary_value"]))

        # no bool attributes anywhere (HDF5 has no portable bool; h5py would write an enum)
        def check(name, obj):
            for key, value in obj.attrs.items():
                dtype = getattr(value, "dtype", None)
                assert not isinstance(value, (bool, np.bool_)), (name, key)
                assert dtype is None or dtype != np.bool_, (name, key)
                assert h5py.check_enum_dtype(obj.attrs.get_id(key).dtype) is None, (name, key)

        check("/", f)
        f.visititems(check)


def test_string_coordinates_and_unusual_dtypes_round_trip(tmp_path):
    result = ExperimentResult(
        arrays={"v": (("case", "t"), np.arange(6, dtype=np.float32).reshape(2, 3)),
                "flag": (("case",), np.array([True, False])),
                "big_endian": (("t",), np.array([1.0, 2.0, 3.0], dtype=">f8")),
                "empty": (("none",), np.zeros(0))},
        coords={"case": np.array(["random-ve", "digits-ou"]), "t": np.array([0.1, 0.2, 0.3])},
        scalars={"x": np.float64(1.5), "n": 3, "s": "text", "nan": float("nan")},
        attrs={"note": "é ü"},
    )
    rec = RunRecord("0123456789abcdef", "toy", {"n": 1}, 0, (1, 2), "complete", "a", "b", {"k": "v"}, result)
    path = _write(tmp_path / "a.h5", [rec])
    with open_archive(path) as arc:
        back = arc.load(rec.run_id)
        assert list(back.coords["case"]) == ["random-ve", "digits-ou"]
        assert back.arrays["v"][1].dtype == np.float32 and back.arrays["flag"][1].dtype == bool
        np.testing.assert_array_equal(back.arrays["big_endian"][1], [1.0, 2.0, 3.0])
        assert back.arrays["empty"][1].shape == (0,)
        assert back.scalars["s"] == "text" and np.isnan(back.scalars["nan"]) and back.attrs["note"] == "é ü"
        assert arc.info(rec.run_id).spawn_key == (1, 2)


@pytest.mark.parametrize("engine, module", [("h5netcdf", "h5netcdf"), ("netcdf4", "netCDF4")])
def test_xarray_reads_named_dimensions_and_coordinates(tmp_path, engine, module):
    xr = pytest.importorskip("xarray")
    pytest.importorskip(module)  # netcdf4: netCDF-C's reader, as ncdump
    first, rec = _record(n=5, seed=2), _record(n=5)  # the second run links the first one's dimensions
    path = _write(tmp_path / "a.h5", [first, rec])
    ds = xr.open_dataset(path, engine=engine, group=f"runs/{rec.run_id}")
    try:
        assert ds["y"].dims == ("k", "sample")
        np.testing.assert_array_equal(ds["k"].values, [1, 2, 3])
        assert "k" in ds.coords and "sample" not in ds.coords  # sample has no coordinate values
        np.testing.assert_array_equal(ds["y"].values, rec.result.arrays["y"][1])
        assert ds.attrs["experiment"] == "toy" and ds.attrs["n"] == 5
        # scalars are entries of one variable over "summary", each with its long_name and units;
        # every variable and coordinate is labelled (CF attributes)
        mean = ds["summary_value"].sel(summary="mean")
        assert float(mean) == rec.result.scalars["mean"]
        assert ds["summary_long_name"].sel(summary="mean").item() == "sample mean"
        assert ds["summary_units"].sel(summary="n_draws").item() == "count"
        assert all("long_name" in ds[name].attrs for name in ds.variables)
        assert ds["k"].attrs == {"long_name": "power", "units": "1"}
        # xarray's own plots read long_name and units
        from matplotlib.figure import Figure

        ax = Figure().add_subplot(1, 1, 1)
        ds["y"].isel(sample=0).plot(ax=ax)
        assert ax.get_xlabel() == "power [1]" and ax.get_ylabel() == "power of a draw [1]"
    finally:
        ds.close()


def test_ncdump_shows_long_name_and_units(tmp_path):
    ncdump = shutil.which("ncdump")
    if ncdump is None:
        pytest.skip("ncdump (Debian netcdf-bin) is not installed")
    rec = _record(n=5)
    path = _write(tmp_path / "a.h5", [rec, _record(n=5, seed=2)])  # two runs sharing dimensions and labels
    out = subprocess.run([ncdump, "-h", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    header = out.stdout
    for line in ('y:long_name = "power of a draw" ;', 'y:units = "1" ;', 'k:long_name = "power" ;',
                 'double summary_value(summary) ;', 'string summary_long_name(summary) ;',
                 'summary_value:long_name = "value of the scalar summary'):
        assert line in header, (line, header)
    assert header.count("double y(k, sample) ;") == 2  # each run's variable over its (shared) dimensions
    # each scalar summary's long_name and units: the values of two variables over "summary"
    out = subprocess.run([ncdump, "-v", "summary,summary_long_name,summary_units", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    data = out.stdout[out.stdout.index("data:"):]
    for text in ('"mean", "second_moment", "n_draws", "tag"', '"sample mean", "second moment", "number of draws"',
                 '"1", "1", "count", "1"'):
        assert text in " ".join(data.split()), (text, data)


def test_runs_that_share_objects_stay_whole_when_another_is_deleted(tmp_path):
    """Hard links: deleting a run (here with h5py) leaves what it shared with other runs."""
    a, b = _record(seed=1), _record(seed=1, delay=0.5)  # the same draws: b links a's arrays too
    path = _write(tmp_path / "a.h5", [a, b])
    with h5py.File(path, "r") as f:
        assert f["runs"][b.run_id]["x"] == f["runs"][a.run_id]["x"]  # one object, two links
    with h5py.File(path, "r+") as f:
        del f["runs"][a.run_id]
    with open_archive(path) as arc:
        assert arc.run_ids == [b.run_id] and arc.verify() == {b.run_id: ""}
        _assert_same_result(arc.load(b.run_id), b.result)


def test_a_writer_remembers_a_bounded_number_of_arrays_to_share(tmp_path, monkeypatch):
    from statmech.runs.shared import SharedObjects

    monkeypatch.setattr(SharedObjects, "REMEMBERED_ARRAYS", 2)
    records = [_record(seed=1, delay=0.1 * k) for k in range(4)]  # the same draws four times
    with ArchiveWriter(tmp_path / "a.h5") as w:
        for r in records:
            w.add(r)
            assert len(w._shared._arrays) <= 2
    with open_archive(tmp_path / "a.h5") as arc:
        assert arc.verify() == {r.run_id: "" for r in records}
        for r in records:
            _assert_same_result(arc.load(r.run_id), r.result)


def test_failed_runs_are_recorded_and_replaced_by_a_later_success(tmp_path):
    bad = _record(status="failed", n=9)
    path = _write(tmp_path / "a.h5", [bad])
    with open_archive(path) as arc:
        assert arc.info(bad.run_id).status == "failed"
        assert "asked to fail" in arc.info(bad.run_id).error
        with pytest.raises(ArchiveError, match="holds no result"):
            arc.load(bad.run_id)
    good = _record(n=9)
    assert good.run_id == bad.run_id
    with ArchiveWriter(path) as w:
        assert not w.has_complete(good.run_id)
        w.add(good)
    with open_archive(path) as arc:
        assert arc.info(good.run_id).status == "complete"
        _assert_same_result(arc.load(good.run_id), good.result)


@pytest.mark.parametrize("fixture, version, n_runs",
                         [(SCHEMA_1, 1, 8), (SCHEMA_2, 2, 2), (SCHEMA_3, 3, 2), (SCHEMA_4, 4, 4),
                          (SCHEMA_5, 5, 4)])
def test_older_archives_open_verify_and_take_labelled_runs(tmp_path, fixture, version, n_runs):
    """Schema 1 has no checksums (runs are read completely); schemas 2 to 4 verify with their own;
    schema 3 holds its labels in ``layout_json``, schema 4 in CF attributes."""
    old = tmp_path / fixture.name
    shutil.copyfile(fixture, old)
    with open_archive(old) as arc:
        assert arc.schema_version == version and len(arc) == n_runs
        ids = arc.run_ids
        before = {rid: arc.load(rid) for rid in ids if arc.info(rid).status == "complete"}
        assert arc.verify() == {rid: "" for rid in ids}
        rem = [r for rid, r in before.items() if arc.info(rid).experiment == "rem"]
        if version < 3:
            assert all(r.labels == {} for r in before.values())
        else:
            assert all(r.labels["beta"] == Quantity("inverse temperature", "$\\beta$", "1/energy")
                       and r.labels["beta_c_theory"].unit == "1/energy" for r in rem)
        assert arc.info(ids[0]).provenance  # schema 1: provenance_json and one attribute per key
    rec = _record(seed=7)
    _write(old, [rec])
    with open_archive(old) as arc:
        assert arc.schema_version == SCHEMA_VERSION and len(arc) == n_runs + 1
        assert arc.verify() == {rid: "" for rid in arc.run_ids}
        assert {arc.run_schema(rid) for rid in ids} == {version} and arc.run_schema(rec.run_id) == SCHEMA_VERSION
        for rid in before:
            _assert_same_result(arc.load(rid), before[rid])
        _assert_same_result(arc.load(rec.run_id), rec.result)
        assert arc.load(rec.run_id).labels["x"].label == "Gaussian draw"


@pytest.mark.parametrize("fixture, version", [(SCHEMA_4, 4), (SCHEMA_5, 5)])
def test_the_schema_4_and_5_fixtures_read_as_written(fixture, version):
    """What the schema-4 and schema-5 fixtures were written from reads back identically: the
    schema-3 fixture's results, a toy run (recomputed: NumPy's generator, no BLAS) and a failed run."""
    with open_archive(SCHEMA_3) as arc3:
        want = {rid: (arc3.info(rid), arc3.load(rid)) for rid in arc3.run_ids}
    toy, failed = _record(n=5, label="b"), _record(seed=3, status="failed", fail=True)
    with open_archive(fixture) as arc:
        assert {arc.run_schema(rid) for rid in arc.run_ids} == {version}
        for rid, (info, result) in want.items():
            _assert_same_result(arc.load(rid), result)
            got = arc.info(rid)
            assert (got.params, got.scalars, got.seed, got.spawn_key, got.provenance) == \
                (info.params, info.scalars, info.seed, info.spawn_key, info.provenance)
        _assert_same_result(arc.load(toy.run_id), toy.result)
        assert arc.info(toy.run_id).params == toy.params
        assert arc.info(failed.run_id).status == "failed"
        assert arc.info(failed.run_id).error == "ValueError: asked to fail"


@pytest.mark.parametrize("fixture", [SCHEMA_3, SCHEMA_4, SCHEMA_5])
def test_the_current_schema_stores_what_schemas_3_to_5_stored(tmp_path, fixture):
    """The results of the schema-3 to schema-5 fixtures, written again now: every array,
    coordinate, scalar, attribute and label reads back the same (schemas 4 to 6 hold the labels
    in the CF attributes, schemas 5 and 6 those of the scalars in the summary variables, and
    ``layout_json`` holds only what those lack). The results are the fixtures' own, not recomputed:
    a recomputation may differ in the last bit under another OpenBLAS kernel (Haswell against
    SkylakeX), which is not what this test is about."""
    with open_archive(fixture) as arc:
        old = {rid: (arc.info(rid), arc.load(rid)) for rid in arc.run_ids if arc.info(rid).status == "complete"}
    records = [RunRecord(rid, info.experiment, info.params, info.seed, info.spawn_key, "complete", info.started,
                         info.finished, info.provenance, result)
               for rid, (info, result) in old.items()]
    path = _write(tmp_path / "a.h5", records)
    with open_archive(path) as arc:
        assert {arc.run_schema(rid) for rid in arc.run_ids} == {SCHEMA_VERSION}
        for rid, (info, result) in old.items():
            _assert_same_result(arc.load(rid), result)
            assert arc.info(rid).scalars == info.scalars and arc.info(rid).params == info.params


def test_a_run_costs_its_data_plus_a_few_kb_with_what_runs_share_stored_once(tmp_path):
    """Issue 9: the archive's overhead per run. The cheap ``rem`` point of ``bench_scan.py`` (1.39 kB of
    arrays and coordinates, 12 netCDF variables, 9 scalar summaries) cost 13.4 kB beyond its data in
    schema 4 and 11.8 kB in schema 5. Schema 6 stores what runs share once per archive and links it
    into each run (the coordinates and dimensions, the summaries' names and labels, the layout,
    symbols and provenance; and the 4 theory curves, the same for every seed): ~4.1 kB, most of it
    one object header per own variable (~290 bytes: dataspace, datatype, layout, attribute info,
    ``DIMENSION_LIST``, ``long_name``, ``units``) and the run group's links and attributes. The
    sizes are HDF5's deterministic file layout, so the bound sits just above what was measured.
    Measured as the growth of the file from 10 to 30 runs (no fixed costs)."""
    from statmech.runs.hdf5_links import link_settings
    from statmech.runs.registry import get_experiment

    if sys.platform.startswith("linux"):
        assert link_settings() is not None  # h5py's HDF5 library is reached
    spec = get_experiment("rem")
    params = spec.resolve({"M": 6, "samples": 4, "n_beta": 10})
    records = [RunRecord(make_run_id("rem", params, 0, (k,)), "rem", params, 0, (k,), "complete",
                         "2026-01-01T00:00:00.000000+00:00", "2026-01-01T00:00:01.000000+00:00", provenance(),
                         spec.run(params, seed=k)) for k in range(30)]
    data = sum(arr.nbytes for _, arr in records[0].result.arrays.values()) + \
        sum(np.asarray(c).nbytes for c in records[0].result.coords.values())
    sizes = [_write(tmp_path / f"{n}.h5", records[:n]).stat().st_size for n in (10, 30)]
    overhead = (sizes[1] - sizes[0]) / 20 - data
    assert 1300 < data < 1500 and overhead < 4_500, (data, overhead)
    with h5py.File(tmp_path / "30.h5", "r") as f:
        g = f["runs"][records[0].run_id]
        shared = {name for name in g if h5py.h5o.get_info(g[name].id).rc > 1}
        assert shared == {"beta", "sample", "summary", "summary_long_name", "summary_units", "metadata",
                          "theory_participation", "theory_participation_finite",
                          "theory_participation_finite_std", "theory_free_energy"}, shared
    with h5py.File(tmp_path / "30.h5", "r") as f:
        header = h5py.h5o.get_info(f["runs"][records[0].run_id].id).hdr
        assert header.mesg.present & (1 << 6)  # HDF5's link message (0x0006): links in the header
    with open_archive(tmp_path / "30.h5") as arc:
        assert arc.verify() == {r.run_id: "" for r in records}


def test_without_hdf5s_c_library_run_groups_keep_dense_links_and_read_the_same(tmp_path, monkeypatch):
    """Where :mod:`statmech.runs.hdf5_links` cannot reach HDF5 (not Linux), HDF5's default link storage."""
    import statmech.runs.hdf5_encoding as he
    import statmech.runs.hdf5_links as hl

    monkeypatch.setattr(hl, "link_settings", lambda: None)
    monkeypatch.setattr(he, "_ENCODER", None)
    rec = _record(n=5)
    path = _write(tmp_path / "a.h5", [rec])
    with h5py.File(path, "r") as f:
        assert not h5py.h5o.get_info(f["runs"][rec.run_id].id).hdr.mesg.present & (1 << 6)
    with open_archive(path) as arc:
        assert arc.verify() == {rec.run_id: ""}
        _assert_same_result(arc.load(rec.run_id), rec.result)
    monkeypatch.setattr(he, "_ENCODER", None)  # the next writer finds the library again


def test_a_changed_cf_attribute_fails_the_data_checksum(tmp_path):
    rec = _record(n=5)
    path = _write(tmp_path / "a.h5", [rec])
    with h5py.File(path, "r+") as f:
        f["runs"][rec.run_id]["y"].attrs["units"] = b"m"
    with open_archive(path) as arc:
        assert "checksum_data" in arc.verify()[rec.run_id]
        with pytest.raises(DamagedRunError, match="checksum_data"):
            arc.load(rec.run_id)


def test_undeclared_outputs_get_derived_or_fallback_labels(tmp_path):
    result = ExperimentResult(arrays={"x": (("i",), np.ones(2)), "x_se": (("i",), np.ones(2)),
                                      "weird_thing": (("i",), np.ones(2)), "ratio": (("i",), np.ones(2))},
                              labels={"x": Quantity("speed", "$v$", "m/s"),
                                      "ratio": Quantity("a ratio", "", "1")})  # CF's spelling, given as a unit
    rec = RunRecord("00000000000000aa", "toy", {"n": 1}, 0, (), "complete", "a", "b", {}, result)
    path = _write(tmp_path / "a.h5", [rec])
    with h5py.File(path, "r") as f:
        g = f["runs"][rec.run_id]
        assert g["x"].attrs["units"] == b"m/s"
        assert g["x_se"].attrs["long_name"] == b"standard error of speed" and g["x_se"].attrs["units"] == b"m/s"
        assert g["weird_thing"].attrs["long_name"] == b"weird thing" and "units" not in g["weird_thing"].attrs
        assert g["ratio"].attrs["units"] == b"1"
    with open_archive(path) as arc:
        assert arc.verify() == {rec.run_id: ""}
        labels = arc.load(rec.run_id).labels  # each label read back as given, "" (unknown) and "1" included
        assert labels["x"] == Quantity("speed", "$v$", "m/s") and labels["ratio"] == Quantity("a ratio", "", "1")
        assert labels["weird_thing"] == Quantity("weird thing", "", "")
        assert labels["x_se"] == Quantity("standard error of speed", "$v$", "m/s") or labels["x_se"].unit == "m/s"


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
        with pytest.raises(ValueError, match="no run has parameter 'not_a_param'; known keys: delay, fail"):
            arc.runs(where={"not_a_param": 1})
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


# -- checksums and damage -------------------------------------------------------------------------------------


def _damage(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def test_damaged_data_and_attributes_are_named_never_a_traceback(tmp_path):
    records = [_record(seed=s, n=3000) for s in (1, 2, 3, 4)]
    path = _write(tmp_path / "a.h5", records)
    victims = {}
    with h5py.File(path, "r") as f:
        ds = f["runs"][records[0].run_id]["positive"]  # a small array: its values are in its object header
        victims["data"] = (records[0].run_id, compact_data_offset(path, ds))
        ds = f["runs"][records[1].run_id]["y"]  # a compressed chunk: fletcher32 and the checksum see it
        victims["chunk"] = (records[1].run_id, ds.id.get_chunk_info(0).byte_offset + 100)
        digest = f["runs"][records[2].run_id].attrs["checksum_meta"]
    # an attribute's text (variable-length: in HDF5's global heap, which has no checksum of its own):
    # the checksum_meta of run 3
    raw = path.read_bytes()
    where = raw.find(digest.encode())
    assert where > 0 and raw.count(digest.encode()) == 1
    victims["attrs"] = (records[2].run_id, where + 5)
    _damage(path, victims["data"][1], b"\x7f" * 8)
    _damage(path, victims["chunk"][1], b"\x00\x11\x22\x33")
    _damage(path, victims["attrs"][1], b"x")
    with open_archive(path) as arc:
        assert arc.damaged_ids == [victims["attrs"][0]]  # listing checks the attributes' checksum
        assert arc.info(records[3].run_id).status == "complete"
        problems = arc.verify()
        assert {rid for rid, why in problems.items() if why} == {v[0] for v in victims.values()}
        # compact values sit in a version-2 object header, which HDF5 itself checksums
        assert "checksum" in problems[victims["data"][0]], problems
        assert "checksum_meta" in problems[victims["attrs"][0]]
        for run_id, _ in victims.values():
            with pytest.raises(DamagedRunError, match=f"run {run_id}.*damaged"):
                arc.load(run_id)
        with pytest.raises(DamagedRunError, match=victims["attrs"][0]):
            arc.info(victims["attrs"][0])
        with pytest.raises(DamagedRunError, match="skip_damaged"):
            arc.collect("mean")
        assert arc.collect("mean", skip_damaged=True).count.sum() == 3
        _assert_same_result(arc.load(records[3].run_id), records[3].result)
        assert len(arc.runs(status="damaged")) == 1


def test_damage_to_what_runs_share_marks_every_run_that_links_it_and_new_runs_get_a_sound_copy(tmp_path):
    """Schema 6 stores what runs share once (:mod:`statmech.runs.shared`): damage to it is damage to
    every run linking it, named as such; a writer never links a new run to a damaged copy."""
    records = [_record(seed=s) for s in (1, 2, 3)]
    path = _write(tmp_path / "a.h5", records)
    with h5py.File(path, "r") as f:
        k = f["runs"][records[0].run_id]["k"]  # the coordinate all three runs share
        offset = compact_data_offset(path, k)
        layout = f["runs"][records[0].run_id]["metadata"].attrs["layout_json"]
    _damage(path, offset, b"\x7f" * 8)
    with open_archive(path) as arc:
        assert arc.damaged_ids == []  # listing does not read the coordinate
        problems = arc.verify()
        assert all("checksum" in problems[r.run_id] for r in records), problems
    with ArchiveWriter(path) as w:
        w.add(_record(seed=4))
    with open_archive(path) as arc:
        problems = arc.verify()
        assert {rid for rid, why in problems.items() if why} == {r.run_id for r in records}
        _assert_same_result(arc.load(_record(seed=4).run_id), _record(seed=4).result)
    with h5py.File(path, "r") as f:
        names = sorted(f["shared"])
        assert sum(name.endswith("-1") for name in names) == 1  # the sound copy of the coordinate
    # the shared metadata (layout, provenance): every run fails its listing checksum
    where = path.read_bytes().find(layout.encode())
    assert where > 0
    _damage(path, where + 10, b"#")
    with open_archive(path) as arc:
        assert sorted(arc.damaged_ids) == sorted([*(r.run_id for r in records), _record(seed=4).run_id])
        assert "checksum_meta" in arc.verify()[records[0].run_id]


DAMAGE_SCRIPT = r"""
import json, sys, numpy as np
from statmech.archive import open_archive, ArchiveError
out = {"errors": [], "loaded": {}, "damaged": []}
try:
    arc = open_archive(sys.argv[1])
    problems = arc.verify()
    out["damaged"] = sorted(rid for rid, why in problems.items() if why)
    for rid in arc.run_ids:
        try:
            res = arc.load(rid)
            out["loaded"][rid] = float(np.asarray(res.arrays["x"][1]).sum())
        except ArchiveError:
            pass
    try:
        arc.collect("mean", skip_damaged=True)
    except (ArchiveError, ValueError):
        pass
except ArchiveError as exc:
    out["errors"].append(str(exc))
print(json.dumps(out))
"""


def _random_damage_trials(tmp_path, trials: int, seed: int):
    records = [_record(seed=s, n=n) for s in (1, 2) for n in (40, 3000)]
    path = _write(tmp_path / "a.h5", records)
    truth = {r.run_id: float(r.result.arrays["x"][1].sum()) for r in records}
    size = path.stat().st_size
    rng = np.random.default_rng(seed)
    for trial in range(trials):
        copy = tmp_path / f"d{trial}.h5"
        shutil.copyfile(path, copy)
        offset = int(rng.integers(512, size - 64))  # past the superblock: the file still opens
        _damage(copy, offset, rng.integers(0, 256, 32, dtype=np.uint8).tobytes())
        proc = subprocess.run([sys.executable, "-c", DAMAGE_SCRIPT, str(copy)], capture_output=True,
                              text=True, timeout=120, env=_toy.toy_env())
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (offset, proc.stderr)
        out = json.loads(proc.stdout)
        for rid, total in out["loaded"].items():  # whatever loads is the original data, bit for bit
            assert total == truth[rid], (offset, rid)
        cli = subprocess.run([sys.executable, "-m", "statmech.cli", "check", str(copy)], capture_output=True,
                             text=True, timeout=120, env=_toy.toy_env())
        assert "Traceback" not in cli.stderr, (offset, cli.stderr)
        assert cli.returncode == (1 if out["damaged"] or out["errors"] else 0), (offset, cli.stdout, cli.stderr)


def test_random_damage_is_detected_or_harmless(tmp_path):
    _random_damage_trials(tmp_path, trials=4, seed=1)


@pytest.mark.slow
def test_random_damage_many_trials(tmp_path):
    _random_damage_trials(tmp_path, trials=40, seed=2)


# -- the staging log ---------------------------------------------------------------------------------------------


def test_staging_log_round_trip_and_torn_tail(tmp_path):
    records = [_record(seed=1, n=5), _record(status="failed", n=3), _record(seed=2, n=2000)]
    log = st.StagingLog(tmp_path)
    sizes = [log.append(r) for r in records]
    log.close()
    back = [rec for _, rec in st.read_log(log.path)]
    assert [r.run_id for r in back] == [r.run_id for r in records]
    for a, b in zip(records, back):
        assert (a.params, a.seed, a.status, a.error, a.provenance) == (b.params, b.seed, b.status, b.error, b.provenance)
        if a.result is not None:
            _assert_same_result(a.result, b.result)
    data = log.path.read_bytes()
    for cut in (len(data) - 1, len(data) - sizes[-1] + 10, sum(sizes[:1]) + 3):
        log.path.write_bytes(data[:cut])  # a write cut short: the whole records before it remain
        kept = [rid for rid, _ in st.read_log(log.path, decode=False)]
        assert kept == [r.run_id for r in records][: len(kept)] and len(kept) == sum(
            1 for k in range(3) if sum(sizes[: k + 1]) <= cut)
    flipped = bytearray(data)
    flipped[sizes[0] + 60] ^= 1  # a damaged record ends the log there (its digest fails)
    log.path.write_bytes(bytes(flipped))
    assert [rid for rid, _ in st.read_log(log.path)] == [records[0].run_id]


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
def test_crash_during_publish_leaves_old_archive_and_staged_runs(tmp_path, monkeypatch, stage, in_memory):
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
    with monkeypatch.context() as m:
        if stage == "write":
            m.setattr(wr, "_write_durably" if in_memory else "_copy_durably", boom)
        elif stage == "fsync":
            m.setattr(wr, "_fsync", boom)
        else:
            m.setattr(wr.os, "replace", boom)
        with pytest.raises(Crash):
            w.publish()
    w.abandon()
    assert path.read_bytes() == before  # the live archive was never touched
    assert not list(tmp_path.glob(".a.h5.publish-*")) and not list(tmp_path.glob(".a.h5.work-*"))
    with open_archive(path) as arc:
        assert len(arc) == 1
        assert arc.pending == 2
    with ArchiveWriter(path) as w2:  # the next writer publishes the staged runs
        assert {r.run_id for r in new} <= w2.completed_ids()
        assert w2.stats.recovered == 2
    with open_archive(path) as arc:
        assert len(arc) == 3 and arc.pending == 0
        for r in new:
            _assert_same_result(arc.load(r.run_id), r.result)


def test_big_archives_keep_their_working_copy_on_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(ArchiveWriter, "IN_MEMORY_LIMIT", 20_000)
    records = [_record(seed=s, n=2000) for s in range(4)]
    path = tmp_path / "a.h5"
    with ArchiveWriter(path) as w:
        for r in records:
            w.add(r)
        assert w._work_path is not None and w._work_path.exists()  # spilled past the limit
    assert not list(tmp_path.glob(".a.h5.work-*"))
    with open_archive(path) as arc:
        for r in records:
            _assert_same_result(arc.load(r.run_id), r.result)


def test_stale_temporary_files_of_a_killed_writer_are_removed(tmp_path):
    path = _write(tmp_path / "a.h5", [_record()])
    junk = [tmp_path / f".a.h5.publish-{12345}.tmp", tmp_path / ".a.h5.work-12345.h5"]
    for p in junk:
        p.write_bytes(b"half an hdf5 file")
    staging = tmp_path / "a.h5.staging"
    staging.mkdir()
    half = staging / ".0123456789abcdef.999.tmp"
    half.write_bytes(b"half")
    (staging / f"0001-1{st.LOG_SUFFIX}").write_bytes(b"SMRUN\x00v1 torn")  # a log cut in its first record
    with ArchiveWriter(path) as w:
        assert w.completed_ids() == {_record().run_id}
    assert not any(p.exists() for p in junk) and not staging.exists()
    assert open_archive(path).run_ids == [_record().run_id]


def test_killed_after_replace_before_cleanup_publishes_nothing_twice(tmp_path):
    rec = _record(seed=5)
    path = _write(tmp_path / "a.h5", [rec])
    before = path.read_bytes()
    # the state after a kill between os.replace and the deletion of the log
    log = st.StagingLog(tmp_path / "a.h5.staging")
    log.append(rec)
    log.close()
    with open_archive(path) as arc:
        assert arc.pending == 0  # already published
    with ArchiveWriter(path) as w:
        assert w.completed_ids() == {rec.run_id} and w.stats.recovered == 0
    assert path.read_bytes() == before and not (tmp_path / "a.h5.staging").exists()


def test_runs_staged_one_file_each_by_an_older_statmech_are_published(tmp_path):
    rec = _record(seed=8)
    staging = tmp_path / "a.h5.staging"
    staging.mkdir()
    with h5py.File(staging / f"{rec.run_id}.h5", "w") as f:  # the pre-issue-9 staging format
        from statmech.runs.schema import init_root, write_run

        init_root(f)
        write_run(f["runs"], rec)
    with ArchiveWriter(tmp_path / "a.h5") as w:
        assert w.stats.recovered == 1
    with open_archive(tmp_path / "a.h5") as arc:
        _assert_same_result(arc.load(rec.run_id), rec.result)


def test_disk_full_is_reported_and_leaves_the_archive_unchanged(tmp_path, monkeypatch):
    path = _write(tmp_path / "a.h5", [_record(seed=1)])
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with ArchiveWriter(path) as w:
        with monkeypatch.context() as m:
            m.setattr(wr, "_fsync", full)
            with pytest.raises(DiskFullError, match="disk full"):
                w.add(_record(seed=2), publish=True)
    assert path.read_bytes() != before  # closing (with room again) published the staged run
    with open_archive(path) as arc:
        assert len(arc) == 2
    before = path.read_bytes()
    assert not list(tmp_path.glob(".a.h5.publish-*"))
    # the log: a write that fails leaves no torn record behind
    with ArchiveWriter(path) as w:
        with monkeypatch.context() as m:
            m.setattr(st.os, "write", full)
            with pytest.raises(DiskFullError, match="disk full while saving run"):
                w.add(_record(seed=3))
        w.abandon()
    assert path.read_bytes() == before
    # a working copy on disk is made, and published, only if there is room
    monkeypatch.setattr(ArchiveWriter, "IN_MEMORY_LIMIT", 0)
    monkeypatch.setattr(wr.shutil, "disk_usage", lambda p: shutil_usage(total=10**9, used=10**9 - 1000, free=1000))
    with pytest.raises(DiskFullError, match="a working copy"):
        ArchiveWriter(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert is_disk_full(
        OSError("Can't write data (file write failed: errno = 28, error message = 'No space left on device')")
    )
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_publishing_is_throttled_to_a_fraction_of_wall_time(tmp_path, monkeypatch):
    clock = {"t": 0.0}
    monkeypatch.setattr(wr.time, "monotonic", lambda: clock["t"])
    path = tmp_path / "a.h5"
    with ArchiveWriter(path) as w:
        w._last_publish_cost = 1.0  # pretend a publish takes 1 s...
        w._last_publish_end = 0.0
        w._last_publish_size = 10**9  # ...for an archive bigger than this one will be
        clock["t"] = 5.0
        w.add(_record(seed=1))
        assert w.staged_ids() == {_record(seed=1).run_id}  # 5 s < 29 x 1 s: staged only
        clock["t"] = 29.5
        w.add(_record(seed=2))
        assert w.staged_ids() == set()  # due: both published at once
    assert len(open_archive(path)) == 2
    with ArchiveWriter(path) as w:  # a publish costs in proportion to the archive's size
        w._last_publish_cost, w._last_publish_end = 1.0, 0.0
        w._last_publish_size = w.image_size() // 4
        clock["t"] = 100.0
        w.add(_record(seed=3))  # predicted 4+ s: due after 116 s, not 29
        assert w.staged_ids() == {_record(seed=3).run_id}
    for bad in (-5, float("nan"), float("inf"), "x"):
        with pytest.raises(ValueError, match="publish_interval"):
            ArchiveWriter(tmp_path / "b.h5", publish_interval=bad)


def test_a_foreign_writer_holding_the_file_gives_a_clear_message(tmp_path):
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


def test_provenance_names_the_git_commit_of_a_checkout(monkeypatch):
    from statmech.runs import provenance as prov

    root = Path(prov.__file__).resolve().parents[2]
    if not (root / ".git").exists():
        pytest.skip("statmech is not run from a git checkout here")
    monkeypatch.delenv("STATMECH_GIT_COMMIT", raising=False)
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert prov._git_commit().split("-")[0] == head
