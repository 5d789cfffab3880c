"""The Hopfield–diffusion bridge (hopfield.bridge): identities to round-off, REM condensation, theory curves."""

import math

import numpy as np
import pytest

from hopfield.bridge import (
    bridge_identities,
    collapse_time_theory,
    digit_patterns,
    equal_norm,
    hopfield_time_theory,
    rem_condensation,
    retrieval_comparison,
    ve_backward_from,
)
from diffusion.processes import ve_process
from hopfield.capacity import alpha_1
from hopfield.patterns import random_patterns
import naive

TIMES = np.array([0.02, 0.2, 1.0, 4.0])


@pytest.mark.parametrize("process", ["ve", "ou"])
def test_identities_hold_to_round_off_on_random_patterns(process):
    xi = random_patterns("spherical", 400, 16, seed=1)
    r = bridge_identities(xi, TIMES, process=process, n_states=16, seed=2)
    # Same Gibbs sums on both sides, differently scaled: a few ulp times the
    # condition of a 400-term log-sum-exp, well below 1e-12.
    assert r.denoiser_error.max() < 1e-12
    assert r.free_energy_error.max() < 1e-12
    assert r.participation_error.max() < 1e-12
    # The check is not vacuous: the posterior spans condensed (Y=1) to spread (Y<<1).
    assert r.participation_diffusion.max() > 0.99 and r.participation_diffusion.min() < 0.5


@pytest.mark.parametrize("process", ["ve", "ou"])
def test_identities_hold_on_digits(process):
    xi = digit_patterns()
    r = bridge_identities(xi, TIMES, process=process, n_states=8, seed=3)
    assert r.norm_spread < 1e-13
    assert r.denoiser_error.max() < 1e-12 and r.free_energy_error.max() < 1e-12


def test_identities_fail_for_unequal_norms():
    """Without equal norms the offsets -s^2|a|^2/2 do not cancel: the check must see it."""
    xi = digit_patterns(normalise=False)
    r = bridge_identities(xi, TIMES, process="ve", n_states=8, seed=3)
    assert r.norm_spread > 0.1
    assert r.denoiser_error.max() > 1e-3


def test_equal_norm_and_bad_input():
    xi = equal_norm(np.array([[3.0, 4.0], [1.0, 0.0]]))
    np.testing.assert_allclose(np.linalg.norm(xi, axis=1), math.sqrt(2))
    with pytest.raises(ValueError):
        equal_norm(np.array([[0.0, 0.0]]))
    with pytest.raises(ValueError):
        bridge_identities(np.ones((3, 2)), [0.0])
    with pytest.raises(ValueError):
        bridge_identities(np.ones((3, 2)), [1.0], process="heat")
    with pytest.raises(ValueError):
        bridge_identities(np.array([[np.nan, 1.0]]), [1.0])


def test_theory_curves():
    # Hopfield side is alpha_1(beta_H(t)) = alpha inverted: check the round trip.
    for a in (0.15, 0.4):
        t = hopfield_time_theory(a)
        beta = math.exp(-2 * t) / (1 - math.exp(-2 * t))
        assert alpha_1("spherical", beta) == pytest.approx(a, abs=1e-9)
        # b_C > beta_H for s < 1: the noisy sample sees more noise, t_C < t_H.
        assert collapse_time_theory(a) < t
    # collapse time decreases with the load (more patterns, earlier collapse).
    assert collapse_time_theory(0.1) > collapse_time_theory(0.3) > collapse_time_theory(0.6)


def test_collapse_theory_small_alpha_matches_gaussian_formula():
    """For alpha -> 0 the dominant overlaps are small, s_sph ~ -q^2/2, and the uncondensed REM
    gives alpha = s^2/Delta - b^2/2 + O(b^4): check against that expansion (ours)."""
    a = 0.01
    t = collapse_time_theory(a)
    s2 = math.exp(-2 * t)
    delta = 1 - s2
    b = math.sqrt(s2) / delta
    # near t_C: s^2/Delta = phi = a + psi(b); psi(b) = b^2/2 - b^4/4... below 1e-3 here.
    assert s2 / delta == pytest.approx(a + 0.5 * b * b, abs=5e-3)


@pytest.mark.slow
def test_rem_condensation_matches_sampled_rem():
    """Sphere data in d >> M give the Gaussian REM at beta~ = nu beta |x| (Ambrogioni eq. 37).

    Same M, independent samples: the means differ by less than 4 combined
    standard errors plus the finite-d non-Gaussianity of the overlaps
    (d q^4/4 with q ~ sqrt(2 M ln2 / d): ~0.02 in Y here).
    """
    r = rem_condensation((8, 10), dimension=2048, n_samples=24, seed=5,
                         reduced_betas=np.array([0.5, 1.0, 2.0, 3.0]))
    se = np.sqrt(r.y_data_se**2 + r.y_rem_se**2)
    assert np.all(np.abs(r.y_data - r.y_rem) < 4 * se + 0.02)
    # far below beta_c the posterior is spread: Y ~ e^{-M ln2 (1 - (beta~/beta_c)^2)} ~ tiny.
    assert np.all(r.y_data[:, 0] < 0.05)
    assert r.t_c == pytest.approx(1 / (2 * math.sqrt(math.log(2))))


@pytest.mark.slow
def test_retrieval_comparison_small_noise_is_perfect():
    xi = random_patterns("spherical", 50, 16, seed=8)
    r = retrieval_comparison(xi, [0.1], n_cues=6, n_steps=30, duration=5.0, seed=9)
    # noise 0.1 per component, |xi - xi'|^2 ~ 2N = 32: the cue is 4 pattern spacings closer.
    assert r.success_deterministic[0] == 1 and r.success_diffusion[0] == 1 and r.success_stochastic[0] == 1
    assert r.beta[0] == pytest.approx(100.0)


def test_ve_backward_from_is_seeded():
    xi = random_patterns("spherical", 30, 8, seed=1)
    x0 = xi[:3] + 0.5
    a = ve_backward_from(xi, x0, 0.25, n_steps=20, seed=4)
    b = ve_backward_from(xi, x0, 0.25, n_steps=20, seed=4)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        ve_backward_from(xi, x0, 0.25, t_min=1.0)


def test_ve_backward_from_is_euler_maruyama_from_x0():
    # The plain NumPy VE Euler-Maruyama loop from x0 at t_start on the log grid, with the
    # sampler's random numbers (one group): equal up to round-off.
    xi = random_patterns("spherical", 30, 8, seed=1)
    x0 = xi[:5] + 0.4 * np.random.default_rng(2).standard_normal((5, 8))
    y = ve_backward_from(xi, x0, 0.3, sigma=1.3, t_min=0.01, n_steps=25, seed=4)
    proc = ve_process(1.3)
    ref, _ = naive.backward_sampler(xi, proc, proc.time_grid(0.01, 0.3, 25, spacing="log"), 5, 4, x0=x0)
    np.testing.assert_allclose(y, ref, rtol=1e-9, atol=1e-9)
    assert not np.allclose(y, x0)  # the dynamics ran
