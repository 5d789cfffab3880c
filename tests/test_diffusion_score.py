"""Exact empirical score and posterior (PHYSICS.md §2–3) against NumPy/SciPy references."""


import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import naive
from diffusion.processes import ou_process, ve_process
from diffusion.score import (
    empirical_posterior,
    empirical_score,
    isotropic_gaussian_score,
    log_density,
    two_deltas_score,
    two_gaussians_log_density,
    two_gaussians_score,
)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((300, 7)) + 1.0
    x = rng.standard_normal((20, 7)) * 1.5
    return data, x


@pytest.mark.parametrize("process", [ou_process(), ou_process(2.0), ve_process(0.8)])
@pytest.mark.parametrize("t", [0.03, 0.4, 3.0])
def test_posterior_matches_numpy_reference(problem, process, t):
    data, x = problem
    post = empirical_posterior(data, x, t, process, chunk_size=37)
    mean, score, part, nearest = naive.posterior(data, x, t, process)
    # Pure float64 round-off: the log-weights are O(|x|^2/Delta) <= 1e4, so 1e-9 relative.
    np.testing.assert_allclose(post.denoiser, mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(post.score, score, rtol=1e-9, atol=1e-9 / process.delta(t))
    np.testing.assert_allclose(post.participation, part, rtol=1e-9)
    np.testing.assert_array_equal(post.nearest, nearest)
    np.testing.assert_allclose(post.log_density, naive.log_density(data, x, t, process),
                               rtol=1e-11, atol=1e-9)


def test_finite_difference_gradient_of_log_density_is_the_score(problem):
    data, x = problem
    p, t, h = ou_process(), 0.5, 1e-5
    score = empirical_score(data, x, t, p)
    grad = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        grad[:, j] = (log_density(data, x + e, t, p) - log_density(data, x - e, t, p)) / (2 * h)
    # Central difference: truncation h^2 |f'''| ~ 1e-10 and round-off eps |f|/h ~ 1e-10.
    np.testing.assert_allclose(grad, score, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("process", [ve_process(1.0), ou_process()])
def test_minus_grad_free_energy_is_denoiser_and_score_is_minus_beta_grad_f_reg(problem, process):
    data, x = problem
    t, h = 0.7, 1e-5
    post = empirical_posterior(data, x, t, process)
    grad_f = np.empty_like(x)
    grad_freg = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        up = empirical_posterior(data, x + e, t, process)
        down = empirical_posterior(data, x - e, t, process)
        grad_f[:, j] = (up.free_energy - down.free_energy) / (2 * h)
        grad_freg[:, j] = (up.free_energy_reg - down.free_energy_reg) / (2 * h)
    # -grad F = s <a> (the denoiser itself for VE, s = 1: Ambrogioni eq. 18).
    np.testing.assert_allclose(-grad_f, post.s * post.denoiser, rtol=1e-6, atol=1e-6)
    # score = -beta grad F~ (Ambrogioni eq. 23).
    np.testing.assert_allclose(-post.beta * grad_freg, post.score, rtol=1e-6, atol=1e-6)


def test_chunking_does_not_change_the_result(problem):
    data, x = problem
    a = empirical_posterior(data, x, 0.2, chunk_size=1)
    b = empirical_posterior(data, x, 0.2, chunk_size=1000)
    np.testing.assert_allclose(a.score, b.score, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(a.nearest, b.nearest)


@pytest.mark.slow
def test_float32_close_to_float64(problem):
    data, x = problem
    a = empirical_posterior(data, x, 1.0)
    b = empirical_posterior(data.astype(np.float32), x.astype(np.float32), 1.0)
    assert b.denoiser.dtype == np.float32
    # float32 log-weights of size ~|x||a|/Delta ~ 30 carry ~30 * 6e-8 absolute error.
    np.testing.assert_allclose(b.denoiser, a.denoiser, rtol=1e-4, atol=1e-4)


def test_two_deltas_closed_form_equals_empirical_two_points():
    data = np.array([[1.0], [-1.0]])
    x = np.linspace(-3, 3, 13)[:, None]
    for p in (ou_process(), ve_process(1.3)):
        np.testing.assert_allclose(two_deltas_score(x, 0.6, p), empirical_score(data, x, 0.6, p),
                                   rtol=1e-12, atol=1e-12)


def test_two_gaussians_score_is_gradient_of_its_log_density():
    rng = np.random.default_rng(1)
    d = 5
    m = rng.standard_normal(d)
    x = rng.standard_normal((8, d)) * 2
    p, t, h = ou_process(), 0.3, 1e-5
    grad = np.empty_like(x)
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        grad[:, j] = (two_gaussians_log_density(x + e, t, m, 0.7, p)
                      - two_gaussians_log_density(x - e, t, m, 0.7, p)) / (2 * h)
    np.testing.assert_allclose(grad, two_gaussians_score(x, t, m, 0.7, p), rtol=1e-6, atol=1e-7)
    # The density is the mixture of N(±s m, Gamma I): check against scipy directly.
    from scipy.stats import multivariate_normal
    s, delta = p.s(t), p.delta(t)
    gamma = delta + 0.49 * s * s
    ref = np.log(0.5 * multivariate_normal(s * m, gamma).pdf(x)
                 + 0.5 * multivariate_normal(-s * m, gamma).pdf(x))
    np.testing.assert_allclose(two_gaussians_log_density(x, t, m, 0.7, p), ref, rtol=1e-12)


def test_isotropic_gaussian_score_and_empirical_limit():
    # With many data from N(mu, v I) the empirical score at moderate t approaches the
    # population score; the error is the sampling error of the posterior mean, O(1/sqrt(n_eff)).
    rng = np.random.default_rng(2)
    d, n = 3, 200000
    mu = np.array([0.5, -1.0, 2.0])
    data = mu + 0.8 * rng.standard_normal((n, d))
    x = rng.standard_normal((5, d))
    p, t = ou_process(), 1.5
    pop = isotropic_gaussian_score(x, t, mu, 0.64, p)
    emp = empirical_score(data, x, t, p)
    # Effective sample size of the posterior weights ~ n * (1 - Delta/Gamma)^... >> 1e3;
    # the score error (s/Delta) * sd/sqrt(n_eff) < 0.02 here.
    np.testing.assert_allclose(emp, pop, atol=0.02)


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(1e-3, 1e3), t=st.floats(1e-3, 8.0))
def test_extreme_scales_stay_finite_and_match_reference(scale, t):
    rng = np.random.default_rng(3)
    data = rng.standard_normal((17, 3)) * scale
    x = rng.standard_normal((4, 3)) * scale
    p = ou_process()
    post = empirical_posterior(data, x, t, p)
    ref = naive.log_density(data, x, t, p)
    assert np.isfinite(post.log_density).all() and np.isfinite(post.score).all()
    np.testing.assert_allclose(post.log_density, ref, rtol=1e-9, atol=1e-9)
    assert ((post.participation >= 1 / 17 - 1e-12) & (post.participation <= 1 + 1e-12)).all()


def test_bad_input(problem):
    data, x = problem
    with pytest.raises(ValueError, match="data must be 2-D"):
        empirical_score(data[0], x, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        empirical_score(np.where(data > 2, np.nan, data), x, 1.0)
    with pytest.raises(ValueError, match="inf"):
        empirical_score(data, np.full_like(x, np.inf), 1.0)
    with pytest.raises(ValueError, match="t must be > 0"):
        empirical_score(data, x, 0.0)
    with pytest.raises(ValueError, match="t must be > 0"):
        empirical_score(data, x, -1.0)
    with pytest.raises(ValueError, match="same number of columns"):
        empirical_score(data, x[:, :3], 1.0)
    with pytest.raises(ValueError, match="empty"):
        empirical_score(np.empty((0, 7)), x, 1.0)
    with pytest.raises(TypeError, match="real numbers"):
        empirical_score(data.astype(complex), x, 1.0)
    with pytest.raises(TypeError, match="real numbers"):
        empirical_score(data.astype(object), x, 1.0)
    with pytest.raises(TypeError, match="Process"):
        empirical_score(data, x, 1.0, process="ou")
    # integer input is converted
    assert empirical_score(np.ones((3, 2), dtype=int), np.zeros((1, 2), dtype=int), 1.0).dtype == np.float64
