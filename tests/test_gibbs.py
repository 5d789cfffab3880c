"""The shared Gibbs-average kernel against the plain NumPy reference in tests/naive.py."""

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive import gibbs_reference
from statmech import GibbsAccumulator, gibbs_average
from statmech.gibbs import check_log_z, gibbs_pass, gibbs_workspace

EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def _problem(n=3000, d=40, B=17, seed=0):
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((n, d))
    states = rng.standard_normal((B, d))
    offsets = rng.standard_normal(n)
    beta = rng.uniform(0.2, 2.0, B)
    return patterns, states, offsets, beta


def _assert_matches_reference(result, patterns, states, beta, coupling, offsets, scale=1.0):
    """Float64 agreement; errors come from rounding the log-weights (a few ulp of max|l|)."""
    log_z, mean, part, argmax, log_weights = gibbs_reference(patterns, states, beta, coupling, offsets)
    lmax = np.abs(log_weights).max()
    # log-weights carry ~d*eps*|l| rounding from the products; weights inherit it as relative error.
    weight_rel = 4 * patterns.shape[1] * EPS64 * lmax * scale
    np.testing.assert_allclose(result.log_z, log_z, rtol=1e-12, atol=weight_rel)
    np.testing.assert_allclose(result.participation, part, rtol=2 * weight_rel + 1e-13)
    # Summing n weighted patterns: worst-case error n*eps*sum_mu w_mu|a_mu| <= n*eps*max|a| (Higham's gamma_n).
    summation = patterns.shape[0] * EPS64
    np.testing.assert_allclose(
        result.mean, mean, rtol=0, atol=(2 * weight_rel + summation) * np.abs(patterns).max()
    )
    ordered = np.sort(log_weights, axis=1)
    if ordered.shape[1] == 1:
        clear = np.ones(ordered.shape[0], dtype=bool)
    else:  # only where the winner is unambiguous at this precision
        clear = (ordered[:, -1] - ordered[:, -2]) > 1e3 * weight_rel
    np.testing.assert_array_equal(result.argmax[clear], argmax[clear])


@pytest.mark.parametrize("chunk_size", [1, 7, 1000, 3000, None])
def test_matches_reference_for_every_chunk_size(chunk_size):
    patterns, states, offsets, beta = _problem()
    result = gibbs_average(patterns, states, beta, coupling=-0.7, offsets=offsets, chunk_size=chunk_size)
    _assert_matches_reference(result, patterns, states, beta, -0.7, offsets)


def test_scalar_beta_and_no_offsets():
    patterns, states, _, _ = _problem(seed=3)
    result = gibbs_average(patterns, states, 0.5)
    _assert_matches_reference(result, patterns, states, 0.5, 1.0, None)


def test_chunking_changes_only_round_off():
    patterns, states, offsets, beta = _problem(n=5000, seed=1)
    whole = gibbs_average(patterns, states, beta, offsets=offsets, chunk_size=5000)
    for chunk_size in (13, 999, 4096):
        part = gibbs_average(patterns, states, beta, offsets=offsets, chunk_size=chunk_size)
        np.testing.assert_allclose(part.log_z, whole.log_z, rtol=1e-13)
        np.testing.assert_allclose(part.mean, whole.mean, rtol=0, atol=1e-12)
        np.testing.assert_allclose(part.participation, whole.participation, rtol=1e-12)
        np.testing.assert_array_equal(part.argmax, whole.argmax)


def test_streaming_from_hdf5_blocks_equals_in_memory(tmp_path):
    patterns, states, offsets, beta = _problem(n=4000, d=16, seed=2)
    path = tmp_path / "patterns.h5"
    with h5py.File(path, "w") as f:
        f["a"] = patterns
        f["b"] = offsets
    acc = GibbsAccumulator(states, beta)
    with h5py.File(path, "r") as f:
        for start, stop in [(0, 1), (1, 1500), (1500, 1501), (1501, 4000)]:  # uneven blocks
            acc.update(f["a"][start:stop], f["b"][start:stop])
    streamed = acc.result()
    whole = gibbs_average(patterns, states, beta, offsets=offsets)
    assert acc.n_seen == 4000
    np.testing.assert_allclose(streamed.log_z, whole.log_z, rtol=1e-13)
    np.testing.assert_allclose(streamed.mean, whole.mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed.participation, whole.participation, rtol=1e-12)
    np.testing.assert_array_equal(streamed.argmax, whole.argmax)


