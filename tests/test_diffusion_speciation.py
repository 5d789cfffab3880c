"""Speciation: Lambda (dense and Lanczos), t_S, eq. 6, crossing of phi curves."""

import math

import numpy as np
import pytest

import naive
from diffusion.datasets import gaussian_mixture
from diffusion.processes import ou_process, ve_process
from diffusion.sampler import backward_sample_two_gaussians
from diffusion.speciation import (
    crossing_point,
    gm_phi,
    gm_potential,
    speciation_time,
    top_eigenvalue,
)


@pytest.mark.parametrize("d", [1, 16, 256, 4096])
@pytest.mark.parametrize("t", [0.02, 0.3, 1.0, 2.5, 4.0, 6.0])
def test_gm_phi_matches_quadrature(d, t):
    assert gm_phi(t, 1.0, 1.0, d) == pytest.approx(naive.gm_phi_quadrature(t, 1.0, 1.0, d), abs=1e-9)


def test_gm_phi_limits_and_crossing_value():
    assert gm_phi(1e-3, 1, 1, 64) == pytest.approx(1.0, abs=1e-12)
    assert gm_phi(20.0, 1, 1, 64) == pytest.approx(0.5, abs=1e-12)
    # With t_S = 1/2 log d and sigma = 1, kappa(t_S) = mu~ for every d: phi(t_S) = 0.7753
    # (the horizontal line of dynamical-regimes Fig. 2).
    for d in (64, 1024, 16384):
        assert gm_phi(0.5 * math.log(d), 1, 1, d) == pytest.approx(0.7753, abs=1e-4)


def test_top_eigenvalue_dense_and_lanczos_agree_with_numpy():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((300, 600)) @ np.diag(np.linspace(0.1, 2.0, 600))
    ref = np.linalg.eigvalsh(np.cov(data.T))[-1]
    dense = top_eigenvalue(data, method="dense")
    lanczos = top_eigenvalue(data)  # d > 512: Lanczos on the linear operator
    assert lanczos.method == "lanczos" and dense.method == "dense"
    assert dense.value == pytest.approx(ref, rel=1e-12)
    assert lanczos.value == pytest.approx(ref, rel=1e-8)  # ARPACK tol 1e-10
    assert abs(abs(dense.vector @ lanczos.vector) - 1) < 1e-6


def test_gaussian_mixture_lambda_and_t_s():
    # Population Lambda = mu~^2 d + sigma^2; the sample value fluctuates by
    # ~Lambda sqrt(2/n) (top eigenvalue of a spiked covariance).
    d, n = 64, 20000
    ds = gaussian_mixture(n, d, seed=1)
    lam = top_eigenvalue(ds.data).value
    assert lam == pytest.approx(d + 1, rel=4 * math.sqrt(2 / n))
    assert speciation_time(lam) == pytest.approx(0.5 * math.log(lam), rel=1e-15)
    assert speciation_time(4.0, ou_process(2.0)) == pytest.approx(0.5 * math.log(2.0))
    assert speciation_time(3.0, ve_process(1.5)) == pytest.approx(3.0 / 2.25)


def test_potential_is_quadratic_at_large_t():
    q = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(gm_potential(q, 30.0, 1.0, 64), 0.5 * q**2, atol=1e-20)


def test_crossing_of_theory_curves_is_at_one():
    # eq. 6 curves against x = t/t_S with t_S = 1/2 log d cross exactly at x = 1 (sigma = 1).
    x = np.linspace(0.5, 1.5, 41)
    dims = [64, 256, 1024]
    phi = np.array([gm_phi(x * 0.5 * math.log(d), 1, 1, d) for d in dims])
    cross = crossing_point(x, phi, np.full_like(phi, 1e-4), n_boot=50)
    # Linear interpolation error between grid points, spacing 0.025: below 1e-3.
    assert cross.x == pytest.approx(1.0, abs=1e-3)
    assert cross.phi == pytest.approx(0.7753, abs=2e-3)


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2 rows"):
        top_eigenvalue(np.ones((1, 5)))
    with pytest.raises(ValueError, match="2-D"):
        top_eigenvalue(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        top_eigenvalue(np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="method"):
        top_eigenvalue(np.ones((4, 3)), method="qr")
    with pytest.raises(ValueError, match="Lambda"):
        speciation_time(0.0)
    with pytest.raises(ValueError, match="t must be > 0"):
        gm_phi(0.0)
    with pytest.raises(ValueError, match="do not cross"):
        x = np.linspace(0, 1, 5)
        crossing_point(x, np.vstack([np.full(5, 0.7), np.full(5, 0.6)]), np.full((2, 5), 0.01))
    with pytest.raises(ValueError, match="shape"):
        crossing_point(np.linspace(0, 1, 5), np.ones((2, 4)), np.ones((2, 4)))


@pytest.mark.slow
def test_simulated_crossing_consistent_with_t_s_from_lambda():
    # Population-score cloning at d = 32 and 128, 3000 pairs; clone times x t_S with
    # t_S = 1/2 log Lambda and Lambda the top eigenvalue of a 4000-point sample.
    # The crossing must agree with x = 1 within 3 bootstrap s.e. plus the finite-size
    # offset of the theory curves themselves (computed below from eq. 6, |offset| < 0.02).
    p = ou_process()
    xs = np.linspace(0.6, 1.4, 9)
    dims = [32, 128]
    phi, se, theory = [], [], []
    for i, d in enumerate(dims):
        ds = gaussian_mixture(4000, d, seed=30 + i)
        ts = speciation_time(top_eigenvalue(ds.data).value, p)
        clone = xs * ts
        times = p.time_grid(0.02, 6.0, 299, include=clone)
        res = backward_sample_two_gaussians(ds.centre, 1.0, p, times, n_trajectories=3000,
                                            clone_times=clone, seed=40 + i)
        order = np.argsort(res.cloning.clone_times)
        phi.append(res.cloning.phi[order])
        se.append(res.cloning.phi_se[order])
        theory.append(gm_phi(clone, 1, 1, d, p))
    cross = crossing_point(xs, np.array(phi), np.array(se), n_boot=400)
    offset = crossing_point(xs, np.array(theory), np.full((2, xs.size), 1e-6), n_boot=10).x - 1.0
    assert abs(offset) < 0.02
    assert abs(cross.x - 1.0 - offset) < 3 * cross.x_se + 0.01  # + grid interpolation 0.01
