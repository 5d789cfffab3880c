"""Exponential capacity: REM theory against closed forms, finite-N laws, and simulation (hopfield.capacity)."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.special

from hopfield.capacity import (
    _noise_moments,
    alpha_1,
    alpha_1_closed_form,
    capacity_simulation,
    dominant_overlap,
    estimate_threshold,
    failure_overlap,
    finite_size_alpha_1,
    noise_log_partition,
    overlap_entropy,
)

ENSEMBLES = ["spherical", "gaussian", "binary"]


@pytest.mark.parametrize("ensemble", ENSEMBLES)
@pytest.mark.parametrize("beta", [0.05, 0.3, 0.5, 1.0, 1.7, 4.0, 12.0])
def test_alpha_1_from_general_rem_matches_closed_form(ensemble, beta):
    # bisection on top of GeneralREM's own bisections: both exact to ~1e-12.
    assert alpha_1(ensemble, beta) == pytest.approx(alpha_1_closed_form(ensemble, beta), abs=1e-9)


def test_alpha_1_limits():
    assert alpha_1("gaussian", math.inf) == 0.5
    assert alpha_1("binary", math.inf) == pytest.approx(math.log(2))
    assert alpha_1("spherical", math.inf) == math.inf
    assert alpha_1("binary", 30.0) == pytest.approx(math.log(2), abs=1e-12)
    # small beta: all ensembles share s(q) = -q^2/2 + O(q^4), so alpha_1 = beta - beta^2/2 + O(beta^3).
    for ens in ENSEMBLES:
        assert alpha_1(ens, 1e-3) == pytest.approx(1e-3 - 0.5e-6, abs=1e-8)
    # spherical grows like ln(beta)/2 + 1/2 at large beta (module docstring, item 4).
    assert alpha_1("spherical", 1e4) - 0.5 * math.log(1e4) == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_noise_partition_uncondensed_is_annealed(ensemble):
    """phi = alpha + max_q[s + beta q] where the REM is uncondensed (large alpha)."""
    beta, alpha = 0.4, 1.5
    q = np.linspace(-0.999999, 0.999999, 200001) if ensemble != "gaussian" else np.linspace(-5, 5, 200001)
    brute = alpha + np.max(overlap_entropy(ensemble, q) + beta * q)
    # grid spacing 1e-5: the maximum is missed by O(spacing^2) ~ 1e-10.
    assert noise_log_partition(ensemble, alpha, beta) == pytest.approx(brute, abs=1e-8)


def test_overlap_entropy_values():
    q = np.array([-0.5, 0.0, 0.3])
    np.testing.assert_allclose(overlap_entropy("spherical", q), 0.5 * np.log(1 - q * q), rtol=1e-15)
    np.testing.assert_allclose(overlap_entropy("gaussian", q), -q * q / 2, rtol=1e-15)
    p = (1 + q) / 2
    h = -p * np.log(p) - (1 - p) * np.log(1 - p)
    np.testing.assert_allclose(overlap_entropy("binary", q), h - math.log(2), rtol=1e-14)
    assert overlap_entropy("binary", 1.0) == pytest.approx(-math.log(2))
    assert overlap_entropy("spherical", 1.0) == -math.inf


def test_failure_overlap_is_a_fixed_point():
    for ens, beta in [("spherical", 3.0), ("binary", 1.5), ("binary", 4.0)]:
        m = failure_overlap(ens, beta)
        assert m > 0
        assert dominant_overlap(ens, beta * m) == pytest.approx(m, abs=1e-12)
    assert failure_overlap("spherical", 0.8) == 0.0
    assert failure_overlap("gaussian", 3.0) == 0.0


@pytest.mark.parametrize("n", [5, 12, 40])
@pytest.mark.parametrize("b", [0.2, 0.9])
def test_spherical_finite_n_moments_against_quadrature(n, b):
    """M_0 = E e^{kappa q}, R = E[q e^{kappa q}]/M_0 for q = cos(angle) in dimension N."""
    kappa = b * n
    dens = lambda q: (1 - q * q) ** ((n - 3) / 2)  # noqa: E731
    norm = scipy.integrate.quad(dens, -1, 1)[0]
    m0 = scipy.integrate.quad(lambda q: dens(q) * math.exp(kappa * q), -1, 1)[0] / norm
    m1 = scipy.integrate.quad(lambda q: q * dens(q) * math.exp(kappa * q), -1, 1)[0] / norm
    log_m0, ratio = _noise_moments("spherical", kappa, n, 1.0)
    # quad is accurate to ~1e-10 relative on these smooth integrands.
    assert log_m0 == pytest.approx(math.log(m0), abs=1e-8)
    assert ratio == pytest.approx(m1 / m0, rel=1e-8)


def test_bessel_fallback_is_continuous():
    from hopfield.capacity import _log_bessel_i

    # Debye's expansion (used where ive underflows) vs ive where both work: O(nu^-3).
    nu, x = 300.0, 60.0
    z = x / nu
    root = math.sqrt(1 + z * z)
    direct = math.log(scipy.special.ive(nu, x)) + x
    assert _log_bessel_i(nu, x) == pytest.approx(direct, rel=1e-14)
    assert _log_bessel_i(3000.0, 5.0) < _log_bessel_i(3000.0, 10.0)  # finite and increasing
    assert root > 1


@pytest.mark.parametrize("ensemble", ["spherical", "binary"])
def test_finite_size_threshold_tends_to_alpha_1(ensemble):
    """The finite-N map's threshold approaches alpha_1 with a ~(1 + ln(N beta (1-q)^2))/N shift."""
    beta = 0.5
    limit = alpha_1(ensemble, beta)
    q = dominant_overlap(ensemble, beta)
    for n in (1000, 20000):
        shift = (1 + math.log(n * beta * (1 - q) ** 2)) / n
        # the remaining O(1/N) terms (finite-N mgf, discreteness) are below ~2/N here.
        assert finite_size_alpha_1(ensemble, beta, n) == pytest.approx(limit - shift, abs=2.0 / n)


