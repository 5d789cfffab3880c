"""Exact k-NN (statmech.knn) against brute force, and its independence of blocks, chunks and dtypes."""

import math

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import statmech.knn as knn_module
from naive import knn_reference
from statmech.knn import KNNIndex, candidate_margin, knn, squared_distance


def _data(n=700, q=90, d=37, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    train = rng.standard_normal((n, d)).astype(dtype)
    queries = rng.standard_normal((q, d)).astype(dtype)
    copies = min(10, q)
    queries[:copies] = train[rng.choice(n, copies, replace=False)]  # exact copies: d_1 = 0
    return queries, train


def _same(a, b):
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.distances, b.distances)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 3])
def test_agrees_with_brute_force(dtype, k):
    queries, train = _data(dtype=dtype)
    ref_dist, ref_idx = knn_reference(queries, train, k)
    for result in (knn(queries, train, k), KNNIndex(train).query(queries, k)):
        np.testing.assert_array_equal(result.indices, ref_idx)
        # Both are float64 sums of the same squared differences, in different orders:
        # d * 2^-53 relative on D, half of it on the distance.
        np.testing.assert_allclose(result.distances, ref_dist, rtol=37 * 2.0**-53, atol=0)
        assert (result.distances[:10, 0] == 0).all()


def test_ties_go_to_the_lower_index():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((50, 8))
    train = np.concatenate([base, base, base])  # every point three times
    queries = base[:20] + 1e-3 * rng.standard_normal((20, 8))
    result = knn(queries, train, 3)
    ref_dist, ref_idx = knn_reference(queries, train, 3)
    np.testing.assert_array_equal(result.indices, ref_idx)
    np.testing.assert_array_equal(result.indices, np.arange(20)[:, None] + np.array([0, 50, 100]))
    assert (result.distances[:, 0] == result.distances[:, 2]).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_result_independent_of_blocks_chunks_and_candidate_precision(dtype, monkeypatch):
    """Different GEMM shapes give different candidate values, never a different answer."""
    queries, train = _data(n=1500, q=200, d=64, seed=2, dtype=dtype)
    reference = knn(queries, train, 2)
    for chunk in (1, 13, 1500):
        _same(knn(queries, train, 2, chunk_size=chunk), reference)
    _same(knn(queries, train, 2, candidate_dtype=np.float64), reference)
    _same(KNNIndex(train, candidate_dtype=np.float64).query(queries, 2), reference)
    monkeypatch.setattr(knn_module, "TRAIN_BLOCK", 37)
    monkeypatch.setattr(knn_module, "PRODUCT_ENTRIES", 37 * 11)
    _same(knn(queries, train, 2), reference)
    _same(KNNIndex(train).query(queries, 2), reference)


def test_streams_an_hdf5_dataset(tmp_path):
    queries, train = _data(n=900, q=40, d=20, seed=3, dtype=np.float32)
    path = tmp_path / "train.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=train, chunks=(64, 20))
    with h5py.File(path, "r") as f:
        streamed = knn(queries, f["images"], 4, chunk_size=100)
    _same(streamed, knn(queries, train, 4))


def test_streamed_chunk_with_nan_names_its_rows(tmp_path):
    queries, train = _data(n=300, q=5, d=6, seed=4)
    train[250, 3] = np.nan
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=train)
    with h5py.File(path, "r") as f, pytest.raises(ValueError, match="train rows 200:300"):
        knn(queries, f["x"], 1, chunk_size=100)


def test_data_far_from_the_centre_is_still_exact():
    """A large common offset inflates the candidate margin: more exact sums, same answer."""
    rng = np.random.default_rng(5)
    train = 1e4 + rng.random((400, 30))
    queries = 1e4 + rng.random((30, 30))
    queries[5:] += 50.0  # far from the training set, and from the query mean
    ref_dist, ref_idx = knn_reference(queries, train, 2)
    result = knn(queries, train, 2)
    np.testing.assert_array_equal(result.indices, ref_idx)
    np.testing.assert_allclose(result.distances, ref_dist, rtol=1e-14)


@given(scale=st.sampled_from([1e-30, 1e-12, 1.0, 1e6, 1e15]),
       offset=st.sampled_from([0.0, 1.0, 1e3]),
       seed=st.integers(0, 2**16))
