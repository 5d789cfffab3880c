"""Scan files (parsing, errors with lines), seeds, and running scans on the embedded pool."""

from __future__ import annotations

import io
import os
import textwrap

import numpy as np
import pytest

from statmech.archive import open_archive
from statmech.scan import Progress, ScanError, load_scan, parse_scan, point_seed, run_scan

import _toy
from _archives import assert_same_archives


pytestmark = pytest.mark.usefixtures("toy_registry")  # conftest.py


def scan(text: str):
    return parse_scan(textwrap.dedent(text), "s.toml")


# -- parsing ----------------------------------------------------------------------------------------------


def test_grid_zip_ranges_seeds_and_repetitions():
    s = scan("""
        experiment = "toy"
        seeds = [3, 4]
        repetitions = 2
        [fixed]
        label = "b"
        [grid]
        n = { start = 2, stop = 8, step = 3 }
        scale = { start = 0.1, stop = 0.3, num = 3 }
        [zip]
        delay = [0.0, 0.001]
        fail = [false, false]
        """)
    assert s.experiment == "toy" and s.seeds == (3, 4) and s.repetitions == 2
    assert s.axis_names == ["n", "scale", "delay", "fail"]
    assert [v for (v,) in s.axes[0][1]] == [2, 5, 8]
    assert [v for (v,) in s.axes[1][1]] == [0.1, 0.2, 0.3]  # rounded, not 0.30000000000000004
    assert s.axes[2][1] == [(0.0, False), (0.001, False)]
    assert len(s.points) == 3 * 3 * 2 * 2 * 2
    assert len({p.run_id for p in s.points}) == len(s.points)
    first = s.points[0]
    assert first.params == {"n": 2, "scale": 0.1, "delay": 0.0, "fail": False, "label": "b", "marker": "", "steps": 1}
    assert first.varied == {"n": 2, "scale": 0.1, "delay": 0.0, "fail": False}
    assert (first.seed, first.repetition) == (3, 0)


def test_log_range_and_several_zip_groups():
    s = scan("""
        experiment = "toy"
        [grid]
        scale = { start = 0.01, stop = 100, num = 5, log = true }
        [[zip]]
        n = [1, 2]
        label = ["a", "b"]
        [[zip]]
        delay = [0.0, 0.5, 1.0]
        """)
    np.testing.assert_allclose([v for (v,) in s.axes[0][1]], [0.01, 0.1, 1, 10, 100], rtol=1e-12)
    assert len(s.points) == 5 * 2 * 3


def test_point_seed_depends_only_on_the_point_not_on_the_scan_layout():
    a = scan("""
        experiment = "toy"
        seed = 9
        [grid]
        n = [1, 2, 3]
        scale = [1.0, 2.0]
        """)
    b = scan("""
        experiment = "toy"
        seed = 9
        [fixed]
        n = 2
        [grid]
        scale = [2.0, 1.0]
        """)
    ids_a = {p.run_id: p for p in a.points}
    for p in b.points:
        assert p.run_id in ids_a
        assert (p.seed, p.spawn_key) == (ids_a[p.run_id].seed, ids_a[p.run_id].spawn_key)
    # distinct points and repetitions get distinct streams
    keys = {p.spawn_key for p in a.points}
    assert len(keys) == len(a.points)
    entropy, key = point_seed("toy", a.points[0].params, 9, 1)
    assert entropy == 9 and key[:2] == a.points[0].spawn_key[:2] and key[2] == 1


