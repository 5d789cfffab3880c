"""Streamed capacity simulation (hopfield.streaming): patterns regenerated, never stored.

The streamed path must reproduce the stored path bit for bit (same seed),
whatever the generator threads and the blocks per batch, in both OpenBLAS
settings of the guide (these tests run unchanged under
``OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512``).
"""

import math
import tracemalloc

import numpy as np
import pytest

import naive
from hopfield.capacity import capacity_simulation, success_window
from hopfield.modern import retrieval_measures, retrieve
from hopfield.patterns import BLOCK_ROWS, random_patterns
from hopfield.streaming import PatternStream, stored_load_outcome, streamed_load_outcomes

ENSEMBLES = ["spherical", "gaussian", "binary"]


@pytest.mark.parametrize("ensemble", ENSEMBLES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threads,batch", [(1, 1), (2, 1), (3, 2)])
def test_stream_blocks_are_the_stored_draw(ensemble, dtype, threads, batch):
    n_patterns = 2 * BLOCK_ROWS + 123
    stored = random_patterns(ensemble, n_patterns, 7, seed=3, dtype=dtype)
    stream = PatternStream(ensemble, n_patterns, 7, seed=3, dtype=dtype)
    seen = 0
    for block, rows in stream.blocks(threads=threads, batch_blocks=batch):
        assert rows.dtype == dtype
        np.testing.assert_array_equal(rows, stored[block * BLOCK_ROWS: block * BLOCK_ROWS + rows.shape[0]])
        seen += rows.shape[0]
    assert seen == n_patterns
    # a shorter pass (a smaller load) ends inside a block: the prefix of the same rows
    cut = BLOCK_ROWS + 17
    last = list(stream.blocks(cut, threads=threads, batch_blocks=batch))[-1][1]
    np.testing.assert_array_equal(last, stored[BLOCK_ROWS:cut])
    np.testing.assert_array_equal(stream.rows(40), stored[:40])


# Loads spanning several pattern blocks (P up to 9897 > 2 BLOCK_ROWS at N = 20), queries
# converging at different iterations (the batch is compacted), both precisions.
@pytest.mark.parametrize("ensemble,dtype", [("spherical", np.float64), ("gaussian", np.float64),
                                            ("binary", np.float64), ("spherical", np.float32)])
def test_streamed_simulation_is_bit_identical_to_stored(ensemble, dtype):
    alphas = np.array([0.2, 0.3, 0.46])
    kwargs = dict(n_targets=8, n_sets=1, seed=5, tol=1e-7, max_iter=25, dtype=dtype)
    stored = capacity_simulation(ensemble, 0.5, 20, alphas, **kwargs)
    assert stored.n_patterns.max() > 2 * BLOCK_ROWS
    for threads, batch in [(1, 1), (2, 3)]:
        streamed = capacity_simulation(ensemble, 0.5, 20, alphas, streamed=True, threads=threads,
                                       batch_blocks=batch, **kwargs)
        for name in ("successes", "signal_successes", "mean_overlap", "mean_iterations", "n_patterns"):
            np.testing.assert_array_equal(getattr(streamed, name), getattr(stored, name), err_msg=name)


def test_every_per_query_number_is_identical():
    stream = PatternStream("spherical", 9000, 16, seed=8)
    xi = random_patterns("spherical", 9000, 16, seed=8)
    sizes, queries = [300, 5000, 9000], [10, 16, 16]
    outcomes, n_passes = streamed_load_outcomes(stream, sizes, queries, 0.5, tol=1e-8, max_iter=60, threads=2)
    assert n_passes >= max(o.iterations.max() for o in outcomes) + 1  # + the measuring pass
    for p, q, streamed in zip(sizes, queries, outcomes):
        stored = stored_load_outcome(xi[:p], q, 0.5, tol=1e-8, max_iter=60)
        for name in ("overlap", "nearest", "iterations", "first_log_weight"):
            np.testing.assert_array_equal(getattr(streamed, name), getattr(stored, name), err_msg=name)


def test_stored_path_measures_agree_with_retrieve_and_numpy():
    """The block-wise measures equal retrieval_measures and the plain softmax at round-off."""
    xi = random_patterns("gaussian", 6000, 12, seed=2)
    out = stored_load_outcome(xi, 16, 0.6, tol=1e-9, max_iter=500)
    res = retrieve(xi, xi[:16], 0.6, tol=1e-9, max_iter=500)
    meas = retrieval_measures(xi, res.states, np.arange(16))
    np.testing.assert_allclose(out.overlap, meas.overlap, rtol=1e-13)
    np.testing.assert_array_equal(out.nearest, meas.nearest)
    # ln w_t from the full 16 x 6000 log-weight matrix; 1e-12 absolute on values up to ~0.6 * 20.
    np.testing.assert_allclose(out.first_log_weight, naive.first_step_log_weight(xi, np.arange(16), 0.6),
                               atol=1e-12)


def test_memory_stays_flat_in_the_number_of_patterns():
    """P = 10^6 patterns of N = 16 (128 MB stored) run in a few blocks' memory."""
    n, p = 16, 1_000_000
    alpha = math.log(p) / n
    tracemalloc.start()
    try:
        curve = capacity_simulation("binary", 0.5, n, [alpha], n_targets=4, n_sets=1, seed=1, streamed=True,
                                    threads=2, batch_blocks=2, max_iter=50, tol=1e-6, early_exit=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert curve.n_patterns[0] == p
    stored_bytes = p * n * 8
    # ring of (threads + 1) batches of 2 blocks (3 MB) plus work arrays, against 128 MB stored.
    assert peak < stored_bytes / 16, (peak, stored_bytes)


def test_early_exit_gives_the_same_verdicts_in_fewer_iterations():
    """Opt-in early exit (a query below 1 - 3w/2 counts as failed) changes no verdict here.

    Loads across the transition at N = 16 and 20, two ensembles: every query
    is decided the same way as by the full run to convergence.
    """
    for ensemble, n in [("spherical", 16), ("binary", 20)]:
        alphas = np.round(np.arange(0.22, 0.381, 0.04), 3)
        kwargs = dict(n_targets=24, n_sets=2, seed=9, tol=1e-7, max_iter=400, streamed=True)
        full = capacity_simulation(ensemble, 0.5, n, alphas, **kwargs)
        fast = capacity_simulation(ensemble, 0.5, n, alphas, early_exit=True, **kwargs)
        np.testing.assert_array_equal(fast.successes, full.successes)
        assert fast.mean_iterations[-1] < 0.5 * full.mean_iterations[-1]


def test_success_criterion_uses_the_window():
    curve = capacity_simulation("spherical", 0.5, 12, [0.05], n_targets=4, n_sets=1, seed=0, streamed=True)
    assert curve.window == success_window("spherical", 0.5) and curve.streamed
    assert curve.probability[0] == 1.0 and curve.signal_probability[0] == 1.0


def test_bad_streamed_arguments():
    with pytest.raises(ValueError, match="threads"):
        capacity_simulation("binary", 0.5, 10, [0.1], streamed=True, threads=0)
    with pytest.raises(ValueError, match="batch_blocks"):
        capacity_simulation("binary", 0.5, 10, [0.1], streamed=True, batch_blocks=0)
    with pytest.raises(TypeError, match="streamed"):
        capacity_simulation("binary", 0.5, 10, [0.1], streamed="yes")
    with pytest.raises(ValueError, match="beyond any simulation"):
        capacity_simulation("binary", 0.5, 1000, [1.0], streamed=True)
