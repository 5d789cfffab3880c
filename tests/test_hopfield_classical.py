"""Classical Hopfield network against NumPy references (hopfield.classical)."""

import numba
import numpy as np
import pytest

from hopfield.classical import classical_capacity, classical_retrieve, hebbian_weights
from hopfield.patterns import random_patterns


def sync_ref(w, s, max_steps):
    """s <- sign(W s) (keep the spin on a zero field) until fixed point or 2-cycle."""
    s = s.copy()
    older = None
    for step in range(1, max_steps + 1):
        h = s @ w
        new = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))
        if np.array_equal(new, s):
            return new, step, True, False
        if older is not None and np.array_equal(new, older):
            return new, step, False, True
        older, s = s, new
    return s, max_steps, False, False


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
        s, steps, conv, cyc = sync_ref(w, start[b], 50)
        np.testing.assert_array_equal(res.states[b], s)
        assert (res.sweeps[b], res.converged[b], res.cycled[b]) == (steps, conv, cyc)


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