@pytest.mark.parametrize(
    "body, fragment",
    [
        ('experiment = "toy"\n[grid]\nn = [1, 2\n', r"s.toml:3: invalid TOML: Unclosed array"),
        ('experiment = "toy"\nseed = = 3\n[grid]\n', r"s.toml:2:8: invalid TOML"),
        ('experiment = "toy"\nsteps = 3\n', r"s.toml:2: steps: unknown key"),
        ('experiment = "toyy"\n', r"s.toml:1: experiment: unknown experiment 'toyy'"),
        ("seed = 1\n", r"missing required key 'experiment'"),
        (
            'experiment = "toy"\n[grid]\nscale = [1.0]\nm = [1, 2]\n',
            r"s.toml:4: \[grid\] m: experiment 'toy' has no parameter 'm'",
        ),
        (
            'experiment = "toy"\n[grid]\n\nn = [1, 2.5]\n',
            r"s.toml:4: \[grid\] n: item 1: parameter 'n' expects int",
        ),
        (
            'experiment = "toy"\n[fixed]\nscale = "big"\n',
            r"s.toml:3: \[fixed\] scale: parameter 'scale' expects float",
        ),
        (
            'experiment = "toy"\n[grid]\nn = []\n',
            r"s.toml:3: \[grid\] n: gives no values: the scan has zero points",
        ),
        ('experiment = "toy"\n[grid]\nn = { start = 5, stop = 1, num = 0 }\n', r"zero points"),
        (
            'experiment = "toy"\nseeds = []\n',
            r"s.toml:2: seeds: is empty: the scan has zero points",
        ),
        (
            'experiment = "toy"\nrepetitions = 0\n',
            r"s.toml:2: repetitions: must be an integer >= 1",
        ),
        ('experiment = "toy"\nseed = -1\n', r"s.toml:2: seed: seeds are integers"),
        (
            'experiment = "toy"\n[fixed]\nn = 2\n[grid]\nn = [1, 2]\n',
            r"s.toml:5: \[grid\] n: parameter 'n' is also set in \[fixed\]",
        ),
        (
            'experiment = "toy"\n[zip]\nn = [1, 2]\nscale = [1.0]\n',
            r"s.toml:3: \[zip\] n: zipped lists must have the same length",
        ),
        (
            'experiment = "toy"\n[grid]\nn = { start = 1, stop = 4 }\n',
            r"s.toml:3: \[grid\] n: a range needs exactly one of 'num' or 'step'",
        ),
        (
            'experiment = "toy"\n[grid]\nn = { start = 1, stop = 4, num = 3 }\n',
            r"s.toml:3: \[grid\] n: parameter 'n' is an int but the range gives 2.5",
        ),
        (
            'experiment = "toy"\n[grid]\nscale = { start = 1, stop = 4, step = -1 }\n',
            r"step -1 never goes",
        ),
        (
            'experiment = "toy"\n[grid]\nn = [1, 1]\n',
            r"s.toml:3: \[grid\] n: the value 1 is listed twice",
        ),
        (
            'experiment = "toy"\n[grid]\nlabel = ["a", "z"]\n',
            r"s.toml:3: \[grid\] label: item 1: parameter 'label' must be one of",
        ),
        ('experiment = "toy"\n[grid]\nn = 3\n', r"s.toml:3: \[grid\] n: expected a list"),
        (
            'experiment = "toy"\n[[zip]]\nn = [1]\n[[zip]]\nscale = [1.0, 2.0]\nlabel = ["a"]\n',
            r"s.toml:5: \[zip\] scale: zipped lists",
        ),
    ],
)
def test_bad_scan_files_name_the_line_and_key(body, fragment):
    with pytest.raises(ScanError, match=fragment):
        parse_scan(body, "s.toml")


def test_load_scan_file_errors(tmp_path):
    with pytest.raises(ScanError, match="no such scan file"):
        load_scan(tmp_path / "missing.toml")
    with pytest.raises(ScanError, match="is a directory"):
        load_scan(tmp_path)
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScanError, match="not UTF-8"):
        load_scan(bad)


# -- running ----------------------------------------------------------------------------------------------------

SMALL = """
experiment = "toy"
seed = 11
repetitions = 2
[grid]
n = [3, 5, 7]
scale = [0.5, 2.0]
"""


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    s = scan(SMALL)
    r1 = run_scan(s, tmp_path / "one.h5", jobs=1)
    r2 = run_scan(s, tmp_path / "two.h5", jobs=2)
    assert (r1.computed, r2.computed, r1.failed, r2.failed) == (12, 12, [], [])
    assert_same_archives(tmp_path / "one.h5", tmp_path / "two.h5")
    # and each run is the experiment called with the point's own seed sequence
    with open_archive(tmp_path / "two.h5") as arc:
        rid = arc.run_ids[0]
        info = arc.info(rid)
        direct = _toy.toy.spec.run(
            info.params, seed=np.random.SeedSequence(info.seed, spawn_key=info.spawn_key)
        )
        np.testing.assert_array_equal(arc.load(rid).arrays["x"][1], direct.arrays["x"][1])


