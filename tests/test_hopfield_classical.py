"""Classical Hopfield network against NumPy references (hopfield.classical)."""

import math

import numba
import numpy as np
import pytest

import naive
from hopfield.classical import classical_capacity, classical_retrieve, hebbian_weights
from hopfield.patterns import random_patterns


def test_hebbian_weights_match_numpy():
    xi = random_patterns("binary", 7, 30, seed=1)
    w = hebbian_weights(xi)
    ref = xi.T @ xi / 30
    np.fill_diagonal(ref, 0)
    np.testing.assert_allclose(w, ref, atol=1e-15)
    assert np.array_equal(w, w.T)


def test_async_ends_in_a_fixed_point_and_is_seeded():
    xi = random_patterns("binary", 20, 100, seed=2)
    w = hebbian_weights(xi)
    start = random_patterns("binary", 6, 100, seed=3)
    res = classical_retrieve(w, start, seed=4)
    assert res.converged.all()
    h = res.states @ w
    # fixed point of sign dynamics: every spin agrees with a nonzero field.
    assert np.all((h * res.states >= 0))
    again = classical_retrieve(w, start, seed=4)
    np.testing.assert_array_equal(res.states, again.states)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = classical_retrieve(w, start, seed=4)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(res.states, single.states)


def test_sync_matches_reference():
    xi = random_patterns("binary", 15, 60, seed=5)
    w = hebbian_weights(xi)
    start = random_patterns("binary", 8, 60, seed=6)
    res = classical_retrieve(w, start, mode="sync", max_sweeps=50)
    for b in range(8):
        s, steps, conv, cyc = naive.classical_sync(w, start[b], 50)
        np.testing.assert_array_equal(res.states[b], s)
        assert (res.sweeps[b], res.converged[b], res.cycled[b]) == (steps, conv, cyc)


@pytest.mark.parametrize("max_sweeps", [200, 2])
def test_async_matches_reference(max_sweeps):
    """The parallel async kernel against the one-query-at-a-time NumPy reference, same site orders.

    N = 64 and +-1 states: the weights are multiples of 1/64 and every field
    is a sum of them, exact in binary, so the kernel's incrementally updated
    fields equal the reference's recomputed ones and every sign decision
    (including zero fields, which keep the spin) is the same: bitwise equality.
    Query b's SplitMix64 seed is child b of the seed, as classical_retrieve
    documents. max_sweeps=2 stops some queries before a fixed point.
    """
    xi = random_patterns("binary", 12, 64, seed=8)  # alpha = 0.19 > alpha_c: many flips
    w = hebbian_weights(xi)
    start = random_patterns("binary", 10, 64, seed=9)
    res = classical_retrieve(w, start, mode="async", max_sweeps=max_sweeps, seed=10)
    seeds = [child.generate_state(1, np.uint64)[0] for child in np.random.SeedSequence(10).spawn(10)]
    states, sweeps, converged = naive.classical_async(w, start, seeds, max_sweeps)
    np.testing.assert_array_equal(res.states, states)
    np.testing.assert_array_equal(res.sweeps, sweeps)
    np.testing.assert_array_equal(res.converged, converged)
    assert (sweeps > 1).any() and ((max_sweeps == 2) == (not converged.all()))


def test_low_load_patterns_are_stable():
    """alpha = 0.02: crosstalk noise has s.d. sqrt(alpha) = 0.14 per site, a flip needs >1: P ~ 1e-12."""
    xi = random_patterns("binary", 10, 500, seed=7)
    res = classical_retrieve(hebbian_weights(xi), xi, seed=1)
    np.testing.assert_array_equal(res.states, xi)
    assert np.all(res.sweeps == 1)


def test_bad_input():
    w = np.eye(3)
    with pytest.raises(ValueError):
        classical_retrieve(w, np.ones((2, 4)))
    with pytest.raises(ValueError):
        classical_retrieve(w, np.full((2, 3), 0.5))
    with pytest.raises(ValueError):
        classical_retrieve(np.ones((3, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError):
        classical_retrieve(w, np.ones((1, 3)), mode="random")
    with pytest.raises(ValueError):
        hebbian_weights(np.zeros((0, 3)))
    with pytest.raises(ValueError):
        hebbian_weights(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError):
        classical_retrieve(w.astype(complex), np.ones((1, 3)))


@pytest.mark.slow
def test_capacity_scan_shows_the_transition():
    """Start at the pattern: alpha = 0.06 keeps m ~ 1; alpha = 0.25 loses it (AGS alpha_c = 0.138).

    At N = 800 the finite-size crossing of the retrieval fraction lies near 0.16
    (scan in the classical-capacity experiment); 0.06 and 0.25 are far on either
    side, where the AGS overlaps are m > 0.99 and m ~ 0.3. Tolerances: 4
    standard errors of the mean overlap over pattern sets.
    """
    c = classical_capacity(800, [0.06, 0.25], n_sets=6, n_targets=12, seed=3)
    assert c.mean_overlap[0] > 0.99 - 4 * c.overlap_sem[0]
    assert c.probability[0] > 0.95
    assert c.mean_overlap[1] < 0.7 + 4 * c.overlap_sem[1]
    assert c.probability[1] < 0.3


def test_classical_threshold_fits_the_crossings():
    """classical_threshold: the experiment's N^{-1/2} fit, on hand-made curves."""
    from hopfield.classical import ClassicalCapacityCurve, classical_threshold

    def curve(n, half):  # a fraction falling linearly through 1/2 at `half`
        alphas = np.linspace(0.05, 0.25, 21)
        prob = np.clip(0.5 - 5.0 * (alphas - half), 0.0, 1.0)
        trials = np.full(21, 10)
        return ClassicalCapacityCurve(n_features=n, alphas=alphas, n_patterns=(alphas * n).astype(int),
                                      mean_overlap=prob, overlap_sem=0 * prob, probability=prob,
                                      trials=trials, threshold=0.9)

    sizes = np.array([100, 400, 1600])
    fake = [curve(n, 0.14 + 0.5 / math.sqrt(n)) for n in sizes]
    est = classical_threshold(fake)
    np.testing.assert_allclose(est.alpha_half, 0.14 + 0.5 / np.sqrt(sizes), rtol=1e-12)
    assert est.alpha_c == pytest.approx(0.14, abs=1e-12) and est.slope == pytest.approx(0.5)
    assert est.alpha_c_err < 1e-10
    assert math.isnan(curve(100, 0.4).alpha_half)  # never crosses on the grid
    with pytest.raises(ValueError, match="needs >= 2 sizes"):
        classical_threshold([fake[0], curve(100, 0.4)])


@pytest.mark.slow
def test_classical_threshold_near_ags():
    """A real scan (N = 100, 200, 400; 15 s): alpha_c within 0.03 of AGS's 0.138.

    Measured 0.144 +- 0.008 (fit standard error). The finite-size crossings
    (0.22, 0.19, 0.18) lie far above 0.138, so the check has power: without
    the N^{-1/2} extrapolation, or with loads read as ln(P)/N, it fails.
    """
    from hopfield.classical import classical_threshold

    real = [classical_capacity(n, np.linspace(0.08, 0.26, 10), n_sets=6, n_targets=8, seed=n)
            for n in (100, 200, 400)]
    assert real[0].load_ratio is real[0].alphas
    est = classical_threshold(real)
    assert abs(est.alpha_c - 0.138) < 0.03
    assert np.all(est.alpha_half > 0.17)
