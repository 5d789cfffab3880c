"""A result depends only on its seed: every experiment, bit for bit, wherever and however it runs.

Each registered experiment runs at a small size (its warm-up point if this
file does not know it) through every executor of the run system: in this
process (``--jobs 1``, Numba's threads on every core), on a pool of two
single-threaded workers (``--jobs 2``), on a local dask cluster
(``--scheduler local``), and in fresh processes with ``NUMBA_NUM_THREADS=1``
and ``2``. Every stored array and scalar must be bit-identical (same dtype,
same bytes: ``-0.0`` and ``0.0``, or two NaN payloads, differ).

The default suite runs a few experiments chosen to exercise what used to break
the claim (``hopfield-capacity`` at sizes where OpenBLAS splits its products
over threads, ``collapse`` with its ``prange`` kernel, ``rem`` with its
thread pool); the slow suite runs all of them, dask included.
"""

from __future__ import annotations

import json
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest

from statmech.runs.executors import Task, run_dask, run_inline, run_pool
from statmech.runs.lifetime import StopRequest
from statmech.runs.progress import Progress
from statmech.runs.registry import available_experiments, get_experiment
from statmech.runs.scanfile import point_seed
from statmech.runs.schema import make_run_id

import _toy

#: Small but not trivial: several BLAS blocks, several prange chunks, several REM level blocks.
SMALL = {
    "rem": {"M": 18, "samples": 3, "n_beta": 8},
    "curie-weiss": {"n_T": 11, "n_tau": 6, "n_h": 6},
    "speciation": {"dims": "8,16", "n_pairs": 64, "n_x": 5, "dt": 0.05},
    "collapse": {"dims": "8,16", "n_data": 300, "n_samples": 40, "n_times": 8, "n_finite": 50},
    "dataset-regimes": {"n_trajectories": 16, "n_clone_times": 3, "n_steps": 30, "n_samples": 40,
                        "n_times": 6, "method": "euler_maruyama"},
    "pitchfork": {"n_points": 60, "n_grid": 15, "landscape_times": "0.3,1.0"},
    "hopfield-capacity": {"full_sizes": "20,22", "rem_sizes": "16,20", "ensembles": "spherical", "n_targets": 32,
                          "n_sets": 1, "n_samples": 40, "limit_betas": ""},
    "classical-capacity": {"sizes": "50,60", "n_alpha": 3, "n_sets": 2, "n_targets": 8, "modern_size": 8},
}
#: The default suite's experiments (the rest run in the slow suite).
QUICK = ("rem", "collapse", "hopfield-capacity", "toy")

RUN_IN_SUBPROCESS = r"""
import pickle, sys
from statmech.runs.executors import run_inline
from statmech.runs.lifetime import StopRequest
from statmech.runs.progress import Progress
tasks = pickle.load(open(sys.argv[1], "rb"))
records = []
run_inline(tasks, records.append, StopRequest(False), Progress(len(tasks), mode="off"))
import numba
pickle.dump((numba.get_num_threads(), records), open(sys.argv[2], "wb"))
"""


def _tasks(names) -> list[Task]:
    tasks = []
    for name in names:
        spec = get_experiment(name)
        params = spec.resolve(SMALL.get(name, spec.warmup or {}))
        entropy, key = point_seed(name, params, 7, 0)
        tasks.append(Task(name, spec.source, params, entropy, key, make_run_id(name, params, entropy, key)))
    return tasks


def _collect(runner, tasks, *args) -> dict:
    records = []
    runner(tasks, *args, records.append, StopRequest(False), Progress(len(tasks), mode="off")) if args else \
        runner(tasks, records.append, StopRequest(False), Progress(len(tasks), mode="off"))
    return {r.run_id: r for r in records}


def _in_subprocess(tasks, tmp_path, threads: int) -> dict:
    src, dst = tmp_path / f"tasks-{threads}.pkl", tmp_path / f"records-{threads}.pkl"
    src.write_bytes(pickle.dumps(tasks))
    proc = subprocess.run([sys.executable, "-c", RUN_IN_SUBPROCESS, str(src), str(dst)], capture_output=True,
                          text=True, timeout=1200, env=_toy.toy_env(NUMBA_NUM_THREADS=str(threads)))
    assert proc.returncode == 0, proc.stderr
    seen, records = pickle.loads(dst.read_bytes())
    assert seen == threads
    return {r.run_id: r for r in records}


def _bits(value):
    if isinstance(value, float):
        return struct.pack("<d", value)
    return value


def _assert_identical(got: dict, want: dict, label: str) -> None:
    assert got.keys() == want.keys(), label
    for run_id, g in got.items():
        w = want[run_id]
        name = f"{label}: {w.experiment}"
        assert g.status == w.status == "complete", (name, g.error, w.error)
        assert g.result.arrays.keys() == w.result.arrays.keys(), name
        for key, (dims, arr) in w.result.arrays.items():
            gdims, garr = g.result.arrays[key]
            assert gdims == dims and garr.dtype == arr.dtype and garr.shape == arr.shape, (name, key)
            same = np.ascontiguousarray(garr).view(np.uint8) == np.ascontiguousarray(arr).view(np.uint8)
            assert same.all(), (name, key, int((~same).sum()), "bytes differ")
        for key, values in w.result.coords.items():
            np.testing.assert_array_equal(g.result.coords[key], values, err_msg=f"{name} {key}")
        assert {k: _bits(v) for k, v in g.result.scalars.items()} == {
            k: _bits(v) for k, v in w.result.scalars.items()}, name


pytestmark = pytest.mark.usefixtures("toy_registry")  # conftest.py


def test_a_few_experiments_are_bit_identical_in_process_on_a_pool_and_with_one_numba_thread(tmp_path):
    tasks = _tasks(QUICK)
    inline = _collect(run_inline, tasks)
    _assert_identical(_collect(run_pool, tasks, 2), inline, "--jobs 2 vs --jobs 1")
    _assert_identical(_in_subprocess(tasks, tmp_path, 1), inline, "NUMBA_NUM_THREADS=1 vs --jobs 1")


@pytest.mark.slow
def test_every_experiment_is_bit_identical_on_every_executor(tmp_path):
    pytest.importorskip("distributed")
    names = [name for name in available_experiments() if not name.startswith("toy")] + ["toy"]
    tasks = _tasks(names)
    inline = _collect(run_inline, tasks)
    _assert_identical(_collect(run_pool, tasks, 2), inline, "--jobs 2 vs --jobs 1")
    _assert_identical(_collect(run_dask, tasks, "local", 2), inline, "--scheduler local vs --jobs 1")
    for threads in (1, 2):
        _assert_identical(_in_subprocess(tasks, tmp_path, threads), inline,
                          f"NUMBA_NUM_THREADS={threads} vs --jobs 1")


def test_the_small_sizes_name_real_parameters():
    for name, params in SMALL.items():
        get_experiment(name).resolve(params)
    assert json.dumps(sorted(SMALL))  # every key is an experiment name (resolve raised otherwise)