def test_pool_workers_run_one_numba_thread(tmp_path):
    s = scan('experiment = "toy-threads"\n[grid]\ni = [0, 1, 2, 3]\n')
    report = run_scan(s, tmp_path / "t.h5", jobs=2)
    assert report.computed == 4
    with open_archive(tmp_path / "t.h5") as arc:
        for info in arc.runs():
            assert info.scalars["numba_threads"] == 1
            assert info.scalars["env_threads"] == "1"
        assert os.getpid() not in {
            info.scalars["pid"] for info in arc.runs()
        }  # spawned workers did the work


def test_resume_is_required_and_skips_finished_points(tmp_path):
    s = scan(SMALL)
    path = tmp_path / "a.h5"
    seen = []

    def stop_after_five(record):
        seen.append(record.run_id)
        if len(seen) == 5:
            raise KeyboardInterrupt  # what Ctrl-C does between points

    report = run_scan(s, path, jobs=1, on_record=stop_after_five)
    assert report.interrupted and report.computed == 5
    assert set(open_archive(path).run_ids) == set(seen)
    with pytest.raises(ScanError, match="already holds 5 of the 12 points.*--resume"):
        run_scan(s, path)
    more = []
    report = run_scan(s, path, jobs=2, resume=True, on_record=lambda r: more.append(r.run_id))
    assert report.skipped == 5 and report.computed == 7 and not set(more) & set(seen)
    ref = tmp_path / "ref.h5"
    run_scan(s, ref, jobs=1)
    assert_same_archives(path, ref)


def test_interrupting_a_pool_keeps_finished_runs(tmp_path):
    s = scan('experiment = "toy"\n[fixed]\ndelay = 0.2\n[grid]\nn = [1, 2, 3, 4, 5, 6, 7, 8]\n')
    path = tmp_path / "a.h5"
    count = []

    def interrupt(record):
        count.append(record)
        if len(count) == 2:
            raise KeyboardInterrupt

    report = run_scan(s, path, jobs=2, on_record=interrupt)
    assert report.interrupted and report.computed == 2
    with open_archive(path) as arc:
        assert len(arc) == 2 and all(i.status == "complete" for i in arc.runs())


def test_failed_points_are_archived_and_retried_on_resume(tmp_path):
    s = scan('experiment = "toy"\n[grid]\nfail = [false, true]\n')
    path = tmp_path / "a.h5"
    report = run_scan(s, path, jobs=1)
    assert report.computed == 2 and len(report.failed) == 1
    assert "asked to fail" in report.failed[0][2]
    with open_archive(path) as arc:
        failed = arc.runs(status="failed")
        assert len(failed) == 1 and "ValueError: asked to fail" in failed[0].error
    report = run_scan(s, path, jobs=1, resume=True)
    assert report.skipped == 1 and report.computed == 1 and len(report.failed) == 1


def test_scan_refuses_experiments_workers_cannot_import(tmp_path):
    from statmech.registry import ExperimentResult, Parameter, experiment, register, unregister

    @experiment("inline", "", [Parameter("k", int, 1)])
    def inline(*, seed, k):
        return ExperimentResult(scalars={"k": k})

    register(inline)
    try:
        s = scan('experiment = "inline"\n[grid]\nk = [1, 2]\n')
        with pytest.raises(ScanError, match="cannot import it"):
            run_scan(s, tmp_path / "a.h5", jobs=2)
        assert run_scan(s, tmp_path / "a.h5", jobs=1).computed == 2  # in-process is fine
    finally:
        unregister("inline")
    with pytest.raises(ScanError, match="jobs must be"):
        run_scan(s, tmp_path / "b.h5", jobs=0)