def test_capacity_simulation_is_reproducible_and_monotone():
    alphas = np.array([0.05, 0.5])
    a = capacity_simulation("spherical", 0.5, 12, alphas, n_targets=8, n_sets=2, seed=4)
    b = capacity_simulation("spherical", 0.5, 12, alphas, n_targets=8, n_sets=2, seed=4)
    np.testing.assert_array_equal(a.successes, b.successes)
    # alpha = 0.05 is far below alpha_12 ~ 0.28 and 0.5 far above: all in / all out.
    np.testing.assert_array_equal(a.probability, [1.0, 0.0])


def test_capacity_memory_guard():
    with pytest.raises(ValueError, match="would need"):
        capacity_simulation("binary", 0.5, 200, [3.0])


def test_bad_input():
    with pytest.raises(ValueError):
        alpha_1("spherical", 0.0)
    with pytest.raises(ValueError):
        alpha_1("spherical", -1.0)
    with pytest.raises(ValueError):
        alpha_1("torus", 1.0)
    with pytest.raises(ValueError):
        finite_size_alpha_1("gaussian", 2.0, 20)
    with pytest.raises(ValueError):
        capacity_simulation("binary", 0.5, 10, [-0.1])
    with pytest.raises(ValueError):
        estimate_threshold([])


@pytest.mark.slow
@pytest.mark.parametrize("ensemble", ["spherical", "binary"])
def test_simulated_thresholds_agree_with_theory(ensemble):
    """alpha_{1/2}(N) vs the finite-N theory, and the extrapolation vs alpha_1(beta) of the REM.

    Tolerances: per N, 3 bootstrap standard errors (which include the grid
    resolution step/sqrt(12)) plus 0.02 for the quenched-vs-annealed REM
    fluctuation at these P (relative Z fluctuation e^{-N(alpha - psi(2b) + 2 psi(b))/2}
    ~ 0.15 at N = 16, i.e. |d alpha| ~ 0.15/16). Extrapolated: 3 standard errors of
    the fit plus the systematic error of the same fit on the finite-N theory
    (its curvature in 1/N), both computed here.
    """
    beta = 0.5
    sizes = [16, 20, 24, 28]  # N = 12 has P ~ 15 patterns at threshold: the annealed REM fails there
    curves = []
    for i, n in enumerate(sizes):
        centre = finite_size_alpha_1(ensemble, beta, n)
        alphas = np.round(centre + np.arange(-0.08, 0.0501, 0.01), 6)
        curves.append(capacity_simulation(ensemble, beta, n, alphas, n_targets=48, n_sets=3, seed=100 + i,
                                          tol=1e-7, max_iter=1000))
        assert curves[-1].probability[0] > 0.8 and curves[-1].probability[-1] < 0.2  # transition inside the grid
    est = estimate_threshold(curves, seed=1)
    finite = np.array([finite_size_alpha_1(ensemble, beta, n) for n in sizes])
    assert np.all(np.abs(est.alpha_half - finite) < 3 * est.alpha_half_err + 0.02), (est.alpha_half, finite)
    n = np.array(sizes, dtype=float)
    coef = np.polyfit(1 / n, finite + np.log(n) / n, 1)
    theory = alpha_1(ensemble, beta)
    systematic = abs(coef[1] - theory)
    assert abs(est.alpha_inf - theory) < 3 * est.alpha_inf_err + systematic, (est.alpha_inf, theory)
