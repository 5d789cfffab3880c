"""The overlap ensembles of hopfield.ensembles: their REMs solved by hand (moved from test_rem)."""

import math

import numpy as np
import pytest
import scipy.optimize

from hopfield.ensembles import overlap_entropy, overlap_rem

SOLVER_RTOL = 1e-14  # bisection to the last ulp; analytic slopes


def test_general_solver_spherical_overlaps_by_hand():
    # Sigma = alpha + ln(1 - e^2)/2: Sigma' = -e/(1-e^2) = beta gives
    # e* = (1 - sqrt(1 + 4 beta^2)) / (2 beta); Sigma(e_0) = 0 at
    # e_0 = -sqrt(1 - exp(-2 alpha)), whose slope is beta_c = |e_0| exp(2 alpha).
    alpha = 0.3
    rem = overlap_rem("spherical", alpha)
    e0 = -math.sqrt(-math.expm1(-2 * alpha))
    beta_c = -e0 * math.exp(2 * alpha)
    assert rem.lowest_level == pytest.approx(e0, rel=SOLVER_RTOL)
    assert rem.critical_beta() == pytest.approx(beta_c, rel=SOLVER_RTOL)
    beta = np.array([0.2, 0.7, 1.1, beta_c * 0.999, beta_c * 1.001, 3.0, 20.0])
    e_star = np.where(beta < beta_c, (1 - np.sqrt(1 + 4 * beta**2)) / (2 * beta), e0)
    np.testing.assert_allclose(rem.dominant_level(beta), e_star, rtol=1e-14)
    phi = np.where(beta < beta_c, alpha + 0.5 * np.log1p(-(e_star**2)) - beta * e_star, -beta * e0)
    np.testing.assert_allclose(rem.log_partition(beta), phi, rtol=1e-14)
    # Annealed: the same stationary point without the Sigma >= 0 constraint.
    e_a = (1 - np.sqrt(1 + 4 * beta**2)) / (2 * beta)
    annealed = alpha + 0.5 * np.log1p(-(e_a**2)) - beta * e_a
    np.testing.assert_allclose(rem.annealed_log_partition(beta), annealed, rtol=1e-14)


def test_general_solver_binary_overlaps_by_hand():
    # Sigma = alpha + H((1+q)/2) - ln 2 with e = -q: e* = -tanh(beta) and
    # phi = alpha + ln cosh(beta) (the Legendre pair of ln(2 cosh beta)),
    # until Sigma(e*) = 0 at beta_c, where continuity demands
    # alpha + ln cosh(beta_c) = beta_c tanh(beta_c).
    alpha = 0.4
    rem = overlap_rem("binary", alpha)
    beta_c = rem.critical_beta()
    independent = scipy.optimize.brentq(
        lambda b: alpha + math.log(math.cosh(b)) - b * math.tanh(b), 0.1, 10, xtol=1e-15
    )
    assert beta_c == pytest.approx(independent, rel=1e-13)
    beta = np.array([0.1, 0.5, 0.9 * beta_c, 1.5 * beta_c])
    high = beta[:3]
    np.testing.assert_allclose(rem.log_partition(high), alpha + np.log(np.cosh(high)), rtol=1e-14)
    np.testing.assert_allclose(rem.dominant_level(beta[:3]), -np.tanh(beta[:3]), rtol=1e-14)
    np.testing.assert_allclose(rem.log_partition(beta[3]), -beta[3] * rem.lowest_level, rtol=1e-14)
    # More patterns than binary states: Sigma > 0 at q = 1, no entropy crisis.
    assert overlap_rem("binary", 1.0).critical_beta() == math.inf


def test_general_solver_gaussian_overlaps_and_identities():
    alpha = 0.5
    rem = overlap_rem("gaussian", alpha)
    assert rem.critical_beta() == pytest.approx(math.sqrt(2 * alpha), rel=SOLVER_RTOL)
    # Grid stepping over beta_c = 1 (where phi'' jumps, so differences are O(h)).
    beta = np.linspace(0.05, 2.95, 30)
    phi = rem.log_partition(beta)
    # phi'(beta) = -e*(beta) (Legendre): central differences, error ~h^2 phi''' .
    h = 1e-5
    slope = (rem.log_partition(beta + h) - rem.log_partition(beta - h)) / (2 * h)
    np.testing.assert_allclose(slope, -rem.dominant_level(beta), atol=1e-8)
    # Convex in beta, and quenched <= annealed with equality below beta_c.
    assert np.all(np.diff(phi, 2) >= -1e-12)
    annealed = rem.annealed_log_partition(beta)
    assert np.all(annealed >= phi - 1e-15)
    below = beta < rem.critical_beta()
    np.testing.assert_allclose(annealed[below], phi[below], rtol=1e-14)
    assert np.all(annealed[~below] > phi[~below])
    # Total entropy is log-count plus overlap entropy (PHYSICS.md §6).
    assert rem.total_entropy(0.3) == pytest.approx(alpha - 0.045, rel=1e-15)


def test_overlap_rem_names_and_entropy_table():
    for ensemble in ("spherical", "gaussian", "binary"):
        rem = overlap_rem(ensemble, 0.2)
        assert rem.name == f"{ensemble} overlap" and rem.log_count == 0.2
        q = np.array([-0.5, 0.0, 0.3])
        np.testing.assert_array_equal(overlap_entropy(ensemble, q),
                                      [rem.entropy(-x) for x in q])
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        overlap_rem("binary", -0.1)
    with pytest.raises(ValueError, match="ensemble must be one of"):
        overlap_rem("hypercube", 0.1)