def test_progress_bar_on_a_terminal_and_plain_lines_in_logs(monkeypatch):
    from statmech.runs import progress as pr

    class Tty(io.StringIO):
        def isatty(self):
            return True

    clock = {"t": 100.0}
    monkeypatch.setattr(pr.time, "monotonic", lambda: clock["t"])
    tty = Tty()
    bar = Progress(4, stream=tty)
    assert bar.mode == "bar"
    bar.update(1)  # before BAR_DELAY: quick work draws nothing
    assert tty.getvalue() == ""
    clock["t"] += 10.0
    bar.update(1)  # 2 of 4 in 10 s: 10 s to go
    bar.close()
    text = tty.getvalue()
    assert text.startswith("\r[") and "2/4 points" in text and "ETA 00:10" in text and text.endswith("\n")

    log = io.StringIO()  # a batch-job log: plain lines, spaced, with a heartbeat
    clock["t"] = 0.0
    lines = Progress(3, stream=log, estimate=60.0)
    assert lines.mode == "lines"
    lines.tick()
    assert log.getvalue() == ""  # nothing in the first seconds
    clock["t"] = 11.0
    lines.tick()  # heartbeat while a point runs: the ETA comes from the estimate
    assert log.getvalue() == "statmech: 0/3 points  00:11 elapsed, ETA ~00:49\n"
    lines.set_partial("a", 0.5)  # an experiment reports half of a point done
    clock["t"] = 13.0
    lines.update(1, key="b")
    assert log.getvalue().splitlines()[-1] == "statmech: 1/3 points, 1 running  00:13 elapsed, ETA 00:13"
    clock["t"] = 13.5
    lines.update(1, failed=1, key="a")  # too soon after the last line: silent
    assert len(log.getvalue().splitlines()) == 2
    lines.close()
    assert log.getvalue().splitlines()[-1].startswith("statmech: 2/3 points, 1 failed")

    off = io.StringIO()
    quiet = Progress(3, stream=off, mode="off")
    clock["t"] = 1000.0
    quiet.update(3)
    quiet.close()
    assert off.getvalue() == ""


# -- checks before compute, and what a scan says (issue 9, items 6 and 7) --------------------------------------


def test_a_point_that_cannot_fit_refuses_the_scan_before_anything_runs(tmp_path):
    s = scan('experiment = "toy"\n[grid]\nn = [3, 1000000000000000]\n')
    with pytest.raises(ScanError, match=r"s.toml: point n=1000000000000000: experiment 'toy' would need .* PiB"):
        run_scan(s, tmp_path / "a.h5")
    assert not (tmp_path / "a.h5").exists()
    with pytest.raises(ScanError, match="publish_interval must be finite and >= 0"):
        run_scan(s, tmp_path / "a.h5", publish_interval=float("nan"))


def test_a_pool_too_wide_for_the_memory_is_narrowed(tmp_path, monkeypatch):
    from statmech.runs import scanner
    from statmech.runs.resources import BASE_MEMORY

    monkeypatch.setattr(scanner, "available_memory", lambda: int(1.5 * BASE_MEMORY))  # one point at a time
    notes = []
    report = run_scan(scan('experiment = "toy"\n[grid]\nn = [3, 4, 5]\n'), tmp_path / "a.h5", jobs=2,
                      on_note=notes.append)
    assert report.jobs == 1 and report.computed == 3
    assert notes and "running 1 at a time instead of 2" in notes[0]


def test_workers_report_progress_inside_a_point_and_the_final_merge_has_a_bar(tmp_path, monkeypatch):
    from statmech.runs import scanner

    class Tty(io.StringIO):
        def isatty(self):
            return True

    seen = []

    class Recorder(Progress):
        def set_partial(self, key, fraction):
            seen.append((key, fraction))
            super().set_partial(key, fraction)

    monkeypatch.setattr(scanner, "MERGE_PROGRESS_BYTES", 0)
    monkeypatch.setattr(Progress, "BAR_DELAY", 0.0)
    s = scan('experiment = "toy"\n[fixed]\ndelay = 1.2\nsteps = 4\n[grid]\nn = [1, 2]\n')
    stream = Tty()
    report = run_scan(s, tmp_path / "a.h5", jobs=2, progress=Recorder(2, stream=stream),
                      publish_interval=1e6)  # nothing published before the end: the final merge has work
    assert report.computed == 2
    fractions = [f for _, f in seen]
    assert fractions and all(0 < f < 1.0 + 1e-12 for f in fractions)  # from the workers, through the queue
    assert {key for key, _ in seen} <= {p.run_id for p in s.points}
    assert "archive written" in stream.getvalue()
