"""Modern Hopfield network against plain NumPy/SciPy references (hopfield.modern)."""

import numba
import numpy as np
import pytest

import naive
from hopfield.modern import (
    hopfield_energy,
    hopfield_gradient,
    hopfield_update,
    nearest_pattern,
    retrieval_measures,
    retrieve,
    stochastic_retrieve,
)
from hopfield.patterns import random_patterns


@pytest.fixture(scope="module")
def setup():
    xi = random_patterns("spherical", 300, 24, seed=5)
    rng = np.random.default_rng(6)
    targets = rng.integers(0, 300, 20)
    cues = xi[targets] + 0.7 * rng.standard_normal((20, 24))
    return xi, cues, targets


# -------------------------------------------------------------------- tests


def test_energy_gradient_update_match_reference(setup):
    xi, x, _ = setup
    beta = np.linspace(0.1, 2.0, x.shape[0])
    # One Gibbs pass vs scipy on the full matrix: both are sums of ~300 terms in
    # float64, so they agree to ~1e-13 relative (reassoc allowed in the kernels).
    np.testing.assert_allclose(hopfield_energy(xi, x, beta), naive.hopfield_energy(xi, x, beta), rtol=1e-12)
    np.testing.assert_allclose(hopfield_update(xi, x, beta), naive.hopfield_update(xi, x, beta), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(hopfield_gradient(xi, x, beta), x - naive.hopfield_update(xi, x, beta), rtol=1e-11,
                               atol=1e-12)


def test_gradient_is_derivative_of_energy(setup):
    xi, x, _ = setup
    x = x[:3]
    grad = hopfield_gradient(xi, x, 0.7)
    h = 1e-5
    for k in range(0, 24, 5):
        step = np.zeros_like(x)
        step[:, k] = h
        fd = (hopfield_energy(xi, x + step, 0.7) - hopfield_energy(xi, x - step, 0.7)) / (2 * h)
        # central difference error ~h^2 |E'''| ~ 1e-10 times the Hessian scale (beta N ~ 20).
        np.testing.assert_allclose(fd, grad[:, k], atol=1e-6)


def test_update_descends_the_energy(setup):
    """The update is the concave-convex step: E never increases (Ramsauer et al., Theorem 1)."""
    xi, x, _ = setup
    for _ in range(5):
        new = hopfield_update(xi, x, 0.5)
        assert np.all(hopfield_energy(xi, new, 0.5) <= hopfield_energy(xi, x, 0.5) + 1e-10)
        x = new


def test_retrieve_matches_whole_batch_reference(setup):
    xi, x, _ = setup
    res = retrieve(xi, x, 0.4, tol=1e-10, max_iter=300)
    ref, iters = naive.hopfield_retrieve(xi, x, 0.4, 1e-10, 300)
    np.testing.assert_array_equal(res.iterations, iters)
    # same sequence of updates; round-off differs at ~1e-13 and is contracted by the map.
    np.testing.assert_allclose(res.states, ref, atol=1e-11)
    assert res.converged.all()
    counts = res.active_counts
    assert counts[0] == x.shape[0] and np.all(np.diff(counts) <= 0)
    assert counts.sum() == res.iterations.sum()  # the products used exactly the active rows


def test_retrieve_does_not_depend_on_chunks_or_threads(setup):
    xi, x, _ = setup
    a = retrieve(xi, x, 0.4, tol=1e-10, chunk_size=37)
    b = retrieve(xi, x, 0.4, tol=1e-10, chunk_size=300)
    np.testing.assert_allclose(a.states, b.states, atol=1e-11)
    np.testing.assert_array_equal(a.top_pattern, b.top_pattern)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        c = retrieve(xi, x, 0.4, tol=1e-10)
    finally:
        numba.set_num_threads(threads)
    d = retrieve(xi, x, 0.4, tol=1e-10)
    np.testing.assert_array_equal(c.states, d.states)


def test_float32_retrieval(setup):
    xi, x, targets = setup
    r32 = retrieve(xi.astype(np.float32), x.astype(np.float32), 1.0, tol=1e-8)
    r64 = retrieve(xi, x, 1.0, tol=1e-8)
    assert r32.states.dtype == np.float32
    assert r32.converged.all()
    # float32 products: relative error ~ sqrt(N) eps_32 per step, contracted at the fixed point.
    np.testing.assert_allclose(r32.states, r64.states, atol=1e-4)


def test_retrieval_measures(setup):
    xi, x, targets = setup
    res = retrieve(xi, x, 2.0)
    m = retrieval_measures(xi, res.states, targets)
    nearest = np.argmin(((res.states[:, None, :] - xi[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(m.nearest, nearest)
    np.testing.assert_allclose(m.overlap, (xi[targets] * res.states).sum(1) / 24.0, rtol=1e-12)
    # beta = 2 at alpha = ln(300)/24 = 0.24 << alpha_1: every cue at noise 0.7 is retrieved.
    assert m.nearest_is_target.all() and np.all(np.abs(m.overlap - 1) < 1e-6)


def test_nearest_pattern_with_unequal_norms():
    xi = np.array([[10.0, 0.0], [1.0, 0.0]])
    # argmax of the dot product would be row 0; the Euclidean nearest is row 1.
    assert nearest_pattern(xi, np.array([[1.2, 0.0]]))[0] == 1


@pytest.mark.slow  # compiles statmech.langevin's callable kernels (~20-45 s here)
def test_stochastic_zero_temperature_is_gradient_flow(setup):
    """T = 0 Langevin = gradient flow of E: it ends at the fixed point of the update."""
    xi, x, _ = setup
    det = retrieve(xi, x[:4], 1.0, tol=1e-12)
    flow = stochastic_retrieve(xi, x[:4], 1.0, temperature=0.0, duration=40.0, n_steps=400)
    # exponential Euler contracts the distance to the fixed point by ~e^{-t}: e^-40 ~ 4e-18.
    np.testing.assert_allclose(flow.states, det.states, atol=1e-9)
    a = stochastic_retrieve(xi, x[:4], 1.0, temperature=0.1, duration=2.0, n_steps=20, seed=3)
    b = stochastic_retrieve(xi, x[:4], 1.0, temperature=0.1, duration=2.0, n_steps=20, seed=3)
    np.testing.assert_array_equal(a.states, b.states)
    assert not np.allclose(a.states, flow.states)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda xi, x: retrieve(xi, x[:, :5], 1.0), ValueError, "dimension"),
        (lambda xi, x: retrieve(xi, x, 0.0), ValueError, "beta"),
        (lambda xi, x: retrieve(xi, x, -1.0), ValueError, "beta"),
        (lambda xi, x: retrieve(xi, x, np.nan), ValueError, "beta"),
        (lambda xi, x: retrieve(xi[:0], x, 1.0), ValueError, "P >= 1"),
        (lambda xi, x: retrieve(np.where(xi > 1, np.nan, xi), x, 1.0), ValueError, "NaN"),
        (lambda xi, x: retrieve(xi, x, 1.0, tol=-1), ValueError, "tol"),
        (lambda xi, x: retrieve(xi, x, 1.0, max_iter=0), ValueError, "max_iter"),
        (lambda xi, x: retrieve(xi.astype(complex), x, 1.0), TypeError, "real"),
        (lambda xi, x: hopfield_energy(xi, x[:0], 1.0), ValueError, "empty"),
        (lambda xi, x: retrieval_measures(xi, x, np.arange(3)), ValueError, "targets"),
        (lambda xi, x: retrieval_measures(xi, x[:1], np.array([10**6])), ValueError, "targets"),
        (lambda xi, x: stochastic_retrieve(xi, x, 1.0, temperature=-1.0), ValueError, "temperature"),
        (lambda xi, x: stochastic_retrieve(xi, x[:, :3], 1.0), ValueError, "dimension"),
    ],
)
def test_bad_input(setup, call, exc, match):
    xi, x, _ = setup
    with pytest.raises(exc, match=match):
        call(xi, x)


def test_overflow_is_an_error_not_nan():
    xi = np.array([[1e200, 0.0], [0.0, 1.0]])
    with pytest.raises(FloatingPointError):
        retrieve(xi, np.array([[1e200, 0.0]]), 1e10)