def test_awkward_scales(scale, offset, seed):
    rng = np.random.default_rng(seed)
    train = scale * (offset + rng.standard_normal((60, 5)))
    queries = scale * (offset + rng.standard_normal((7, 5)))
    queries[0] = train[3]
    ref_dist, ref_idx = knn_reference(queries, train, 2)
    result = knn(queries, train, 2)
    np.testing.assert_array_equal(result.indices, ref_idx)
    np.testing.assert_allclose(result.distances, ref_dist, rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_candidate_margin_bounds_the_gemm_error(dtype):
    """|D~ - D| <= e on data built for cancellation (norms >> distances), for every pair."""
    rng = np.random.default_rng(6)
    d = 300
    centre = rng.standard_normal(d)
    train = centre + 1e-3 * rng.standard_normal((400, d))
    queries = centre + 1e-3 * rng.standard_normal((50, d))
    far = np.zeros(d)  # centring on a poor centre maximises |q'| |a'|
    q, q_sq = knn_module.centred(queries, far, dtype)
    a, a_sq = knn_module.centred(train, far, dtype)
    approx = q_sq[:, None] + a_sq[None, :] - 2.0 * (q @ a.T).astype(np.float64)
    exact = np.array([[squared_distance(x, y) for y in train] for x in queries])
    coef, absolute = candidate_margin(d, dtype)
    total = np.sqrt(q_sq)[:, None] + np.sqrt(a_sq)[None, :]
    margin = coef * total**2 + absolute * (1 + total)
    assert (np.abs(approx - exact) <= margin).all()
    # The bound is not vacuous: the observed error uses a visible part of it.
    assert np.abs(approx - exact).max() > 1e-3 * margin.max()


def test_squared_distance_is_the_plain_sum():
    rng = np.random.default_rng(7)
    for n in (1, 7, 8, 9, 100):
        x, y = rng.standard_normal(n), rng.standard_normal(n)
        assert math.isclose(squared_distance(x, y), float(((x - y) ** 2).sum()), rel_tol=n * 2.0**-52)
    x32 = rng.standard_normal(19).astype(np.float32)
    assert squared_distance(x32, x32) == 0.0


def test_bad_input():
    queries, train = _data(n=50, q=4, d=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        knn(queries, train, 0)
    with pytest.raises(ValueError, match="k must be <= 50"):
        knn(queries, train, 51)
    with pytest.raises(TypeError, match="k must be an integer"):
        knn(queries, train, 1.5)
    with pytest.raises(ValueError, match="queries and the training set must have the same dimension"):
        knn(queries[:, :2], train, 1)
    with pytest.raises(ValueError, match="queries must not contain NaN"):
        knn(np.full((2, 3), np.nan), train, 1)
    with pytest.raises(ValueError, match="train must be 2-D"):
        knn(queries, train[0], 1)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        knn(queries, train, 1, chunk_size=0)
    with pytest.raises(TypeError, match="candidate_dtype must be float64 or float32"):
        knn(queries, train, 1, candidate_dtype=np.int32)
    with pytest.raises(ValueError, match="too far for float32 products"):
        knn(queries * 1e30, train * 1e30, 1)
    index = KNNIndex(train)
    with pytest.raises(ValueError, match="k must be <= 50"):
        index.query(queries, 60)
    with pytest.raises(MemoryError, match="centred copy of the training set"):
        KNNIndex(train, memory_limit=10)


def test_result_independent_of_blas_threads(tmp_path):
    """The same k-NN from a process with one BLAS and one Numba thread (serial scan), bit for bit.

    Here 300 queries are scanned by two threads when Numba has two.
    """
    import os
    import subprocess
    import sys

    queries, train = _data(n=3000, q=300, d=50, seed=8, dtype=np.float32)
    np.save(tmp_path / "q.npy", queries)
    np.save(tmp_path / "a.npy", train)
    script = (
        "import sys, numpy as np; from statmech.knn import knn; "
        "r = knn(np.load(sys.argv[1]), np.load(sys.argv[2]), 3); "
        "np.save(sys.argv[3], r.distances); np.save(sys.argv[4], r.indices)"
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "q.npy"), str(tmp_path / "a.npy"),
                    str(tmp_path / "d.npy"), str(tmp_path / "i.npy")], env=env, check=True)
    here = knn(queries, train, 3)
    np.testing.assert_array_equal(np.load(tmp_path / "i.npy"), here.indices)
    np.testing.assert_array_equal(np.load(tmp_path / "d.npy"), here.distances)


def test_concurrent_searches_agree_and_restore_the_blas_threads():
    """Searches run BLAS on one thread each while they last; concurrent ones share that limit.

    After two searches from two threads at once, the BLAS thread counts are
    what they were before, and each answer is the serial one.
    """
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    queries, train = _data(n=3000, q=600, d=40, seed=9, dtype=np.float32)
    before = [info["num_threads"] for info in threadpool_info()]
    reference = knn(queries, train, 2)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: knn(queries, train, 2), range(4)))
    for result in results:
        _same(result, reference)
    assert [info["num_threads"] for info in threadpool_info()] == before
