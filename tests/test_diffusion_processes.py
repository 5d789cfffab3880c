"""Forward processes (PHYSICS.md §1): coefficients, DDPM mapping, grids, bad input."""

import math

import numpy as np
import pytest

from diffusion.processes import ddpm_process, ddpm_schedule_times, ou_process, ve_process


def test_ou_coefficients_match_closed_form():
    p = ou_process(temperature=2.5)
    t = np.array([1e-8, 0.1, 1.0, 7.0])
    np.testing.assert_allclose(p.s(t), np.exp(-t), rtol=1e-15)
    # expm1 keeps Delta accurate at small t: compare with the series 2T t (1 - t + ...)
    np.testing.assert_allclose(p.delta(t), 2.5 * (1 - np.exp(-2 * t)), rtol=1e-8)
    assert p.delta(1e-8) == pytest.approx(2.5 * 2e-8 * (1 - 1e-8), rel=1e-12)
    np.testing.assert_allclose(p.beta(t), 1.0 / p.delta(t), rtol=1e-15)
    assert p.drift_rate == 1.0 and p.noise_variance == 5.0


def test_ou_marginal_variance_is_stationary_solution():
    # d Var/dt = -2 Var + 2T for dx = -x dt + sqrt(2T) dW: Delta' = 2T - 2 Delta.
    p = ou_process(temperature=0.7)
    t, h = 0.8, 1e-6
    derivative = (p.delta(t + h) - p.delta(t - h)) / (2 * h)
    assert derivative == pytest.approx(2 * 0.7 - 2 * p.delta(t), rel=1e-8)


def test_ve_coefficients():
    p = ve_process(sigma=1.7)
    t = np.array([0.5, 2.0])
    np.testing.assert_array_equal(p.s(t), [1.0, 1.0])
    np.testing.assert_allclose(p.delta(t), 1.7**2 * t, rtol=1e-15)
    np.testing.assert_allclose(p.beta(t), 1 / (1.7**2 * t), rtol=1e-15)
    assert p.drift_rate == 0.0 and p.noise_variance == pytest.approx(1.7**2)


def test_ddpm_times_match_alphabar_product():
    betas = np.linspace(1e-4, 2e-2, 1000)
    alphabar = np.cumprod(1 - betas)
    np.testing.assert_allclose(ddpm_schedule_times(), -0.5 * np.log(alphabar), rtol=1e-12)
    # PHYSICS.md §1: t_end ~ 5.06
    assert ddpm_process().default_t_end == pytest.approx(5.06, abs=0.01)
    p = ddpm_process()
    t = p.schedule_times()
    # In OU time the DDPM marginal is x = sqrt(alphabar) a + sqrt(1 - alphabar) z.
    np.testing.assert_allclose(p.s(t), np.sqrt(alphabar), rtol=1e-12)
    np.testing.assert_allclose(p.delta(t), 1 - alphabar, rtol=1e-10)


@pytest.mark.parametrize("spacing", ["uniform", "log"])
def test_time_grid_decreasing_with_ends_and_included_times(spacing):
    p = ou_process()
    grid = p.time_grid(0.01, 5.0, 50, spacing=spacing, include=[1.234, 0.5])
    assert grid[0] == 5.0 and grid[-1] == 0.01
    assert (np.diff(grid) < 0).all()
    assert 1.234 in grid and 0.5 in grid
    if spacing == "log":
        plain = p.time_grid(0.01, 5.0, 50, spacing="log")
        np.testing.assert_allclose(np.diff(np.log(plain[::-1])), math.log(500) / 50, rtol=1e-10)


def test_schedule_grid():
    p = ddpm_process()
    grid = p.time_grid(0.05, None, spacing="schedule")
    assert grid[-1] == 0.05 and grid[0] == pytest.approx(p.default_t_end)
    assert (np.diff(grid) < 0).all()


def test_sample_marginal_moments():
    p = ou_process()
    data = np.array([[3.0, -1.0]])
    x, idx = p.sample_marginal(data, 0.5, seed=1, n_samples=40000)
    assert (idx == 0).all()
    # mean s a and variance Delta per coordinate; 5 s.e. with 40000 draws.
    se = math.sqrt(p.delta(0.5) / 40000)
    np.testing.assert_allclose(x.mean(0), p.s(0.5) * data[0], atol=5 * se)
    np.testing.assert_allclose(x.var(0), p.delta(0.5), rtol=5 * math.sqrt(2 / 40000))


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_parameters(bad):
    with pytest.raises(ValueError):
        ou_process(temperature=bad)
    with pytest.raises(ValueError):
        ve_process(sigma=bad)


def test_bad_times():
    p = ou_process()
    with pytest.raises(ValueError, match="t must be > 0"):
        p.beta(0.0)
    with pytest.raises(ValueError, match=">= 0"):
        p.delta(-0.1)
    with pytest.raises(ValueError, match="t_min must be < t_end"):
        p.time_grid(2.0, 1.0, 10)
    with pytest.raises(ValueError, match="t_min"):
        p.time_grid(0.0, 1.0, 10)
    with pytest.raises(ValueError, match="n_steps"):
        p.time_grid(0.1, 1.0, 0)
    with pytest.raises(ValueError, match="include"):
        p.time_grid(0.1, 1.0, 10, include=[2.0])
    with pytest.raises(ValueError, match="spacing"):
        p.time_grid(0.1, 1.0, 10, spacing="cubic")
    with pytest.raises(ValueError, match="schedule_times"):
        p.schedule_times()
    with pytest.raises(TypeError):
        p.delta(np.array([1 + 1j]))
    with pytest.raises(ValueError, match="beta_min"):
        ddpm_process(beta_min=0.5, beta_max=0.1)