def test_float32_against_float64_reference():
    patterns, states, offsets, beta = _problem(seed=4)
    result = gibbs_average(patterns.astype(np.float32), states.astype(np.float32), beta, offsets=offsets)
    assert result.mean.dtype == np.float32 and result.log_z.dtype == np.float64
    log_z, mean, part, _, log_weights = gibbs_reference(
        patterns.astype(np.float32), states.astype(np.float32), beta, 1.0, offsets
    )
    # float32 products: each log-weight is off by ~sqrt(d)*eps32*|l|; weights inherit it.
    err = 4 * np.sqrt(patterns.shape[1]) * EPS32 * np.abs(log_weights).max()
    np.testing.assert_allclose(result.log_z, log_z, rtol=0, atol=err)
    np.testing.assert_allclose(result.participation, part, rtol=2 * err)
    np.testing.assert_allclose(result.mean, mean, rtol=0, atol=2 * err * np.abs(patterns).max())


def test_limits_of_participation():
    patterns, states, _, _ = _problem(n=500, d=30, B=5, seed=5)
    cold = gibbs_average(patterns, states, 1e4)
    hot = gibbs_average(patterns, states, 1e-12)
    np.testing.assert_allclose(cold.participation, 1.0, rtol=1e-10)  # one pattern wins
    np.testing.assert_allclose(hot.participation, 1 / 500, rtol=1e-8)  # uniform weights
    np.testing.assert_allclose(hot.mean, np.broadcast_to(patterns.mean(0), hot.mean.shape), atol=1e-9)
    np.testing.assert_array_equal(cold.argmax, (states @ patterns.T).argmax(1))


@pytest.mark.parametrize("beta", [1e3, 30.0])
def test_cold_posterior_sparse_mean_matches_reference(beta):
    """Many patterns, few of them weighted: the second product becomes a sum over nonzero weights."""
    rng = np.random.default_rng(8)
    patterns = rng.standard_normal((20000, 8))
    states = patterns[rng.integers(0, 20000, 6)] + 0.01 * rng.standard_normal((6, 8))
    offsets = -0.5 * (patterns**2).sum(1)
    results = [gibbs_average(patterns, states, beta, offsets=offsets, chunk_size=chunk)
               for chunk in (20000, 8192, 3000)]
    for result in results:
        _assert_matches_reference(result, patterns, states, beta, 1.0, offsets)
        np.testing.assert_allclose(result.mean, results[0].mean, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(result.argmax, results[0].argmax)


def test_compute_mean_false_skips_mean_only():
    patterns, states, offsets, beta = _problem(seed=6)
    full = gibbs_average(patterns, states, beta, offsets=offsets)
    light = gibbs_average(patterns, states, beta, offsets=offsets, compute_mean=False)
    assert light.mean is None
    np.testing.assert_array_equal(light.log_z, full.log_z)
    np.testing.assert_array_equal(light.argmax, full.argmax)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 6),
    log_scale=st.floats(-30, 2.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_hypothesis_awkward_scales(n, d, log_scale, seed):
    """Tiny to huge energies (|l| up to ~1e5 * d), single patterns, single features."""
    rng = np.random.default_rng(seed)
    scale = 10.0**log_scale
    patterns = rng.standard_normal((n, d)) * scale
    states = rng.standard_normal((3, d)) * scale
    result = gibbs_average(patterns, states, 1.0, chunk_size=max(1, n // 3))
    assert np.all(np.isfinite(result.log_z)) and np.all(np.isfinite(result.mean))
    assert np.all((result.participation >= 1 / n * (1 - 1e-12)) & (result.participation <= 1 + 1e-12))
    _assert_matches_reference(result, patterns, states, 1.0, 1.0, None)


def test_overflowing_energies_raise_instead_of_nan():
    patterns = np.full((2, 2), 1e200)
    with pytest.raises(FloatingPointError, match="overflow"):
        gibbs_average(patterns, np.full((1, 2), 1e200), 1.0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(patterns=np.ones((3, 2)), states=np.ones((2, 3))), ValueError, "same number of columns"),
        (dict(patterns=np.ones(3), states=np.ones((2, 3))), ValueError, "patterns must be 2-D"),
        (dict(patterns=np.ones((0, 3)), states=np.ones((2, 3))), ValueError, "empty"),
        (dict(patterns=[[np.nan, 1.0]], states=np.ones((2, 2))), ValueError, "NaN"),
        (dict(patterns=np.ones((2, 2)), states=[[np.inf, 1.0]]), ValueError, r"\+inf"),
        (dict(patterns=np.ones((2, 2), complex), states=np.ones((2, 2))), TypeError, "complex"),
        (dict(patterns=np.ones((2, 2)), states=np.ones((2, 2)), beta=0.0), ValueError, "beta must be > 0"),
        (dict(patterns=np.ones((2, 2)), states=np.ones((2, 2)), beta=[1.0, -1.0]), ValueError, "beta"),
        (dict(patterns=np.ones((2, 2)), states=np.ones((2, 2)), beta=[1.0, 1.0, 1.0]), ValueError, "length 2"),
        (dict(patterns=np.ones((2, 2)), states=np.ones((2, 2)), offsets=[1.0]), ValueError, "offsets"),
        (dict(patterns=np.ones((2, 2)), states=np.ones((2, 2)), chunk_size=0), ValueError, "chunk_size"),
        (dict(patterns=np.ones((2, 2)), states=np.ones((2, 2)), coupling=np.nan), ValueError, "coupling"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        gibbs_average(**kwargs)


def test_integer_input_is_converted():
    result = gibbs_average(np.array([[1, 0], [0, 1]]), np.array([[2, 0]]), 1)
    assert result.argmax[0] == 0
    np.testing.assert_allclose(result.log_z, np.log(np.exp(2.0) + 1.0), rtol=1e-15)


def test_accumulator_misuse():
    acc = GibbsAccumulator(np.ones((2, 3)))
    with pytest.raises(ValueError, match="no patterns"):
        acc.result()
    with pytest.raises(ValueError, match="number of columns"):
        acc.update(np.ones((4, 2)))
    assert acc.n_seen == 0


def test_pass_on_part_of_a_workspace_matches_reference_and_reuses_it():
    """gibbs_pass on the first n rows of a larger workspace, twice: no state leaks between passes."""
    patterns, states, offsets, beta = _problem(n=2000, d=24, B=17, seed=6)
    work = gibbs_workspace(25, 24, 300, dtype=np.float64)
    for coupling, rows in ((0.8, slice(0, 17)), (-1.3, slice(3, 11))):
        x, b = states[rows], beta[rows]
        n = x.shape[0]
        log_z, part = np.empty(n), np.empty(n)
        argmax, mean = np.empty(n, np.int64), np.empty((n, 24))
        gibbs_pass(work, x, b, coupling, patterns, offsets, log_z, part, argmax, mean)
        whole = gibbs_average(patterns, x, b, coupling=coupling, offsets=offsets, chunk_size=300)
        np.testing.assert_array_equal(log_z, whole.log_z)  # same chunks, same compiled code
        np.testing.assert_array_equal(mean, whole.mean)
        np.testing.assert_array_equal(part, whole.participation)
        np.testing.assert_array_equal(argmax, whole.argmax)
        _assert_matches_reference(whole, patterns, x, b, coupling, offsets)


def test_pass_without_mean():
    patterns, states, offsets, beta = _problem(n=700, d=10, B=5, seed=7)
    work = gibbs_workspace(5, 10, compute_mean=False, n_patterns=700)
    assert work.mean_acc.shape == (0, 10) and work.chunk_size == 700
    log_z, part, argmax = np.empty(5), np.empty(5), np.empty(5, np.int64)
    gibbs_pass(work, states, beta, 1.0, patterns, np.zeros(0), log_z, part, argmax, np.empty((0, 10)))
    ref_log_z, _, ref_part, ref_argmax, _ = gibbs_reference(patterns, states, beta)
    np.testing.assert_allclose(log_z, ref_log_z, rtol=1e-13)
    np.testing.assert_allclose(part, ref_part, rtol=1e-12)
    np.testing.assert_array_equal(argmax, ref_argmax)


def test_workspace_and_log_z_checks():
    with pytest.raises(ValueError, match="n_states must be >= 1"):
        gibbs_workspace(0, 3)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        gibbs_workspace(2, 3, 0)
    with pytest.raises(TypeError, match="dtype"):
        gibbs_workspace(2, 3, dtype=np.int32)
    check_log_z(np.array([0.0, 1.0]), np.float64)
    with pytest.raises(FloatingPointError, match="state 1 overflow the float32"):
        check_log_z(np.array([0.0, np.inf]), np.float32)
